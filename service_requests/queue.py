"""The work queue: a department's open requests, sorted, filtered and a page at a time.

One query for the staff queue page and its CSV. A :class:`QueueView` is what the user
chose: a :class:`~service_requests.selection.RequestFilter` (services, state, ward,
district, overdue; the page narrows it to the user's scope), an assignee ("mine" is the
user's own assignee value, given by the caller), a sort column with its direction, and a
page. Sorting is server side on a whitelisted column (:data:`SORTS`), ties broken by id so
that pages never repeat or skip a row. Paging is by offset; the count is bounded
(:data:`COUNT_LIMIT`) so that a page of a huge selection stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.city import CityConfig
from core.states import STATE_LABELS
from service_requests.references import show_short_reference
from service_requests.selection import (
    YES,
    FilterChoices,
    FilterError,
    RequestFilter,
    parse_filter,
    parse_page,
)

#: The columns a queue sorts by: query-string name -> (SQL expression, words). NULLs sort last.
SORTS: dict[str, tuple[str, str]] = {
    "reference": ("r.short_ref", "Reference"),  # the one the page shows
    "service": ("r.service_name", "Service"),
    "place": ("r.address", "Place"),
    "ward": ("r.ward_key", "Ward"),
    "district": ("r.district_key", "District"),
    "age": ("r.requested_at", "Age"),
    "due": ("r.due_at", "Due"),
    "status": ("r.status", "Status"),
    "assignee": ("r.assignee", "Assignee"),
    "priority": ("r.priority", "Priority"),
}
#: The sort of a queue that names none: the soonest due first (the most late at the top).
DEFAULT_SORT = "due"
#: Rows on one page of the queue.
PAGE_SIZE = 50
#: The queue counts at most this many rows ("10,000 or more"): a bounded count keeps each page fast.
COUNT_LIMIT = 10_000
#: The most rows one CSV of the queue holds.
CSV_LIMIT = 100_000


@dataclass(frozen=True)
class QueueView:
    """What a queue shows: ``flt`` (open requests only), ``assignee`` (a stored assignee value
    or None), ``sort`` (a key of :data:`SORTS`), ``descending``, ``page`` (from 1) and ``mine``
    (whether the assignee is the user's own, for the page's words and links)."""

    flt: RequestFilter
    assignee: str | None = None
    mine: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = False
    page: int = 1

    def args(self, **changes: Any) -> dict[str, list[str]]:
        """The view as query-string arguments (the inverse of :func:`parse_view`), with ``changes``."""
        view = replace(self, **changes) if changes else self
        out = view.flt.args()
        out.pop("status", None)
        out.pop("scope", None)
        if view.mine:
            out["mine"] = ["1"]
        elif view.assignee:
            out["assignee"] = [view.assignee]
        if view.sort != DEFAULT_SORT:
            out["sort"] = [view.sort]
        if view.descending:
            out["dir"] = ["desc"]
        if view.page > 1:
            out["page"] = [str(view.page)]
        return out


def parse_view(
    args: Mapping[str, Sequence[str]], choices: FilterChoices | None = None, my_assignee: str | None = None
) -> QueueView:
    """A :class:`QueueView` from query-string arguments; raises :class:`FilterError` with a sentence.

    Reads the filter's arguments (``service``, ``state``, ``ward``, ``district``, ``overdue``; the
    status is always "open"), ``assignee``, ``mine`` (1: assigned to ``my_assignee``), ``sort``
    (:data:`SORTS`), ``dir`` (``asc`` or ``desc``) and ``page``.
    """

    def one(name: str) -> str:
        raw = args.get(name) or []
        values = [raw] if isinstance(raw, str) else list(raw)
        return (values[0] if values else "").strip()

    flt = parse_filter(args, choices).replace(status="open", scope="all")
    sort = one("sort") or DEFAULT_SORT
    if sort not in SORTS:
        raise FilterError(f"sort must be one of {', '.join(SORTS)}, not {sort[:40]!r}.")
    direction = one("dir") or "asc"
    if direction not in ("asc", "desc"):
        raise FilterError(f"dir must be asc or desc, not {direction[:40]!r}.")
    mine = one("mine") in YES
    assignee = my_assignee if mine else (one("assignee")[:200] or None)
    if mine and not my_assignee:
        raise FilterError("Only a staff account can ask for the requests assigned to it.")
    return QueueView(flt, assignee, mine, sort, direction == "desc", parse_page(one("page")))


@dataclass(frozen=True)
class QueueRow:
    """One request of the queue, with the words the page and the CSV show."""

    id: int
    reference: str
    #: The short reference as people read it (``K7M3Q-X9TBA``), or "" for a request without one.
    short_reference: str
    service: str
    place: str
    ward: str
    district: str
    requested_at: datetime
    due_at: datetime | None
    status: str
    status_label: str
    assignee: str | None
    priority: str | None
    lon: float | None
    lat: float | None
    now: datetime

    @property
    def age(self) -> timedelta:
        """How long the request has been open."""
        return self.now - self.requested_at

    @property
    def late(self) -> bool:
        """Whether it is past its due time."""
        return self.due_at is not None and self.due_at < self.now

    @property
    def time_left(self) -> str:
        """E.g. "3 days left", "5 hours left", "2 days late", or "" with no due time."""
        if self.due_at is None:
            return ""
        delta = self.due_at - self.now
        words = duration_words(abs(delta))
        return f"{words} late" if delta.total_seconds() < 0 else f"{words} left"


def duration_words(delta: timedelta) -> str:
    """A duration in whole days, or hours under two days, or minutes under an hour."""
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 3600:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(seconds // 60, 0)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue: its rows, the (bounded) count of the whole selection, and the page number."""

    rows: list[QueueRow]
    count: int
    page: int
    page_size: int

    @property
    def count_is_bounded(self) -> bool:
        """Whether the count stopped at :data:`COUNT_LIMIT` (there may be more)."""
        return self.count >= COUNT_LIMIT

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.count

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _where(city: CityConfig, view: QueueView, now: datetime) -> tuple[str, dict[str, Any]]:
    where, params = view.flt.sql(city, "r", now)
    clauses = [where, "r.is_open"]
    if view.assignee:
        clauses.append("r.assignee = :q_assignee")
        params["q_assignee"] = view.assignee
    return " AND ".join(clauses), params


