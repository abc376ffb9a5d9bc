"""A small in-process cache of analysis results, keyed by what was asked and the data version.

The data version is the database snapshot (``xmin:xmax:in-progress ids``): two equal
snapshots see exactly the same committed rows, so a hit is never stale, and any commit
in the database starts a new version. A session whose own transaction has written
something sees rows no snapshot describes: it bypasses the cache (tests, imports).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")


def database_identity(session: Session) -> str:
    """Which database ``session`` talks to (its URL without password)."""
    return session.connection().engine.url.render_as_string(hide_password=True)


def data_version(session: Session) -> tuple[str, str] | None:
    """The database and its snapshot, or None when this transaction has uncommitted writes of its own."""
    snapshot, own_writes = session.execute(text(
        "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned() IS NOT NULL")).one()
    return None if own_writes else (database_identity(session), snapshot)


class ResultCache:
    """Least-recently-used results, at most ``size`` of them."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for ``key`` at the current data version, else ``compute()`` (and keep it)."""
        version = data_version(session)
        if version is None:
            return compute()
        full_key = (key, version)
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                self.hits += 1
                return self._entries[full_key]
        self.misses += 1
        value = compute()
        with self._lock:
            self._entries[full_key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: The cache the analysis functions share (per process).
RESULTS = ResultCache()
