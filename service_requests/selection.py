"""Which requests a map, a figure or a list is about: one filter, one SQL rendering.

A :class:`RequestFilter` names services, a department, open or closed, channels, a date
range (local dates of the city, both ends included), a ward or district, and "overdue
only". :meth:`RequestFilter.sql` turns it into a WHERE fragment with bound parameters
(values are never formatted into SQL). :func:`parse_filter` reads one from query-string
arguments and refuses bad values with a sentence a person can act on.

Each field of :class:`RequestFilter` is defined once, by the :class:`FilterField` in its
metadata: its query-string name, how it parses, its check against :class:`FilterChoices`,
its SQL, its words, the analysts' help text and its widget in the filter form. Parsing,
:meth:`~RequestFilter.args`, :meth:`~RequestFilter.describe`, :func:`check_filter`,
:meth:`~RequestFilter.sql`, the analysts' keywords (:mod:`geo.api`) and the form
(``_filters.html``) all read :func:`filter_fields`; a new filter is one more field.

What a map can show is narrower than what exists: a request on a placeholder point (an
unknown location put on a default point), outside the city, or without a point is left
out of maps, hot spots and area figures. :data:`MAPPED` is that rule, and
:func:`left_out` counts what it leaves out, so that every map can say so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.rules import current_layers
from core.channels import CODE as CHANNEL_CODE
from core.channels import FAMILIES
from core.city import CityConfig
from core.errors import UserError
from core.i18n import N_, Sentence
from core.states import STATE_LABELS
from service_requests import rules

#: The statuses a filter may name, with their labels in the filter form.
STATUS_LABELS = {"all": "All", "open": "Open", "closed": "Closed (not cancelled)", "cancelled": "Cancelled"}
STATUSES = tuple(STATUS_LABELS)
SCOPES = ("mapped", "left_out", "all", "city")
#: The requests a map can show: a real point inside the city.
MAPPED = rules.mapped("{a}")
#: The requests city figures count (scope ``city``): all but those known to be outside the city.
IN_CITY = rules.in_city("{a}")
#: Closed as the reports count it: closed in any way but cancelled.
CLOSED = rules.closed("{a}")
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
#: The query-string values that mean "yes" for a flag.
YES = ("1", "true", "yes", "on")


class FilterError(UserError):
    """A filter value that is not allowed; the message says which and what is."""


# --- how a field is defined -----------------------------------------------------------------------

#: How a field's query-string value parses: ``codes`` (repeatable, a tuple), ``code`` (one text),
#: ``choice`` (one of :attr:`FilterField.options`), ``date`` (YYYY-MM-DD) or ``flag`` (1/true/yes/on).
Kind = Literal["codes", "code", "choice", "date", "flag"]
#: A field's WHERE clause for a value that is set: (value, table alias, city, now) -> (clause, parameters).
Clause = Callable[[Any, str, CityConfig, datetime], tuple[str, dict[str, Any]]]
#: A field's words in :meth:`RequestFilter.describe`: (the field, the filter, choices or None) -> words, or None.
Words = Callable[["FilterField", "RequestFilter", "FilterChoices | None"], str | None]


@dataclass(frozen=True)
class Widget:
    """How the filter form (``_filters.html``) shows a field.

    ``kind``: ``select`` (one value, ``blank`` the option for none), ``multiple`` (``size`` rows),
    ``choice`` (a select of the field's options) or ``date``. ``position`` orders the form;
    ``shown_by`` names the macro parameter that shows the widget (``areas`` or ``status``), if any.
    """

    kind: Literal["select", "multiple", "choice", "date"]
    label: str
    position: float
    blank: str = ""
    size: int = 0
    shown_by: Literal["areas", "status"] | None = None


@dataclass(frozen=True)
class FilterField:
    """Everything about one field of :class:`RequestFilter` (held in its dataclass metadata).

    ``name`` (the attribute, also the analysts' keyword) and ``default`` (the value meaning "no
    condition") come from the dataclass field; the rest is given where the field is declared.
    ``problem`` says what is wrong with one value (of a ``codes`` field: one of its codes), or None.
    ``choices`` names the :class:`FilterChoices` attribute the values must be in (``what`` is the
    noun of the refusal). ``clause`` is None for a field whose SQL :meth:`RequestFilter.sql` writes
    itself (``scope``). ``said_after`` moves the field's words after another field's in
    :meth:`RequestFilter.describe` (default: in the order of the fields).
    """

    arg: str
    kind: Kind
    help: str
    clause: Clause | None = None
    words: Words | None = None
    problem: Callable[[Any], str | None] | None = None
    choices: str | None = None
    what: str = ""
    options: Mapping[str, str] = field(default_factory=dict)
    form: Widget | None = None
    said_after: str | None = None
    name: str = ""
    default: Any = None

    def is_set(self, value: Any) -> bool:
        """Whether ``value`` is a condition (not the field's "no condition")."""
        return value != self.default

    def values(self, value: Any) -> tuple[Any, ...]:
        """The field's value as a tuple of single values (none if not set)."""
        if not self.is_set(value):
            return ()
        return tuple(value) if self.kind == "codes" else (value,)

    def to_args(self, value: Any) -> list[str]:
        """The query-string values of ``value`` (none if not set)."""
        if not self.is_set(value):
            return []
        if self.kind == "flag":
            return ["1"]
        if self.kind == "date":
            return [value.isoformat()]
        return [str(v) for v in self.values(value)]

    def parse(self, values: list[str]) -> Any:
        """The field's value from its query-string values (stripped, none empty); raises :class:`FilterError`."""
        if self.kind == "codes":
            return tuple(values)
        if len(values) > 1:
            raise FilterError(Sentence(N_("Give one %(name)s, not %(count)s."), name=self.arg, count=len(values)))
        value = values[0] if values else None
        if value is None:
            return self.default
        if self.kind == "date":
            return parse_day(self.arg, value)
        if self.kind == "flag":
            return value in YES
        return value


_META = "filter"


def _define(default: Any, arg: str, kind: Kind, help: str, **rest: Any) -> Any:
    """A dataclass field of :class:`RequestFilter` with its :class:`FilterField` (named when read)."""
    if kind == "choice" and "problem" not in rest:
        options = tuple(rest["options"])
        rest["problem"] = lambda v: None if v in options else one_of(arg, options, v)
    return field(default=default, metadata={_META: FilterField(arg, kind, help, **rest)})


def one_of(name: str, options: Sequence[str], value: Any) -> Sentence:
    """Why ``value`` is not a value of the argument ``name``: it must be one of ``options``."""
    return Sentence(
        N_("%(name)s must be one of %(options)s, not %(value)s."),
        name=name,
        options=", ".join(options),
        value=repr(value),
    )


def _code_problem(value: Any) -> str | None:
    if isinstance(value, str) and _CODE.fullmatch(value):
        return None
    return Sentence(
        N_("%(value)s is not a code: 1 to 64 characters without control characters."), value=repr(str(value)[:70])
    )


def _channel_problem(value: Any) -> str | None:
    if isinstance(value, str) and CHANNEL_CODE.fullmatch(value):
        return None
    return f"There is no channel {str(value)[:40]!r}: a channel code is lower-case letters, digits and _."


def _family_problem(value: Any) -> str | None:
    if value in FAMILIES:
        return None
    return f"There is no channel family {str(value)[:40]!r}; the families are {', '.join(FAMILIES)}."


def _group_problem(value: Any) -> str | None:
    if isinstance(value, str) and _GROUP.fullmatch(value):
        return None
    return "A service group is a name of 1 to 100 characters without control characters."


def _day_problem(value: Any) -> str | None:
    if isinstance(value, date) and EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return f"Dates run from {EARLIEST_DATE} to {LATEST_DATE}, not {value}."


def _equals(column: str, param: str) -> Clause:
    return lambda v, a, city, now: (f"{a}.{column} = :{param}", {param: v})


def _any_of(column: str, param: str) -> Clause:
    return lambda v, a, city, now: (f"{a}.{column} = ANY(:{param})", {param: list(v)})


def _status_clause(value: str, a: str, city: CityConfig, now: datetime) -> tuple[str, dict[str, Any]]:
    return {"open": f"{a}.is_open", "closed": CLOSED.format(a=a), "cancelled": f"{a}.status = 'cancelled'"}[value], {}


def _channels_clause(value: tuple[str, ...], a: str, city: CityConfig, now: datetime) -> tuple[str, dict[str, Any]]:
    for code in value:
        problem = city.channels.problem(code)
        if problem:
            raise FilterError(problem)
    return f"{a}.channel = ANY(:f_channels)", {"f_channels": list(value)}


def _named(known: str = "{}", unknown: str = "{}", prefix: str = "") -> Words:
    """Words naming the field's codes by its ``choices`` (each as ``known``), or without choices as ``unknown``."""

    def words(spec: FilterField, flt: RequestFilter, choices: FilterChoices | None) -> str | None:
        codes = spec.values(getattr(flt, spec.name))
        if not codes:
            return None
        if choices is None or spec.choices is None:
            return prefix + ", ".join(unknown.format(c) for c in codes)
        names: Mapping[str, str] = getattr(choices, spec.choices)
        return prefix + ", ".join(known.format(names.get(c, c)) for c in codes)

    return words


def _value_words(template: str) -> Words:
    """Words for a set value: ``template`` with the value."""
    return lambda spec, flt, choices: template.format(value) if spec.is_set(value := getattr(flt, spec.name)) else None


def _date_range_words(spec: FilterField, flt: RequestFilter, choices: FilterChoices | None) -> str | None:
    if flt.date_from or flt.date_to:
        return f"{flt.date_from or 'the start'} to {flt.date_to or 'today'}"
    return None


@dataclass(frozen=True, kw_only=True)
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

    The fields are declared in the order of the query string (:meth:`args`), which is also the
    order of the SQL clauses and of :meth:`describe` (but ``overdue``, said after the status).
    """

    services: tuple[str, ...] = _define(
        (),
        "service",
        "codes",
        "service code or codes, e.g. 'graffiti' or ['graffiti', 'bulky-items']",
        clause=_any_of("service_code", "f_services"),
        words=_named(),
        problem=_code_problem,
        choices="services",
        what=N_("service"),
        form=Widget("multiple", "Services", 3, size=5),
    )
    group: str | None = _define(
        None,
        "group",
        "code",
        "service group (its services, as the catalogue holds them now)",
        clause=lambda v, a, city, now: (
            f"{a}.service_code IN (SELECT g.code FROM service g WHERE g.city = :f_city AND g.group_name = :f_group)",
            {"f_group": v},
        ),
        words=_value_words("group {}"),
        problem=_group_problem,
        choices="groups",
        what=N_("service group"),
        form=Widget("select", "Service group", 2, blank="All groups"),
    )
    department: str | None = _define(
        None,
        "department",
        "code",
        "department code",
        clause=_equals("department_code", "f_department"),
        words=_named(known="department {}", unknown="department {}"),
        problem=_code_problem,
        choices="departments",
        what=N_("department"),
        form=Widget("select", "Department", 1, blank="All departments"),
    )
    status: str = _define(
        "all",
        "status",
        "choice",
        "'all' (default), 'open', 'closed' (closed and not cancelled) or 'cancelled'",
        clause=_status_clause,
        words=_value_words("{}"),
        options=STATUS_LABELS,
        form=Widget("choice", "Status", 4, shown_by="status"),
    )
    states: tuple[str, ...] = _define(
        (),
        "state",
        "codes",
        "the request's current state or states, e.g. 'in_progress' or ['submitted', 'acknowledged']",
        clause=_any_of("status", "f_states"),
        words=lambda spec, flt, choices: ", ".join(STATE_LABELS[s].lower() for s in flt.states) or None,
        problem=lambda value: (
            None
            if value in STATE_LABELS
            else f"There is no state {str(value)[:40]!r}; the states are {', '.join(STATE_LABELS)}."
        ),
        said_after="status",
    )
    channels: tuple[str, ...] = _define(
        (),
        "channel",
        "codes",
        "the city's channel code or codes the request came by",
        clause=_channels_clause,
        words=_named(prefix="by "),
        problem=_channel_problem,
        choices="channels",
        what=N_("channel"),
        form=Widget("multiple", "Channels", 7, size=4),
    )
    families: tuple[str, ...] = _define(
        (),
        "family",
        "codes",
        "channel family or families (phone, web, mobile_app, email, social, staff, integration, ...)",
        clause=lambda v, a, city, now: (
            f"{a}.channel = ANY(:f_family_channels)",
            {"f_family_channels": list(city.channels.codes_of(v))},
        ),
        words=lambda spec, flt, choices: (
            "by " + ", ".join(FAMILIES[f].lower() for f in flt.families) if flt.families else None
        ),
        problem=_family_problem,
    )
    date_from: date | None = _define(
        None,
        "from",
        "date",
        "first local date (date or 'YYYY-MM-DD'), included",
        clause=lambda v, a, city, now: (
            f"{a}.requested_at >= :f_from",
            {"f_from": datetime.combine(v, time(), city.tz)},
        ),
        words=_date_range_words,
        problem=_day_problem,
        form=Widget("date", "From", 8),
    )
    date_to: date | None = _define(
        None,
        "to",
        "date",
        "last local date (date or 'YYYY-MM-DD'), included",
        clause=lambda v, a, city, now: (
            f"{a}.requested_at < :f_to",
            {"f_to": datetime.combine(v + timedelta(days=1), time(), city.tz)},
        ),
        problem=_day_problem,
        form=Widget("date", "To", 9),
    )
    ward: str | None = _define(
        None,
        "ward",
        "code",
        "ward key",
        clause=_equals("ward_key", "f_ward"),
        words=_named(unknown="ward {}"),
        problem=_code_problem,
        choices="wards",
        what=N_("ward"),
        form=Widget("select", "Ward", 5, blank="All wards", shown_by="areas"),
    )
    district: str | None = _define(
        None,
        "district",
        "code",
        "district key",
        clause=_equals("district_key", "f_district"),
        words=_named(unknown="district {}"),
        problem=_code_problem,
        choices="districts",
        what=N_("district"),
        form=Widget("select", "District", 6, blank="All districts", shown_by="areas"),
    )
    overdue: bool = _define(
        False,
        "overdue",
        "flag",
        "True: open requests past their due date only",
        clause=lambda v, a, city, now: (f"{a}.is_open AND {a}.due_at < :f_now", {"f_now": now}),
        words=_value_words("overdue"),
        said_after="status",
    )
    scope: str = _define(
        "mapped",
        "scope",
        "choice",
        "'mapped' (default: what maps show), 'left_out', 'all' (area figures only) or "
        "'city' (all but those known to be outside the city, as reports count)",
        options={s: s for s in SCOPES},
    )

    def __post_init__(self) -> None:
        for spec in filter_fields(type(self)):
            if spec.problem is not None:
                for value in spec.values(getattr(self, spec.name)):
                    problem = spec.problem(value)
                    if problem:
                        raise FilterError(problem)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise FilterError(f"The date range ends ({self.date_to}) before it starts ({self.date_from}).")
        for spec in filter_fields(type(self)):
            if spec.kind == "codes":
                object.__setattr__(self, spec.name, tuple(sorted(set(getattr(self, spec.name)))))

    @classmethod
    def form_fields(cls) -> tuple[FilterField, ...]:
        """The fields the filter form shows, in the form's order."""
        shown = [f for f in filter_fields(cls) if f.form is not None]
        return tuple(sorted(shown, key=lambda f: f.form.position if f.form else 0))

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
        now = now or datetime.now(UTC)
        for spec in filter_fields(type(self)):
            value = getattr(self, spec.name)
            if spec.clause is not None and spec.is_set(value):
                clause, values = spec.clause(value, a, city, now)
                clauses.append(clause)
                params.update(values)
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
        for spec in filter_fields(type(self)):
            values = spec.to_args(getattr(self, spec.name))
            if values:
                out[spec.arg] = values
        return out

    def describe(self, choices: FilterChoices | None = None) -> str:
        """The filter in words, e.g. "Graffiti Removal; open; 2024-01-01 to 2024-03-31"."""
        parts = []
        for spec in _words_order(type(self)):
            words = spec.words(spec, self, choices) if spec.words else None
            if words:
                parts.append(words)
        return "; ".join(parts) or "all requests"


#: The fields of each filter class, read once (the metadata does not change).
_FIELDS: dict[type[RequestFilter], tuple[FilterField, ...]] = {}
_WORDS_ORDER: dict[type[RequestFilter], tuple[FilterField, ...]] = {}


def filter_fields(filter_type: type[RequestFilter] = RequestFilter) -> tuple[FilterField, ...]:
    """The :class:`FilterField` of each field of ``filter_type``, named, in declaration order."""
    found = _FIELDS.get(filter_type)
    if found is None:
        found = _FIELDS[filter_type] = tuple(
            replace(f.metadata[_META], name=f.name, default=f.default)
            for f in fields(filter_type)
            if _META in f.metadata
        )
    return found


def _words_order(filter_type: type[RequestFilter]) -> tuple[FilterField, ...]:
    """The fields in the order :meth:`RequestFilter.describe` says them (``said_after`` applied)."""
    found = _WORDS_ORDER.get(filter_type)
    if found is None:
        ordered = [f for f in filter_fields(filter_type) if f.said_after is None]
        for spec in filter_fields(filter_type):
            if spec.said_after is not None:
                after = next(i for i, f in enumerate(ordered) if f.name == spec.said_after)
                ordered.insert(after + 1, spec)
        found = _WORDS_ORDER[filter_type] = tuple(ordered)
    return found


@dataclass(frozen=True)
class FilterChoices:
    """The values a filter may take in one city: codes to names (for forms and checks)."""

    services: dict[str, str] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)
    wards: dict[str, str] = field(default_factory=dict)
    districts: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)

    def area_key(self, layer: str, typed: str) -> str | None:
        """The key of ``layer``'s (``wards``, ``districts``) area typed as ``typed``, or None.

        A key as stored always matches; a number also matches the one key of the same
        number, so ``4`` finds ward ``04`` (and ``04`` finds ``4``).
        """
        areas: dict[str, str] = getattr(self, layer)
        if typed in areas:
            return typed
        typed = typed.strip()
        if not (typed.isascii() and typed.isdigit()) or len(typed) > 12:
            return None
        same = [key for key in areas if key.isascii() and key.isdigit() and int(key) == int(typed)]
        return same[0] if len(same) == 1 else None


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """``text`` as a sort key with its numbers compared as numbers: "2" before "10", "Ward 9" before "Ward 10"."""
    return tuple(
        (0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part.casefold())
        for part in re.split(r"(\d+)", text)
        if part
    )


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
            f"""
            SELECT v.role, f.key, f.name FROM boundary_feature f
            JOIN boundary_layer_version v ON v.id = f.version_id
            WHERE {current_layers("v", ("wards", "districts"))}
            ORDER BY v.role, f.name
            """
        ),
        {"city": city.key},
    ):
        areas[role][key] = name
    for role, named in areas.items():  # numbers as numbers: ward 2 before ward 10
        areas[role] = dict(sorted(named.items(), key=lambda item: (natural_key(item[1]), natural_key(item[0]))))
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
        raise FilterError(
            Sentence(
                N_("%(name)s must be a date written YYYY-MM-DD, not %(value)s."), name=name, value=repr(value[:40])
            )
        ) from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise FilterError(
            Sentence(
                N_("%(name)s must be a date from %(first)s to %(last)s, not %(value)s."),
                name=name,
                first=EARLIEST_DATE.isoformat(),
                last=LATEST_DATE.isoformat(),
                value=value,
            )
        )
    return day


