"""Alembic environment: migrations run on the connection app.database.upgrade() passes in."""

from alembic import context

from app.database import Base

target_metadata = Base.metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations with `flask db upgrade` (it passes the app's database connection).")

context.configure(connection=connection, target_metadata=target_metadata)
with context.begin_transaction():
    context.run_migrations()
