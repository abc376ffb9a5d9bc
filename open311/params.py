"""The arguments of the Open311 methods, checked as the GeoReport v2 spec words them.

Every query argument has one pattern (:data:`PATTERNS`), used both here and in the
OpenAPI document, so that what the document calls valid is what the server takes.
"Optional" arguments follow the spec: one sent empty is the same as one not sent. List
arguments (``service_request_id``, ``service_code``, ``status``) are comma delimited
(they may also be repeated). What a pattern cannot say (a real calendar date, a box the
right way round, a window of at most 90 days) is checked after it. Every problem is
reported at once, each naming its argument. Nothing here touches the database.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from open311.errors import Open311Error, bad_request, not_found
from service_requests.references import normalize_reference
from service_requests.selection import EARLIEST_DATE, LATEST_DATE

MAX_SPAN = timedelta(days=90)
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000
MAX_PAGE = 10_000
MAX_IDS = 1000
MAX_CODES = 100
#: ``q``: at most this many characters and words (each word is one more test of every request in the window).
MAX_TEXT = 200
MAX_WORDS = 10
#: ``radius``: metres around ``lat``/``long``, more than 0 and at most this.
MAX_RADIUS_M = 5_000
EARLIEST_MOMENT = datetime.combine(EARLIEST_DATE, time(0), UTC)
LATEST_MOMENT = datetime.combine(LATEST_DATE + timedelta(days=1), time(0), UTC)

SERVICE_CODE_PATTERN = r"[a-z0-9][a-z0-9-]{0,63}"
# A service request id as typed: 26 letters (U excepted) and digits, dashes anywhere (case, O/0 and I/L/1 forgiven).
REFERENCE_PATTERN = r"-*(?:[0-9A-TV-Za-tv-z]-*){26}"
DEGREES_PATTERN = r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})"
# RFC 3339 (the W3C profile of ISO 8601): a date and time with its offset; a date alone is an extension.
DATETIME_PATTERN = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,20})?)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
# Free text: any characters but control characters (PostgreSQL text cannot hold NUL).
TEXT_PATTERN = rf"[^\x00-\x1f\x7f]{{1,{MAX_TEXT}}}"
METRES_PATTERN = r"[0-9]{1,5}(?:\.[0-9]{0,3})?|\.[0-9]{1,3}"

#: The syntax of each query argument (unanchored; the empty value, meaning "not sent", aside).
PATTERNS = {
    "service_request_id": rf"{REFERENCE_PATTERN}(?:,{REFERENCE_PATTERN})*",
    "service_code": rf"{SERVICE_CODE_PATTERN}(?:,{SERVICE_CODE_PATTERN})*",
    "status": r"(?:open|closed)(?:,(?:open|closed))*",
    "start_date": rf"{DATETIME_PATTERN}|{DATE_PATTERN}",
    "end_date": rf"{DATETIME_PATTERN}|{DATE_PATTERN}",
    "updated_after": rf"{DATETIME_PATTERN}|{DATE_PATTERN}",
    "updated_before": rf"{DATETIME_PATTERN}|{DATE_PATTERN}",
    "bbox": rf"{DEGREES_PATTERN},{DEGREES_PATTERN},{DEGREES_PATTERN},{DEGREES_PATTERN}",
    "q": TEXT_PATTERN,
    "lat": DEGREES_PATTERN,
    "long": DEGREES_PATTERN,
    "radius": METRES_PATTERN,
    "page": r"[1-9][0-9]{0,3}|10000",
    "page_size": r"[1-9][0-9]{0,2}|1000",
    "extensions": r"[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in PATTERNS.items()}
_REFERENCE = re.compile(REFERENCE_PATTERN)
_DATETIME = re.compile(DATETIME_PATTERN)
_DATE = re.compile(DATE_PATTERN)

_HINTS = {
    "service_request_id": "comma-delimited service request ids (26 letters and digits, e.g. 7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK)",
    "service_code": "comma-delimited service codes of lower-case letters, digits and - (see services.json)",
    "status": "open, closed or open,closed",
    "start_date": "a date and time with its offset, e.g. 2010-01-01T00:00:00Z or 2010-01-01T00:00:00-08:00",
    "bbox": "four numbers: min_long,min_lat,max_long,max_lat (WGS 84 degrees)",
    "q": f"text of 1 to {MAX_TEXT} characters, without control characters",
    "lat": "a latitude in WGS 84 decimal degrees, from -90 to 90",
    "long": "a longitude in WGS 84 decimal degrees, from -180 to 180",
    "radius": f"a distance in metres, more than 0 and at most {MAX_RADIUS_M:,} (e.g. 250)",
    "page": f"a whole number from 1 to {MAX_PAGE:,}",
    "page_size": f"a whole number from 1 to {MAX_PAGE_SIZE:,}",
    "extensions": "true or false",
}
for _name in ("end_date", "updated_after", "updated_before"):
    _HINTS[_name] = _HINTS["start_date"]

#: Arguments other Open311 servers take that this one does not, and what to use instead: a request
#: with one is answered as without it, with a ``Warning`` header (RFC 7234, code 299) of this text.
#: (Arguments nobody is known to use are ignored without a word, as the spec's "optional" implies.)
IGNORED = {
    "limit": f"limit is not supported; use page_size (1 to {MAX_PAGE_SIZE:,}) with page",
    "offset": "offset is not supported; use page (from 1) with page_size",
    "sort": "sort is not supported; results are always newest first (requested_datetime descending)",
    "callback": "callback is not supported: JSONP is not offered; browsers may read this API directly (CORS)",
}


class Args(Protocol):
    """What the web layer hands in: a multi-dict such as ``request.args`` (``getlist``)."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class BBox:
    """A box in WGS 84 degrees: west, south, east, north."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class Circle:
    """A circle on the ground: its centre in WGS 84 degrees and its radius in metres."""

    lon: float
    lat: float
    radius_m: float


@dataclass(frozen=True)
class RequestQuery:
    """The arguments of GET requests, checked; ``start``/``end`` is the requested_datetime window."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    bbox: BBox | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    extensions: bool = False
    words: tuple[str, ...] = ()
    circle: Circle | None = None
    #: The peers' arguments given (keys of :data:`IGNORED`), answered as if not sent.
    ignored: tuple[str, ...] = ()


