"""Reads from a streaming replica: a real local standby of a primary, made with pg_basebackup.

One primary of the tests' own (a fresh embedded cluster with Gardena's boundaries, addresses
and services: a standby copies a whole cluster, and the suite's shared one may hold a
benchmark's millions of rows) and its :class:`~core.cluster.Standby`, for the module. A
request filed on the primary is read on the replica once replayed; the reports read the
replica, and fall back to the primary with a note when it is behind (replay paused), stopped,
not a standby, or nowhere at all. Works as root (the servers then run as the unprivileged
user) and as a normal user.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from address_db.validation import Validator
from app.factory import create_app
from app.web import read_session
from boundaries.loader import load_city as load_city_boundaries
from core.city import CityConfig
from core.cluster import EmbeddedCluster, Standby
from core.database import Database, ReadOnlyDatabase, Replica, ReplicaState, upgrade
from core.errors import ConfigError
from core.settings import PROJECT_ROOT, Settings
from geo.api import connect
from geo.grid import hex_cells
from service_requests.catalogue_db import sync_catalogue
from service_requests.intake import RequestInput, create_request
from tests.helpers.staff import CsrfClient, log_in, make_user

pytestmark = pytest.mark.db  # starts PostgreSQL clusters of its own

DBNAME = "city"
#: How long a write on the primary may take to be replayed on the standby before the test fails.
REPLAY_SECONDS = 20.0


@dataclasses.dataclass
class Replicated:
    """The module's primary and its standby."""

    primary: EmbeddedCluster
    standby: Standby
    database: Database  # the primary's
    pg_dir: Path  # the primary's folder as asked for (GEO311_PG_DIR; its root may have moved, see EmbeddedCluster)

    @property
    def replica_url(self) -> str:
        return self.standby.url(DBNAME)


def _remove_cluster(cluster: EmbeddedCluster, under: Path) -> None:
    cluster.stop()
    if not cluster.root.is_relative_to(under):  # moved under /var/lib/geo311: the server's user could not reach `under`
        shutil.rmtree(cluster.root, ignore_errors=True)
        Path(cluster.root.parent, f".{cluster.root.name}.lock").unlink(missing_ok=True)


@pytest.fixture(scope="module")
def replicated(settings: Settings, gardena: CityConfig) -> Iterator[Replicated]:
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="replica-test-", dir=PROJECT_ROOT / "var")).resolve()
    base.chmod(0o755)  # the servers' user (when we are root) reaches the clusters inside; each keeps its own 0700
    primary = EmbeddedCluster(base / "pg")
    standby = Standby(primary)
    database = Database(cluster=primary, dbname=DBNAME)
    try:
        primary.ensure_running()
        primary.ensure_database(DBNAME)
        upgrade(database.engine)
        with database.session() as session:
            load_city_boundaries(session, gardena)
            sync_catalogue(session, gardena)
            session.commit()
        standby.create()
        assert standby.root.name == "pg-standby" and standby.socket_dir != primary.socket_dir
        yield Replicated(primary, standby, database, base / "pg")
    finally:
        database.dispose()
        standby.remove()
        _remove_cluster(primary, base)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def running(replicated: Replicated) -> Replicated:
    """The pair with the standby running (a test before may have stopped it)."""
    replicated.standby.ensure_running()
    return replicated


def _wait_for(what: str, check: Callable[[], Any], seconds: float = REPLAY_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.1)


def _file(database: Database, gardena: CityConfig, validator: Validator, description: str) -> str:
    """File (and commit) a request on the primary; its public reference."""
    with database.session() as session:
        return create_request(
            session,
            gardena,
            validator,
            RequestInput(
                service_code="graffiti",
                channel="phone",
                lon=-118.3090,
                lat=33.8880,
                description=description,
                attributes={"surface": "wall"},
            ),
        ).request.public_ref


def _on(url: str, reference: str) -> bool:
    """Whether the request ``reference`` is in the database of ``url`` (a fresh connection)."""
    database = ReadOnlyDatabase(url)
    try:
        with database.session() as session:
            found = session.execute(
                text("SELECT 1 FROM service_request WHERE public_ref = :ref"), {"ref": reference}
            ).scalar()
            return found is not None
    finally:
        database.dispose()


def _state(url: str, max_lag: float) -> ReplicaState:
    replica = Replica(ReadOnlyDatabase(url), max_lag=max_lag)
    try:
        return replica.state()
    finally:
        replica.dispose()


