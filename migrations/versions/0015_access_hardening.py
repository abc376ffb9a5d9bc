"""Access hardening: login throttles per account and client, idempotency keys per scope, public details

- ``login_throttle``: failed logins counted per (account, client), where the client is the
  browser's signed device cookie or else the address, plus one bucket per account for all
  unknown clients together (accounts/throttle.py). It replaces ``staff_user``'s own
  ``failed_logins`` and ``locked_until``, which let anyone lock anyone out.
- ``service_request.idempotency_scope``: whose the key is (``web:<session scope>`` or
  ``open311:<client id>``); the unique index is now per (city, scope, key), so one
  resident's key replayed by another finds nothing. Open311 keys, stored until now as
  ``open311:<client>:<key>``, are split into scope and key; older web-form keys get the
  scope ``legacy`` (no session can replay them any more).
- ``service_request.details_public``: a staff member checked the description and location
  note and marked them fit for every role (and the public); until then only roles with
  requests.contact see them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "client"),
    )
    op.drop_column("staff_user", "failed_logins")
    op.drop_column("staff_user", "locked_until")

    op.add_column("service_request", sa.Column("idempotency_scope", sa.Text(), nullable=True))
    op.drop_index("service_request_idempotency", table_name="service_request")  # first: split keys may repeat
    op.execute("""
        UPDATE service_request
        SET idempotency_scope = CASE WHEN idempotency_key ~ '^open311:[0-9]+:'
                                     THEN substring(idempotency_key FROM '^(open311:[0-9]+):')
                                     ELSE 'legacy' END,
            idempotency_key = CASE WHEN idempotency_key ~ '^open311:[0-9]+:'
                                   THEN substring(idempotency_key FROM '^open311:[0-9]+:(.*)$')
                                   ELSE idempotency_key END
        WHERE idempotency_key IS NOT NULL
    """)
    op.create_index(
        "service_request_idempotency",
        "service_request",
        ["city", "idempotency_scope", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_check_constraint(
        "idempotency_key_scoped", "service_request", "idempotency_key IS NULL OR idempotency_scope IS NOT NULL"
    )

    op.add_column(
        "service_request", sa.Column("details_public", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("service_request", "details_public")
    op.drop_constraint("idempotency_key_scoped", "service_request", type_="check")
    op.drop_index("service_request_idempotency", table_name="service_request")
    op.execute("""
        UPDATE service_request SET idempotency_key = idempotency_scope || ':' || idempotency_key
        WHERE idempotency_scope LIKE 'open311:%'
    """)
    # Keys of different scopes may now collide: keep the oldest of each.
    op.execute("""
        UPDATE service_request r SET idempotency_key = NULL
        WHERE idempotency_key IS NOT NULL AND EXISTS (
            SELECT 1 FROM service_request o WHERE o.city = r.city AND o.idempotency_key = r.idempotency_key
                                              AND o.id < r.id)
    """)
    op.create_index(
        "service_request_idempotency",
        "service_request",
        ["city", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_column("service_request", "idempotency_scope")

    op.add_column("staff_user", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("staff_user", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.drop_table("login_throttle")