class _Collector:
    """Reads arguments against their patterns and collects every problem, to report them all in one 400."""

    def __init__(self, args: Args) -> None:
        self.args = args
        self.problems: list[str] = []

    def single(self, name: str) -> str | None:
        values = [v for v in self.args.getlist(name) if v != ""]
        if len(set(values)) > 1:
            self.problems.append(f"{name} was given {len(values)} times; give it once.")
            return None
        if values and name in _COMPILED and not _COMPILED[name].fullmatch(values[0]):
            self.problems.append(f"{name} {_shown(values[0])} must be {_HINTS[name]}.")
            return None
        return values[0] if values else None

    def listed(self, name: str) -> list[str]:
        """A list argument: comma delimited (no spaces, no empty items), and/or repeated."""
        items: list[str] = []
        for value in self.args.getlist(name):
            if value == "":
                continue
            if not _COMPILED[name].fullmatch(value):
                self.problems.append(f"{name} {_shown(value)} must be {_HINTS[name]}.")
                continue
            for item in value.split(","):
                if item not in items:
                    items.append(item)
        return items

    def fail(self) -> None:
        if self.problems:
            raise bad_request(*self.problems)


def check_jurisdiction(args: Args, accepted: tuple[str, ...]) -> None:
    """``jurisdiction_id`` may be left out (this endpoint serves one jurisdiction); if given, it must be ours."""
    reader = _Collector(args)
    given = reader.single("jurisdiction_id")
    reader.fail()
    if given is not None and given.casefold() not in {a.casefold() for a in accepted if a}:
        raise not_found(
            f"jurisdiction_id {_shown(given)} was not found: this endpoint serves "
            f"{' or '.join(repr(a) for a in accepted if a)} (or leave jurisdiction_id out)."
        )


def jurisdiction_pattern(accepted: tuple[str, ...]) -> str:
    """The accepted jurisdiction ids as one case-insensitive pattern (for the OpenAPI document)."""

    def caseless(word: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)

    return "|".join(caseless(a) for a in accepted if a)


def parse_format(value: str) -> str:
    """``json`` or ``xml`` from the URL's extension; 404 for anything else."""
    if value in ("json", "xml"):
        return value
    raise not_found(f"There is no .{_shown(value, 20, quote=False)} format: use .xml or .json.")


