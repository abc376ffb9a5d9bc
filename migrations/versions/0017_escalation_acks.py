"""Escalations in the app (issue 19, Must 4)

- ``staff_user.escalation_email``: whether a supervisor wants the e-mail of each escalation
  of their department (off unless they or an administrator turn it on).
- ``service_request.escalation_ack_at`` / ``escalation_ack_by``: when and by whom the
  request's escalation was acknowledged (the ``escalation_ack`` event holds the note).

Revision ID: 0017
Revises: 0018
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_user", sa.Column("escalation_email", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("service_request", sa.Column("escalation_ack_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("service_request", sa.Column("escalation_ack_by", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("service_request", "escalation_ack_by")
    op.drop_column("service_request", "escalation_ack_at")
    op.drop_column("staff_user", "escalation_email")
