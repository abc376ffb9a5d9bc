"""What anyone may see of the city's requests: the public map and list of reports ("around").

A bounded selection of recent requests, for residents: open requests made in the last
``open_days`` days and requests closed in the last ``closed_days`` days (``older_closed_days``
when a visitor asks for older ones), the newest first, at most ``max_points`` of them (the
city file's ``[public_map]``, :class:`core.city.PublicMapSettings`). A visitor narrows it by
ward or district, a box of the map, services and status (open or closed), with the fields of
:class:`~service_requests.selection.RequestFilter` (its checks and SQL), and nothing else.

Each report says where only approximately and never who:

- only what a map may show (:func:`service_requests.rules.mapped`): never a placeholder point,
  a request outside the city or one without a point; never a cancelled request;
- its point moved to a grid of ``snap_m`` metres in the database, so the exact point (a
  house) never leaves it;
- its place in words as the status page gives it (:func:`address_db.places.approximate_place`:
  the block, the intersection or the derived place of a picked point; never an address typed
  by a person, which is private);
- its service, status, dates, short reference and the link to its public status page;
- its description only when staff marked it public (``details_public``, as
  :func:`accounts.scope.may_read_details` reads it for the public), shortened; never the
  location note, the typed address, names or contacts (the query does not read them).

Results are cached under :mod:`core.caching`'s policy (:data:`RESULTS`): keyed by the query,
the city's settings and the local date the windows start from, at the version of the writes
to the requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from address_db.places import approximate_place
from core.caching import REQUEST_TABLES, ResultCache, database_identity, writes_version
from core.city import CityConfig, PublicMapSettings
from core.i18n import N_
from core.states import STATE_LABELS
from service_requests.references import show_short_reference
from service_requests.selection import YES, FilterChoices, FilterError, RequestFilter, one_of, parse_filter

#: The statuses a visitor may ask for, with their words on the pages.
PUBLIC_STATUSES = {"all": N_("Open and recently closed"), "open": N_("Open"), "closed": N_("Closed")}
#: The query-string names the public pages read (everything else is ignored, never an error).
FILTER_ARGS = ("service", "ward", "district", "status")
#: How much of a description marked public a report carries.
DESCRIPTION_CHARS = 280
#: Metres in a degree of latitude (and of longitude at the equator).
_M_PER_DEGREE = 111_320.0
_NUMBER = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,17})?")


@dataclass(frozen=True)
class PublicQuery:
    """What a visitor asked for: the filter (services, ward, district, status), a box, older ones too."""

    flt: RequestFilter = field(default_factory=RequestFilter)
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north (WGS 84)
    older: bool = False

    def key(self) -> tuple:
        return (self.flt.key(), self.bbox, self.older)


@dataclass(frozen=True)
class PublicReport:
    """One request as the public sees it."""

    reference: str  # the short reference as shown, K7M3Q-X9TBA: the status page's address
    service_code: str
    service_name: str
    status: str
    is_open: bool
    requested_at: datetime
    closed_at: datetime | None
    place: str | None
    lon: float  # the point on the grid, not the request's own
    lat: float
    description: str | None = None

    @property
    def status_label(self) -> str:
        return STATE_LABELS.get(self.status, self.status)

    @property
    def family(self) -> str:
        """``open`` or ``closed``: the legend's colour."""
        return "open" if self.is_open else "closed"


