"""The SQL rules about requests, each written once: what "closed", "days to close", "in the
city", "distinct problems" and "mapped" mean (and, from :mod:`boundaries.rules`, "the current
boundary layers").

Every rule is a function of the table alias it is written over (``r`` for
``service_request``). ``None`` gives the bare column
names, as an index predicate or expression of the models is written: PostgreSQL uses a
partial index only when the query's condition implies the index's, and an expression index
only when the query has the same expression, so queries and indexes take their text from
here. The rules' meanings are stated on every report page (``app/web/reports.py``).
"""

from __future__ import annotations

from boundaries.rules import current_layers


def _prefix(alias: str | None) -> str:
    return f"{alias}." if alias else ""


def closed(alias: str | None = "r") -> str:
    """Closed in any state but cancelled (fixed, duplicate, not ours, referred out)."""
    a = _prefix(alias)
    return f"NOT {a}is_open AND {a}status <> 'cancelled'"


def days_to_close(alias: str | None = "r") -> str:
    """Days from the request to its closing, a float8 (``date_part``, not ``extract``: extract
    returns numeric, several times slower to sum and sort). NULL without a closing time."""
    a = _prefix(alias)
    return f"date_part('epoch', {a}closed_at - {a}requested_at) / 86400.0"


def in_city(alias: str | None = "r") -> str:
    """Counted in the city's figures: all requests but those known to be outside the city
    (requests without a location are in)."""
    return f"{_prefix(alias)}in_jurisdiction IS NOT FALSE"


def distinct_problem(alias: str | None = "r") -> str:
    """A distinct problem: a request not marked as a duplicate of another."""
    a = _prefix(alias)
    return f"{a}duplicate_of IS NULL AND {a}status <> 'duplicate'"


def mapped(alias: str | None = "r") -> str:
    """A request a map can show: a real point (not a placeholder) inside the city."""
    a = _prefix(alias)
    return f"{a}geom IS NOT NULL AND {a}location_quality <> 'placeholder' AND {a}in_jurisdiction"


__all__ = ["closed", "current_layers", "days_to_close", "distinct_problem", "in_city", "mapped"]
