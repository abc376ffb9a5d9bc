"""The address database: address points, streets, loads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_load",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("sources", ARRAY(sa.Text), nullable=False),
        sa.Column("rows_read", sa.Integer, nullable=False),
        sa.Column("addresses", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("report_path", sa.Text),
        sa.Column("digest", sa.String(64)),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_address_load_city", "address_load", ["city"])

    op.create_table(
        "address_point",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("address_id", sa.String(64), nullable=False),
        sa.Column("load_id", sa.Integer, sa.ForeignKey("address_load.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("house_number", sa.Integer),
        sa.Column("number_suffix", sa.String(16)),
        sa.Column("predir", sa.String(2)),
        sa.Column("street_name", sa.Text, nullable=False),
        sa.Column("suffix", sa.String(16)),
        sa.Column("postdir", sa.String(2)),
        sa.Column("cross_predir", sa.String(2)),
        sa.Column("cross_name", sa.Text),
        sa.Column("cross_suffix", sa.String(16)),
        sa.Column("cross_postdir", sa.String(2)),
        sa.Column("unit_type", sa.String(16)),
        sa.Column("unit", sa.String(32)),
        sa.Column("postal_city", sa.Text),
        sa.Column("zipcode", sa.String(5)),
        sa.Column("standardized", sa.Text, nullable=False),
        sa.Column("parcel_number", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("in_jurisdiction", sa.Boolean),
        sa.Column("agency_key", sa.Text),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("parcel_geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
        sa.UniqueConstraint("city", "address_id"),
        sa.CheckConstraint("kind IN ('address', 'intersection', 'parcel')", name="kind_known"),
    )
    op.create_index("ix_address_point_load_id", "address_point", ["load_id"])
    op.create_index("address_point_street_number", "address_point", ["city", "street_name", "house_number"])
    op.create_index(
        "address_point_number_prefix",
        "address_point",
        ["city", "house_number", "street_name"],
        postgresql_ops={"street_name": "text_pattern_ops"},
    )
    op.create_index("address_point_cross", "address_point", ["city", "cross_name", "street_name"])
    op.create_index("address_point_geom_idx", "address_point", ["geom"], postgresql_using="gist")

    op.create_table(
        "address_street",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("predir", sa.String(2)),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("suffix", sa.String(16)),
        sa.Column("postdir", sa.String(2)),
        sa.Column("zipcodes", ARRAY(sa.Text), nullable=False),
        sa.Column("min_number", sa.Integer),
        sa.Column("max_number", sa.Integer),
        sa.Column("addresses", sa.Integer, nullable=False),
    )
    op.create_index("address_street_name", "address_street", ["city", "name"])
    op.create_index(
        "address_street_name_prefix", "address_street", ["city", "name"], postgresql_ops={"name": "text_pattern_ops"}
    )


def downgrade() -> None:
    op.drop_table("address_street")
    op.drop_table("address_point")
    op.drop_table("address_load")
