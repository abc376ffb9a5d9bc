"""Service levels: when a request is due.

A level in hours is clock time. A level in business days counts Monday to Friday in the
city's time zone: a request made on Friday afternoon with 2 business days is due on
Tuesday afternoon; one made on a Saturday counts from Monday morning.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.catalogue import ServiceLevel


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
