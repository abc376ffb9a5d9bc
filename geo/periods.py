"""Calendar periods, each defined once: day, week (from Monday), month, quarter, fiscal year, year.

A :class:`Period` knows its start holding a local date, the start of the next one, the
starts covering a range, its name for people, and the SQL truncating a timestamp to its
start (a local date of the city's time zone, bound as ``:tz``). Fiscal years start in the
city's ``[reports] fiscal_year_start_month`` (``fiscal_start``); the other periods ignore it.
The reports' breakouts, the time slices of hot-spot grids and emerging hot spots, and the
month coverage of the maps all read :data:`PERIODS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from service_requests.selection import FilterError


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _from_month_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A calendar period: ``days`` long (day, week) or ``months`` long, from month 1 or, when
    ``fiscal``, from the fiscal year's first month. ``breakout``: the reports break out by it;
    ``tab``: the report pages have a tab for it. ``name`` says a period (by its start) for people."""

    key: str
    label: str
    name: Callable[[date, int], str]
    days: int = 0
    months: int = 0
    fiscal: bool = False
    breakout: bool = True
    tab: bool = False

    def start(self, day: date, fiscal_start: int = 7) -> date:
        """The start of the period holding the local date ``day`` (weeks from Monday)."""
        if self.days == 7:
            return day - timedelta(days=day.weekday())
        if self.days:
            return day
        first = fiscal_start if self.fiscal else 1
        index = (_month_index(day) + 1 - first) // self.months * self.months + first - 1
        return _from_month_index(index)

    def next_start(self, start: date) -> date:
        """The start of the period after the one starting on ``start``."""
        if self.days:
            return start + timedelta(days=self.days)
        return _from_month_index(_month_index(start) + self.months)

    def starts(self, first: date, last: date, fiscal_start: int = 7) -> list[date]:
        """The starts of every period holding a day of ``first``..``last``, in order."""
        current, out = self.start(first, fiscal_start), []
        while current <= last:
            out.append(current)
            current = self.next_start(current)
        return out

    def sql(self, timestamp: str, fiscal_start: int = 7) -> str:
        """SQL: the local start date of the period holding ``timestamp`` (a timestamptz
        expression, e.g. ``r.requested_at``), in the time zone bound as ``:tz``."""
        local = f"{timestamp} AT TIME ZONE :tz"
        if self.days == 1:
            return f"({local})::date"
        if self.fiscal and fiscal_start != 1:
            shift = f"interval '{fiscal_start - 1} months'"
            return f"(date_trunc('year', {local} - {shift}) + {shift})::date"
        unit = {7: "week"}.get(self.days) or {1: "month", 3: "quarter", 12: "year"}[self.months]
        return f"date_trunc('{unit}', {local})::date"


def _fiscal_name(start: date, fiscal_start: int) -> str:
    if fiscal_start == 1:
        return f"Fiscal year {start.year}"
    return f"Fiscal year {start.year}–{(start.year + 1) % 100:02d}"


def _week_name(start: date, fiscal_start: int) -> str:
    year, week, _ = start.isocalendar()
    return f"Week {week} of {year} (from {start:%d %b})"


#: Every period, finest first.
PERIODS: dict[str, Period] = {
    p.key: p
    for p in (
        Period("day", "Day", lambda d, _: d.isoformat(), days=1, breakout=False),
        Period("week", "Week", _week_name, days=7),
        Period("month", "Month", lambda d, _: f"{d:%B %Y}", months=1, tab=True),
        Period("quarter", "Quarter", lambda d, _: f"{d.year} quarter {(d.month - 1) // 3 + 1}", months=3),
        Period("fiscal_year", "Fiscal year", _fiscal_name, months=12, fiscal=True, tab=True),
        Period("year", "Year", lambda d, _: str(d.year), months=12),
    )
}
#: The periods the reports break out by (all but ``day``), key -> label.
BREAKOUT_PERIODS: dict[str, str] = {k: p.label for k, p in PERIODS.items() if p.breakout}


def period(key: str, among: tuple[str, ...] | None = None) -> Period:
    """The period named ``key`` (one of ``among``, if given); a :class:`~service_requests.selection.FilterError` naming them if not."""
    names = among if among is not None else tuple(BREAKOUT_PERIODS)
    if key not in PERIODS or (among is not None and key not in among):
        raise FilterError(f"The period must be one of {', '.join(names)}, not {key!r}.")
    return PERIODS[key]


__all__ = ["BREAKOUT_PERIODS", "PERIODS", "Period", "period"]
