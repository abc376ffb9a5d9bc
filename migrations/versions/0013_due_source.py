"""Where a request's due date came from: the source's own date or the catalogue's service level

``due_source`` is 'source' when the request history gave the date the city set itself
(``[requests.fields] due_at``), 'catalogue' when it was computed from the service level of
the catalogue (intake, or a history without a date for the row), NULL when there is no due
date. Existing due dates were all computed from the catalogue.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service_request", sa.Column("due_source", sa.String(16)))
    op.execute("UPDATE service_request SET due_source = 'catalogue' WHERE due_at IS NOT NULL")
    op.create_check_constraint("service_request_due_source", "service_request", "due_source IN ('source', 'catalogue')")


def downgrade() -> None:
    op.drop_constraint("service_request_due_source", "service_request", type_="check")
    op.drop_column("service_request", "due_source")
