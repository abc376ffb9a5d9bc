"""The analysis results every worker process shares (issue 22, item 5)

``result_cache``: one pickled result per cache and key, at the data version it was computed
for (core/shared_results.py). UNLOGGED: a cache needs no crash safety, and skipping the
write-ahead log keeps it off the replicas (which store theirs on the primary).

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "result_cache",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("result_cache")
