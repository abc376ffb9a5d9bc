"""The request rollup: closed requests counted per period and per a few columns, for reports at scale.

A report over ten million requests cannot read them all within a second. The rollup holds,
for each local day or month, the closed requests counted per combination of a *set* of
columns (:data:`SETS`: none, the service, the department, the ward, the district, the
channel, or all of them), with their days to close sorted and bucketed (:data:`THRESHOLDS`),
so that every figure of a summary, the median included, comes out exactly as counted from the
requests themselves (:mod:`geo.reports` reads it through :func:`plan`).

It is never behind. Statement triggers on ``service_request`` (migration 0026) mark each local
day whose requests changed as *stale*; a report reads the rollup only for the periods with no
stale day and reads the rest, and every open request, from the requests. :func:`refresh`
counts the stale days again (``flask reports rollup``, after an import, or a report finding
stale days older than :data:`REFRESH_AFTER_S`); :func:`build` counts everything.

Cells are named as the request's columns (``service_code``, ``status``, ``requested_at`` for
the period's first instant ...), so that a request filter's SQL reads a cell as a request.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from core.city import CityConfig
from service_requests import rules

#: The columns a set may group by (besides the period and :data:`ALWAYS`).
GROUPABLE = ("service_code", "department_code", "ward_key", "district_key", "channel")
#: The columns every set groups by: what the figures' rules (closed, distinct, in the city) read.
ALWAYS = ("city", "status", "is_open", "in_jurisdiction", "duplicate_of")


@dataclass(frozen=True)
class RollupSet:
    """Cells per ``grain`` (``day`` or ``month``) and per combination of ``columns``."""

    id: int
    grain: str
    columns: tuple[str, ...]

    def covers(self, columns: Iterable[str], grain: str) -> bool:
        """Whether its cells can answer a question reading ``columns`` at ``grain``."""
        return set(columns) <= set(self.columns) and (grain == "month" or self.grain == "day")


SETS: tuple[RollupSet, ...] = (
    RollupSet(1, "month", ()),
    RollupSet(2, "month", ("service_code",)),
    RollupSet(3, "month", ("department_code",)),
    RollupSet(4, "month", ("ward_key",)),
    RollupSet(5, "month", ("district_key",)),
    RollupSet(6, "month", ("channel",)),
    RollupSet(7, "month", GROUPABLE),
    RollupSet(8, "day", ()),
    RollupSet(9, "day", ("service_code",)),
)
#: Lower bounds of the buckets of days to close: everything below 1.19 minutes, then four
#: buckets per doubling up to 30 years (offset by half a step, so that round durations such
#: as one minute or one day never fall on a bound). A median is found by counting buckets,
#: then sorting the values of one bucket only.
THRESHOLDS: tuple[float, ...] = (float("-inf"), *(2 ** ((j + 0.5) / 4) / 1440 for j in range(96)))
#: Stale days older than this are counted again by the next report that finds them.
REFRESH_AFTER_S = 30.0
#: ... unless they span more months than this (an import, a new boundary layer): that is the CLI's work.
REFRESH_MAX_MONTHS = 3
_LOCK = "hashtext('request_rollup ' || :city)"


def fingerprint() -> str:
    """The rollup's definition: a rollup counted under another (sets, buckets, rules) is counted again."""
    words = repr((SETS, THRESHOLDS, rules.closed(None), rules.days_to_close(None), rules.distinct_problem(None)))
    return hashlib.sha256(words.encode()).hexdigest()[:16]


# --- Counting -------------------------------------------------------------------------

_CLOSED = rules.closed("r")
_DAYS = rules.days_to_close("r")


