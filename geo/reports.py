"""Performance reports: every figure computed by set-based SQL, returned as pandas DataFrames.

This is also the analysts' API: each function takes a SQLAlchemy session, the city and a
:class:`service_requests.selection.RequestFilter` and returns a small table of figures (never the rows).

What is counted (stated on every report page, and tested):

* **Requests** are all requests under the filter in scope ``city``: requests known to be
  outside the city (``in_jurisdiction`` false) are excluded; requests without a location
  are counted (they cannot be placed in a ward or district).
* **Distinct problems** are requests not marked as a duplicate of another
  (``duplicate_of IS NULL AND status <> 'duplicate'``). Every figure can be restricted to
  them with ``distinct=True``.
* **Open** requests are in an open state; **cancelled** ones are closed with the state
  ``cancelled``; **closed** means closed in any other state (fixed, duplicate, not our
  responsibility, referred out). Open + closed + cancelled = requests.
* **Days to close** = (closed_at − requested_at) in days, for closed (not cancelled)
  requests with a closing time. **Days open so far** = (now − requested_at) for open ones.
* **Closed within the service level**: closed (not cancelled) requests with a due time
  whose closing time is at or before it, as a share of the closed requests with a due time.
  The due time is the city's own date where its history gives one, else the catalogue's
  service level; :func:`due_date_sources` says how many of each.
* **Overdue**: open requests past their due time at ``now``.
* **Periods** (day, week from Monday, month, quarter, fiscal year, year) are local dates
  of the city's time zone, on the request's creation time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.city import CityConfig
from geo import periods
from geo.cache import RESULTS
from geo.dimensions import DIMENSIONS, dimension
from geo.listing import LIST_COLUMNS
from geo.rolled_figures import rolled_figures
from service_requests import rollups, rules
from service_requests.selection import FilterChoices, FilterError, RequestFilter

#: Periods a breakout can use, and their labels (defined in :mod:`geo.periods`).
PERIODS: dict[str, str] = periods.BREAKOUT_PERIODS
#: Backlog age bands in whole days open: (label, lowest, highest or None).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0–7 days", 0, 7),
    ("8–30 days", 8, 30),
    ("31–90 days", 31, 90),
    ("91–365 days", 91, 365),
    ("over a year", 366, None),
)
#: The columns of a summary, in order, and what each means.
SUMMARY_COLUMNS: dict[str, str] = {
    "requests": "Requests",
    "distinct_problems": "Distinct problems (not duplicates)",
    "open": "Open",
    "open_share": "Open, share of requests",
    "closed": "Closed (not cancelled)",
    "closed_share": "Closed, share of requests",
    "cancelled": "Cancelled",
    "cancelled_share": "Cancelled, share of requests",
    "mean_days_to_close": "Average days to close",
    "median_days_to_close": "Median days to close",
    "mean_days_open": "Average days open so far (open requests)",
    "within_service_level_share": "Closed within the service level, share",
    "overdue": "Overdue (open past the due date)",
}

DISTINCT = rules.distinct_problem("r")
_CLOSED = rules.closed("r")
_DAYS_TO_CLOSE = rules.days_to_close("r")
# Every figure but the median: plain aggregates, which PostgreSQL can hash and run in parallel.
_AGGREGATES = f"""
    count(*) AS requests,
    count(*) FILTER (WHERE {DISTINCT}) AS distinct_problems,
    count(*) FILTER (WHERE r.is_open) AS open,
    count(*) FILTER (WHERE {_CLOSED}) AS closed,
    count(*) FILTER (WHERE r.status = 'cancelled') AS cancelled,
    avg({_DAYS_TO_CLOSE}) FILTER (WHERE {_CLOSED}) AS mean_days_to_close,
    avg(date_part('epoch', :now - r.requested_at) / 86400.0) FILTER (WHERE r.is_open) AS mean_days_open,
    count(r.closed_at) FILTER (WHERE {_CLOSED}) AS closed_with_date,
    count(*) FILTER (WHERE {_CLOSED} AND r.due_at IS NOT NULL AND r.closed_at IS NOT NULL) AS closed_with_due,
    count(*) FILTER (WHERE {_CLOSED} AND r.closed_at <= r.due_at) AS closed_on_time,
    count(*) FILTER (WHERE r.is_open AND r.due_at < :now) AS overdue
