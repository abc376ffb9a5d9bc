"""Photos of requests (issue 20, Must 2)

- ``request_photo``: a photo attached to a request by its resident, staff or an Open311 client: the name
  of its file in the media folder (random), its type and size once re-encoded, who added it, and whether
  staff hid it.
- ``service.public_photos``: whether the requests' photos of a service are shown on the public status
  page and in Open311 answers (off unless the catalogue says so).

Revision ID: 0019
Revises: 0024
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service", sa.Column("public_photos", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "request_photo",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "request_id", sa.BigInteger(), sa.ForeignKey("service_request.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("stored_name", sa.String(80), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden_by", sa.Text(), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("stored_name"),
        sa.CheckConstraint("origin IN ('resident', 'staff', 'open311')", name="photo_origin_known"),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')", name="photo_type_known"),
    )
    op.create_index("ix_request_photo_request_id", "request_photo", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_request_photo_request_id", table_name="request_photo")
    op.drop_table("request_photo")
    op.drop_column("service", "public_photos")