@dataclass(frozen=True)
class PublicReports:
    """The reports of a query, newest first; ``truncated`` when more matched than ``limit``."""

    reports: tuple[PublicReport, ...]
    truncated: bool
    limit: int
    open_since: date
    closed_since: date
    computed_at: datetime


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees (WGS 84), or None when empty; raises :class:`FilterError`."""
    value = (value or "").strip()
    if not value:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        raise FilterError(
            "bbox must be four numbers west,south,east,north in degrees, e.g. bbox=-118.30,34.03,-118.22,34.08."
        )
    west, south, east, north = (float(p) for p in parts)
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise FilterError(
            "bbox must run west to east and south to north within -180..180 and -90..90 "
            f"(west < east, south < north), not {value[:80]!r}."
        )
    return west, south, east, north


def parse_query(args: Mapping[str, Sequence[str]], choices: FilterChoices | None = None) -> PublicQuery:
    """A :class:`PublicQuery` from query-string arguments: ``service`` (repeatable), ``ward``, ``district``,
    ``status`` (all, open, closed), ``bbox`` and ``older`` (1); other names are ignored. Raises
    :class:`FilterError` with a sentence a person can act on."""
    flt = parse_filter({name: args.get(name) or [] for name in FILTER_ARGS}, choices)
    if flt.status not in PUBLIC_STATUSES:
        raise FilterError(one_of("status", tuple(PUBLIC_STATUSES), flt.status))
    bboxes = [v for v in args.get("bbox") or [] if v and v.strip()]
    if len(bboxes) > 1:
        raise FilterError(f"Give one bbox, not {len(bboxes)}.")
    older = [v for v in args.get("older") or [] if v]
    return PublicQuery(flt, parse_bbox(bboxes[0] if bboxes else None), bool(older) and older[-1] in YES)


def windows(settings: PublicMapSettings, older: bool, today: date) -> tuple[date, date]:
    """The first local dates of the open and the closed requests shown (whole days, so a day's results agree)."""
    closed_days = settings.older_closed_days if older else settings.closed_days
    return today - timedelta(days=settings.open_days), today - timedelta(days=closed_days)


def _selection_sql(city: CityConfig, query: PublicQuery) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of what a visitor asked for (the request table is ``r``) and its parameters."""
    flt = RequestFilter(
        services=query.flt.services,
        ward=query.flt.ward,
        district=query.flt.district,
        status=query.flt.status,
        scope="mapped",  # a real point inside the city: never a placeholder, never outside
    )
    where, params = flt.sql(city)
    if query.bbox is not None:
        where += " AND r.geom && ST_MakeEnvelope(:p_west, :p_south, :p_east, :p_north, 4326)"
        params.update(zip(("p_west", "p_south", "p_east", "p_north"), query.bbox, strict=True))
    return where, params


#: Each part: what the public may read of a request (never the location note, the typed address,
#: a contact; the description only when marked public), its point moved to the grid.
_COLUMNS = f"""
    r.id, r.short_ref, r.service_code, r.service_name, r.status, r.is_open, r.requested_at, r.closed_at, r.address,
    CASE WHEN r.details_public THEN left(r.description, {DESCRIPTION_CHARS + 1}) END AS description,
    ST_SnapToGrid(r.geom, :p_dy / cos(radians(round(ST_Y(r.geom)))), :p_dy) AS g
"""


def _compute(session: Session, city: CityConfig, query: PublicQuery, today: date) -> PublicReports:
    settings = city.public_map
    open_since, closed_since = windows(settings, query.older, today)
    where, params = _selection_sql(city, query)
    params.update(
        p_open_from=datetime.combine(open_since, time(), city.tz),
        p_closed_from=datetime.combine(closed_since, time(), city.tz),
        # The grid: snap_m metres north-south; east-west at the whole degree of latitude (one grid per band).
        p_dy=settings.snap_m / _M_PER_DEGREE,
        p_limit=settings.max_points + 1,
    )
    # Two parts, each the newest first and bounded, so that each has its own index: the open requests
    # by their time (service_request_open_service), the closed ones by their closing (service_request_closed_at).
    rows = session.execute(
        text(
            f"""
            SELECT p.short_ref, p.service_code, p.service_name, p.status, p.is_open, p.requested_at, p.closed_at,
                   p.address, p.description, ST_X(p.g) AS lon, ST_Y(p.g) AS lat
            FROM (
                (SELECT {_COLUMNS} FROM service_request r
                 WHERE {where} AND r.is_open AND r.requested_at >= :p_open_from
                 ORDER BY r.requested_at DESC, r.id DESC LIMIT :p_limit)
                UNION ALL
                (SELECT {_COLUMNS} FROM service_request r
                 WHERE {where} AND NOT r.is_open AND r.closed_at IS NOT NULL AND r.closed_at >= :p_closed_from
                   AND r.status <> 'cancelled'
                 ORDER BY r.requested_at DESC, r.id DESC LIMIT :p_limit)
            ) p
            ORDER BY p.requested_at DESC, p.id DESC
            LIMIT :p_limit
            """
        ),
        params,
    ).all()
    reports = tuple(
        PublicReport(
            reference=show_short_reference(row.short_ref),
            service_code=row.service_code,
            service_name=row.service_name,
            status=row.status,
            is_open=row.is_open,
            requested_at=row.requested_at,
            closed_at=row.closed_at,
            place=approximate_place(row.address),
            lon=round(row.lon, 6),
            lat=round(row.lat, 6),
            description=_shortened(row.description),
        )
        for row in rows[: settings.max_points]
    )
    return PublicReports(
        reports, len(rows) > settings.max_points, settings.max_points, open_since, closed_since, datetime.now(UTC)
    )


def _shortened(description: str | None) -> str | None:
    if not description or not description.strip():
        return None
    description = description.strip()
    if len(description) <= DESCRIPTION_CHARS:
        return description
    return description[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def _version(session: Session) -> tuple[str, str] | None:
    return writes_version(session, REQUEST_TABLES)


#: The public map's results (in the process and shared between processes), under :data:`core.caching.POLICY`.
RESULTS = ResultCache(_version, shared="public_reports")


def public_reports(session: Session, city: CityConfig, query: PublicQuery, today: date | None = None) -> PublicReports:
    """The reports anyone may see for ``query``, newest first, at most ``city.public_map.max_points`` (cached).

    ``today`` is the city's local date the windows count back from (default: now).
    """
    today = today or datetime.now(city.tz).date()
    key = ("public_reports", database_identity(session), city.key, city.public_map, query.key(), today)
    return RESULTS.get_or_compute(session, key, lambda: _compute(session, city, query, today))


def as_geojson(found: PublicReports, city: CityConfig, status_url: Callable[[PublicReport], str]) -> dict[str, Any]:
    """``found`` as a GeoJSON FeatureCollection: each report's grid point and public words, dates in the
    city's time; ``status_url`` gives the link to a report's status page. ``truncated`` says more matched."""
    tz = city.tz
    return {
        "type": "FeatureCollection",
        "truncated": found.truncated,
        "limit": found.limit,
        "open_since": found.open_since.isoformat(),
        "closed_since": found.closed_since.isoformat(),
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {
                    "reference": r.reference,
                    "service": r.service_name,
                    "service_code": r.service_code,
                    "status": r.status_label,
                    "family": r.family,
                    "requested": r.requested_at.astimezone(tz).date().isoformat(),
                    "closed": r.closed_at.astimezone(tz).date().isoformat() if r.closed_at else None,
                    "place": r.place,
                    "description": r.description,
                    "url": status_url(r),
                },
            }
            for r in found.reports
        ],
    }


__all__ = [
    "FILTER_ARGS",
    "PUBLIC_STATUSES",
    "PublicQuery",
    "PublicReport",
    "PublicReports",
    "RESULTS",
    "as_geojson",
    "parse_bbox",
    "parse_query",
    "public_reports",
    "windows",
]
