"""Channels are each city's own: drop the check that held every city to the nine of old

A city file may now list its channels (``[channels]``, core/channels.py), so which values
``service_request.channel`` may hold depends on the city; intake, the history import and
the filters check them against the city's vocabulary. The downgrade restores the check,
and fails if a request holds a channel outside the nine.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_CHANNELS = ("phone", "walk_in", "web", "mobile_app", "email", "mail", "staff", "council_office", "open311")


def upgrade() -> None:
    op.drop_constraint("channel_known", "service_request", type_="check")


def downgrade() -> None:
    listed = ", ".join(f"'{c}'" for c in OLD_CHANNELS)
    op.create_check_constraint("channel_known", "service_request", f"channel IN ({listed})")
