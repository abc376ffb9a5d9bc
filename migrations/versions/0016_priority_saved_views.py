"""Request priority and saved queue views (issue 19)

- ``service_request.priority``: the name of one of the department's priorities in the city
  file (``[[departments]] priorities``), set by staff; each change is a ``priority`` event.
- ``saved_view``: a user's named work-queue views (filters and sort as a query string),
  names unique per user.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service_request", sa.Column("priority", sa.Text(), nullable=True))
    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.UniqueConstraint("user_id", "name", name="saved_view_user_name"),
    )


def downgrade() -> None:
    op.drop_table("saved_view")
    op.drop_column("service_request", "priority")