def _replayed(replicated: Replicated, reference: str) -> None:
    _wait_for(f"{reference} replayed on the standby", lambda: _on(replicated.replica_url, reference))


def _app(settings: Settings, replicated: Replicated, replica_url: str, max_lag: int = 30) -> Flask:
    app = create_app(
        dataclasses.replace(settings, city="gardena", database_replica_url=replica_url, replica_max_lag=max_lag),
        database=replicated.database,
    )
    runtime_replica = app.extensions["geo311"].replica
    assert runtime_replica is not None
    runtime_replica.check_seconds = 0  # check at every page: the test changes the replica between pages
    return app


def _client(app: Flask, replicated: Replicated) -> FlaskClient:
    with replicated.database.session() as session:
        username = make_user(session, "analyst", city="gardena")
    app.test_client_class = CsrfClient
    client = app.test_client()
    log_in(client, username)
    return client


def _reads_standby(app: Flask, path: str = "/reports/") -> bool:
    """Whether a page's read session at ``path`` is on a server in recovery (the standby)."""
    with app.test_request_context(path):
        return bool(read_session().execute(text("SELECT pg_is_in_recovery()")).scalar())


# -- the replica itself -----------------------------------------------------------------------


def test_a_request_filed_on_the_primary_is_read_on_the_replica_once_replayed(running, gardena, gardena_validator):
    reference = _file(running.database, gardena, gardena_validator, "filed on the primary")
    replica = Replica(ReadOnlyDatabase(running.replica_url, primary=running.database), max_lag=30, check_seconds=0)
    try:
        _wait_for(
            "the request replayed",
            lambda: (
                replica.session()
                .execute(text("SELECT public_ref FROM service_request WHERE public_ref = :ref"), {"ref": reference})
                .scalar()
            ),
        )
        state = replica.state()
        assert state.usable and state.problem is None and state.lag_seconds is not None
        with replica.session() as session:
            assert session.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
            with pytest.raises(DBAPIError, match="read-only"):
                session.execute(
                    text("UPDATE service_request SET description = 'changed' WHERE public_ref = :ref"),
                    {"ref": reference},
                )
    finally:
        replica.dispose()


def test_sessions_on_a_replica_url_are_read_only_even_when_it_names_a_primary(running):
    database = ReadOnlyDatabase(running.primary.url(DBNAME))
    try:
        with database.session() as session, pytest.raises(DBAPIError, match="read-only"):
            session.execute(text("CREATE TABLE written_through_the_replica_url (n int)"))
    finally:
        database.dispose()


def test_a_grid_built_while_reading_the_replica_is_stored_on_the_primary(running, gardena):
    replica = Replica(ReadOnlyDatabase(running.replica_url, primary=running.database), max_lag=30)
    try:
        with replica.session() as session:
            cells = hex_cells(session, gardena, 1234.0)  # a size no other test builds
        assert len(cells) > 0 and cells["share"].between(0, 1).all()
        with running.database.session() as primary:
            stored = primary.execute(text("SELECT cells FROM hex_grid WHERE size_m = 1234")).scalar()
        assert stored == len(cells)
    finally:
        replica.dispose()


