"""Times on pages: every template shows a moment in the city's time zone through one filter."""

from __future__ import annotations

from datetime import datetime

from app.web import runtime

#: The format of a time in lists and records (``2026-12-02 14:05``).
DEFAULT_FORMAT = "%Y-%m-%d %H:%M"


def local_time(value: datetime | None, fmt: str = DEFAULT_FORMAT, zone: bool = False) -> str:
    """``value`` in the city's time zone as ``fmt`` (with the zone's abbreviation, e.g. "PST", if
    ``zone``); "" for None. A naive value is taken as UTC, as the database stores times."""
    if value is None:
        return ""
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(runtime().city.tz)
    text = shown.strftime(fmt)
    return f"{text} {shown.strftime('%Z')}" if zone else text
