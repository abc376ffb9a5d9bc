"""Open311 servicerequestupdates (issue 21, item 8)

- ``open311_client.may_change_status``: whether a client's updates may change a request's
  status (off: its updates are comments only).
- ``open311_update``: each update a client POSTed, unique on (client, the client's
  ``update_id``), for idempotent retries.
- ``request_event_public_at``: GET servicerequestupdates reads the public history by time.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "open311_client", sa.Column("may_change_status", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.create_table(
        "open311_update",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("open311_client.id"), nullable=False),
        sa.Column("update_id", sa.String(150), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("request_id", sa.BigInteger(), sa.ForeignKey("service_request.id"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), sa.ForeignKey("request_event.id"), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("client_id", "update_id", name="open311_update_client_update_id"),
    )
    op.create_index("request_event_public_at", "request_event", ["at"], postgresql_where=sa.text("public"))


def downgrade() -> None:
    op.drop_index("request_event_public_at", table_name="request_event")
    op.drop_table("open311_update")
    op.drop_column("open311_client", "may_change_status")
