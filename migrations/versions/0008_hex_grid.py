"""Hot spot grids kept in the database: built once per jurisdiction version, CRS and cell size

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hex_grid_cell",
        sa.Column(
            "version_id", sa.Integer(), sa.ForeignKey("boundary_layer_version.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("srid", sa.Integer(), nullable=False),
        sa.Column("size_m", sa.Float(), nullable=False),
        sa.Column("i", sa.BigInteger(), nullable=False),
        sa.Column("j", sa.BigInteger(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("geom", sa.LargeBinary(), nullable=False),  # WKB in EPSG:4326
        sa.PrimaryKeyConstraint("version_id", "srid", "size_m", "i", "j"),
    )
    op.create_table(
        "hex_grid",
        sa.Column(
            "version_id", sa.Integer(), sa.ForeignKey("boundary_layer_version.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("srid", sa.Integer(), nullable=False),
        sa.Column("size_m", sa.Float(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("version_id", "srid", "size_m"),
    )


def downgrade() -> None:
    op.drop_table("hex_grid")
    op.drop_table("hex_grid_cell")
