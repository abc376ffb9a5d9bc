"""The database: engine and sessions, the embedded cluster, and schema migrations.

Domain code everywhere takes a :class:`sqlalchemy.orm.Session`; this module is where
sessions come from, for the web app, the command line, the notebooks and the tests.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from core.cluster import SUPERVISOR_ENV, EmbeddedCluster, supervisor_pid
from core.errors import DatabaseUnavailable
from core.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

DEFAULT_DBNAME = "geo311"
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


class Base(DeclarativeBase):
    """The declarative base of every table; each package declares its own tables on it."""


def normalize_url(url: str) -> str:
    """A PostgreSQL URL with the psycopg 3 driver, whatever scheme it was given with."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def rows_affected(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE run by ``Session.execute`` touched.

    SQLAlchemy returns a ``CursorResult`` for these statements but types the return as ``Result``.
    """
    return cast("CursorResult[Any]", result).rowcount


def driver_connection(session: Session) -> psycopg.Connection[Any]:
    """The psycopg connection under ``session`` (for ``COPY``), in the session's transaction."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise DatabaseUnavailable("The session's database connection is closed; open a new session.")
    return cast("psycopg.Connection[Any]", raw)


class Database:
    """One database: its engine (made on first use) and a session factory.

    Built with :meth:`from_settings`, it uses ``DATABASE_URL`` or else the embedded
    cluster, which it starts on first use and stops at exit if it started it; in a
    process whose parent supervises the cluster (a gunicorn worker, see
    :func:`supervise_cluster`) it only connects.
    """

    def __init__(
        self, url: str | None = None, cluster: EmbeddedCluster | None = None, dbname: str = DEFAULT_DBNAME
    ) -> None:
        if url is None and cluster is None:
            raise ValueError("a Database needs a URL or an embedded cluster")
        self._url = normalize_url(url) if url else None
        self.cluster = cluster
        self.dbname = dbname
        self._engine: Engine | None = None
        self._sessionmaker: sessionmaker[Session] | None = None
        if cluster is not None:
            # The cluster may be started later in a request thread, where no signal
            # handler can be installed: prepare the clean exit now.
            _exit_cleanly_on_sigterm()

    @classmethod
    def from_settings(cls, settings: Settings, dbname: str | None = None) -> Database:
        """The database the settings name: ``DATABASE_URL``, or the embedded cluster."""
        if settings.database_url:
            url = normalize_url(settings.database_url)
            if dbname:
                url = make_url(url).set(database=dbname).render_as_string(hide_password=False)
            return cls(url=url)
        return cls(cluster=EmbeddedCluster(settings.pg_dir), dbname=dbname or DEFAULT_DBNAME)

    @property
    def url(self) -> str:
        if self._url is not None:
            return self._url
        assert self.cluster is not None
        return self.cluster.url(self.dbname)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            # Asked here, not at construction: gunicorn's --preload builds the app before
            # the master takes charge of the cluster.
            manages_cluster = self.cluster is not None and supervisor_pid() is None
            if manages_cluster:
                self._start_cluster()
            self._engine = create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=10)
            if manages_cluster:
                self._restart_cluster_on_connect(self._engine)
        return self._engine

    def _start_cluster(self) -> None:
        assert self.cluster is not None
        if self.cluster.ensure_running():
            atexit.register(self.cluster.stop_if_started_here)
        self.cluster.ensure_database(self.dbname)

    def _restart_cluster_on_connect(self, engine: Engine) -> None:
        """Start the embedded server again if another process stopped it meanwhile."""
        cluster = self.cluster
        assert cluster is not None
        socket = cluster.socket_dir / f".s.PGSQL.{cluster.port}"

        @event.listens_for(engine, "do_connect")
        def _ensure_server(dialect, conn_rec, cargs, cparams):  # noqa: ANN001
            if not socket.exists():
                self._start_cluster()

    def session(self) -> Session:
        """A new session; the caller commits or rolls back and closes it."""
        if self._sessionmaker is None:
            self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        return self._sessionmaker()

    def dispose(self) -> None:
        """Close pooled connections (the server keeps running)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._sessionmaker = None


def _exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM run atexit handlers (Python's default skips them), so that a
    server this process starts is stopped; only where nobody else handles SIGTERM."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


# -- the embedded cluster owned by a supervising process (gunicorn.conf.py) -------------

#: The cluster this process supervises. Kept here rather than in the gunicorn config:
#: gunicorn executes its config file afresh at every reload (SIGHUP), losing its globals.
_supervised: EmbeddedCluster | None = None


def supervise_cluster(settings: Settings) -> EmbeddedCluster | None:
    """Take charge of the embedded cluster for the processes this one forks (the gunicorn master).

    Starts the cluster unless it runs already (``flask db start``, a previous server),
    creates the app's database, warns in the log when its schema is not the code's, and
    marks the environment so that forked workers only connect: they never start or stop
    it. :func:`end_supervision` stops it if this call started it. Returns the cluster, or
    None when ``DATABASE_URL`` names a server (nothing to supervise).
    """
    global _supervised
    if settings.database_url:
        return None
    cluster = EmbeddedCluster(settings.pg_dir)
    cluster.ensure_running()
    _supervised = cluster
    try:
        cluster.ensure_database(DEFAULT_DBNAME)
        engine = create_engine(cluster.url(DEFAULT_DBNAME), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                revision = current_revision(conn)
        finally:
            engine.dispose()
    except OperationalError as exc:
        end_supervision()  # gunicorn does not call on_exit when on_starting fails
        raise DatabaseUnavailable(
            f"The embedded database in {cluster.root} does not answer: "
            f"{str(exc.orig).strip().splitlines()[0]}; see {cluster.log_file}."
        ) from exc
    except BaseException:
        end_supervision()
        raise
    if revision != head_revision():
        log.warning(
            "the database's schema is at %s, the code expects %s: run `flask db upgrade`",
            revision or "nothing",
            head_revision(),
        )
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    return cluster


def end_supervision() -> None:
    """Stop the supervised cluster if :func:`supervise_cluster` started it (the master's exit)."""
    global _supervised
    if _supervised is not None:
        _supervised.stop_if_started_here()
        _supervised = None
    os.environ.pop(SUPERVISOR_ENV, None)


class BoundDatabase(Database):
    """Sessions joined to an outer transaction on one connection: work that can be undone.

    ``commit()`` in domain code releases a savepoint; the outer transaction, rolled back
    by the caller, undoes everything. Product API, not a test helper: an analyst tries a
    new city's files with it and leaves nothing behind (notebooks/03_new_city_from_files);
    the tests isolate each test with it (tests/conftest.py).
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._url = connection.engine.url.render_as_string(hide_password=False)
        self.cluster = None
        self.dbname = connection.engine.url.database or DEFAULT_DBNAME
        self._engine = connection.engine
        self._sessionmaker = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    def dispose(self) -> None:
        """The connection belongs to the caller."""


# -- a streaming replica for reads ------------------------------------------------------

#: Seconds to wait for the replica to answer a connection: a replica that is down costs a page this much at most.
REPLICA_CONNECT_TIMEOUT = 2
#: Seconds a replica check is kept (a health probe, not data: outside the policy of core/caching.py).
REPLICA_CHECK_SECONDS = 5.0
#: ``Session.info`` key of the database that takes the writes of a session reading a replica.
PRIMARY_INFO = "geo311_primary"


class ReadOnlyDatabase(Database):
    """A database this process only reads: a streaming replica (``DATABASE_REPLICA_URL``).

    Every transaction on it is read-only (``default_transaction_read_only``, set when the
    connection opens: a URL that names a primary by mistake cannot be written through it),
    connections give up after :data:`REPLICA_CONNECT_TIMEOUT` seconds, and its sessions carry
    ``primary``, where derived data computed while reading is stored (:func:`write_engine`).
    """

    def __init__(self, url: str, primary: Database | None = None) -> None:
        super().__init__(url=url)
        self.primary = primary

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(
                self.url,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                connect_args={
                    "connect_timeout": REPLICA_CONNECT_TIMEOUT,
                    "options": "-c default_transaction_read_only=on",
                },
            )
        return self._engine

    def session(self) -> Session:
        """A new read-only session on the replica; the caller closes it."""
        if self._sessionmaker is None:
            info = {PRIMARY_INFO: self.primary} if self.primary is not None else {}
            self._sessionmaker = sessionmaker(self.engine, expire_on_commit=False, info=info)
        return self._sessionmaker()


def write_engine(session: Session) -> Engine:
    """Where derived data computed while reading (a hexagon grid) is stored: the primary's engine when
    ``session`` reads a replica, else the session's own."""
    primary = session.info.get(PRIMARY_INFO)
    return primary.engine if isinstance(primary, Database) else session.connection().engine


@dataclass(frozen=True)
class ReplicaState:
    """Whether the replica may serve reads now, and if not why: ``unreachable``, ``not_standby`` or ``behind``.

    ``lag_seconds`` is how far its replay is behind the primary (0 when it has replayed all it
    received and is streaming; None when unknown); ``detail`` the cause, for the operator's log.
    """

    usable: bool
    problem: str | None = None
    lag_seconds: float | None = None
    detail: str = ""

    def sentence(self) -> str:
        """The state in one sentence (command line, log)."""
        if self.usable:
            return f"The replica is usable ({self.lag_seconds or 0:.0f} s behind the primary)."
        if self.problem == "unreachable":
            return f"The replica cannot be reached: {self.detail}."
        if self.problem == "not_standby":
            return "The replica is not a standby (pg_is_in_recovery() is false): reads go to the primary."
        lag = "an unknown time" if self.lag_seconds is None else f"{self.lag_seconds:.0f} s"
        return f"The replica is {lag} behind the primary: reads go to the primary. {self.detail}".strip()


#: SQL: is it a standby; is a WAL receiver streaming (the view has a row only then); has it replayed
#: all it received; and the age of the last transaction it replayed.
_REPLICA_SQL = """
    SELECT pg_is_in_recovery(),
           EXISTS (SELECT 1 FROM pg_stat_wal_receiver),
           coalesce(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false),
           extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
"""


def _first_line(exc: BaseException) -> str:
    """The first line of a database error (the driver's message, without SQLAlchemy's wrapping)."""
    reason = getattr(exc, "orig", None) or exc
    return (str(reason).strip().splitlines() or ["no answer"])[0]


def replica_state(database: Database, max_lag: float) -> ReplicaState:
    """Check the replica once: reachable, in recovery, and replaying within ``max_lag`` seconds.

    On an idle primary the last replayed transaction grows old while the standby is current:
    a standby that streams and has replayed all it received is current whatever that age.
    """
    try:
        with database.engine.connect() as conn:
            standby, streaming, replayed_all, age = conn.execute(text(_REPLICA_SQL)).one()
    except (SQLAlchemyError, psycopg.Error, DatabaseUnavailable, ValueError) as exc:
        return ReplicaState(False, "unreachable", detail=_first_line(exc))
    if not standby:
        return ReplicaState(False, "not_standby")
    if streaming and replayed_all:
        return ReplicaState(True, lag_seconds=0.0)
    lag = None if age is None else max(float(age), 0.0)
    if lag is not None and lag <= max_lag:
        return ReplicaState(True, lag_seconds=lag)
    detail = "" if streaming else "It is not streaming from the primary."
    return ReplicaState(False, "behind", lag_seconds=lag, detail=detail)


class Replica:
    """The replica the app reads from, and its state checked at most every ``check_seconds``.

    :meth:`state` is what a page asks before it reads; :meth:`mark_unreachable` records a
    failure seen between checks, so that the next pages go to the primary at once.
    """

    def __init__(self, database: Database, max_lag: float, check_seconds: float = REPLICA_CHECK_SECONDS) -> None:
        self.database = database
        self.max_lag = max_lag
        self.check_seconds = check_seconds
        self._checked: tuple[float, ReplicaState] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, primary: Database | None = None) -> Replica | None:
        """The replica of ``DATABASE_REPLICA_URL`` (writes of its sessions go to ``primary``), or None when unset."""
        if not settings.database_replica_url:
            return None
        return cls(ReadOnlyDatabase(normalize_url(settings.database_replica_url), primary), settings.replica_max_lag)

    def state(self) -> ReplicaState:
        """The replica's state, checked again when the last check is older than ``check_seconds``."""
        with self._lock:
            now = time.monotonic()
            if self._checked is None or now - self._checked[0] >= self.check_seconds:
                state = replica_state(self.database, self.max_lag)
                if not state.usable:
                    log.warning("%s", state.sentence())
                self._checked = (time.monotonic(), state)
            return self._checked[1]

    def mark_unreachable(self, exc: BaseException) -> ReplicaState:
        """Record that the replica failed (until the next check) and return that state."""
        state = ReplicaState(False, "unreachable", detail=_first_line(exc))
        log.warning("%s", state.sentence())
        with self._lock:
            self._checked = (time.monotonic(), state)
        return state

    def session(self) -> Session:
        """A new read-only session on the replica."""
        return self.database.session()

    def dispose(self) -> None:
        """Close the replica's pooled connections."""
        self.database.dispose()


