"""Test fixtures: a real PostGIS database for the session, a rolled-back transaction per test.

The session database is created fresh (``geo311_test_<pid>``, one per pytest-xdist worker) in the embedded cluster,
or on ``DATABASE_URL``'s server when it is set, as a copy of a template database that is migrated
and loaded with the boundaries, addresses, catalogues and histories of the ``la`` and ``gardena``
cities once (``geo311_template_<hash>``, named for the code, migrations and data it was made from,
so a change to any of them makes a new one), and dropped at the end. Each test runs inside an outer
transaction that is rolled back, so tests cannot see each other's writes even when the
code under test commits.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from address_db.loader import load_addresses
from app.factory import create_app
from boundaries.index import IndexCache
from boundaries.loader import load_city as load_city_boundaries
from core.city import CityConfig, load_city
from core.cluster import EmbeddedCluster
from core.database import BoundDatabase, Database, normalize_url, upgrade
from core.settings import PROJECT_ROOT, Settings
from core.shared_results import code_fingerprint
from service_requests.catalogue_db import sync_catalogue
from service_requests.importer import import_history, tidy_after_import
from tests.helpers.translations import compile_catalogues

TEST_DBNAME = f"geo311_test_{os.getpid()}"
#: Import reports of the session database's loads, one folder per xdist worker (they load at once).
REPORT_DIR = PROJECT_ROOT / "var" / "test-reports" / os.environ.get("PYTEST_XDIST_WORKER", "main")


#: Fixtures that start PostgreSQL: the session database, and a cluster of a test's own.
DATABASE_FIXTURES = frozenset({"database", "cluster_root"})


#: The embedded cluster the controller of an xdist run started for its workers (stopped when the run ends).
_CONTROLLER_CLUSTER: list[EmbeddedCluster] = []


def _runs_workers(config: pytest.Config) -> bool:
    """True in the controller of a run with pytest-xdist workers (``-n 2``), not in a worker."""
    return bool(getattr(config.option, "numprocesses", 0)) and not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    """With xdist workers, start the embedded cluster once here, before they start.

    Each worker then finds it running and leaves it running when it ends, so the first worker
    to finish cannot stop the server under the others; the controller stops it at the end.
    """
    compile_catalogues()  # the .mo files install.sh compiles, for a run without it
    settings = Settings.from_env(env="test")
    if _runs_workers(session.config) and not settings.database_url:
        cluster = EmbeddedCluster(settings.pg_dir)
        cluster.ensure_running()
        _CONTROLLER_CLUSTER.append(cluster)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for cluster in _CONTROLLER_CLUSTER:
        cluster.stop_if_started_here()


#: Test files that take longest (20 s to 100 s each on the project's 2-core machine, as
#: ``--durations`` shows): run first, so that with xdist workers (``--dist loadfile``) no worker
#: starts one of them when the others are nearly done. Longest first; the rest keep their order.
#: (tests/app/test_faults.py is not among them: it restarts the shared cluster, and at the start
#: of a run the other worker is loading its session database, which a restart breaks.)
SLOW_FILES = (
    "tests/app/test_mobile_browser.py",
    "tests/app/test_accessibility_browser.py",
    "tests/app/test_gunicorn_workers.py",
    "tests/app/test_maps_browser.py",
    "tests/bench/test_load_people.py",
    "tests/open311/test_open311_schema.py",
    "tests/accounts/test_security.py",
    "tests/service_requests/test_private_location.py",
    "tests/service_requests/test_request_import.py",
    "tests/app/test_tiles_browser.py",
    "tests/accounts/test_lockout.py",
    "tests/address_db/test_address_sources.py",
    "tests/app/test_route_fuzz.py",
    "tests/notebooks/test_notebooks.py",
    "tests/address_db/test_fuzz.py",
)


def _slow_first(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return SLOW_FILES.index(path) if path in SLOW_FILES else len(SLOW_FILES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs, so that ``pytest -m unit`` never starts PostgreSQL.

    ``db``: the test reaches a fixture that starts PostgreSQL (``fixturenames`` is
    transitive), or is marked ``db`` by hand because it starts a cluster itself.
    ``browser`` tests keep their mark (and are ``db`` too when they use the database).
    ``unit``: every other test. The :data:`SLOW_FILES` come first (a stable sort: the order
    within a file, and of the other files, is kept).
    """
    items.sort(key=_slow_first)
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & DATABASE_FIXTURES and item.get_closest_marker("db") is None:
            item.add_marker(pytest.mark.db)
        if item.get_closest_marker("db") is None and item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def settings() -> Settings:
    # No replica, whatever the environment says: a replica cannot see a test's rolled-back transaction.
    return Settings.from_env(env="test", database_replica_url=None)


@pytest.fixture(scope="session")
def la(settings: Settings) -> CityConfig:
    return load_city("la", settings.cities_dir, settings.data_dir)


@pytest.fixture(scope="session")
def gardena(settings: Settings) -> CityConfig:
    return load_city("gardena", settings.cities_dir, settings.data_dir)


def _load_cities(db: Database, cities: tuple[CityConfig, ...]) -> None:
    """Migrate ``db`` and load each city's boundaries, addresses, catalogue and history, as the README's commands do."""
    upgrade(db.engine)
    for city in cities:
        with db.session() as session:
            load_city_boundaries(session, city)
            load_addresses(session, city, report_dir=REPORT_DIR)
            sync_catalogue(session, city)
            session.commit()
            if city.requests is not None:
                report = import_history(session, city, report_dir=REPORT_DIR)
                session.commit()
                tidy_after_import(db.engine, report, city=city)  # as `flask requests import` does