def parse_request_query(args: Args, tz: tzinfo, now: datetime | None = None) -> RequestQuery:
    """Check the arguments of GET requests (with the common extensions) and settle the time window.

    Without ``service_request_id``, ``start_date``, ``end_date``, ``updated_after`` or
    ``updated_before``, the window is the most recent 90 days; ``start_date`` alone means
    the 90 days from it, ``end_date`` alone the 90 days up to it; a window may not span more
    than 90 days. ``service_request_id`` overrides the other filters (they are still checked).
    """
    now = now or datetime.now(UTC)
    reader = _Collector(args)
    problems = reader.problems

    ids = list(dict.fromkeys(normalize_reference(typed) for typed in reader.listed("service_request_id")))
    if len(ids) > MAX_IDS:
        problems.append(f"service_request_id lists {len(ids):,} ids; ask for at most {MAX_IDS:,} at once.")
    codes = reader.listed("service_code")
    if len(codes) > MAX_CODES:
        problems.append(f"service_code lists {len(codes)} codes; give at most {MAX_CODES}.")
    statuses = reader.listed("status")

    moments = {
        name: _moment(reader, name, tz) for name in ("start_date", "end_date", "updated_after", "updated_before")
    }
    start, end = _window(
        problems,
        moments["start_date"],
        moments["end_date"],
        None if ids or moments["updated_after"] or moments["updated_before"] else now,
        "(or use updated_after / updated_before with page and page_size)",
    )
    after, before = moments["updated_after"], moments["updated_before"]
    if after and before and after > before:
        problems.append("updated_after is after updated_before; give the earlier moment as updated_after.")

    bbox = _bbox(reader)
    circle = _circle(reader)
    if bbox is not None and circle is not None:
        problems.append("bbox and lat/long/radius both say where; give one of them (a box, or a circle).")
    words = _words(reader)
    page = int(reader.single("page") or 1)
    page_size = int(reader.single("page_size") or DEFAULT_PAGE_SIZE)
    extensions = _boolean(reader, "extensions")
    reader.fail()
    ignored = tuple(name for name in IGNORED if _sent(args, name))
    if ids:  # "This overrides all other arguments."
        return RequestQuery(
            ids=tuple(i for i in ids if i), page=1, page_size=MAX_PAGE_SIZE, extensions=extensions, ignored=ignored
        )
    return RequestQuery(
        ids=(),
        service_codes=tuple(codes),
        statuses=tuple(statuses),
        start=start,
        end=end,
        updated_after=after,
        updated_before=before,
        bbox=bbox,
        page=page,
        page_size=page_size,
        extensions=extensions,
        words=words,
        circle=circle,
        ignored=ignored,
    )


def _sent(args: Args, name: str) -> bool:
    """Whether ``name`` was given a value (sent empty is not sent)."""
    return any(value != "" for value in args.getlist(name))


def _words(reader: _Collector) -> tuple[str, ...]:
    """``q``: its words, each of which a request must hold (none for text of spaces alone)."""
    too_long = [value for value in reader.args.getlist("q") if len(value) > MAX_TEXT]
    if too_long:  # said with its length, before the pattern's general words
        reader.problems.append(f"q is {len(too_long[0]):,} characters long; give at most {MAX_TEXT}.")
        return ()
    value = reader.single("q")
    words = tuple(dict.fromkeys(value.split())) if value is not None else ()
    if len(words) > MAX_WORDS:
        reader.problems.append(f"q holds {len(words)} different words; give at most {MAX_WORDS}.")
        return ()
    return words


def _circle(reader: _Collector) -> Circle | None:
    """``lat``, ``long`` and ``radius``: all three or none, in the world, the radius within its cap."""
    names = ("lat", "long", "radius")
    sent = [name for name in names if _sent(reader.args, name)]
    values = {name: reader.single(name) for name in sent}
    if not sent:
        return None
    if len(sent) < len(names):
        missing = [name for name in names if name not in sent]
        reader.problems.append(
            f"lat, long and radius go together (a circle of radius metres around the point): "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing."
        )
        return None
    given = {name: value for name, value in values.items() if value is not None}
    if len(given) < len(names):  # a pattern's problem, already said
        return None
    lat, lon, radius = (float(given[name]) for name in names)
    problems = []
    if not -90 <= lat <= 90:
        problems.append(f"lat {_shown(given['lat'])} is outside the world: latitudes run from -90 to 90.")
    if not -180 <= lon <= 180:
        problems.append(f"long {_shown(given['long'])} is outside the world: longitudes run from -180 to 180.")
    if radius <= 0:
        problems.append("radius must be more than 0 metres.")
    elif radius > MAX_RADIUS_M:
        problems.append(
            f"radius {_shown(given['radius'])} is over the limit of {MAX_RADIUS_M:,} metres; "
            "use a smaller circle, or bbox for a larger area."
        )
    reader.problems.extend(problems)
    if problems:
        return None
    return Circle(lon=lon, lat=lat, radius_m=radius)


def _window(
    problems: list[str], start: datetime | None, end: datetime | None, now: datetime | None, advice: str = ""
) -> tuple[datetime | None, datetime | None]:
    """The start_date / end_date window: both given (at most 90 days, in order), one of them (the
    90 days from or up to it), or neither (the 90 days up to ``now``; no window if ``now`` is None)."""
    if start and end:
        if start > end:
            problems.append("start_date is after end_date; give the earlier moment as start_date.")
        elif end - start > MAX_SPAN:
            problems.append(
                f"start_date and end_date may not span more than 90 days; split the query {advice}".strip() + "."
            )
    elif start:
        end = start + MAX_SPAN
    elif end:
        start = end - MAX_SPAN
    elif now is not None:
        start, end = now - MAX_SPAN, now
    return start, end


