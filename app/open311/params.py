"""The arguments of the Open311 methods, checked as the GeoReport v2 spec words them.

"Optional" arguments follow the spec: an argument sent empty is the same as one not sent.
List arguments (``service_request_id``, ``service_code``, ``status``) are comma delimited
and may also be repeated. Every problem is reported at once, each naming its argument.
Nothing here touches the database.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Protocol

from app.open311.errors import Open311Error, bad_request, not_found
from app.service_requests.references import normalize_reference

MAX_SPAN = timedelta(days=90)
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000
MAX_PAGE = 10_000
MAX_IDS = 1000
MAX_CODES = 100
_SERVICE_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_W3C = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"
                  r"(?:Z|[+-][0-9]{2}:[0-9]{2})?)?")
# A service request id as typed: 26 letters (U excepted) and digits, dashes anywhere (case, O/0 and I/L/1 forgiven).
REFERENCE_PATTERN = r"-*(?:[0-9A-TV-Za-tv-z]-*){26}"
_REFERENCE = re.compile(REFERENCE_PATTERN)
_WHOLE = re.compile(r"[0-9]{1,9}")
DECIMAL_PATTERN = r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})"
_DECIMAL = re.compile(DECIMAL_PATTERN)
W3C_PATTERN = _W3C.pattern
SERVICE_CODE_PATTERN = _SERVICE_CODE.pattern


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


class _Collector:
    """Reads arguments and collects every problem, to report them all in one 400."""

    def __init__(self, args: Args) -> None:
        self.args = args
        self.problems: list[str] = []

    def single(self, name: str) -> str | None:
        values = [v for v in self.args.getlist(name) if v != ""]
        if len(set(values)) > 1:
            self.problems.append(f"{name} was given {len(values)} times; give it once.")
            return None
        return values[0] if values else None

    def listed(self, name: str) -> list[str]:
        """A list argument: comma delimited (no spaces, no empty items), and/or repeated."""
        parts = [part for value in self.args.getlist(name) if value != "" for part in value.split(",")]
        if "" in parts:
            self.problems.append(f"{name} has an empty item; separate the values with single commas.")
        return [part for part in parts if part != ""]

    def fail(self) -> None:
        if self.problems:
            raise bad_request(*self.problems)


def check_jurisdiction(args: Args, accepted: tuple[str, ...]) -> None:
    """``jurisdiction_id`` may be left out (this endpoint serves one jurisdiction); if given, it must be ours."""
    reader = _Collector(args)
    given = reader.single("jurisdiction_id")
    reader.fail()
    if given is not None and given.casefold() not in {a.casefold() for a in accepted if a}:
        raise not_found(f"jurisdiction_id {_shown(given)} was not found: this endpoint serves "
                        f"{' or '.join(repr(a) for a in accepted if a)} (or leave jurisdiction_id out).")


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
    now = now or datetime.now(timezone.utc)
    reader = _Collector(args)
    problems = reader.problems

    ids: list[str] = []
    for typed in reader.listed("service_request_id"):
        reference = normalize_reference(typed) if _REFERENCE.fullmatch(typed) else None
        if reference is None:
            problems.append(f"service_request_id {_shown(typed)} is not a service request id "
                            "(26 letters and digits, e.g. 7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK).")
        elif reference not in ids:
            ids.append(reference)
    if len(ids) > MAX_IDS:
        problems.append(f"service_request_id lists {len(ids):,} ids; ask for at most {MAX_IDS:,} at once.")

    codes: list[str] = []
    for code in reader.listed("service_code"):
        if not _SERVICE_CODE.fullmatch(code):
            problems.append(f"service_code {_shown(code)} is not a service code (see services.json).")
        elif code not in codes:
            codes.append(code)
    if len(codes) > MAX_CODES:
        problems.append(f"service_code lists {len(codes)} codes; give at most {MAX_CODES}.")

    statuses: list[str] = []
    for status in reader.listed("status"):
        if status.lower() not in ("open", "closed"):
            problems.append(f"status {_shown(status)} is not a status: use open, closed or open,closed.")
        elif status.lower() not in statuses:
            statuses.append(status.lower())

    moments = {name: _moment(reader, name, tz) for name in ("start_date", "end_date", "updated_after", "updated_before")}
    start, end = moments["start_date"], moments["end_date"]
    if start and end:
        if start > end:
            problems.append("start_date is after end_date; give the earlier moment as start_date.")
        elif end - start > MAX_SPAN:
            problems.append("start_date and end_date may not span more than 90 days; split the query "
                            "(or use updated_after / updated_before with page and page_size).")
    elif start:
        end = start + MAX_SPAN
    elif end:
        start = end - MAX_SPAN
    elif not ids and moments["updated_after"] is None and moments["updated_before"] is None:
        start, end = now - MAX_SPAN, now
    after, before = moments["updated_after"], moments["updated_before"]
    if after and before and after > before:
        problems.append("updated_after is after updated_before; give the earlier moment as updated_after.")

    bbox = _bbox(reader)
    page = _whole(reader, "page", 1, MAX_PAGE, 1)
    page_size = _whole(reader, "page_size", 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)
    extensions = _boolean(reader, "extensions")
    reader.fail()
    if ids:  # "This overrides all other arguments."
        return RequestQuery(ids=tuple(ids), page=1, page_size=MAX_PAGE_SIZE, extensions=extensions)
    return RequestQuery(ids=(), service_codes=tuple(codes), statuses=tuple(statuses), start=start, end=end,
                        updated_after=after, updated_before=before, bbox=bbox, page=page, page_size=page_size,
                        extensions=extensions)


def parse_extensions(args: Args) -> bool:
    """``extensions=true`` (the common extension) on methods that take no other argument."""
    reader = _Collector(args)
    value = _boolean(reader, "extensions")
    reader.fail()
    return value


def parse_datetime(value: str, tz: tzinfo) -> datetime:
    """A W3C-profile ISO 8601 moment (``2010-01-01T00:00:00Z``, ``2010-01-01T00:00:00-08:00``);
    a date alone or a time without offset is read in the city's time zone. Raises ValueError."""
    if not _W3C.fullmatch(value):
        raise ValueError(value)
    try:
        if "T" not in value:
            moment = datetime.combine(date.fromisoformat(value), time(0), tzinfo=tz)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ValueError(value) from None


