"""Address sources: each point's source kind, rank, owner and provenance; street centerlines with address ranges

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SOURCE_KINDS = "('points', 'parcels', 'centerlines', 'list', 'history')"


def upgrade() -> None:
    # What each configured source gave, by source name: {"cams": {"rows": .., "addresses": .., "rejected": ..}}.
    op.add_column("address_load", sa.Column("counts", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")))

    # Until now every address came from the request history.
    op.add_column("address_point", sa.Column("source_kind", sa.String(16), nullable=False, server_default="history"))
    op.add_column("address_point", sa.Column("source_key", sa.Text, nullable=False, server_default="history"))
    op.add_column("address_point", sa.Column("rank", sa.SmallInteger, nullable=False, server_default="100"))
    # The agency a neighbour's source belongs to; NULL for the city's own sources.
    op.add_column("address_point", sa.Column("owner_agency", sa.Text))
    # Rows of one physical point (a CAMS point and its street-name aliases) share a location key.
    op.add_column("address_point", sa.Column("location_key", sa.Text))
    op.add_column("address_point", sa.Column("source_ref", sa.Text))
    op.add_column("address_point", sa.Column("legal_city", sa.Text))
    op.add_column("address_point", sa.Column("postal_cities", ARRAY(sa.Text)))
    # For addresses placed on a street range at load ("list" sources): the basis in words.
    op.add_column("address_point", sa.Column("placed_by", sa.Text))
    op.create_check_constraint("source_kind_known", "address_point", f"source_kind IN {SOURCE_KINDS}")
    op.alter_column("address_point", "source_kind", server_default=None)
    op.alter_column("address_point", "source_key", server_default=None)
    op.alter_column("address_point", "rank", server_default=None)

    op.create_table(
        "street_segment",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("load_id", sa.Integer, sa.ForeignKey("address_load.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("source_ref", sa.Text),
        sa.Column("rank", sa.SmallInteger, nullable=False),
        sa.Column("owner_agency", sa.Text),
        sa.Column("predir", sa.String(2)),
        sa.Column("name", sa.Text),  # NULL: an unnamed segment (kept for the map, never matched)
        sa.Column("suffix", sa.String(16)),
        sa.Column("postdir", sa.String(2)),
        sa.Column("full_name", sa.Text),
        # Address ranges, NULL where the source has none; from <= to is not assumed.
        sa.Column("left_from", sa.Integer),
        sa.Column("left_to", sa.Integer),
        sa.Column("right_from", sa.Integer),
        sa.Column("right_to", sa.Integer),
        sa.Column("zipcode_left", sa.String(5)),
        sa.Column("zipcode_right", sa.String(5)),
        sa.Column("road_class", sa.Text),
        sa.Column("in_jurisdiction", sa.Boolean),
        sa.Column("agency_key", sa.Text),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("geom", Geometry("LINESTRING", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("street_segment_name", "street_segment", ["city", "name"])
    op.create_index("street_segment_load", "street_segment", ["load_id"])
    op.create_index("street_segment_geom_idx", "street_segment", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("street_segment")
    op.drop_constraint("source_kind_known", "address_point")
    for column in (
        "placed_by",
        "postal_cities",
        "legal_city",
        "source_ref",
        "location_key",
        "owner_agency",
        "rank",
        "source_key",
        "source_kind",
    ):
        op.drop_column("address_point", column)
    op.drop_column("address_load", "counts")
