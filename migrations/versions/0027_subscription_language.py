"""The language of a subscription (issue 20): its e-mails are written in it

- ``subscription.language``: the language of the page the resident subscribed from
  (following a request, area alerts), in which the confirmation, the updates and the alerts
  are written; NULL for the subscriptions made before, which get the city's default
  language.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscription", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("subscription", "language")