def _template_name(cities: tuple[CityConfig, ...], data_dir: Path) -> str:
    """The loaded database's template for this code, these migrations, city files and data files.

    Anything that could change what the load makes changes the name: the application's source
    (:func:`core.shared_results.code_fingerprint`), this file, the migrations, each city's file, and
    the size and time of every file in the data folder.
    """
    hashed = hashlib.sha256(code_fingerprint().encode())
    for path in sorted((PROJECT_ROOT / "migrations" / "versions").glob("*.py")):
        hashed.update(path.read_bytes())
    hashed.update(Path(__file__).read_bytes())  # how this file loads the cities
    for city in cities:
        hashed.update(city.path.read_bytes())
    hashed.update(str(data_dir.resolve()).encode())
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        hashed.update(f"{path.relative_to(data_dir)} {stat.st_size} {stat.st_mtime_ns}".encode())
    return f"geo311_template_{hashed.hexdigest()[:12]}"


def _create_from_template(
    admin: Engine, server_url: str, cities: tuple[CityConfig, ...], data_dir: Path, dbname: str
) -> None:
    """Create ``dbname`` as a copy of the template database of the loaded cities, built once (the first
    worker builds it, the others wait for it).

    Every xdist worker, and the run of the tests that restart the server, then copies it instead of
    loading the cities again; a later run with the same code and data reuses it. Templates of other
    code or data are dropped when a new one is built.
    """
    name = _template_name(cities, data_dir)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(hashtext('geo311 test template'))"))
        try:
            present = set(
                conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'geo311_template_%'")).scalars()
            )
            if name not in present:
                for old in present:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)'))
                building = f"{name}_building"
                conn.execute(text(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{building}"'))
                db = Database(url=make_url(server_url).set(database=building).render_as_string(hide_password=False))
                try:
                    _load_cities(db, cities)
                finally:
                    db.dispose()
                conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))  # whole, or not there
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{dbname}" TEMPLATE "{name}" STRATEGY FILE_COPY'))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(hashtext('geo311 test template'))"))


@pytest.fixture(scope="session")
def database(settings: Settings, la: CityConfig, gardena: CityConfig) -> Iterator[Database]:
    """A fresh, migrated database with both cities' boundaries and addresses, dropped afterwards.

    A copy of the template database the first worker loads (:func:`_create_from_template`).
    """
    cluster: EmbeddedCluster | None = None
    if settings.database_url:
        server_url = normalize_url(settings.database_url)
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # survives a restart
    else:
        cluster = EmbeddedCluster(settings.pg_dir)
        cluster.ensure_running()
        server_url = cluster.url("postgres")
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # survives a restart
    _create_from_template(admin, server_url, (la, gardena), settings.data_dir, TEST_DBNAME)
    if cluster is not None:
        db = Database(cluster=cluster, dbname=TEST_DBNAME)
    else:
        db = Database(url=make_url(server_url).set(database=TEST_DBNAME).render_as_string(hide_password=False))
    with db.engine.begin() as conn:  # the copy's statistics start empty: the planner needs them
        conn.execute(text("ANALYZE"))
    yield db

    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DBNAME}" WITH (FORCE)'))
    admin.dispose()
    if cluster is not None:
        cluster.stop_if_started_here()


@pytest.fixture
def bound_database(database: Database) -> Iterator[BoundDatabase]:
    """The session database seen through one connection whose transaction is rolled back."""
    connection = database.engine.connect()
    transaction = connection.begin()
    try:
        yield BoundDatabase(connection)
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def session(bound_database: BoundDatabase) -> Iterator[Session]:
    """A session whose commits are undone after the test."""
    s = bound_database.session()
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def app(settings: Settings, bound_database: BoundDatabase) -> Flask:
    return create_app(settings, database=bound_database)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An anonymous visitor whose form posts carry the page's CSRF token."""
    from tests.helpers.staff import CsrfClient

    app.test_client_class = CsrfClient
    return app.test_client()


@pytest.fixture
def client_as(app: Flask, session: Session):
    """``client_as("supervisor")``: a new client logged in as a new user of that role (scope optional)."""
    from tests.helpers.staff import CsrfClient, log_in, make_user

    def make(role: str, **scope: Any) -> FlaskClient:
        app.test_client_class = CsrfClient
        client = app.test_client()
        log_in(client, make_user(session, role, **scope))
        return client

    return make


@pytest.fixture
def admin_client(client_as) -> FlaskClient:
    """A client logged in as an administrator."""
    return client_as("admin")


@pytest.fixture(scope="session")
def data_dir(settings: Settings) -> Path:
    return settings.data_dir / "la"


@pytest.fixture
def validator(la: CityConfig):
    from address_db.validation import Validator

    return Validator(la.key, boundaries=IndexCache(cities=[la]), settings=la.addresses, home_name=la.name)


@pytest.fixture
def gardena_validator(gardena: CityConfig):
    from address_db.validation import Validator

    return Validator(
        gardena.key, boundaries=IndexCache(cities=[gardena]), settings=gardena.addresses, home_name=gardena.name
    )
