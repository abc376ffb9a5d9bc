"""Reports: the request index by time carries every column a report reads

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: What the Summary of Performance and the breakouts read besides (city, requested_at).
REPORT_COLUMNS = [
    "in_jurisdiction",
    "is_open",
    "status",
    "closed_at",
    "due_at",
    "duplicate_of",
    "service_code",
    "department_code",
    "ward_key",
    "district_key",
    "channel",
]


def upgrade() -> None:
    # A report reads a tenth of each row. With these columns in the index, it is read by an
    # index-only scan of about 100 MB at a million requests instead of the whole table (three
    # times larger, with its descriptions and addresses): about a quarter faster. It replaces
    # the plain (city, requested_at) index, which it serves as well.
    op.create_index(
        "service_request_report",
        "service_request",
        ["city", "requested_at"],
        unique=False,
        postgresql_include=REPORT_COLUMNS,
    )
    op.drop_index("service_request_requested", table_name="service_request")


def downgrade() -> None:
    op.create_index("service_request_requested", "service_request", ["city", "requested_at"], unique=False)
    op.drop_index("service_request_report", table_name="service_request")
