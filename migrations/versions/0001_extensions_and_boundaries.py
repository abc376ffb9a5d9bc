"""Extensions (postgis, pg_trgm, btree_gist) and the boundary tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for extension in ("postgis", "pg_trgm", "btree_gist"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")

    op.create_table(
        "boundary_layer_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("config_digest", sa.String(64), nullable=False),
        sa.Column("feature_count", sa.Integer, nullable=False),
        sa.Column("repairs", JSONB, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("city", "role", "version"),
        sa.CheckConstraint("role IN ('jurisdiction', 'agencies', 'wards', 'districts')", name="role_known"),
    )
    op.create_index(
        "boundary_layer_version_one_current",
        "boundary_layer_version",
        ["city", "role"],
        unique=True,
        postgresql_where=sa.text("is_current"),
    )

    op.create_table(
        "boundary_feature",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "version_id", sa.Integer, sa.ForeignKey("boundary_layer_version.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("phone", sa.Text),
        sa.Column("website", sa.Text),
        sa.Column("properties", JSONB, nullable=False),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.UniqueConstraint("version_id", "key"),
    )
    op.create_index("boundary_feature_geom_idx", "boundary_feature", ["geom"], postgresql_using="gist")

    op.create_table(
        "boundary_piece",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column(
            "feature_id", sa.BigInteger, sa.ForeignKey("boundary_feature.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "version_id", sa.Integer, sa.ForeignKey("boundary_layer_version.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("boundary_piece_geom_idx", "boundary_piece", ["geom"], postgresql_using="gist")
    op.create_index("ix_boundary_piece_feature_id", "boundary_piece", ["feature_id"])
    op.create_index("ix_boundary_piece_version_id", "boundary_piece", ["version_id"])


def downgrade() -> None:
    op.drop_table("boundary_piece")
    op.drop_table("boundary_feature")
    op.drop_table("boundary_layer_version")
