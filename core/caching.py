"""In-process caches of what the database holds, and the one policy they all follow.

**Keyed** by what was asked (a city; a layer, a filter and its parameters) and a *data
version*: a cheap figure read from the database that changes whenever the rows behind the
value do (the ids of the current boundary layer versions, the id of the last address load,
PostgreSQL's count of writes to the analysed tables; on a streaming replica, the position of
the log it has replayed). A value is never served for another
version beyond its freshness window: it is built again.

**Fresh** for ``max_age`` seconds. An index on the intake hot path (:class:`VersionedCache`)
reads its version at most every ``max_age`` seconds, so a lookup costs no query; an analysis
result (:class:`ResultCache`) reads the version on every call and may serve a result of an
older version while it is younger than ``max_age`` (under steady intake every request is a
new version; ``0`` serves exact versions only).

**Shared** by the worker processes: an analysis result (``geo.cache.RESULTS``,
``public_reports.RESULTS``) missing in the process is looked for in PostgreSQL, and computed
by one worker while the others asking for it wait (:mod:`core.shared_results`).

**Bounded**: an index cache holds one value per city; every other cache at most ``size``
values, the least recently used dropped first; the shared tier ``shared_results`` rows.

**Invalidated** by the version alone: nothing needs to be told about a write. ``clear()`` is
for benchmarks and tests that must measure a computation.

**Bypassed** by a session whose open transaction has written the tables behind a value
(:func:`own_writes`): it sees rows no other session sees, so the value is built for it and
not kept (a load being tried, a test in its transaction). A version function says so by
answering ``None``.

The ages and sizes are one :class:`CachePolicy`, :data:`POLICY`; the app sets it from
:class:`~core.settings.Settings` (``GEO311_MAP_CACHE_SECONDS``). The caches under it:

=============================  ===========================  ==============================  =============
cache                          value                        data version                    bound
=============================  ===========================  ==============================  =============
``boundaries.index``           point-lookup index           current layer version ids       one per city
``address_db.streets``         street names                 last address load               one per city
``address_db.typed_place``     place names, ZIP codes       last address load, layers       one per city
``geo.layers``                 area and city outlines       layer version id (in the key)   ``frames``
``geo.grid``                   hexagon grids                jurisdiction version (key)      ``frames``
``geo.cache.RESULTS``          maps, hot spots, reports     writes to the analysed tables   ``results``
``public_reports.RESULTS``     the public map's reports     writes to the requests          ``results``
``geo.hotspots`` weights       spatial weights of a grid    none: a function of the grid    ``weights``
=============================  ===========================  ==============================  =============

Browsers cache the map tiles (``app/web/tiles.py``) by the same rule: the ETag is the data
version (the last address load; the basemap file's time), fresh for ``tile_max_age`` seconds,
then revalidated. The Open311 API's answers (``app/web/open311.py``) carry an ETag that is a
hash of their bytes and a Last-Modified of the rows behind them: the catalogue's (discovery,
services, definitions, the OpenAPI document) is fresh for ``open311_catalogue_max_age``
seconds; requests and updates are revalidated on every use (``no-cache``), since they change
by the minute and a 304 costs the client nothing to download.

Caches of pure functions (``functools.lru_cache`` of address parsing, the migrations' head
revision) hold nothing from the database and are outside this policy.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from core.shared_results import SharedTier

T = TypeVar("T")

#: The tables behind each kind of cached value (what :func:`own_writes` looks at).
BOUNDARY_TABLES = ("boundary_layer_version", "boundary_feature", "boundary_piece")
ADDRESS_TABLES = ("address_load", "address_point", "address_street")
REQUEST_TABLES = ("service_request",)


@dataclass
class CachePolicy:
    """How long values stay fresh and how many are kept: the one configuration of every cache.

    ``index_max_age``: seconds an index is served without reading its version;
    ``result_max_age``: seconds an analysis result of an older version may be served (the
    app sets it from ``GEO311_MAP_CACHE_SECONDS``); ``results``, ``frames``, ``weights``:
    how many analysis results, boundary or grid frames and spatial weights are kept;
    ``tile_max_age``: seconds a browser keeps a map tile before revalidating it by its ETag;
    ``open311_catalogue_max_age``: seconds a client keeps the Open311 catalogue answers before
    revalidating them;
    ``shared_results``, ``shared_max_bytes``: how many results the cache that every worker
    shares keeps (:mod:`core.shared_results`; 0 turns it off) and the largest it keeps.
    """

    index_max_age: float = 1.0
    result_max_age: float = 0.0
    results: int = 64
    frames: int = 64
    weights: int = 16
    tile_max_age: int = 300
    open311_catalogue_max_age: int = 300
    shared_results: int = 512
    shared_max_bytes: int = 32_000_000

    def configure(self, map_cache_seconds: float) -> None:
        """Apply the settings a city tunes (``Settings.map_cache_seconds``)."""
        self.result_max_age = float(map_cache_seconds)


#: The policy every cache reads (per process).
POLICY = CachePolicy()


def database_identity(session: Session) -> str:
    """Which database ``session`` talks to (its URL without password): part of every key."""
    return session.connection().engine.url.render_as_string(hide_password=True)


#: SQL: true when the open transaction has written and ``:tables`` have writes of this
#: connection that the shared statistics do not hold yet (PostgreSQL keeps up to a few seconds of
#: a connection's counts pending, so a write of its previous transaction may count too: the
#: bypass errs toward computing, never toward sharing what only this transaction sees).
OWN_WRITES_SQL = """
    pg_current_xact_id_if_assigned() IS NOT NULL
    AND (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) > 0
         FROM pg_stat_xact_user_tables WHERE relname = ANY(:tables))
