"""In-process caches that follow the database: rebuilt when the data they copy changes.

The intake hot path keeps small indexes in memory (boundary pieces, street names). Each
is keyed by a cheap *data version* read from the database (the ids of the current
layer versions, the id of the last address load), checked at most every ``max_age``
seconds, and rebuilt when it differs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


class VersionedCache(Generic[T]):
    """One value per key (a city), rebuilt by ``build`` when ``version`` changes."""

    def __init__(
        self, build: Callable[[Session, str], T], version: Callable[[Session, str], Hashable], max_age: float = 1.0
    ) -> None:
        self._build = build
        self._version = version
        self.max_age = max_age
        self._entries: dict[str, tuple[T, Hashable, float]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, key: str) -> T:
        """The value for ``key``, checked against the database at most every ``max_age`` s."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry and now - entry[2] < self.max_age:
            return entry[0]
        version = self._version(session, key)
        with self._lock:
            entry = self._entries.get(key)
            value = entry[0] if entry and entry[1] == version else self._build(session, key)
            self._entries[key] = (value, version, now)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
