"""Times on pages: every template shows a moment in the city's time zone through one filter."""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date, format_time

from app.i18n import current_language
from app.web import runtime

#: The format of a time in lists and records (``2026-12-02 14:05``).
DEFAULT_FORMAT = "%Y-%m-%d %H:%M"


def local_time(value: datetime | None, fmt: str = DEFAULT_FORMAT, zone: bool = False) -> str:
    """``value`` in the city's time zone as ``fmt`` (with the zone's abbreviation, e.g. "PST", if
    ``zone``); "" for None. A naive value is taken as UTC, as the database stores times."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(runtime().city.tz)
    text = shown.strftime(fmt)
    return f"{text} {shown.strftime('%Z')}" if zone else text


def local_time_words(value: datetime | None, date_style: str = "full", with_time: bool = True) -> str:
    """``value`` in the city's time zone, written out in the page's language: "Thursday, December 3,
    2026, 7:57 AM" / "jueves, 3 de diciembre de 2026, 7:57" (Babel's ``date_style``: full, long, medium,
    short); "" for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    shown = value.astimezone(runtime().city.tz)
    language = current_language()
    text = format_date(shown.date(), date_style, locale=language)
    return f"{text}, {format_time(shown.time(), 'short', locale=language)}" if with_time else text


def date_words(value: date, pattern: str = "long") -> str:
    """A calendar day (or month: ``pattern`` "LLLL y") in the page's language: "December 1, 2026",
    "1 de diciembre de 2026"; ``pattern`` is a Babel style or a CLDR pattern."""
    return format_date(value, pattern, locale=current_language())
