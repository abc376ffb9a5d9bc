"""The analyses' result cache (maps, hot spots, reports), under the policy of :mod:`core.caching`.

The data version counts the writes to the tables analyses read (requests, the catalogue's
services, boundaries, addresses), from PostgreSQL's own statistics: logins, rate counters or
the audit log do not change it, a new or changed request does (within about a second, the
statistics' flush interval). Under steady intake every request is a new version, so a
result may also be served while it is younger than ``max_age`` seconds (the maps say when
it was computed; ``GEO311_MAP_CACHE_SECONDS``). A session whose own transaction has written
one of those tables sees rows no other session sees: it bypasses the cache (tests, imports).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.caching import REQUEST_TABLES, ResultCache, database_identity, writes_version

#: The tables whose contents analyses depend on.
ANALYSED_TABLES = (*REQUEST_TABLES, "service", "boundary_layer_version", "boundary_feature", "address_point")


def data_version(session: Session) -> tuple[str, str] | None:
    """The database and its count of writes to the analysed tables, or None when this
    transaction has written one of them itself."""
    return writes_version(session, ANALYSED_TABLES)


#: The cache the analysis functions share (in the process, and between processes in PostgreSQL); its size and
#: age are :data:`core.caching.POLICY`'s.
RESULTS = ResultCache(data_version, shared="analyses")

__all__ = ["ANALYSED_TABLES", "RESULTS", "ResultCache", "data_version", "database_identity"]