@dataclass(frozen=True)
class UpdateQuery:
    """The arguments of GET servicerequestupdates, checked: the updated_datetime window and the page."""

    start: datetime
    end: datetime
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE


def parse_update_query(args: Args, tz: tzinfo, now: datetime | None = None) -> UpdateQuery:
    """Check the arguments of GET servicerequestupdates (mySociety's extension, as FixMyStreet polls it).

    ``start_date`` and ``end_date`` bound the updates' ``updated_datetime`` with the windows
    of GET requests: both (at most 90 days apart), one (the 90 days from or up to it), or
    neither (the last 90 days); ``page`` and ``page_size`` as for GET requests.
    """
    reader = _Collector(args)
    start, end = _window(
        reader.problems,
        _moment(reader, "start_date", tz),
        _moment(reader, "end_date", tz),
        now or datetime.now(UTC),
        "(with page and page_size)",
    )
    page = int(reader.single("page") or 1)
    page_size = int(reader.single("page_size") or DEFAULT_PAGE_SIZE)
    reader.fail()
    assert start is not None and end is not None  # _window always settles both when given a now
    return UpdateQuery(start=start, end=end, page=page, page_size=page_size)


def parse_extensions(args: Args) -> bool:
    """``extensions=true`` (the common extension) on methods that take no other argument."""
    reader = _Collector(args)
    value = _boolean(reader, "extensions")
    reader.fail()
    return value


def parse_datetime(value: str, tz: tzinfo) -> datetime:
    """An RFC 3339 moment (``2010-01-01T00:00:00Z``, ``2010-01-01T00:00:00-08:00``), the W3C
    form without seconds (``2017-12-20T00:00Z``, as the spec's W3C reference allows), or a date
    alone, read as midnight in the city's time zone. Raises ValueError."""
    try:
        if _DATE.fullmatch(value):
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=tz).astimezone(UTC)
        if not _DATETIME.fullmatch(value):
            raise ValueError(value)
        day, clock = value.upper().split("T")
        clock = clock.replace("Z", "+00:00")
        if "." in clock:  # Python reads at most microseconds: drop the digits beyond
            seconds, rest = clock.split(".", 1)
            digits = re.match(r"[0-9]+", rest).group(0)  # type: ignore[union-attr]
            clock = f"{seconds}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
        return datetime.fromisoformat(f"{day}T{clock}").astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(value) from None


def _moment(reader: _Collector, name: str, tz: tzinfo) -> datetime | None:
    value = reader.single(name)
    if value is None:
        return None
    try:
        moment = parse_datetime(value, tz)
    except ValueError:
        reader.problems.append(
            f"{name} {_shown(value)} is not a real date and time (months 01-12, days of the "
            "month, hours 00-23, offsets up to 23:59)."
        )
        return None
    # The app's range of dates; beyond it, the 90-day window added to a moment would leave the calendar.
    if not EARLIEST_MOMENT <= moment < LATEST_MOMENT:
        reader.problems.append(
            f"{name} {_shown(value)} is outside the dates this API serves, {EARLIEST_DATE} to {LATEST_DATE}."
        )
        return None
    return moment


def _boolean(reader: _Collector, name: str) -> bool:
    value = reader.single(name)
    return value is not None and value.lower() == "true"  # True/False too: what Python clients send


def _bbox(reader: _Collector) -> BBox | None:
    value = reader.single("bbox")
    if value is None:
        return None
    west, south, east, north = (float(p) for p in value.split(","))
    if not all(math.isfinite(n) for n in (west, south, east, north)):
        reader.problems.append(f"bbox {_shown(value)} must be four finite numbers.")
        return None
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        reader.problems.append("bbox is outside the world: longitudes run from -180 to 180, latitudes from -90 to 90.")
        return None
    if west > east or south > north:
        reader.problems.append("bbox is inverted: give min_long,min_lat,max_long,max_lat (west, south, east, north).")
        return None
    return BBox(west, south, east, north)


def _shown(value: str, limit: int = 60, quote: bool = True) -> str:
    """A value as quoted in an error message: cut short, control characters escaped."""
    cut = value[:limit] + ("…" if len(value) > limit else "")
    cut = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return repr(cut) if quote else cut


__all__ = [
    "Args",
    "BBox",
    "Circle",
    "IGNORED",
    "MAX_RADIUS_M",
    "MAX_TEXT",
    "MAX_WORDS",
    "Open311Error",
    "PATTERNS",
    "RequestQuery",
    "check_jurisdiction",
    "jurisdiction_pattern",
    "parse_datetime",
    "parse_extensions",
    "parse_format",
    "parse_request_query",
    "parse_update_query",
    "UpdateQuery",
]