def _cells_sql(rollup_set: RollupSet) -> str:
    """INSERT the cells of ``rollup_set`` from the staged rows ``rollup_rows``."""
    start = "r.day_start" if rollup_set.grain == "day" else "r.month_start"
    step = "1 day" if rollup_set.grain == "day" else "1 month"
    grouped = [f"r.{c}" if c in rollup_set.columns else f"NULL::text AS {c}" for c in GROUPABLE]
    keys = [f"r.{c}" for c in rollup_set.columns]
    return f"""
    INSERT INTO request_rollup (set_id, city, requested_at, period_end, {", ".join(GROUPABLE)}, status, is_open,
        in_jurisdiction, duplicate_of, n, closed_with_date, closed_with_due, closed_on_time, days_sum, days,
        buckets, counts)
    SELECT {rollup_set.id}, g.*, h.buckets, h.counts FROM (
        SELECT r.city, {start}, (({start} AT TIME ZONE :tz) + interval '{step}') AT TIME ZONE :tz,
               {", ".join(grouped)}, r.status, r.is_open, r.in_jurisdiction, r.duplicate_of,
               count(*), count(r.closed_at) FILTER (WHERE {_CLOSED}),
               count(*) FILTER (WHERE {_CLOSED} AND r.due_at IS NOT NULL AND r.closed_at IS NOT NULL),
               count(*) FILTER (WHERE {_CLOSED} AND r.closed_at <= r.due_at),
               sum(r.d) FILTER (WHERE {_CLOSED}),
               array_agg(r.d ORDER BY r.d) FILTER (WHERE {_CLOSED} AND r.closed_at IS NOT NULL) AS days
        FROM rollup_rows r
        GROUP BY r.city, {start}, {", ".join([*keys, "r.status", "r.is_open", "r.in_jurisdiction", "r.duplicate_of"])}
    ) g LEFT JOIN LATERAL (
        SELECT array_agg(b ORDER BY b) AS buckets, array_agg(c ORDER BY b) AS counts
        FROM (SELECT width_bucket(x, CAST(:thresholds AS float8[])) AS b, count(*) AS c FROM unnest(g.days) x GROUP BY 1) q
    ) h ON true
    """


def _count(session: Session, city: CityConfig, start: datetime, end: datetime) -> None:
    """Count the closed requests made in [start, end) (whole local months) into every set."""
    session.execute(text("DROP TABLE IF EXISTS rollup_rows"))
    session.execute(
        text(
            f"""
        CREATE TEMP TABLE rollup_rows ON COMMIT DROP AS
        SELECT r.city, {", ".join(f"r.{c}" for c in GROUPABLE)}, r.status, r.is_open, r.in_jurisdiction,
               CASE WHEN r.duplicate_of IS NULL THEN NULL ELSE 0 END::bigint AS duplicate_of,
               r.closed_at, r.due_at, {_DAYS} AS d,
               date_trunc('day', r.requested_at AT TIME ZONE :tz) AT TIME ZONE :tz AS day_start,
               date_trunc('month', r.requested_at AT TIME ZONE :tz) AT TIME ZONE :tz AS month_start
        FROM service_request r
        WHERE r.city = :city AND NOT r.is_open AND r.requested_at >= :start AND r.requested_at < :end
        """
        ),
        {"city": city.key, "tz": city.timezone, "start": start, "end": end},
    )
    session.execute(text("ANALYZE rollup_rows"))
    for rollup_set in SETS:
        session.execute(text(_cells_sql(rollup_set)), {"tz": city.timezone, "thresholds": list(THRESHOLDS)})
    session.execute(text("DROP TABLE rollup_rows"))


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _instant(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock(), tz)


@dataclass
class BuildReport:
    """What a build or refresh counted."""

    months: int
    cells: int
    seconds: float

    def summary(self) -> str:
        return f"{self.months} month(s) counted into {self.cells:,} rollup cells in {self.seconds:.1f} s"


def _months_between(first: date, last: date) -> list[date]:
    months, month = [], _month_start(first)
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


def _recount(session: Session, city: CityConfig, months: list[date]) -> None:
    """Delete and count again the cells of ``months`` (in runs of consecutive months, a year at most)."""
    tz = city.tz
    runs: list[list[date]] = []
    for month in sorted(set(months)):
        if runs and _next_month(runs[-1][-1]) == month and len(runs[-1]) < 12:
            runs[-1].append(month)
        else:
            runs.append([month])
    for run in runs:
        start, end = _instant(run[0], tz), _instant(_next_month(run[-1]), tz)
        session.execute(
            text("DELETE FROM request_rollup WHERE city = :city AND requested_at >= :start AND requested_at < :end"),
            {"city": city.key, "start": start, "end": end},
        )
        _count(session, city, start, end)


