"""Short references, followers of a request, caller history indexes

- ``service_request.short_ref``: 10 characters of Crockford base32 (50 random bits) read to a
  caller over the phone; unique per city. Existing rows are backfilled in one UPDATE: each
  character is 5 bits of a byte of ``gen_random_uuid()`` (PostgreSQL's own strong random,
  no extension needed), skipping the UUID's version and variant bytes; the few collisions
  (about n^2/2^51: 0.04 % of a million rows) draw again until there are none.
- ``request_follower``: callers added to a request already reported (they get its updates).
- Expression indexes on ``request_contact`` for caller history: the digits of the phone,
  the lowercased e-mail.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Bytes 6 and 8 of a version-4 UUID carry its version and variant bits: their low 5 bits are
# random anyway, but the other bytes are used so that no doubt arises.
_SHORT_REF_FUNCTION = f"""
CREATE FUNCTION pg_temp.geo311_short_ref() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT string_agg(substr('{ALPHABET}', (get_byte(b, i) & 31) + 1, 1), '' ORDER BY n)
    FROM (SELECT uuid_send(gen_random_uuid()) AS b) u,
         unnest(ARRAY[0, 1, 2, 3, 4, 5, 9, 10, 11, 12]) WITH ORDINALITY AS t(i, n)
$$
"""

_DUPLICATES = """
    SELECT id FROM (
        SELECT id, row_number() OVER (PARTITION BY city, short_ref ORDER BY id) AS nth FROM service_request
    ) d WHERE nth > 1
"""


def upgrade() -> None:
    op.add_column("service_request", sa.Column("short_ref", sa.String(10), nullable=True))
    op.execute(_SHORT_REF_FUNCTION)
    op.execute("UPDATE service_request SET short_ref = pg_temp.geo311_short_ref()")
    connection = op.get_bind()
    while connection.execute(sa.text(f"SELECT EXISTS ({_DUPLICATES})")).scalar():
        op.execute(f"UPDATE service_request SET short_ref = pg_temp.geo311_short_ref() WHERE id IN ({_DUPLICATES})")
    op.execute("DROP FUNCTION pg_temp.geo311_short_ref()")
    op.alter_column("service_request", "short_ref", nullable=False)
    op.create_index("service_request_short_ref", "service_request", ["city", "short_ref"], unique=True)

    op.create_table(
        "request_follower",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "request_id", sa.BigInteger(), sa.ForeignKey("service_request.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("response_method", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "response_method IN ('email', 'mail', 'phone', 'none')", name="follower_response_method_known"
        ),
    )
    op.create_index("ix_request_follower_request_id", "request_follower", ["request_id"])
    op.create_index(
        "request_contact_phone_digits",
        "request_contact",
        [sa.text("regexp_replace(phone, '[^0-9]', '', 'g')")],
        postgresql_where=sa.text("phone IS NOT NULL"),
    )
    op.create_index(
        "request_contact_email_lower",
        "request_contact",
        [sa.text("lower(email)")],
        postgresql_where=sa.text("email IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("request_contact_email_lower", table_name="request_contact")
    op.drop_index("request_contact_phone_digits", table_name="request_contact")
    op.drop_table("request_follower")
    op.drop_index("service_request_short_ref", table_name="service_request")
    op.drop_column("service_request", "short_ref")