"""


_FIGURES = (
    "requests",
    "distinct_problems",
    "open",
    "closed",
    "cancelled",
    "mean_days_to_close",
    "mean_days_open",
    "closed_with_date",
    "closed_with_due",
    "closed_on_time",
    "overdue",
)


def _figures(
    session: Session,
    key: str | None,
    join: str,
    where: str,
    params: dict[str, Any],
    *,
    medians: bool = True,
    rollup: Rollup | None = None,
) -> pd.DataFrame:
    """The summary figures of the requests under ``where``, per ``key`` (an SQL expression) or in all.

    The median is never an ordered-set aggregate beside the others: that would force one
    serial pass (sorting every row by the key). Per key, a hash aggregate gathers each key's
    days to close into an array and only those arrays are sorted. In all, the plain
    aggregates run in parallel, then the middle value is read from the index of closed
    requests in order of days to close. Results are kept in the analyses' cache
    (:mod:`geo.cache`): the same figures at the same data version, or younger than its
    ``max_age``, are not computed again. With ``rollup`` (the question's city, dates and grain),
    the periods the request rollup holds are read from it (:mod:`service_requests.rollups`).
    """
    cache_key = (
        "report",
        key,
        join,
        where,
        medians,
        tuple(sorted((name, tuple(value) if isinstance(value, list) else value) for name, value in params.items())),
    )
    return RESULTS.get_or_compute(
        session, cache_key, lambda: _compute_figures(session, key, join, where, params, medians, rollup)
    ).copy()


@dataclass(frozen=True)
class Rollup:
    """What the request rollup needs to know of a question: its city, its time range, and
    ``day`` when it groups by days or weeks (else ``month``)."""

    city: CityConfig
    start: datetime | None
    end: datetime | None
    grain: str = "month"

    def plan(self, session: Session, key: str | None, join: str, where: str) -> rollups.Plan | None:
        """Where to read the question's requests, or None to read them all from the table."""
        bind = session.get_bind()
        if isinstance(bind, Engine):
            with bind.connect() as connection:
                rollups.refresh_if_due(connection, self.city)
        columns = rollups.columns_read(where) | rollups.columns_read(key or "") | rollups.columns_read(join)
        return rollups.plan(session, self.city, columns, self.grain, self.start, self.end)


def _compute_figures(
    session: Session,
    key: str | None,
    join: str,
    where: str,
    params: dict[str, Any],
    medians: bool,
    rollup: Rollup | None = None,
) -> pd.DataFrame:
    plan = rollup.plan(session, key, join, where) if rollup is not None else None
    if plan is not None:
        return rolled_figures(session, plan, key, join, where, params, medians)
    if key is None:
        row = dict(
            session.execute(text(f"SELECT {_AGGREGATES} FROM service_request r {join} WHERE {where}"), params)
            .mappings()
            .one()
        )
        timed = row["closed_with_date"]
        row["median_days_to_close"] = None
        if medians and timed:
            # percentile_cont(0.5): the middle value, or the mean of the two middle values.
            row["median_days_to_close"] = session.execute(
                text(
                    f"""SELECT avg(d) FROM (SELECT {_DAYS_TO_CLOSE} AS d FROM service_request r {join}
                    WHERE {where} AND {_CLOSED} AND r.closed_at IS NOT NULL ORDER BY 1 OFFSET :skip LIMIT :take) m"""
                ),
                {**params, "skip": (timed - 1) // 2, "take": 2 - timed % 2},
            ).scalar()
        return pd.DataFrame([row])
    columns = ", ".join(f"g.{name}" for name in _FIGURES)
    gathered, median = "", "NULL::float8"
    if medians:
        gathered = f", array_agg({_DAYS_TO_CLOSE}) FILTER (WHERE {_CLOSED} AND r.closed_at IS NOT NULL) AS closed_days"
        median = "(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM unnest(g.closed_days) d)"
    frame = pd.DataFrame(
        session.execute(
            text(
                f"""SELECT g.key, {columns}, {median} AS median_days_to_close
            FROM (SELECT {key} AS key, {_AGGREGATES}{gathered}
                  FROM service_request r {join} WHERE {where} GROUP BY 1) g"""
            ),
            params,
        )
        .mappings()
        .all()
    )
    if frame.empty:
        frame = pd.DataFrame(columns=[*(["key"] if key else []), *_FIGURES, "median_days_to_close"])
    return frame


def _rollup(city: CityConfig, flt: RequestFilter, now: datetime | None, grain: str = "month") -> Rollup | None:
    """The rollup's view of a question; None when asked as of a given time (counted from the requests)."""
    if now is not None:
        return None
    start, end = flt.time_range(city)
    return Rollup(city, start, end, grain)


def _base(
    city: CityConfig, flt: RequestFilter, distinct: bool, now: datetime | None, *, keep_scope: bool = False
) -> tuple[str, dict[str, Any]]:
    """The WHERE fragment of a report: the filter in scope ``city`` (unless it asks for another,
    or ``keep_scope``: the requests a map shows, for the figures of a map's area)."""
    if flt.scope == "mapped" and not keep_scope:
        flt = flt.replace(scope="city")
    # Figures are as of the start of the current minute unless told otherwise: within a
    # minute, the same report asks the same question (and the cache can answer it).
    now = now or datetime.now(UTC).replace(second=0, microsecond=0)
    where, params = flt.sql(city, "r", now)
    if distinct:
        where += f" AND {DISTINCT}"
    params["now"] = now
    params["tz"] = city.timezone
    return where, params


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Shares from counts; days rounded to 0.1; counts as integers."""
    for column in (
        "requests",
        "distinct_problems",
        "open",
        "closed",
        "cancelled",
        "closed_with_date",
        "closed_with_due",
        "closed_on_time",
        "overdue",
    ):
        frame[column] = frame[column].fillna(0).astype("int64")
    total = frame["requests"].where(frame["requests"] > 0)
    for column in ("open", "closed", "cancelled"):
        frame[f"{column}_share"] = (frame[column] / total).astype(float)
    frame["within_service_level_share"] = (
        frame["closed_on_time"] / frame["closed_with_due"].where(frame["closed_with_due"] > 0)
    ).astype(float)
    for column in ("mean_days_to_close", "median_days_to_close", "mean_days_open"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame


def summary(
    session: Session,
    city: CityConfig,
    flt: RequestFilter = RequestFilter(),
    *,
    distinct: bool = False,
    now: datetime | None = None,
    keep_scope: bool = False,
) -> pd.Series:
    """The Summary of Performance of the requests under ``flt``.

    Returns a Series indexed by :data:`SUMMARY_COLUMNS` (plus ``closed_with_date``,
    ``closed_with_due`` and ``closed_on_time``). Shares are fractions (0.25 is 25 %); days
    are floats, NaN when there is nothing to average. A report counts every request of the
    city: the map's scope (located requests only) becomes ``city`` unless ``keep_scope``.
    """
    where, params = _base(city, flt, distinct, now, keep_scope=keep_scope)
    frame = _finish(_figures(session, None, "", where, params, rollup=_rollup(city, flt, now)))
    return frame[[*SUMMARY_COLUMNS, "closed_with_date", "closed_with_due", "closed_on_time"]].astype(object).iloc[0]


def _period_starts(session: Session, city: CityConfig, flt: RequestFilter, period: str) -> list[date]:
    """The local start dates of every period the filter's requests can fall in, in order."""
    first, last = session.execute(
        text("SELECT min(requested_at), max(requested_at) FROM service_request WHERE city = :city"), {"city": city.key}
    ).one()
    if first is None:
        return []
    start, end = flt.time_range(city)
    first, last = max(first, start) if start else first, min(last, end) if end else last
    if first > last:
        return []
    return periods.PERIODS[period].starts(
        first.astimezone(city.tz).date(), last.astimezone(city.tz).date(), city.reports.fiscal_year_start_month
    )


def period_label(start: date, period: str, fiscal_start: int = 7) -> str:
    """A period for people: "Week 5 of 2024 (from 29 Jan)", "January 2024", "2024 quarter 1",
    "Fiscal year 2023–24", "2024" (:attr:`geo.periods.Period.name`)."""
    return periods.period(period, tuple(periods.PERIODS)).name(start, fiscal_start)


def breakout(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    by: str,
    *,
    distinct: bool = False,
    now: datetime | None = None,
    choices: FilterChoices | None = None,
    medians: bool = True,
    keep_scope: bool = False,
) -> pd.DataFrame:
    """The summary figures per department, service, group, ward, district, channel or period.

    ``by`` is a key of :data:`DIMENSIONS` or of :data:`PERIODS`. One grouped query.
    Columns: ``key`` (a code, or the period's local start date), ``label`` (a name for
    people), then the summary columns. Requests with no value (e.g. no ward) are one row
    with key ``None`` and label "(none)". Periods come in time order, with every empty
    period in between, and ``requests_change`` (fraction against the period before);
    other breakouts by requests, most first. ``medians=False`` skips the median days to
    close (NaN), the costliest figure, for tables that do not show it; ``keep_scope`` as
    for :func:`summary`.
    """
    where, params = _base(city, flt, distinct, now, keep_scope=keep_scope)
    join = ""
    starts: list[date] = []
    is_period = by in periods.PERIODS
    if is_period:
        # Each request is placed among the periods' first instants by binary search
        # (width_bucket): far cheaper than converting every timestamp to local time.
        starts = _period_starts(session, city, flt, by)
        params["bounds"] = [datetime.combine(d, datetime.min.time(), city.tz) for d in starts]
        key = "width_bucket(r.requested_at, CAST(:bounds AS timestamptz[]))"
    else:
        key = dimension(by).expression(city)
        join = DIMENSIONS[by].join
    grain = "day" if by in ("day", "week") else "month"
    frame = _finish(_figures(session, key, join, where, params, medians=medians, rollup=_rollup(city, flt, now, grain)))
    if is_period:
        frame = _fill_periods(frame, starts)
        frame["label"] = [period_label(k, by, city.reports.fiscal_year_start_month) for k in frame["key"]]
        previous = frame["requests"].shift(1)
        frame["requests_change"] = ((frame["requests"] - previous) / previous.where(previous > 0)).astype(float)
    else:
        frame["key"] = frame["key"].astype(object).where(frame["key"].notna(), None)
        names = _names(by, choices, city)
        frame["label"] = [("(none)" if k is None or k == "" else names.get(k, k)) for k in frame["key"]]
        frame = frame.sort_values(["requests", "label"], ascending=[False, True], kind="stable")
    columns = ["key", "label", *SUMMARY_COLUMNS, "closed_with_date", "closed_with_due", "closed_on_time"]
    if "requests_change" in frame:
        columns.append("requests_change")
    return frame[columns].reset_index(drop=True)


def _names(by: str, choices: FilterChoices | None, city: CityConfig) -> Mapping[str, str]:
    """Code -> name for the labels of a breakout by ``by`` (:attr:`geo.dimensions.Dimension.names`)."""
    return DIMENSIONS[by].names(choices, city)


def next_period_start(start: date, period: str, fiscal_start: int = 7) -> date:
    """The start of the period after the one starting on ``start`` (local dates; ``fiscal_start``
    is kept for callers: a fiscal year is twelve months from its start)."""
    return periods.PERIODS[period].next_start(start)


def _fill_periods(frame: pd.DataFrame, starts: list[date]) -> pd.DataFrame:
    """``frame`` (``key``: the index, from 1, of a period in ``starts``) with the period's start
    as its key, in time order, and every empty period between the first and the last filled."""
    if frame.empty:
        return frame
    indexes = frame["key"].astype(int) - 1
    frame = frame.assign(key=[starts[i] for i in indexes]).set_index("key")
    counts = [c for c in frame.columns if frame[c].dtype == "int64"]
    frame = frame.reindex(starts[indexes.min() : indexes.max() + 1])
    frame[counts] = frame[counts].fillna(0).astype("int64")
    return frame.rename_axis("key").reset_index()


def year_over_year(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    period: str = "month",
    *,
    distinct: bool = False,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Each week, month or quarter against the same one a year before.

    Columns: ``key``, ``label``, ``requests``, ``requests_year_before`` (0 when the earlier
    period has none; NaN before the data starts) and ``change`` (fraction), plus the
    summary columns of the period. The comparison joins the aggregated table with itself.
    """
    if period not in ("week", "month", "quarter"):
        raise FilterError(f"Year over year compares weeks, months or quarters, not {period!r}.")
    return with_year_before(breakout(session, city, flt, period, distinct=distinct, now=now), period)


def with_year_before(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    """Add ``requests_year_before`` and ``change`` to a week, month or quarter breakout
    (for a page that already has the breakout: no second query)."""
    frame = frame.copy()
    if frame.empty:
        return frame.assign(requests_year_before=pd.Series(dtype=float), change=pd.Series(dtype=float))
    shift = (lambda d: d - timedelta(days=364)) if period == "week" else (lambda d: date(d.year - 1, d.month, 1))
    counts = dict(zip(frame["key"], frame["requests"]))
    first = frame["key"].iloc[0]
    before = [counts.get(shift(k), 0 if shift(k) >= first else float("nan")) for k in frame["key"]]
    frame["requests_year_before"] = pd.Series(before, dtype=float)
    base = frame["requests_year_before"].where(frame["requests_year_before"] > 0)
    frame["change"] = (frame["requests"] - frame["requests_year_before"]) / base
    return frame


@dataclass(frozen=True)
class YearToDate:
    """This year so far against the same days of last year."""

    start: date
    end: date
    current: pd.Series
    previous: pd.Series

    def change(self, column: str = "requests") -> float | None:
        """The change of ``column`` as a fraction (None without a base)."""
        base = self.previous[column]
        return None if not base or pd.isna(base) else float((self.current[column] - base) / base)


def year_to_date(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    today: date | None = None,
    *,
    fiscal: bool = False,
    distinct: bool = False,
    now: datetime | None = None,
) -> YearToDate:
    """The summary from the start of the (calendar or fiscal) year to ``today`` (local),
    and of the same span a year earlier. ``flt``'s own dates are replaced."""
    today = today or datetime.now(city.tz).date()
    year = periods.PERIODS["fiscal_year" if fiscal else "year"]
    start = year.start(today, city.reports.fiscal_year_start_month)
    last_year_end = _same_day_last_year(today)
    current = summary(session, city, flt.replace(date_from=start, date_to=today), distinct=distinct, now=now)
    previous = summary(
        session,
        city,
        flt.replace(date_from=date(start.year - 1, start.month, 1), date_to=last_year_end),
        distinct=distinct,
        now=now,
    )
    return YearToDate(start, today, current, previous)


def _same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def top_services(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    *,
    per: str | None = None,
    n: int = 10,
    distinct: bool = False,
    now: datetime | None = None,
    choices: FilterChoices | None = None,
    keep_scope: bool = False,
) -> pd.DataFrame:
    """The ``n`` services with most requests, overall or ``per`` ward / district / department / channel.

    Columns: (``area`` and ``area_label`` with ``per``), ``rank``, ``service_code``,
    ``service_name``, ``requests``, ``share`` (of the requests of the area or overall),
    ``open``. Ties are ranked by service code. The counts are the summary figures per area and
    service (:func:`_figures`: from the request rollup where it holds them). Names come from
    ``choices`` (the catalogue), else from the catalogue table, else from the requests themselves.
    """
    where, params = _base(city, flt, distinct, now, keep_scope=keep_scope)
    if per and not DIMENSIONS[per].top:
        label = DIMENSIONS[per].label.lower()
        raise FilterError(f"Top services per {label} is not offered; filter by the {label} instead.")
    group = f"coalesce(CAST({dimension(per).expression(city)} AS text), chr(1))" if per else "chr(1)"
    counted = _figures(
        session,
        f"{group} || chr(31) || r.service_code",
        "",
        where,
        params,
        medians=False,
        rollup=_rollup(city, flt, now),
    )
    frame = pd.DataFrame(
        {
            "area": [k.split("\x1f", 1)[0] for k in counted["key"]],
            "service_code": [k.split("\x1f", 1)[1] for k in counted["key"]],
            "requests": counted["requests"].astype("int64"),
            "open": counted["open"].fillna(0).astype("int64"),
        }
    )
    frame["area"] = frame["area"].where(frame["area"] != "\x01", None)
    frame = frame.sort_values(["area", "requests", "service_code"], ascending=[True, False, True], na_position="last")
    areas = frame["area"].fillna("\x01")
    frame["share"] = frame["requests"] / frame.groupby(areas)["requests"].transform("sum")
    frame["rank"] = frame.groupby(areas).cumcount() + 1
    frame = frame[frame["rank"] <= n]
    frame.insert(2, "service_name", _service_names(session, city, list(frame["service_code"]), choices))
    frame = frame[["area", "rank", "service_code", "service_name", "requests", "share", "open"]]
    if per:
        names = _names(per, choices, city)
        frame.insert(1, "area_label", [names.get(a, a) if a else "(none)" for a in frame["area"]])
    else:
        frame = frame.drop(columns=["area"])
    return frame.reset_index(drop=True)


def _service_names(session: Session, city: CityConfig, codes: list[str], choices: FilterChoices | None) -> list[str]:
    """Each code's name: the catalogue's (``choices``, else the service table), else one the requests stored."""
    names: dict[str, str] = dict(choices.services) if choices else {}
    missing = sorted(set(codes) - set(names))
    if missing:
        rows = session.execute(
            text(
                """SELECT c, coalesce((SELECT s.name FROM service s WHERE s.city = :city AND s.code = c),
                                  (SELECT r.service_name FROM service_request r
                                   WHERE r.city = :city AND r.service_code = c LIMIT 1), c)
                FROM unnest(CAST(:codes AS text[])) c"""
            ),
            {"city": city.key, "codes": missing},
        ).all()
        names.update({code: name for code, name in rows})
    return [names.get(c) or c for c in codes]


def backlog_aging(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    by: str = "department",
    *,
    distinct: bool = False,
    now: datetime | None = None,
    choices: FilterChoices | None = None,
) -> pd.DataFrame:
    """Open requests by age band (whole days since creation at ``now``) per ``by``.

    Columns: ``key``, ``label``, one column per :data:`AGE_BANDS` label, ``open``,
    ``overdue``; most open first. One grouped query.
    """
    where, params = _base(city, flt.replace(status="open"), distinct, now)
    key = dimension(by).expression(city)
    join = DIMENSIONS[by].join
    age = "floor(date_part('epoch', :now - r.requested_at) / 86400.0)"
    bands = ",\n".join(
        f"count(*) FILTER (WHERE {age} >= {low}"
        + (f" AND {age} <= {high}" if high is not None else "")
        + f') AS "{label}"'
        for label, low, high in AGE_BANDS
    )
    rows = (
        session.execute(
            text(
                f"""SELECT {key} AS key, {bands}, count(*) AS open, count(*) FILTER (WHERE r.due_at < :now) AS overdue
            FROM service_request r {join} WHERE {where} GROUP BY 1"""
            ),
            params,
        )
        .mappings()
        .all()
    )
    labels = [b[0] for b in AGE_BANDS]
    frame = pd.DataFrame(rows, columns=["key", *labels, "open", "overdue"])
    names = _names(by, choices, city)
    frame.insert(1, "label", [("(none)" if not k else names.get(k, k)) for k in frame["key"]])
    return frame.sort_values(["open", "label"], ascending=[False, True], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class DueDates:
    """Where the due dates of the requests under a filter came from."""

    source: int
    catalogue: int

    def describe(self) -> str:
        """ "due dates: 92 % from the city's data, 8 % from service levels" (or "no due dates")."""
        total = self.source + self.catalogue
        if not total:
            return "due dates: none"
        share = round(100 * self.source / total)
        return f"due dates: {share} % from the city's data, {100 - share} % from service levels"


def due_date_sources(
    session: Session, city: CityConfig, flt: RequestFilter, *, distinct: bool = False, now: datetime | None = None
) -> DueDates:
    """How many due dates under ``flt`` are the city's own (from its history) and how many were
    computed from the catalogue's service levels; compliance is measured against them."""
    where, params = _base(city, flt, distinct, now)
    row = session.execute(
        text(
            f"""SELECT count(*) FILTER (WHERE r.due_source = 'source'),
                   count(*) FILTER (WHERE r.due_at IS NOT NULL AND r.due_source IS DISTINCT FROM 'source')
            FROM service_request r WHERE {where}"""
        ),
        params,
    ).one()
    return DueDates(int(row[0]), int(row[1]))


def compliance(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    by: str = "department",
    *,
    distinct: bool = False,
    now: datetime | None = None,
    choices: FilterChoices | None = None,
) -> pd.DataFrame:
    """Service-level compliance per department or service (or any dimension).

    Columns: ``key``, ``label``, ``closed_with_due``, ``closed_on_time``,
    ``within_service_level_share``, ``open``, ``overdue``, ``mean_days_to_close``. No
    median: the breakout pages show it, and leaving it out halves the cost of this table.
    ``frame.attrs["due_dates"]`` says which due dates were used (:func:`due_date_sources`):
    "due dates: 92 % from the city's data, 8 % from service levels".
    """
    frame = breakout(session, city, flt, by, distinct=distinct, now=now, choices=choices, medians=False)
    frame = frame[
        [
            "key",
            "label",
            "closed_with_due",
            "closed_on_time",
            "within_service_level_share",
            "open",
            "overdue",
            "mean_days_to_close",
        ]
    ].copy()
    frame.attrs["due_dates"] = due_date_sources(session, city, flt, distinct=distinct, now=now).describe()
    return frame


def requests_behind(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    *,
    distinct: bool = False,
    now: datetime | None = None,
    limit: int | None = None,
) -> gpd.GeoDataFrame:
    """The requests behind a figure (newest first): the list columns and the point (EPSG:4326,
    None for requests without a location). No personal data: no reporter, no description."""
    where, params = _base(city, flt, distinct, now)
    params["limit"] = limit
    rows = session.execute(
        text(
            f"""
        SELECT {", ".join("r." + c for c in LIST_COLUMNS)}, r.channel, r.department_code,
               ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat
        FROM service_request r WHERE {where} ORDER BY r.requested_at DESC, r.id DESC LIMIT :limit
        """
        ),
        params,
    ).all()
    frame = pd.DataFrame(rows, columns=[*LIST_COLUMNS, "channel", "department_code", "lon", "lat"])
    # The city's name of the channel and its family, so that exports read as the city speaks and compare.
    frame.insert(
        frame.columns.get_loc("channel") + 1, "channel_name", [city.channels.name(c) for c in frame["channel"]]
    )
    frame.insert(
        frame.columns.get_loc("channel_name") + 1, "channel_family", [city.channels.family(c) for c in frame["channel"]]
    )
    points = shapely.points(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    points[frame["lon"].isna().to_numpy()] = None
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


__all__ = [
    "AGE_BANDS",
    "DIMENSIONS",
    "DISTINCT",
    "PERIODS",
    "SUMMARY_COLUMNS",
    "YearToDate",
    "backlog_aging",
    "breakout",
    "compliance",
    "DueDates",
    "due_date_sources",
    "next_period_start",
    "period_label",
    "requests_behind",
    "summary",
    "top_services",
    "with_year_before",
    "year_over_year",
    "year_to_date",
]
