"""Languages: the catalogue's translations, the language a request was filed in

- ``service.translations``: per language code, the service's name, group, description,
  keywords, questions and answers in that language (``[services.translations.<code>]`` in
  the city file, edited on the catalogue page); ``{}`` for the services already stored.
- ``service_request.language``: the language the request was filed in, in which its
  requester's e-mails are written; NULL for requests made before (and the history import),
  which get the city's default language.

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0022"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service", sa.Column("translations", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False))
    op.add_column("service_request", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("service_request", "language")
    op.drop_column("service", "translations")
