"""``flask db``: schema migrations and the embedded PostgreSQL server."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import runtime, user_errors
from core.cluster import EmbeddedCluster
from core.database import check_reachable, current_revision, head_revision, upgrade
from core.errors import UserError

db_cli = AppGroup("db", help="The database: schema migrations and the embedded server.")


@db_cli.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Migrate the schema to the newest revision."""
    database = runtime().database
    check_reachable(database)
    upgrade(database.engine)
    click.echo(f"Schema at revision {head_revision()}.")


@db_cli.command("current")
@user_errors
def db_current() -> None:
    """Print the schema revision of the database and of the code."""
    database = runtime().database
    check_reachable(database)
    with database.engine.connect() as conn:
        click.echo(f"database: {current_revision(conn) or 'empty'}; code: {head_revision()}")


def embedded_cluster(action: str) -> EmbeddedCluster:
    """The embedded cluster, or a clear refusal when DATABASE_URL names another server."""
    cluster = runtime().database.cluster
    if cluster is None:
        raise UserError(f"DATABASE_URL is set: that server is not ours to {action}.")
    return cluster


@db_cli.command("start")
@user_errors
def db_start() -> None:
    """Start the embedded PostgreSQL server and leave it running."""
    cluster = embedded_cluster("start")
    started = cluster.ensure_running()
    cluster.started_here = False  # left running on purpose
    click.echo(f"{'Started' if started else 'Already running'}: {cluster.data_dir} (socket in {cluster.socket_dir})")


@db_cli.command("stop")
@user_errors
def db_stop() -> None:
    """Stop the embedded PostgreSQL server."""
    cluster = embedded_cluster("stop")
    running = cluster.is_running()
    cluster.stop()
    click.echo("Stopped." if running else "It was not running.")


@db_cli.command("status")
@user_errors
def db_status() -> None:
    """Say which database the app uses and whether it runs."""
    database = runtime().database
    if database.cluster is None:
        check_reachable(database)
        click.echo("Using DATABASE_URL: reachable.")
        return
    cluster = database.cluster
    state = "running" if cluster.is_running() else ("stopped" if cluster.is_initialized() else "not created yet")
    click.echo(f"Embedded PostgreSQL in {cluster.data_dir}: {state}.")
