"""Request priority: the department's priority a request is worked at (issue 19)

- ``service_request.priority``: the name of one of the department's priorities in the city
  file (``[[departments]] priorities``), set by staff; each change is a ``priority`` event.

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


def downgrade() -> None:
    op.drop_column("service_request", "priority")