def _cell_counts(session: Session, city: str) -> dict[str, int]:
    rows = session.execute(
        text("SELECT set_id, count(*) FROM request_rollup WHERE city = :city GROUP BY 1"), {"city": city}
    ).all()
    counts = {str(s.id): 0 for s in SETS}
    counts.update({str(set_id): int(n) for set_id, n in rows})
    return counts


def build(session: Session, city: CityConfig) -> BuildReport:
    """Count every closed request of ``city`` into the rollup, anew (in the caller's transaction)."""
    started = time.perf_counter()
    session.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"), {"city": city.key})
    session.execute(text("DELETE FROM request_rollup_state WHERE city = :city"), {"city": city.key})
    session.execute(text("DELETE FROM request_rollup_stale WHERE city = :city"), {"city": city.key})
    session.execute(text("DELETE FROM request_rollup WHERE city = :city"), {"city": city.key})
    first, last = session.execute(
        text("SELECT min(requested_at), max(requested_at) FROM service_request WHERE city = :city"), {"city": city.key}
    ).one()
    if first is None:
        return BuildReport(0, 0, time.perf_counter() - started)
    first_day, last_day = first.astimezone(city.tz).date(), last.astimezone(city.tz).date()
    months = _months_between(first_day, last_day)
    _recount(session, city, months)
    cells = _cell_counts(session, city.key)
    session.execute(
        text(
            """
        INSERT INTO request_rollup_state (city, timezone, first_day, last_day, fingerprint, cells)
        VALUES (:city, :tz, :first, :last, :fingerprint, CAST(:cells AS jsonb))
        """
        ),
        {
            "city": city.key,
            "tz": city.timezone,
            "first": months[0],
            "last": _next_month(months[-1]) - timedelta(days=1),
            "fingerprint": fingerprint(),
            "cells": _json(cells),
        },
    )
    return BuildReport(len(months), sum(cells.values()), time.perf_counter() - started)


def _json(cells: dict[str, int]) -> str:
    return "{" + ", ".join(f'"{k}": {v}' for k, v in cells.items()) + "}"


def refresh(session: Session, city: CityConfig) -> BuildReport:
    """Count the stale days' months again (or everything, without a current rollup); in the caller's transaction."""
    started = time.perf_counter()
    state = _state(session, city)
    if state is None:
        return build(session, city)
    session.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"), {"city": city.key})
    days = (
        session.execute(text("DELETE FROM request_rollup_stale WHERE city = :city RETURNING day"), {"city": city.key})
        .scalars()
        .all()
    )
    if not days:
        return BuildReport(0, 0, time.perf_counter() - started)
    months = sorted({_month_start(d) for d in days})
    _recount(session, city, months)
    cells = _cell_counts(session, city.key)
    session.execute(
        text(
            """
        UPDATE request_rollup_state SET first_day = least(first_day, :first), last_day = greatest(last_day, :last),
            cells = CAST(:cells AS jsonb), refreshed_at = now()
        WHERE city = :city
        """
        ),
        {
            "city": city.key,
            "first": months[0],
            "last": _next_month(months[-1]) - timedelta(days=1),
            "cells": _json(cells),
        },
    )
    return BuildReport(len(months), sum(cells.values()), time.perf_counter() - started)


def refresh_if_due(connection: Connection, city: CityConfig) -> bool:
    """Refresh in one transaction on ``connection`` (of its own) when stale days wait longer than
    :data:`REFRESH_AFTER_S` and span at most :data:`REFRESH_MAX_MONTHS` months, and no other
    process refreshes; True when it did. A standby (read only) never refreshes."""
    due = connection.execute(
        text(
            """
        SELECT NOT pg_is_in_recovery() AND count(DISTINCT date_trunc('month', day)) BETWEEN 1 AND :months
               AND min(marked_at) < now() - make_interval(secs => :age)
        FROM request_rollup_stale WHERE city = :city
        """
        ),
        {"city": city.key, "months": REFRESH_MAX_MONTHS, "age": REFRESH_AFTER_S},
    ).scalar()
    connection.rollback()  # the refresh is a transaction of its own, begun and committed by the session
    if not due:
        return False
    with Session(bind=connection) as session:
        if not session.execute(text(f"SELECT pg_try_advisory_xact_lock({_LOCK})"), {"city": city.key}).scalar():
            session.rollback()
            return False
        refresh(session, city)
        session.commit()
    return True


