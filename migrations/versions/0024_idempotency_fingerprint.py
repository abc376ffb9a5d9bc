"""The fingerprint of the submission an idempotency key was first sent with

``service_request.idempotency_fingerprint``: a SHA-256 of what the submission asked for (service,
words, answers, place, contact). The same key sent again with a different body is refused
instead of answered with the first request (issue 21, item 6). Requests filed before have none:
for them the service and description are compared, as before.

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service_request", sa.Column("idempotency_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("service_request", "idempotency_fingerprint")