def _order(view: QueueView) -> str:
    column = SORTS[view.sort][0]
    direction = "DESC" if view.descending else "ASC"
    return f"{column} {direction} NULLS LAST, r.id {direction}"


_COLUMNS = """r.id, r.public_ref, r.short_ref, r.service_name, r.address, r.ward_key, r.district_key, r.requested_at,
    r.due_at, r.status, r.assignee, r.priority,
    CASE WHEN r.geom IS NOT NULL AND r.location_quality <> 'placeholder' THEN ST_X(r.geom) END AS lon,
    CASE WHEN r.geom IS NOT NULL AND r.location_quality <> 'placeholder' THEN ST_Y(r.geom) END AS lat"""


def _row(record: Any, choices: FilterChoices, now: datetime) -> QueueRow:
    return QueueRow(
        id=record.id,
        reference=record.public_ref,
        short_reference=show_short_reference(record.short_ref),
        service=record.service_name,
        place=record.address or "no address",
        ward=choices.wards.get(record.ward_key, record.ward_key or "") if record.ward_key else "",
        district=choices.districts.get(record.district_key, record.district_key or "") if record.district_key else "",
        requested_at=record.requested_at,
        due_at=record.due_at,
        status=record.status,
        status_label=STATE_LABELS.get(record.status, record.status),
        assignee=record.assignee,
        priority=record.priority,
        lon=record.lon,
        lat=record.lat,
        now=now,
    )


def queue_page(
    session: Session,
    city: CityConfig,
    view: QueueView,
    choices: FilterChoices,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> QueuePage:
    """The page ``view.page`` of the queue, with the selection's count (at most :data:`COUNT_LIMIT`)."""
    now = now or datetime.now(UTC)
    where, params = _where(city, view, now)
    count = session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM service_request r WHERE {where} LIMIT {COUNT_LIMIT}) c"), params
    ).scalar_one()
    records = session.execute(
        text(
            f"SELECT {_COLUMNS} FROM service_request r WHERE {where} ORDER BY {_order(view)} LIMIT :q_limit OFFSET :q_offset"
        ),
        {**params, "q_limit": page_size, "q_offset": (view.page - 1) * page_size},
    ).all()
    return QueuePage([_row(r, choices, now) for r in records], int(count), view.page, page_size)


def queue_rows(
    session: Session,
    city: CityConfig,
    view: QueueView,
    choices: FilterChoices,
    limit: int = CSV_LIMIT,
    now: datetime | None = None,
) -> Iterator[QueueRow]:
    """Every row of the view's selection (not only its page), in its sort order: for the CSV."""
    now = now or datetime.now(UTC)
    where, params = _where(city, view, now)
    result = session.execute(
        text(f"SELECT {_COLUMNS} FROM service_request r WHERE {where} ORDER BY {_order(view)} LIMIT :q_limit"),
        {**params, "q_limit": limit},
    )
    for record in result:
        yield _row(record, choices, now)
