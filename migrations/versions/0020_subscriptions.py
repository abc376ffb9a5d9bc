"""Subscriptions: following a request by e-mail, alerts for an area (issue 20, Must 7)

- ``subscription``: an e-mail address that follows a request (``kind = 'request'``) or is
  alerted of new requests in a ward (``'ward'``) or within a radius of a point (``'near'``).
  Pending until confirmed by the single-use link of its one confirmation e-mail (the token's
  SHA-256 is kept, never the token); ``unsubscribed_at`` ends it. The area alerts keep the
  last request and event already sent, so each goes out once.
- ``notification.subscription_id``: a message to a subscriber, sent with its unsubscribe link.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("city", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column(
            "request_id", sa.BigInteger(), sa.ForeignKey("service_request.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("ward_key", sa.Text(), nullable=True),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("radius_m", sa.Integer(), nullable=True),
        sa.Column("updates", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("confirm_hash", sa.String(64), nullable=True),
        sa.Column("unsubscribe_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_request_id", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint("kind IN ('request', 'ward', 'near')", name="subscription_kind_known"),
        sa.CheckConstraint(
            "(kind = 'request') = (request_id IS NOT NULL)"
            " AND (kind = 'ward') = (ward_key IS NOT NULL)"
            " AND (kind = 'near') = (geom IS NOT NULL AND radius_m IS NOT NULL)",
            name="subscription_target_matches_kind",
        ),
    )
    op.create_index(
        "subscription_confirm",
        "subscription",
        ["confirm_hash"],
        unique=True,
        postgresql_where=sa.text("confirm_hash IS NOT NULL"),
    )
    op.create_index("subscription_unsubscribe", "subscription", ["unsubscribe_token"], unique=True)
    op.create_index(
        "subscription_request", "subscription", ["request_id"], postgresql_where=sa.text("request_id IS NOT NULL")
    )
    op.create_index("subscription_city_kind", "subscription", ["city", "kind"])
    op.add_column(
        "notification",
        sa.Column(
            "subscription_id", sa.BigInteger(), sa.ForeignKey("subscription.id", ondelete="CASCADE"), nullable=True
        ),
    )
    op.create_index("ix_notification_subscription_id", "notification", ["subscription_id"])


def downgrade() -> None:
    op.drop_index("ix_notification_subscription_id", table_name="notification")
    op.drop_column("notification", "subscription_id")
    op.drop_table("subscription")