def test_a_replica_behind_by_more_than_the_max_lag_sends_the_pages_to_the_primary(
    running, settings, gardena, gardena_validator
):
    _replayed(running, _file(running.database, gardena, gardena_validator, "replayed before the pause"))
    with psycopg.connect(running.standby.conninfo(DBNAME), autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            _wait_for(
                "replay paused",
                lambda: standby.execute("SELECT pg_get_wal_replay_pause_state() = 'paused'").fetchone()[0],
            )
            reference = _file(running.database, gardena, gardena_validator, "received, not replayed")
            _wait_for(
                "the request received",
                lambda: standby.execute("SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()").fetchone()[0],
            )
            time.sleep(1.1)  # the last replayed transaction is now more than a second old

            behind = _state(running.replica_url, max_lag=1)
            assert not behind.usable and behind.problem == "behind"
            assert behind.lag_seconds is not None and behind.lag_seconds > 1
            assert _state(running.replica_url, max_lag=3600).usable  # within a looser rule

            app = _app(settings, running, running.replica_url, max_lag=1)
            client = _client(app, running)
            page = client.get("/reports/")
            assert page.status_code == 200
            note = page.get_data(as_text=True)
            assert 'id="replica-note"' in note and "Figures read from the primary: the replica is" in note
            assert " s behind." in note
            assert not _reads_standby(app)
            assert _on(running.primary.url(DBNAME), reference) and not _on(running.replica_url, reference)
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    _replayed(running, reference)


# -- the pages, the API, and the fallback -------------------------------------------------------


def test_the_reports_read_the_replica_and_fall_back_to_the_primary_when_it_stops(
    running, settings, gardena, gardena_validator
):
    reference = _file(running.database, gardena, gardena_validator, "seen on the report")
    _replayed(running, reference)
    app = _app(settings, running, running.replica_url)
    client = _client(app, running)

    page = client.get("/reports/")
    assert page.status_code == 200 and "replica-note" not in page.get_data(as_text=True)
    assert _reads_standby(app)
    for path in ("/reports/export/summary.csv", "/maps/requests", "/around/list"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])

    running.standby.stop()
    page = client.get("/reports/")
    assert page.status_code == 200
    assert "Figures read from the primary: the replica is unreachable." in page.get_data(as_text=True)
    assert not _reads_standby(app)
    assert client.get("/reports/export/summary.csv").status_code == 200
    assert client.get("/around/list").status_code == 200

    running.standby.ensure_running()  # back: the pages read it again
    page = client.get("/reports/")
    assert page.status_code == 200 and "replica-note" not in page.get_data(as_text=True)
    assert _reads_standby(app)


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("postgresql://geo311@/city?host=/nonexistent/geo311-replica&port=5432", "unreachable"),
        ("postgresql://geo311@127.0.0.1:1/city", "unreachable"),
        ("primary", "not a standby"),
    ],
)
def test_a_replica_that_points_nowhere_or_at_a_primary_falls_back_with_a_note(running, settings, where, problem):
    url = running.primary.url(DBNAME) if where == "primary" else where
    app = _app(settings, running, url)
    client = _client(app, running)
    for path in ("/reports/", "/reports/backlog"):
        page = client.get(path)
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        assert f"Figures read from the primary: the replica is {problem}." in page.get_data(as_text=True)
    assert client.get("/reports/export/summary.csv").status_code == 200


def test_the_analysts_api_reads_the_replica_or_says_why_not(running, settings, gardena, gardena_validator):
    reference = _file(running.database, gardena, gardena_validator, "for the analyst")
    _replayed(running, reference)
    primary_url = running.primary.url(DBNAME)
    with connect("gardena", database_url=primary_url, settings=settings, replica_url=running.replica_url) as analyst:
        assert analyst.replica is not None and analyst.note is None
        assert analyst.session.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
        assert reference in set(analyst.requests()["public_ref"])
    with connect(
        "gardena", database_url=primary_url, settings=settings, replica_url="postgresql://geo311@127.0.0.1:1/x"
    ) as analyst:
        assert analyst.replica is None and analyst.note is not None and "cannot be reached" in analyst.note
        assert reference in set(analyst.requests()["public_ref"])  # read from the primary instead


def test_the_standby_commands_stop_start_and_tell_its_state(running, settings):
    app = create_app(dataclasses.replace(settings, city="gardena", pg_dir=running.pg_dir))
    runner = app.test_cli_runner()
    stopped = runner.invoke(args=["db", "standby", "stop"])
    assert stopped.exit_code == 0 and "Stopped." in stopped.output
    assert not running.standby.is_running()
    assert "stopped." in runner.invoke(args=["db", "standby", "status"]).output
    again = runner.invoke(args=["db", "standby", "create"])
    assert again.exit_code == 1 and "exists already" in again.output  # never over a standby that exists
    started = runner.invoke(args=["db", "standby", "start"])
    assert started.exit_code == 0 and "Started" in started.output and running.standby.is_running()
    status = runner.invoke(args=["db", "standby", "status"]).output
    assert "running." in status and "DATABASE_REPLICA_URL=" in status


def test_replica_settings_refuse_what_cannot_work():
    with pytest.raises(ConfigError, match="DATABASE_REPLICA_URL"):
        Settings.from_env({"DATABASE_REPLICA_URL": "mysql://replica/db"})
    with pytest.raises(ConfigError, match="DATABASE_REPLICA_URL"):
        Settings.from_env({"DATABASE_REPLICA_URL": "postgresql://replica:port/db"})
    with pytest.raises(ConfigError, match="GEO311_REPLICA_MAX_LAG"):
        Settings.from_env({"GEO311_REPLICA_MAX_LAG": "half a minute"})
    settings = Settings.from_env({"DATABASE_REPLICA_URL": "postgresql://r@replica/city", "GEO311_REPLICA_MAX_LAG": "5"})
    assert (settings.database_replica_url, settings.replica_max_lag) == ("postgresql://r@replica/city", 5)
