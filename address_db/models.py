"""The address database: address points (and parcels, and intersections) of a city.

Each point keeps its source, a stable ``address_id``, the standardized components, the
point, and the jurisdiction the point falls in (never taken from the ZIP code or the
postal city). ``address_street`` lists the distinct streets, for fuzzy street matching
and suggestions. ``address_load`` records each load of a city's addresses.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.database import Base

#: The kinds of address source, as stored: authoritative address points, parcels, street
#: centerlines with address ranges, address lists without coordinates (placed on the
#: ranges at load), and the request history's verified addresses.
SOURCE_KINDS = ("points", "parcels", "centerlines", "list", "history")
SOURCE_KINDS_SQL = "(" + ", ".join(f"'{k}'" for k in SOURCE_KINDS) + ")"


class AddressLoad(Base):
    """One load of a city's address database."""

    __tablename__ = "address_load"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city: Mapped[str] = mapped_column(String(64), index=True)
    sources: Mapped[list[str]] = mapped_column(ARRAY(Text))
    rows_read: Mapped[int] = mapped_column(Integer)
    addresses: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    report_path: Mapped[str | None] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What each configured source gave: {source key: {"rows": .., "addresses": .., "rejected": ..}}.
    counts: Mapped[dict] = mapped_column(JSONB, default=dict)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AddressPoint(Base):
    """An address, an intersection or a parcel, as a point."""

    __tablename__ = "address_point"
    __table_args__ = (
        UniqueConstraint("city", "address_id"),
        CheckConstraint("kind IN ('address', 'intersection', 'parcel')", name="kind_known"),
        CheckConstraint(f"source_kind IN {SOURCE_KINDS_SQL}", name="source_kind_known"),
        Index("address_point_street_number", "city", "street_name", "house_number"),
        Index(
            "address_point_number_prefix",
            "city",
            "house_number",
            "street_name",
            postgresql_ops={"street_name": "text_pattern_ops"},
        ),
        Index("address_point_cross", "city", "cross_name", "street_name"),
        Index("address_point_geom_idx", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    address_id: Mapped[str] = mapped_column(String(64))
    load_id: Mapped[int] = mapped_column(ForeignKey("address_load.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    house_number: Mapped[int | None] = mapped_column(Integer)
    number_suffix: Mapped[str | None] = mapped_column(String(16))
    predir: Mapped[str | None] = mapped_column(String(2))
    street_name: Mapped[str] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(String(16))
    postdir: Mapped[str | None] = mapped_column(String(2))
    cross_predir: Mapped[str | None] = mapped_column(String(2))
    cross_name: Mapped[str | None] = mapped_column(Text)
    cross_suffix: Mapped[str | None] = mapped_column(String(16))
    cross_postdir: Mapped[str | None] = mapped_column(String(2))
    unit_type: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(32))
    postal_city: Mapped[str | None] = mapped_column(Text)
    zipcode: Mapped[str | None] = mapped_column(String(5))
    standardized: Mapped[str] = mapped_column(Text)
    parcel_number: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str] = mapped_column(Text)
    rank: Mapped[int] = mapped_column(SmallInteger)
    owner_agency: Mapped[str | None] = mapped_column(Text)
    location_key: Mapped[str | None] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(Text)
    legal_city: Mapped[str | None] = mapped_column(Text)
    postal_cities: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    placed_by: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    in_jurisdiction: Mapped[bool | None] = mapped_column(Boolean)
    agency_key: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    parcel_geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))


class AddressStreet(Base):
    """A distinct street of a city's address database (from addresses and intersections)."""

    __tablename__ = "address_street"
    __table_args__ = (
        Index("address_street_name", "city", "name"),
        Index("address_street_name_prefix", "city", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    predir: Mapped[str | None] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(String(16))
    postdir: Mapped[str | None] = mapped_column(String(2))
    zipcodes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    min_number: Mapped[int | None] = mapped_column(Integer)
    max_number: Mapped[int | None] = mapped_column(Integer)
    addresses: Mapped[int] = mapped_column(Integer)


class StreetSegment(Base):
    """A street centerline segment with its left and right address ranges (NULL: none)."""

    __tablename__ = "street_segment"
    __table_args__ = (
        Index("street_segment_name", "city", "name"),
        Index("street_segment_load", "load_id"),
        Index("street_segment_geom_idx", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    load_id: Mapped[int] = mapped_column(ForeignKey("address_load.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(Text)
    source_ref: Mapped[str | None] = mapped_column(Text)
    rank: Mapped[int] = mapped_column(SmallInteger)
    owner_agency: Mapped[str | None] = mapped_column(Text)
    predir: Mapped[str | None] = mapped_column(String(2))
    name: Mapped[str | None] = mapped_column(Text)
    suffix: Mapped[str | None] = mapped_column(String(16))
    postdir: Mapped[str | None] = mapped_column(String(2))
    full_name: Mapped[str | None] = mapped_column(Text)
    left_from: Mapped[int | None] = mapped_column(Integer)
    left_to: Mapped[int | None] = mapped_column(Integer)
    right_from: Mapped[int | None] = mapped_column(Integer)
    right_to: Mapped[int | None] = mapped_column(Integer)
    zipcode_left: Mapped[str | None] = mapped_column(String(5))
    zipcode_right: Mapped[str | None] = mapped_column(String(5))
    road_class: Mapped[str | None] = mapped_column(Text)
    in_jurisdiction: Mapped[bool | None] = mapped_column(Boolean)
    agency_key: Mapped[str | None] = mapped_column(Text)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    geom = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=False)