def parse_month(name: str, value: str) -> date:
    """The first day of a month written YYYY-MM, within the dates :func:`parse_day` takes; raises :class:`FilterError`."""
    value = value.strip()
    found = _ISO_MONTH.fullmatch(value)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise FilterError(
            Sentence(
                N_("%(name)s must be a month written YYYY-MM (for example 2024-03), not %(value)s."),
                name=name,
                value=repr(value[:40]),
            )
        )
    month = date(int(found.group(1)), int(found.group(2)), 1)
    if not EARLIEST_DATE <= month <= LATEST_DATE:
        raise FilterError(
            Sentence(
                N_("%(name)s must be a month from %(first)s to %(last)s, not %(value)s."),
                name=name,
                first=f"{EARLIEST_DATE:%Y-%m}",
                last=f"{LATEST_DATE:%Y-%m}",
                value=value,
            )
        )
    return month


def parse_page(value: str | None, name: str = "page") -> int:
    """A page number from 1 to :data:`MAX_PAGE` (none given: 1); raises :class:`FilterError`."""
    value = (value or "").strip()
    if not value:
        return 1
    if not _WHOLE.fullmatch(value) or not 1 <= int(value) <= MAX_PAGE:
        raise FilterError(
            Sentence(
                N_("%(name)s must be 1 or more (a whole number, at most %(most)s), not %(value)s."),
                name=name,
                most=f"{MAX_PAGE:,}",
                value=repr(value[:40]),
            )
        )
    return int(value)


