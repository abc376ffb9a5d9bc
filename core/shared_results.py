"""Analysis results shared by every worker process, kept in PostgreSQL.

Each gunicorn worker has its own :class:`~core.caching.ResultCache`; without a shared tier,
four workers compute the same hot spots four times. Behind the in-process tier, a result is
looked up in the ``result_cache`` table (UNLOGGED: a cache needs no crash safety) by its
cache's name and a digest of its key and of the code that computes it (a result of the code
before a deployment is never served by the code after it), and served when it was computed at
the same data version, or is younger than the cache's ``max_age``. On a miss the worker takes a PostgreSQL
advisory lock on the key, on a connection of its own, looks again (another worker may have
just stored it), and only then computes and stores it: workers asking for the same figure at
the same moment wait for the first one instead of computing it too.

Results are pickled: the table is written and read only by this application, on its own
database. A result that cannot be pickled, or is larger than
:attr:`~core.caching.CachePolicy.shared_max_bytes`, stays in the process only; if the table
cannot be reached or a lock is not had within :data:`LOCK_TIMEOUT_MS`, the result is computed
as if there were no shared tier (the cache never makes a page fail). The table holds at most
:attr:`~core.caching.CachePolicy.shared_results` rows, the least recently used deleted first.
When the session reads a streaming replica, results are stored on the primary
(:func:`core.database.write_engine`), under the replica's version.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
import secrets
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, DateTime, Engine, Integer, LargeBinary, Text, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.database import Base, write_engine
from core.settings import PROJECT_ROOT

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Milliseconds a worker waits for another that is computing the same result, then computes it too.
LOCK_TIMEOUT_MS = 60_000


class SharedResult(Base):
    """One analysis result, pickled, at the data version it was computed for (migration 0025)."""

    __tablename__ = "result_cache"
    __table_args__ = {"prefixes": ["UNLOGGED"]}  # a cache: lost in a crash, rebuilt on demand

    key: Mapped[str] = mapped_column(Text, primary_key=True)  # the cache's name, ':', a SHA-256 of the key
    version: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    size_bytes: Mapped[int] = mapped_column(Integer)
    value: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class Found:
    """A shared result: its value and its age in seconds."""

    value: Any
    age_s: float


#: SQL of a row's version: the data version and when the server started, since statistics reset
#: (``pg_stat_reset``) could bring a count of writes back to a figure it had before.
_SERVER_VERSION = "(:version || ' since ' || pg_postmaster_start_time()::text)"

#: The packages whose code computes the results: a result pickled by other code is not served.
_PACKAGES = ("core", "boundaries", "address_db", "geo", "service_requests", "accounts", "open311", "app")


@functools.cache
def code_fingerprint() -> str:
    """A digest of this application's Python source, the same on every machine that runs the same code."""
    hashed = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            hashed.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
            hashed.update(path.read_bytes())
    return hashed.hexdigest()[:16]


def digest(name: str, key: Hashable) -> str:
    """The row key of ``key`` in the cache ``name`` for this code: equal keys (by their repr) give equal
    digests."""
    return f"{name}:{hashlib.sha256(f'{code_fingerprint()} {key!r}'.encode()).hexdigest()}"


#: The databases whose tables this process has used (what :meth:`SharedTier.clear` clears).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _lock_id(row_key: str) -> int:
    return int.from_bytes(hashlib.sha256(row_key.encode()).digest()[:8], "big", signed=True)


