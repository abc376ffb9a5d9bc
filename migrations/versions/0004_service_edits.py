"""Catalogue edits made on the admin page are marked, so that syncing the city file keeps them

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service", sa.Column("edited_by", sa.Text(), nullable=True))
    op.add_column("service", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("service", "edited_at")
    op.drop_column("service", "edited_by")