def parse_filter(
    args: Mapping[str, Sequence[str]],
    choices: FilterChoices | None = None,
    filter_type: type[RequestFilter] = RequestFilter,
) -> RequestFilter:
    """A filter from query-string arguments (each name to its list of values).

    Names are the fields' ``arg`` (:func:`filter_fields`): ``service`` (repeatable), ``group``,
    ``department``, ``status`` (all, open, closed, cancelled), ``channel`` (repeatable), ``family``
    (a channel family, repeatable), ``from`` and ``to`` (YYYY-MM-DD, see :func:`parse_day`), ``ward``,
    ``district``, ``overdue`` (1), ``scope`` (mapped, left_out, all, city); other names are not read.
    Empty values are ignored. With ``choices``, codes are checked against them. Raises :class:`FilterError`.
    """

    def values(name: str) -> list[str]:
        raw = args.get(name) or []
        if isinstance(raw, str):
            raw = [raw]
        return [v.strip() for v in raw if v and v.strip()]

    flt = filter_type(**{spec.name: spec.parse(values(spec.arg)) for spec in filter_fields(filter_type)})
    return check_filter(flt, choices) if choices is not None else flt


#: What a field's codes are called, in the plural ("known services: ..."; a field of its own, its "what" and an s).
_KNOWN = {
    "service": N_("services"),
    "service group": N_("service groups"),
    "department": N_("departments"),
    "channel": N_("channels"),
    "ward": N_("wards"),
    "district": N_("districts"),
}