"""


def writes_version(session: Session, tables: Sequence[str]) -> tuple[str, str] | None:
    """A :class:`ResultCache` version: the database and its count of writes to ``tables``, or None
    when this transaction has written one of them itself (its results are not kept).

    On a streaming replica the count stays still (a standby counts only its own writes, and it has
    none): there the version is the position of the write-ahead log it has replayed, which moves
    with every write on the primary, to these tables or others (it errs toward computing).
    """
    writes, own = session.execute(
        text(
            f"""
        SELECT CASE WHEN pg_is_in_recovery() THEN 'replayed ' || pg_last_wal_replay_lsn()::text
                    ELSE (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint
                          FROM pg_stat_user_tables WHERE relname = ANY(:tables))::text END,
               {OWN_WRITES_SQL}
        """
        ),
        {"tables": list(tables)},
    ).one()
    return None if own else (database_identity(session), str(writes))


def own_writes(session: Session, tables: Sequence[str]) -> bool:
    """Whether the session's open transaction may have inserted, updated or deleted rows of ``tables``."""
    return bool(session.execute(text(f"SELECT {OWN_WRITES_SQL}"), {"tables": list(tables)}).scalar())


class LRUStore(Generic[T]):
    """At most ``size()`` values, the least recently used dropped first (thread-safe)."""

    def __init__(self, size: Callable[[], int]) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> T | None:
        """The value of ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: T) -> None:
        """Keep ``value`` under ``key``, dropping the least recently used beyond the size."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size():
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class FrameCache(Generic[T]):
    """Values whose key holds their data version (e.g. a layer version id), bounded by ``size()``;
    bypassed by a session that has written ``tables``."""

    def __init__(self, tables: Sequence[str], size: Callable[[], int] = lambda: POLICY.frames) -> None:
        self.tables = tuple(tables)
        self._store: LRUStore[T] = LRUStore(size)

    def get_or_build(self, session: Session, key: Hashable, build: Callable[[], T]) -> T:
        """The value kept for ``key``, else ``build()`` (kept unless the session wrote the tables)."""
        if own_writes(session, self.tables):
            return build()
        value = self._store.get(key)
        if value is None:
            value = build()
            self._store.put(key, value)
        return value

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()


class VersionedCache(Generic[T]):
    """One value per key (a city), rebuilt by ``build`` when ``version`` changes.

    ``version`` is read at most every ``max_age`` seconds (default :attr:`CachePolicy.index_max_age`);
    when the session has written ``tables`` the value is built for it and not kept.
    """

    def __init__(
        self,
        build: Callable[[Session, str], T],
        version: Callable[[Session, str], Hashable],
        max_age: float | None = None,
        tables: Sequence[str] = (),
    ) -> None:
        self._build = build
        self._version = version
        self.max_age = POLICY.index_max_age if max_age is None else max_age
        self.tables = tuple(tables)
        self._entries: dict[str, tuple[T, Hashable, float]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, key: str) -> T:
        """The value for ``key``, checked against the database at most every ``max_age`` s."""
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry and now - entry[2] < self.max_age:
            return entry[0]
        if self.tables and own_writes(session, self.tables):
            return self._build(session, key)
        version = self._version(session, key)
        with self._lock:
            entry = self._entries.get(key)
            value = entry[0] if entry and entry[1] == version else self._build(session, key)
            self._entries[key] = (value, version, now)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class ResultCache:
    """Analysis results by key at a data version: at most ``size`` (least recently used dropped),
    an older version served while younger than ``max_age`` seconds.

    ``version(session)`` answers None for a session with writes of its own behind the
    results: they are computed for it and not kept. ``size`` and ``max_age`` default to
    :data:`POLICY`'s ``results`` and ``result_max_age``.
    """

    def __init__(
        self,
        version: Callable[[Session], Hashable | None],
        size: int | None = None,
        max_age: float | None = None,
        shared: str | None = None,
    ) -> None:
        self._version = version
        self._size = size
        self._max_age = max_age
        self._store: LRUStore[tuple[Hashable, float, Any]] = LRUStore(lambda: self.size)
        self.hits = 0
        self.misses = 0
        self.shared: SharedTier | None = None
        if shared is not None:
            from core.shared_results import SharedTier  # it needs the database's models: imported late

            self.shared = SharedTier(shared, lambda: POLICY.shared_results, lambda: POLICY.shared_max_bytes)

    @property
    def size(self) -> int:
        return POLICY.results if self._size is None else self._size

    @property
    def max_age(self) -> float:
        return POLICY.result_max_age if self._max_age is None else self._max_age

    @max_age.setter
    def max_age(self, seconds: float) -> None:
        self._max_age = seconds

    def get_or_compute(self, session: Session, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached result for ``key`` at the current data version, else ``compute()`` (and keep it)."""
        version = self._version(session)
        if version is None:
            return compute()
        now = time.monotonic()
        entry = self._store.get(key)
        if entry is not None and (entry[0] == version or now - entry[1] <= self.max_age):
            self.hits += 1
            return entry[2]
        self.misses += 1
        if self.shared is not None and POLICY.shared_results > 0:
            value, age = self.shared.get_or_compute(session, key, version, self.max_age, compute)
        else:
            value, age = compute(), 0.0
        self._store.put(key, (version, now - age, value))
        return value

    def clear(self) -> None:
        """Forget every result, in this process and in the shared tier."""
        self._store.clear()
        if self.shared is not None:
            self.shared.clear()
