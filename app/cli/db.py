"""``flask db``: schema migrations and the embedded PostgreSQL server."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import runtime, user_errors
from core.cluster import EmbeddedCluster, Standby
from core.database import ReadOnlyDatabase, check_reachable, current_revision, head_revision, replica_state, upgrade
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


# -- the embedded cluster's standby ----------------------------------------------------------


@db_cli.group("standby")
def standby_cli() -> None:
    """The embedded database's own streaming replica (var/postgres-standby): reads for reports and maps."""


def _standby() -> Standby:
    return Standby(embedded_cluster("copy into a standby"))


def _replica_hint(standby: Standby) -> str:
    url = standby.url(runtime().database.dbname)
    if runtime().settings.database_replica_url == url:
        return "The app reads from it (DATABASE_REPLICA_URL names it)."
    return f"To read from it, set DATABASE_REPLICA_URL='{url}'."


@standby_cli.command("create")
@user_errors
def standby_create() -> None:
    """Copy the running embedded database with pg_basebackup into a standby, and start it."""
    standby = _standby()
    if standby.primary.ensure_running():
        standby.primary.started_here = False  # the standby streams from it: left running
        click.echo(f"Started the embedded database in {standby.primary.data_dir}.")
    standby.primary.ensure_database(runtime().database.dbname)  # copied with the rest: the replica URL names it
    standby.create()
    standby.started_here = False  # left running on purpose
    click.echo(f"Standby made in {standby.data_dir} and started (socket in {standby.socket_dir}).")
    click.echo(_replica_hint(standby))


@standby_cli.command("start")
@user_errors
def standby_start() -> None:
    """Start the standby and leave it running (it catches up with the primary by itself)."""
    standby = _standby()
    started = standby.ensure_running()
    standby.started_here = False
    click.echo(f"{'Started' if started else 'Already running'}: {standby.data_dir} (socket in {standby.socket_dir})")


@standby_cli.command("stop")
@user_errors
def standby_stop() -> None:
    """Stop the standby (pages read from the primary meanwhile, with a note)."""
    standby = _standby()
    running = standby.is_running()
    standby.stop()
    click.echo("Stopped." if running else "It was not running.")


@standby_cli.command("remove")
@user_errors
def standby_remove() -> None:
    """Stop the standby and delete its files (to make a fresh copy with create)."""
    standby = _standby()
    existed = standby.is_initialized()
    standby.remove()
    click.echo(f"Removed {standby.root}." if existed else "There was no standby.")


@standby_cli.command("status")
@user_errors
def standby_status() -> None:
    """Say whether the standby exists, runs, and how far behind the primary it is."""
    standby = _standby()
    if not standby.is_initialized():
        click.echo(f"No standby in {standby.root}; make one with `flask db standby create`.")
        return
    if not standby.is_running():
        click.echo(f"Standby in {standby.data_dir}: stopped.")
        return
    database = ReadOnlyDatabase(standby.url(runtime().database.dbname))
    try:
        state = replica_state(database, runtime().settings.replica_max_lag)
    finally:
        database.dispose()
    click.echo(f"Standby in {standby.data_dir}: running. {state.sentence()}")
    click.echo(_replica_hint(standby))