def check_filter(flt: RequestFilter, choices: FilterChoices) -> RequestFilter:
    """``flt`` with its codes checked against ``choices``: refuse those the city does not have.

    A ward or district typed as its number is the area of that number as stored (``4`` is
    ward ``04``, as :meth:`FilterChoices.area_key` reads it): the filter returned holds that key.
    """
    resolved: dict[str, str] = {}
    for spec in filter_fields(type(flt)):
        if spec.choices is None:
            continue
        known: Mapping[str, str] = getattr(choices, spec.choices)
        for value in spec.values(getattr(flt, spec.name)):
            if value in known:
                continue
            if spec.choices in ("wards", "districts") and isinstance(getattr(flt, spec.name), str):
                stored = choices.area_key(spec.choices, value)
                if stored is not None:
                    resolved[spec.name] = stored
                    continue
            sample = ", ".join(list(known)[:8]) + (", ..." if len(known) > 8 else "")
            raise FilterError(
                Sentence(
                    N_("There is no %(what)s %(value)s; known %(whats)s: %(known)s."),
                    what=Sentence(spec.what),
                    whats=Sentence(_KNOWN.get(spec.what, f"{spec.what}s")),
                    value=repr(value),
                    known=sample or Sentence(N_("none")),
                )
            )
    return flt.replace(**resolved) if resolved else flt


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