def _moment(reader: _Collector, name: str, tz: tzinfo) -> datetime | None:
    value = reader.single(name)
    if value is None:
        return None
    try:
        moment = parse_datetime(value, tz)
    except ValueError:
        reader.problems.append(f"{name} {_shown(value)} is not a date and time in the W3C format, "
                               "e.g. 2010-01-01T00:00:00Z or 2010-01-01T00:00:00-08:00.")
        return None
    if not 1900 <= moment.year <= 2200:
        reader.problems.append(f"{name} {_shown(value)} is outside the years 1900 to 2200.")
        return None
    return moment


def _whole(reader: _Collector, name: str, low: int, high: int, default: int) -> int:
    value = reader.single(name)
    if value is None:
        return default
    if not _WHOLE.fullmatch(value) or not low <= int(value) <= high:
        reader.problems.append(f"{name} {_shown(value)} must be a whole number from {low} to {high:,}.")
        return default
    return int(value)


def _boolean(reader: _Collector, name: str) -> bool:
    value = reader.single(name)
    if value is None:
        return False
    if value.lower() not in ("true", "false"):  # True/False too: what Python clients send
        reader.problems.append(f"{name} {_shown(value)} must be true or false.")
        return False
    return value.lower() == "true"


def _bbox(reader: _Collector) -> BBox | None:
    value = reader.single("bbox")
    if value is None:
        return None
    parts = value.split(",")
    numbers = [float(p) for p in parts if _DECIMAL.fullmatch(p)] if len(parts) == 4 else []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        reader.problems.append(f"bbox {_shown(value)} must be four numbers: min_long,min_lat,max_long,max_lat "
                               "(WGS 84 degrees).")
        return None
    west, south, east, north = numbers
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


__all__ = ["Args", "BBox", "Open311Error", "RequestQuery", "check_jurisdiction", "parse_datetime",
           "parse_extensions", "parse_format", "parse_request_query"]
