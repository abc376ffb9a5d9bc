"""The boundary tables: layer versions, their features and the features' subdivided pieces.

Every load of a layer is a new version; the previous versions stay (loaded when, from
what, what was repaired) so that requests can be reassigned after a redistricting. One
version per (city, role) is current. Lookups read ``boundary_piece``: each feature cut
by ``ST_Subdivide`` into small polygons so that GiST index probes stay cheap.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import Base


class LayerVersion(Base):
    """One load of one boundary layer of a city."""

    __tablename__ = "boundary_layer_version"
    __table_args__ = (
        UniqueConstraint("city", "role", "version"),
        CheckConstraint("role IN ('jurisdiction', 'agencies', 'wards', 'districts')", name="role_known"),
        Index("boundary_layer_version_one_current", "city", "role", unique=True, postgresql_where=text("is_current")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    config_digest: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer)
    repairs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    features: Mapped[list[Feature]] = relationship(back_populates="version", passive_deletes=True)


class Feature(Base):
    """A ward, a district, the jurisdiction or an agency, as one (multi)polygon."""

    __tablename__ = "boundary_feature"
    __table_args__ = (
        UniqueConstraint("version_id", "key"),
        Index("boundary_feature_geom_idx", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("boundary_layer_version.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)

    version: Mapped[LayerVersion] = relationship(back_populates="features")


class Piece(Base):
    """A small polygon cut from a feature by ST_Subdivide: what point lookups probe."""

    __tablename__ = "boundary_piece"
    __table_args__ = (Index("boundary_piece_geom_idx", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    feature_id: Mapped[int] = mapped_column(ForeignKey("boundary_feature.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("boundary_layer_version.id", ondelete="CASCADE"), index=True)
    geom = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False)
