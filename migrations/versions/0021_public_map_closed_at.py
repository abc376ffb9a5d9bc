"""The public map of reports (issue 20, Must 6): requests by their closing time.

- ``service_request_closed_at``: the closed requests of a city by when they were closed, so that
  the public map finds those closed in its last days without reading the whole history
  (``service_requests/public_reports.py``).

Revision ID: 0021
Revises: 0022
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "service_request_closed_at",
        "service_request",
        ["city", "closed_at"],
        postgresql_where=sa.text("NOT is_open AND closed_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("service_request_closed_at", table_name="service_request")
