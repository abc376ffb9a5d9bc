"""Service requests: catalogue tables, requests, contacts, append-only history, notification outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:41:46.793630
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("supervisor_email", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city", "code"),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("group_name", sa.Text(), nullable=False),
        sa.Column("keywords", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("default_assignee", sa.Text(), nullable=True),
        sa.Column("sla_hours", sa.Integer(), nullable=True),
        sa.Column("sla_business_days", sa.Integer(), nullable=True),
        sa.Column("contact_policy", sa.String(length=16), nullable=False),
        sa.Column("location_policy", sa.String(length=16), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("contact_policy IN ('ask', 'require', 'never')", name="contact_policy_known"),
        sa.CheckConstraint("location_policy IN ('required', 'optional', 'none')", name="location_policy_known"),
        sa.CheckConstraint("(sla_hours IS NULL) <> (sla_business_days IS NULL)", name="one_service_level"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("city", "code"),
    )
    op.create_table(
        "service_request",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("public_ref", sa.String(length=40), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("service_name", sa.Text(), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("assignee", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column(
            "is_open",
            sa.Boolean(),
            sa.Computed("status IN ('submitted', 'acknowledged', 'in_progress', 'scheduled')", persisted=True),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("response_method", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("address_id", sa.String(length=64), nullable=True),
        sa.Column("zipcode", sa.String(length=5), nullable=True),
        sa.Column("location_note", sa.Text(), nullable=True),
        sa.Column("location_quality", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("in_jurisdiction", sa.Boolean(), nullable=True),
        sa.Column("agency_key", sa.Text(), nullable=True),
        sa.Column("ward_key", sa.Text(), nullable=True),
        sa.Column("district_key", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("service_level", sa.Text(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duplicate_of", sa.BigInteger(), nullable=True),
        sa.Column("media_url", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "channel IN ('phone', 'walk_in', 'web', 'mobile_app', 'email', 'mail', 'staff', 'council_office', 'open311')",
            name="channel_known",
        ),
        sa.CheckConstraint(
            "location_quality IN ('address', 'point', 'general', 'none', 'source', 'placeholder', 'relocated')",
            name="location_quality_known",
        ),
        sa.CheckConstraint("response_method IN ('email', 'mail', 'phone', 'none')", name="response_method_known"),
        sa.CheckConstraint(
            "status IN ('submitted', 'acknowledged', 'in_progress', 'scheduled', 'fixed', 'duplicate', 'not_our_responsibility', 'referred_out', 'cancelled')",
            name="status_known",
        ),
        sa.CheckConstraint("char_length(description) <= 4000", name="description_length"),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["service_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_ref"),
    )
    op.create_index("service_request_district", "service_request", ["city", "district_key"], unique=False)
    op.create_index(
        "service_request_due", "service_request", ["city", "due_at"], unique=False, postgresql_where=sa.text("is_open")
    )
    op.create_index("service_request_geom_idx", "service_request", ["geom"], unique=False, postgresql_using="gist")
    op.create_index(
        "service_request_idempotency",
        "service_request",
        ["city", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_index(
        "service_request_open_service",
        "service_request",
        ["city", "service_code", "requested_at"],
        unique=False,
        postgresql_where=sa.text("is_open"),
    )
    op.create_index("service_request_requested", "service_request", ["city", "requested_at"], unique=False)
    op.create_index(
        "service_request_source",
        "service_request",
        ["city", "source_id"],
        unique=True,
        postgresql_where=sa.text("source_id IS NOT NULL"),
    )
    op.create_index("service_request_ward", "service_request", ["city", "ward_key"], unique=False)
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "notification_pending",
        "notification",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NULL"),
    )
    op.create_table(
        "request_contact",
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_table(
        "request_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_request_event_request_id"), "request_event", ["request_id"], unique=False)
    # The history of a request is append-only: what happened stays as it happened.
    op.execute("""
        CREATE FUNCTION request_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'request history is append-only: % refused on request_event', TG_OP;
        END $$;
        CREATE TRIGGER request_event_append_only BEFORE UPDATE OR DELETE ON request_event
            FOR EACH ROW EXECUTE FUNCTION request_event_append_only();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS request_event_append_only ON request_event")
    op.execute("DROP FUNCTION IF EXISTS request_event_append_only()")
    op.drop_index(op.f("ix_request_event_request_id"), table_name="request_event")
    op.drop_table("request_event")
    op.drop_table("request_contact")
    op.drop_index("notification_pending", table_name="notification", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_table("notification")
    op.drop_index("service_request_ward", table_name="service_request")
    op.drop_index(
        "service_request_source", table_name="service_request", postgresql_where=sa.text("source_id IS NOT NULL")
    )
    op.drop_index("service_request_requested", table_name="service_request")
    op.drop_index("service_request_open_service", table_name="service_request", postgresql_where=sa.text("is_open"))
    op.drop_index(
        "service_request_idempotency",
        table_name="service_request",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index("service_request_geom_idx", table_name="service_request", postgresql_using="gist")
    op.drop_index("service_request_due", table_name="service_request", postgresql_where=sa.text("is_open"))
    op.drop_index("service_request_district", table_name="service_request")
    op.drop_table("service_request")
    op.drop_table("service")
    op.drop_table("department")