# --- Reading --------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    first_day: date
    last_day: date
    cells: dict[str, int]


def _state(session: Session, city: CityConfig) -> State | None:
    row = session.execute(
        text("SELECT timezone, first_day, last_day, fingerprint, cells FROM request_rollup_state WHERE city = :city"),
        {"city": city.key},
    ).one_or_none()
    if row is None or row.fingerprint != fingerprint() or row.timezone != city.timezone:
        return None
    return State(row.first_day, row.last_day, dict(row.cells))


@dataclass(frozen=True)
class Plan:
    """Where a question's requests are read: cells of ``rollup_set`` for the periods starting at
    ``rolled``, and the requests themselves made within ``live`` (intervals of instants, an open
    end None) or open."""

    rollup_set: RollupSet
    rolled: list[datetime]
    live: list[tuple[datetime | None, datetime | None]]

    def live_sql(self, alias: str = "r") -> tuple[str, dict[str, Any]]:
        """The condition on ``alias`` (service_request) of the requests read live, and its parameters."""
        clauses, params = [f"{alias}.is_open"], {}
        for i, (start, end) in enumerate(self.live):
            parts = []
            if start is not None:
                parts.append(f"{alias}.requested_at >= :live_from_{i}")
                params[f"live_from_{i}"] = start
            if end is not None:
                parts.append(f"{alias}.requested_at < :live_to_{i}")
                params[f"live_to_{i}"] = end
            clauses.append("(" + " AND ".join(parts or ["true"]) + ")")
        return "(" + " OR ".join(clauses) + ")", params


#: Columns of a request a question may read for the rollup to answer it.
READABLE = frozenset({*GROUPABLE, *ALWAYS, "requested_at"})


def columns_read(sql: str, alias: str = "r") -> set[str]:
    """The columns of ``alias`` that the SQL text ``sql`` reads."""
    return set(re.findall(rf"\b{alias}\.([a-z_]+)\b", sql))


def plan(
    session: Session, city: CityConfig, columns: set[str], grain: str, start: datetime | None, end: datetime | None
) -> Plan | None:
    """How to answer a question reading ``columns`` of the requests made in [start, end), at ``grain``
    (``day`` when it groups by days or weeks), or None when the rollup cannot help (there is none
    for this city, or the question reads a column it does not hold)."""
    if not columns <= READABLE:
        return None
    state = _state(session, city)
    if state is None:
        return None
    grouped = columns & set(GROUPABLE)
    candidates = [s for s in SETS if s.covers(grouped, grain)]
    if not candidates:
        return None
    chosen = min(candidates, key=lambda s: (state.cells.get(str(s.id), 0), s.id))
    stale = set(
        session.execute(text("SELECT day FROM request_rollup_stale WHERE city = :city"), {"city": city.key})
        .scalars()
        .all()
    )
    tz = city.tz
    periods: list[tuple[datetime, datetime]] = []
    if chosen.grain == "month":
        stale_months = {_month_start(d) for d in stale}
        for month in _months_between(state.first_day, state.last_day):
            if month not in stale_months:
                periods.append((_instant(month, tz), _instant(_next_month(month), tz)))
    else:
        day = state.first_day
        while day <= state.last_day:
            if day not in stale:
                periods.append((_instant(day, tz), _instant(day + timedelta(days=1), tz)))
            day += timedelta(days=1)
    inside = [(a, b) for a, b in periods if (start is None or a >= start) and (end is None or b <= end)]
    if not inside:
        return None
    live: list[tuple[datetime | None, datetime | None]] = []
    cursor: datetime | None = start
    for a, b in inside:
        if cursor is None or cursor < a:
            live.append((cursor, a))
        cursor = b
    assert cursor is not None  # the end of the last period read from the rollup
    if end is None or cursor < end:
        live.append((cursor, end))
    return Plan(chosen, [a for a, _ in inside], live)


__all__ = [
    "REFRESH_AFTER_S",
    "SETS",
    "THRESHOLDS",
    "BuildReport",
    "Plan",
    "RollupSet",
    "build",
    "columns_read",
    "fingerprint",
    "plan",
    "refresh",
    "refresh_if_due",
]
