"""Which requests a map, a figure or a list is about: one filter, one SQL rendering.

A :class:`RequestFilter` names services, a department, open or closed, channels, a date
range (local dates of the city, both ends included), a ward or district, and "overdue
only". :meth:`RequestFilter.sql` turns it into a WHERE fragment with bound parameters
(values are never formatted into SQL). :func:`parse_filter` reads one from query-string
arguments and refuses bad values with a sentence a person can act on.

What a map can show is narrower than what exists: a request on a placeholder point (an
unknown location put on a default point), outside the city, or without a point is left
out of maps, hot spots and area figures. :data:`MAPPED` is that rule, and
:func:`left_out` counts what it leaves out, so that every map can say so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.channels import CODE as CHANNEL_CODE
from core.channels import FAMILIES
from core.city import CityConfig
from core.errors import UserError
from service_requests import rules

STATUSES = ("all", "open", "closed", "cancelled")
SCOPES = ("mapped", "left_out", "all", "city")
#: The requests a map can show: a real point inside the city.
MAPPED = rules.mapped("{a}")
#: The requests city figures count (scope ``city``): all but those known to be outside the city.
IN_CITY = rules.in_city("{a}")
#: A code from the city's data: departments and wards may hold spaces and punctuation ("PUBLIC WORKS / ST."); bound,
#: never spliced into SQL.
_CODE = re.compile(r"[^\x00-\x1f\x7f]{1,64}")
_GROUP = re.compile(r"[^\x00-\x1f]{1,100}")
#: The dates a filter, a report month or an API window may name: wide enough for any city's history and
#: plans, narrow enough that a day or a period added to either end stays a date (``9999-12-31`` does not).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
#: The highest page number of a list (50 a page: 500,000 rows deep; an OFFSET beyond is no one's reading).
MAX_PAGE = 10_000
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_WHOLE = re.compile(r"[0-9]{1,12}")


class FilterError(UserError):
    """A filter value that is not allowed; the message says which and what is."""


@dataclass(frozen=True)
class RequestFilter:
    """A selection of one city's requests.

    ``status`` is ``all``, ``open``, ``closed`` (closed and not cancelled, as the reports
    count) or ``cancelled``; ``date_from`` / ``date_to`` are local
    dates of the city, both included, on the request's creation time. ``scope`` is
    ``mapped`` (the default: what maps can show), ``left_out`` (what they cannot), ``all``
    or ``city`` (all but requests known to be outside the city: what reports count).
    ``group`` is a service group of the catalogue (its services, as stored now).
    ``channels`` are codes of the city's channels (checked against the city in :meth:`sql`
    and :func:`check_filter`); ``families`` are channel families (:data:`core.channels.FAMILIES`),
    i.e. the city's channels of those families.
    Empty tuples and ``None`` mean "no condition".
    """

    services: tuple[str, ...] = ()
    department: str | None = None
    status: str = "all"
    channels: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    ward: str | None = None
    district: str | None = None
    overdue: bool = False
    scope: str = "mapped"
    group: str | None = None
    families: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise FilterError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}.")
        if self.scope not in SCOPES:
            raise FilterError(f"scope must be one of {', '.join(SCOPES)}, not {self.scope!r}.")
        bad = [c for c in self.channels if not isinstance(c, str) or not CHANNEL_CODE.fullmatch(c)]
        if bad:
            raise FilterError(
                f"There is no channel {str(bad[0])[:40]!r}: a channel code is lower-case letters, digits and _."
            )
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown:
            raise FilterError(
                f"There is no channel family {str(unknown[0])[:40]!r}; the families are {', '.join(FAMILIES)}."
            )
        for day in (self.date_from, self.date_to):
            if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
                raise FilterError(f"Dates run from {EARLIEST_DATE} to {LATEST_DATE}, not {day}.")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise FilterError(f"The date range ends ({self.date_to}) before it starts ({self.date_from}).")
        for value in (*self.services, self.department, self.ward, self.district):
            if value is not None and not _CODE.fullmatch(value):
                raise FilterError(f"{value[:70]!r} is not a code: 1 to 64 characters without control characters.")
        if self.group is not None and not _GROUP.fullmatch(self.group):
            raise FilterError("A service group is a name of 1 to 100 characters without control characters.")
        object.__setattr__(self, "services", tuple(sorted(set(self.services))))
        object.__setattr__(self, "channels", tuple(sorted(set(self.channels))))
        object.__setattr__(self, "families", tuple(sorted(set(self.families))))

    def replace(self, **changes: Any) -> RequestFilter:
        """A copy with ``changes`` (checked like a new filter)."""
        return replace(self, **changes)

    def key(self) -> tuple:
        """A hashable key: equal filters, equal keys (for caches)."""
        return tuple(sorted(asdict(self).items()))

    def sql(self, city: CityConfig, alias: str = "r", now: datetime | None = None) -> tuple[str, dict[str, Any]]:
        """The WHERE fragment (``alias`` is the service_request table) and its bound parameters."""
        a = alias
        clauses = [f"{a}.city = :f_city"]
        params: dict[str, Any] = {"f_city": city.key}
        if self.scope == "mapped":
            clauses.append(MAPPED.format(a=a))
        elif self.scope == "left_out":
            clauses.append(f"NOT coalesce({MAPPED.format(a=a)}, false)")
        elif self.scope == "city":
            clauses.append(IN_CITY.format(a=a))
        if self.services:
            clauses.append(f"{a}.service_code = ANY(:f_services)")
            params["f_services"] = list(self.services)
        if self.group:
            clauses.append(
                f"{a}.service_code IN (SELECT g.code FROM service g WHERE g.city = :f_city AND g.group_name = :f_group)"
            )
            params["f_group"] = self.group
        if self.department:
            clauses.append(f"{a}.department_code = :f_department")
            params["f_department"] = self.department
        if self.status == "open":
            clauses.append(f"{a}.is_open")
        elif self.status == "closed":
            clauses.append(rules.closed(a))
        elif self.status == "cancelled":
            clauses.append(f"{a}.status = 'cancelled'")
        if self.channels:
            for code in self.channels:
                problem = city.channels.problem(code)
                if problem:
                    raise FilterError(problem)
            clauses.append(f"{a}.channel = ANY(:f_channels)")
            params["f_channels"] = list(self.channels)
        if self.families:
            clauses.append(f"{a}.channel = ANY(:f_family_channels)")
            params["f_family_channels"] = list(city.channels.codes_of(self.families))
        start, end = self.time_range(city)
        if start is not None:
            clauses.append(f"{a}.requested_at >= :f_from")
            params["f_from"] = start
        if end is not None:
            clauses.append(f"{a}.requested_at < :f_to")
            params["f_to"] = end
        if self.ward:
            clauses.append(f"{a}.ward_key = :f_ward")
            params["f_ward"] = self.ward
        if self.district:
            clauses.append(f"{a}.district_key = :f_district")
            params["f_district"] = self.district
        if self.overdue:
            clauses.append(f"{a}.is_open AND {a}.due_at < :f_now")
            params["f_now"] = now or datetime.now(UTC)
        return " AND ".join(clauses), params

    def time_range(self, city: CityConfig) -> tuple[datetime | None, datetime | None]:
        """The date range as instants: [local midnight of date_from, local midnight after date_to)."""
        tz = city.tz
        start = datetime.combine(self.date_from, time(), tz) if self.date_from else None
        end = datetime.combine(self.date_to + timedelta(days=1), time(), tz) if self.date_to else None
        return start, end

    def args(self) -> dict[str, list[str]]:
        """The filter as query-string arguments (the inverse of :func:`parse_filter`)."""
        out: dict[str, list[str]] = {}
        if self.services:
            out["service"] = list(self.services)
        if self.group:
            out["group"] = [self.group]
        if self.department:
            out["department"] = [self.department]
        if self.status != "all":
            out["status"] = [self.status]
        if self.channels:
            out["channel"] = list(self.channels)
        if self.families:
            out["family"] = list(self.families)
        if self.date_from:
            out["from"] = [self.date_from.isoformat()]
        if self.date_to:
            out["to"] = [self.date_to.isoformat()]
        if self.ward:
            out["ward"] = [self.ward]
        if self.district:
            out["district"] = [self.district]
        if self.overdue:
            out["overdue"] = ["1"]
        if self.scope != "mapped":
            out["scope"] = [self.scope]
        return out

    def describe(self, choices: FilterChoices | None = None) -> str:
        """The filter in words, e.g. "Graffiti Removal; open; 2024-01-01 to 2024-03-31"."""
        parts = []
        if self.services:
            names = [choices.services.get(s, s) if choices else s for s in self.services]
            parts.append(", ".join(names))
        if self.group:
            parts.append(f"group {self.group}")
        if self.department:
            parts.append(
                f"department {choices.departments.get(self.department, self.department) if choices else self.department}"
            )
        if self.status != "all":
            parts.append(self.status)
        if self.overdue:
            parts.append("overdue")
        if self.channels:
            parts.append("by " + ", ".join(choices.channels.get(c, c) if choices else c for c in self.channels))
        if self.families:
            parts.append("by " + ", ".join(FAMILIES[f].lower() for f in self.families))
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or 'the start'} to {self.date_to or 'today'}")
        if self.ward:
            parts.append(choices.wards.get(self.ward, self.ward) if choices else f"ward {self.ward}")
        if self.district:
            parts.append(
                choices.districts.get(self.district, self.district) if choices else f"district {self.district}"
            )
        return "; ".join(parts) or "all requests"


@dataclass(frozen=True)
class FilterChoices:
    """The values a filter may take in one city: codes to names (for forms and checks)."""

    services: dict[str, str] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    wards: dict[str, str] = field(default_factory=dict)
    districts: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)


def filter_choices(session: Session, city: CityConfig) -> FilterChoices:
    """The services, departments, wards and districts of ``city`` as stored, and its channels."""
    services: dict[str, str] = dict(
        session.execute(
            text("SELECT code, name FROM service WHERE city = :city ORDER BY name"), {"city": city.key}
        ).all()
    )
    departments: dict[str, str] = dict(
        session.execute(
            text("SELECT code, name FROM department WHERE city = :city ORDER BY name"), {"city": city.key}
        ).all()
    )
    areas: dict[str, dict[str, str]] = {"wards": {}, "districts": {}}
    for role, key, name in session.execute(
        text(
            """
            SELECT v.role, f.key, f.name FROM boundary_feature f
            JOIN boundary_layer_version v ON v.id = f.version_id
            WHERE v.city = :city AND v.is_current AND v.role IN ('wards', 'districts')
            ORDER BY v.role, f.name
            """
        ),
        {"city": city.key},
    ):
        areas[role][key] = name
    groups = {
        g: g
        for (g,) in session.execute(
            text("SELECT DISTINCT group_name FROM service WHERE city = :city AND group_name <> '' ORDER BY 1"),
            {"city": city.key},
        )
    }
    return FilterChoices(services, departments, areas["wards"], areas["districts"], groups, city.channels.names())


def parse_day(name: str, value: str) -> date:
    """A date written YYYY-MM-DD between :data:`EARLIEST_DATE` and :data:`LATEST_DATE`; raises :class:`FilterError`."""
    value = value.strip()
    try:
        if not _ISO_DATE.fullmatch(value):  # ASCII digits only: fromisoformat also takes "20240301" and others
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name} must be a date written YYYY-MM-DD, not {value[:40]!r}.") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise FilterError(f"{name} must be a date from {EARLIEST_DATE} to {LATEST_DATE}, not {value}.")
    return day


def parse_month(name: str, value: str) -> date:
    """The first day of a month written YYYY-MM, within the dates :func:`parse_day` takes; raises :class:`FilterError`."""
    value = value.strip()
    found = _ISO_MONTH.fullmatch(value)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise FilterError(f"{name} must be a month written YYYY-MM (for example 2024-03), not {value[:40]!r}.")
    month = date(int(found.group(1)), int(found.group(2)), 1)
    if not EARLIEST_DATE <= month <= LATEST_DATE:
        raise FilterError(f"{name} must be a month from {EARLIEST_DATE:%Y-%m} to {LATEST_DATE:%Y-%m}, not {value}.")
    return month


def parse_page(value: str | None, name: str = "page") -> int:
    """A page number from 1 to :data:`MAX_PAGE` (none given: 1); raises :class:`FilterError`."""
    value = (value or "").strip()
    if not value:
        return 1
    if not _WHOLE.fullmatch(value) or not 1 <= int(value) <= MAX_PAGE:
        raise FilterError(f"{name} must be 1 or more (a whole number, at most {MAX_PAGE:,}), not {value[:40]!r}.")
    return int(value)


def parse_filter(args: Mapping[str, Sequence[str]], choices: FilterChoices | None = None) -> RequestFilter:
    """A filter from query-string arguments (each name to its list of values).

    Names: ``service`` (repeatable), ``department``, ``status`` (open, closed, cancelled, all),
    ``channel`` (repeatable), ``family`` (a channel family, repeatable), ``from`` and ``to`` (YYYY-MM-DD, see
    :func:`parse_day`), ``ward``, ``district``,
    ``overdue`` (1), ``scope`` (mapped, left_out, all, city), ``group``. Empty values are ignored. With
    ``choices``, codes are checked against them. Raises :class:`FilterError`.
    """

    def values(name: str) -> list[str]:
        raw = args.get(name) or []
        if isinstance(raw, str):
            raw = [raw]
        return [v.strip() for v in raw if v and v.strip()]

    def one(name: str) -> str | None:
        found = values(name)
        if len(found) > 1:
            raise FilterError(f"Give one {name}, not {len(found)}.")
        return found[0] if found else None

    def day(name: str) -> date | None:
        value = one(name)
        return None if value is None else parse_day(name, value)

    flt = RequestFilter(
        services=tuple(values("service")),
        department=one("department"),
        status=one("status") or "all",
        channels=tuple(values("channel")),
        families=tuple(values("family")),
        date_from=day("from"),
        date_to=day("to"),
        ward=one("ward"),
        district=one("district"),
        overdue=(one("overdue") or "0") in ("1", "true", "yes", "on"),
        scope=one("scope") or "mapped",
        group=one("group"),
    )
    if choices is not None:
        check_filter(flt, choices)
    return flt


def check_filter(flt: RequestFilter, choices: FilterChoices) -> None:
    """Refuse codes the city does not have, naming a few that it does."""

    def refuse(what: str, value: str, known: Mapping[str, str]) -> FilterError:
        sample = ", ".join(list(known)[:8]) + (", ..." if len(known) > 8 else "")
        return FilterError(f"There is no {what} {value!r}; known {what}s: {sample or 'none'}.")

    for code in flt.services:
        if code not in choices.services:
            raise refuse("service", code, choices.services)
    if flt.group and flt.group not in choices.groups:
        raise refuse("service group", flt.group, choices.groups)
    if flt.department and flt.department not in choices.departments:
        raise refuse("department", flt.department, choices.departments)
    if flt.ward and flt.ward not in choices.wards:
        raise refuse("ward", flt.ward, choices.wards)
    if flt.district and flt.district not in choices.districts:
        raise refuse("district", flt.district, choices.districts)
    for code in flt.channels:
        if code not in choices.channels:
            raise refuse("channel", code, choices.channels)


@dataclass(frozen=True)
class LeftOut:
    """Requests of a filter that no map shows, by reason."""

    placeholder: int
    outside: int
    no_location: int

    @property
    def total(self) -> int:
        return self.placeholder + self.outside + self.no_location

    def sentence(self) -> str:
        """E.g. "Left out: 12 on a placeholder point, 3 outside the city, 40 without a location"."""
        if not self.total:
            return "No request of this selection was left out."
        parts = [
            f"{n:,} {why}"
            for n, why in (
                (self.placeholder, "on a placeholder point (location unknown)"),
                (self.outside, "outside the city"),
                (self.no_location, "without a location"),
            )
            if n
        ]
        return "Left out: " + ", ".join(parts) + "."


def coverage(session: Session, city: CityConfig, flt: RequestFilter) -> tuple[int, LeftOut]:
    """How many requests of ``flt`` (whatever its scope) a map shows, and how many it leaves out, why.

    One pass over the requests.
    """
    where, params = flt.replace(scope="all").sql(city)
    row = session.execute(
        text(
            f"""
        SELECT count(*) FILTER (WHERE {MAPPED.format(a="r")}) AS mapped,
               count(*) FILTER (WHERE r.geom IS NOT NULL AND r.location_quality = 'placeholder') AS placeholder,
               count(*) FILTER (WHERE r.geom IS NOT NULL AND r.location_quality <> 'placeholder'
                                AND r.in_jurisdiction IS NOT TRUE) AS outside,
               count(*) FILTER (WHERE r.geom IS NULL) AS no_location
        FROM service_request r WHERE {where}
        """
        ),
        params,
    ).one()
    return int(row.mapped), LeftOut(int(row.placeholder), int(row.outside), int(row.no_location))


def left_out(session: Session, city: CityConfig, flt: RequestFilter) -> LeftOut:
    """How many requests of ``flt`` (whatever its scope) are left off maps, and why."""
    return coverage(session, city, flt)[1]
