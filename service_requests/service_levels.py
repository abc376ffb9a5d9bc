"""Service levels: when a request is due.

A level in hours is clock time. A level in business days counts Monday to Friday in the
city's time zone: a request made on Friday afternoon with 2 business days is due on
Tuesday afternoon; one made on a Saturday counts from Monday morning.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from core.catalogue_file import ServiceLevel


def due_at(requested_at: datetime, level: ServiceLevel, tz: ZoneInfo) -> datetime:
    """When a request made at ``requested_at`` is due under ``level``."""
    if level.hours is not None:
        return requested_at + timedelta(hours=level.hours)
    local = requested_at.astimezone(tz)
    if local.weekday() >= 5:  # made on a weekend: the clock starts on Monday morning
        local = datetime.combine(local.date() + timedelta(days=7 - local.weekday()), time(8, 0), tzinfo=tz)
    remaining = level.business_days or 0
    day = local
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return datetime.combine(day.date(), local.timetz().replace(tzinfo=None), tzinfo=tz)


def due_at_many(requested_at: pd.Series, hours: pd.Series, business_days: pd.Series, tz: ZoneInfo) -> pd.Series:
    """:func:`due_at` for whole columns (UTC timestamps), for bulk imports; same rule, same answers."""
    clock = requested_at + pd.to_timedelta(hours.astype(float), unit="h")
    wall_clock = requested_at.dt.tz_convert(tz).dt.tz_localize(None)  # days are counted on the wall clock
    weekday = wall_clock.dt.day_of_week
    monday = wall_clock.dt.normalize() + pd.to_timedelta(7 - weekday, unit="D") + pd.Timedelta(hours=8)
    start = wall_clock.where(weekday < 5, monday)
    days = business_days.fillna(0).astype(int).to_numpy()
    valid = start.notna().to_numpy()
    dates = start.dt.normalize().to_numpy().astype("datetime64[D]")
    shifted = dates.copy()
    shifted[valid] = np.busday_offset(dates[valid], days[valid], roll="forward")
    wall = pd.Series(shifted.astype("datetime64[ns]"), index=start.index) + (start - start.dt.normalize())
    # Repeated hour: its first occurrence; skipped hour: the offset before the change (as zoneinfo reads it).
    by_days = wall.dt.tz_localize(
        tz, ambiguous=np.ones(len(wall), dtype=bool), nonexistent=pd.Timedelta(hours=1)
    ).dt.tz_convert("UTC")
    return by_days.where(business_days.notna(), clock)