# -- migrations ------------------------------------------------------------------------


def alembic_config() -> Config:
    """The Alembic configuration of this project (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema to ``revision`` (default: the newest)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(connection: Connection) -> str | None:
    """The schema revision the database is at, or None before the first migration."""
    # Two statements: PostgreSQL resolves every table of a statement before running it,
    # so one CASE over a missing alembic_version fails instead of answering None.
    if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version LIMIT 1")).scalar()


@functools.lru_cache(maxsize=1)  # no data behind it: outside the policy of core/caching.py
def head_revision() -> str | None:
    """The newest schema revision in ``migrations/`` (read once per process: the code does not change under it)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def check_reachable(database: Database) -> None:
    """Raise :class:`DatabaseUnavailable` with the cause when the database cannot be used."""
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        where = "DATABASE_URL" if database.cluster is None else f"the embedded cluster in {database.cluster.root}"
        raise DatabaseUnavailable(
            f"The database ({where}) cannot be reached: {str(exc.orig).strip().splitlines()[0]}; "
            "check that the server runs and the URL is right."
        ) from exc


__all__ = [
    "Base",
    "BoundDatabase",
    "Database",
    "ReadOnlyDatabase",
    "Replica",
    "ReplicaState",
    "alembic_config",
    "check_reachable",
    "current_revision",
    "end_supervision",
    "head_revision",
    "normalize_url",
    "replica_state",
    "supervise_cluster",
    "upgrade",
    "write_engine",
]