class SharedTier:
    """The ``result_cache`` table of the databases this process has used, for one named cache."""

    def __init__(self, name: str, max_rows: Callable[[], int], max_bytes: Callable[[], int]) -> None:
        self.name = name
        self._max_rows = max_rows
        self._max_bytes = max_bytes
        self._hits_lock = threading.Lock()
        self.hits = 0

    def get_or_compute(
        self, session: Session, key: Hashable, version: Hashable, max_age: float, compute: Callable[[], T]
    ) -> tuple[T, float]:
        """The stored result of ``key`` if usable, else ``compute()`` (stored); with its age in seconds.

        Only the cache's own work is guarded: an error of ``compute()`` is the caller's.
        """
        row_key, version_text = digest(self.name, key), repr(version)
        try:
            engine = write_engine(session)
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError as exc:
            self._stepped_aside(exc)
            return compute(), 0.0
        _ENGINES.add(engine)
        with conn:
            found = self._read(conn, row_key, version_text, max_age)
            if found is not None:
                return found.value, found.age_s
            held = self._take_lock(conn, _lock_id(row_key))
            try:
                found = self._read(conn, row_key, version_text, max_age) if held else None
                if found is not None:
                    return found.value, found.age_s
                value = compute()
                self._store(conn, row_key, version_text, value)
                return value, 0.0
            finally:
                if held:
                    self._unlock(conn)

    @staticmethod
    def _stepped_aside(exc: BaseException) -> None:
        log.warning("The shared result cache was not used: %s", str(exc).splitlines()[0] if str(exc) else exc)

    def _read(self, conn: Connection, row_key: str, version: str, max_age: float) -> Found | None:
        try:
            row = conn.execute(
                text(
                    "UPDATE result_cache SET used_at = now() WHERE key = :key "
                    f"AND (version = {_SERVER_VERSION} OR computed_at >= now() - make_interval(secs => :age)) "
                    "RETURNING value, extract(epoch FROM now() - computed_at)"
                ),
                {"key": row_key, "version": version, "age": max_age},
            ).one_or_none()
        except SQLAlchemyError as exc:
            self._stepped_aside(exc)
            return None
        if row is None:
            return None
        try:
            value = pickle.loads(row[0])  # noqa: S301 - written by this application only
        except Exception:  # noqa: BLE001 - a result of another version of the code: computed again
            return None
        with self._hits_lock:
            self.hits += 1
        return Found(value, float(row[1]))

    def _take_lock(self, conn: Connection, lock_id: int) -> bool:
        """Wait (at most :data:`LOCK_TIMEOUT_MS`) for the key's advisory lock; False if not had."""
        try:
            conn.execute(text(f"SET lock_timeout = {LOCK_TIMEOUT_MS}"))
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
            return True
        except SQLAlchemyError as exc:  # waited too long for another worker, or the server went away
            self._stepped_aside(exc)
            return False

    @staticmethod
    def _unlock(conn: Connection) -> None:
        try:
            conn.execute(text("SELECT pg_advisory_unlock_all()"))
        except SQLAlchemyError:
            conn.invalidate()  # never back to the pool with the lock held

    def _store(self, conn: Connection, row_key: str, version: str, value: Any) -> None:
        try:
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - not picklable (an open handle, a lambda): kept in the process only
            return
        if len(blob) > self._max_bytes():
            return
        try:
            self._insert(conn, row_key, version, blob)
        except SQLAlchemyError as exc:
            self._stepped_aside(exc)
            return

    def _insert(self, conn: Connection, row_key: str, version: str, blob: bytes) -> None:
        conn.execute(
            text(
                "INSERT INTO result_cache (key, version, computed_at, used_at, size_bytes, value) "
                f"VALUES (:key, {_SERVER_VERSION}, now(), now(), :bytes, :value) ON CONFLICT (key) DO UPDATE SET "
                "version = excluded.version, computed_at = excluded.computed_at, used_at = excluded.used_at, "
                "size_bytes = excluded.size_bytes, value = excluded.value"
            ),
            {"key": row_key, "version": version, "bytes": len(blob), "value": blob},
        )
        if secrets.randbelow(16) == 0:  # now and then, the least recently used beyond the bound go
            conn.execute(
                text(
                    "DELETE FROM result_cache WHERE key IN "
                    "(SELECT key FROM result_cache ORDER BY used_at DESC OFFSET :keep)"
                ),
                {"keep": self._max_rows()},
            )

    def clear(self) -> None:
        """Delete this cache's rows in every database this process has used it with."""
        for engine in list(_ENGINES):
            try:
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM result_cache WHERE key LIKE :prefix"), {"prefix": f"{self.name}:%"})
            except SQLAlchemyError:
                continue


__all__ = ["LOCK_TIMEOUT_MS", "Found", "SharedResult", "SharedTier", "code_fingerprint", "digest"]
