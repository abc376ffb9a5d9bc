"""The request rollup for reports over millions of requests (issue 22, item 1)

- ``request_rollup``: closed requests counted per period (local day or month) and per set of
  columns, with their days to close sorted (service_requests/rollups.py).
- ``request_rollup_state``: per city, the days the rollup covers and their time zone.
- ``request_rollup_stale``: local days whose requests changed since they were counted, marked
  by statement triggers on ``service_request`` (one set-based insert per statement, from its
  transition tables), so that a report reads those days from the requests themselves and is
  never behind. A TRUNCATE of the requests empties the rollup.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_MARK = """
CREATE FUNCTION request_rollup_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO request_rollup_stale (city, day)
        SELECT DISTINCT n.city, (n.requested_at AT TIME ZONE s.timezone)::date
        FROM new_rows n JOIN request_rollup_state s ON s.city = n.city
        ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO request_rollup_stale (city, day)
        SELECT DISTINCT o.city, (o.requested_at AT TIME ZONE s.timezone)::date
        FROM old_rows o JOIN request_rollup_state s ON s.city = o.city
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$
"""

_EMPTY = """
CREATE FUNCTION request_rollup_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM request_rollup_state;
    DELETE FROM request_rollup_stale;
    TRUNCATE request_rollup;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "request_rollup",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("set_id", sa.SmallInteger(), nullable=False),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("service_code", sa.String(64)),
        sa.Column("department_code", sa.String(32)),
        sa.Column("ward_key", sa.Text()),
        sa.Column("district_key", sa.Text()),
        sa.Column("channel", sa.String(32)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("in_jurisdiction", sa.Boolean()),
        sa.Column("duplicate_of", sa.BigInteger()),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("closed_with_date", sa.Integer(), nullable=False),
        sa.Column("closed_with_due", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("days_sum", sa.Float()),
        sa.Column("days", postgresql.ARRAY(sa.Float())),
        sa.Column("buckets", postgresql.ARRAY(sa.SmallInteger())),
        sa.Column("counts", postgresql.ARRAY(sa.Integer())),
    )
    op.create_index("request_rollup_cells", "request_rollup", ["city", "set_id", "requested_at"])
    op.create_table(
        "request_rollup_state",
        sa.Column("city", sa.String(64), primary_key=True),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("cells", postgresql.JSONB(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_table(
        "request_rollup_stale",
        sa.Column("city", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.execute(_MARK)
    op.execute(_EMPTY)
    op.execute(
        "CREATE TRIGGER request_rollup_inserted AFTER INSERT ON service_request REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION request_rollup_mark_stale()"
    )
    op.execute(
        "CREATE TRIGGER request_rollup_updated AFTER UPDATE ON service_request "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION request_rollup_mark_stale()"
    )
    op.execute(
        "CREATE TRIGGER request_rollup_deleted AFTER DELETE ON service_request REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION request_rollup_mark_stale()"
    )
    op.execute(
        "CREATE TRIGGER request_rollup_truncated AFTER TRUNCATE ON service_request "
        "FOR EACH STATEMENT EXECUTE FUNCTION request_rollup_empty()"
    )


def downgrade() -> None:
    for trigger in ("inserted", "updated", "deleted", "truncated"):
        op.execute(f"DROP TRIGGER request_rollup_{trigger} ON service_request")
    op.execute("DROP FUNCTION request_rollup_mark_stale()")
    op.execute("DROP FUNCTION request_rollup_empty()")
    op.drop_table("request_rollup_stale")
    op.drop_table("request_rollup_state")
    op.drop_index("request_rollup_cells", table_name="request_rollup")
    op.drop_table("request_rollup")
