"""A small in-process cache of analysis results, keyed by what was asked and the data version.

The data version counts the writes to the tables analyses read (requests, boundaries,
addresses), from PostgreSQL's own statistics: logins, rate counters or the audit log do
not change it, a new or changed request does (within about a second, the statistics'
flush interval). Under steady intake every request is a new version, so a result may also
be served while it is younger than ``max_age`` seconds (the maps say when it was computed);
``max_age = 0`` serves only exact versions. A session whose own transaction has written
something sees rows no other session sees: it bypasses the cache (tests, imports).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")


def database_identity(session: Session) -> str:
    """Which database ``session`` talks to (its URL without password)."""
    return session.connection().engine.url.render_as_string(hide_password=True)


#: The tables whose contents analyses depend on.
ANALYSED_TABLES = ("service_request", "boundary_layer_version", "boundary_feature", "address_point")


def data_version(session: Session) -> tuple[str, int] | None:
    """The database and its count of writes to the analysed tables, or None when this
    transaction has uncommitted writes of its own."""
    writes, own_writes = session.execute(
        text(
            """
        SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint,
               pg_current_xact_id_if_assigned() IS NOT NULL
        FROM pg_stat_user_tables WHERE relname = ANY(:tables)
        """
        ),
        {"tables": list(ANALYSED_TABLES)},
    ).one()
    return None if own_writes else (database_identity(session), int(writes))


class ResultCache:
    """Least-recently-used results, at most ``size`` of them; see the module for ``max_age``."""

    def __init__(self, size: int = 64, max_age: float = 0.0) -> None:
        self.size = size
        self.max_age = max_age
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for ``key`` at the current data version, else ``compute()`` (and keep it)."""
        version = data_version(session)
        if version is None:
            return compute()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and (entry[0] == version or now - entry[1] <= self.max_age):
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[2]
        self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = (version, now, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: The cache the analysis functions share (per process).
RESULTS = ResultCache()
