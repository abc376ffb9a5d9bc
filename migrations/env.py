"""Alembic environment: migrations run on the connection core.database.upgrade() passes in."""

from alembic import context

import accounts.models  # noqa: F401
import address_db.models  # noqa: F401  (every package's tables, for autogenerate)
import boundaries.models  # noqa: F401
import core.ratelimit  # noqa: F401
import core.shared_results  # noqa: F401
import open311.models  # noqa: F401
import service_requests.models  # noqa: F401
import service_requests.rollup_tables  # noqa: F401
from core.database import Base

target_metadata = Base.metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations with `flask db upgrade` (it passes the app's database connection).")


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    """PostGIS's own tables are not ours to migrate."""
    return not (type_ == "table" and name in ("spatial_ref_sys",))


context.configure(connection=connection, target_metadata=target_metadata, include_object=include_object)
with context.begin_transaction():
    context.run_migrations()
