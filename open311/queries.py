"""What the Open311 GET methods read: discovery, services, service definitions, requests, tokens.

Each function takes a session and the city and returns plain dicts in the spec's field
order (see :mod:`open311.serialize` for JSON and XML). Service request ids are the
public references, never the internal row ids.

What the lists hold: every request of the city except those whose point lies in another
jurisdiction (history imported from a source that also records its neighbors' requests):
those are not the city's demand. Asked for by id they are still answered.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core.city import CityConfig
from open311.fields import PUBLIC_NOTE, W3C_FORMAT, Field, select_list
from open311.params import Circle, RequestQuery
from open311.search import text_join
from open311.serialize import (
    extend_record,
    note_dict,
    request_record,
    service_definition_dict,
    service_dict,
    w3c,
)
from service_requests import rules
from service_requests.catalogue_db import active_services, get_service
from service_requests.references import normalize_reference

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: mySociety's extension (servicerequestupdates), listed as a second endpoint at the same URL.
UPDATES_SPECIFICATION = "https://github.com/mysociety/fixmystreet/wiki/Open311-FMS---Proposed-differences-to-Open311"

#: When this API's methods, arguments or fields last changed (q, lat/long/radius, the peers' arguments
#: warned about, the channel in extended_attributes): discovery's changeset is never earlier, so that a
#: client that keeps the API's description sees it change. Move it on with each change of the API.
API_CHANGED = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)

#: What the extensions need besides the spec's fields (see serialize.extend_record).
_EXTENSION_COLUMNS = """
    r.id AS id, r.ward_key AS ward_key, r.district_key AS district_key, r.channel AS channel_code,
    (SELECT o.public_ref FROM service_request o WHERE o.id = r.duplicate_of) AS duplicate_of
"""
_REQUEST_FROM = """
    FROM service_request r
    LEFT JOIN department d ON d.city = r.city AND d.code = r.department_code
"""


def request_select(fields: Sequence[Field] | None = None) -> str:
    """``SELECT … FROM …`` of the request fields (by name) and what the extensions need, without a WHERE."""
    return f"SELECT {select_list(fields)}, {_EXTENSION_COLUMNS} {_REQUEST_FROM}"


def discovery(session: Session, city: CityConfig, endpoint_url: str, production: bool) -> dict[str, Any]:
    """The service discovery document: the GeoReport v2 endpoint, XML and JSON, and the same URL as an
    endpoint of mySociety's servicerequestupdates extension (GET and POST servicerequestupdates)."""
    changeset = api_changeset(session, city)
    settings = city.open311
    contact = settings.contact or f"{city.name}: {' '.join(filter(None, (city.contact.phone, city.contact.website)))}"
    key_service = settings.key_service or (
        f"API keys for applications that file requests are issued by the "
        f"{city.name} ({city.contact.website or city.contact.phone or '311'})."
    )
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": specification,
                "url": endpoint_url,
                "changeset": changeset,
                "type": "production" if production else "test",
                "formats": ["text/xml", "application/json"],
            }
            for specification in (SPECIFICATION, UPDATES_SPECIFICATION)
        ],
    }


def catalogue_changed_at(session: Session, city: CityConfig) -> datetime | None:
    """When the catalogue last changed (services and their definitions), or None for an empty one."""
    changed: datetime | None = session.execute(
        text("SELECT max(updated_at) FROM service WHERE city = :city"), {"city": city.key}
    ).scalar()
    return changed


def api_changed_at(session: Session, city: CityConfig) -> datetime:
    """When the API or the catalogue last changed: the later of :data:`API_CHANGED` and the services' last
    update (what discovery and the OpenAPI document describe)."""
    changed = catalogue_changed_at(session, city)
    return max(API_CHANGED, changed) if changed else API_CHANGED


def api_changeset(session: Session, city: CityConfig) -> str:
    """:func:`api_changed_at` as a W3C datetime."""
    shown = w3c(api_changed_at(session, city), city.tz)
    assert shown is not None  # w3c gives None only for no moment
    return shown


def requests_changed_at(session: Session, city: CityConfig) -> datetime | None:
    """When a request of the city last changed (None when it has none): what a page of requests can
    have changed since, whichever rows it holds (an index on ``(city, updated_at)`` answers it)."""
    changed: datetime | None = session.execute(
        text("SELECT max(updated_at) FROM service_request WHERE city = :city"), {"city": city.key}
    ).scalar()
    return changed


def latest_published(records: Sequence[dict[str, Any]], field: str = "updated_datetime") -> datetime | None:
    """The latest of the records' published W3C times in ``field`` (None when no record has one)."""
    times = [datetime.fromisoformat(r[field]) for r in records if r.get(field)]
    return max(times, default=None)


def services(session: Session, city: CityConfig, language: str | None = None) -> list[dict[str, Any]]:
    """GET services: the active services of the catalogue, their words in ``language`` where translated."""
    return [service_dict(s.in_language(language)) for s in active_services(session, city.key)]


def service_definition(
    session: Session, city: CityConfig, code: str, language: str | None = None
) -> dict[str, Any] | None:
    """GET service definition: the service's attributes (questions) in ``language`` where translated, or None if
    there is no such service."""
    service = get_service(session, city.key, code)
    return service_definition_dict(service.in_language(language)) if service is not None else None


def second_at_or_after(moment: datetime | None) -> datetime | None:
    """``moment`` rounded up to a whole second (itself when it is one)."""
    if moment is None or not moment.microsecond:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def second_after(moment: datetime | None) -> datetime | None:
    """The whole second after ``moment``'s own second: the first stored time published after it."""
    return None if moment is None else moment.replace(microsecond=0) + timedelta(seconds=1)


def find_requests(
    session: Session, city: CityConfig, query: RequestQuery, media_base: str = "/media/"
) -> list[dict[str, Any]]:
    """GET requests: the requests matching ``query``, most recent first, one page of them.

    ``media_base`` is the absolute URL the photos are served under (``media_url`` names one).
    """
    where = ["r.city = :city"]
    params: dict[str, Any] = {"city": city.key}
    expanding: list[str] = []
    if query.ids:
        where.append("r.public_ref IN :ids")
        params["ids"] = list(query.ids)
        expanding.append("ids")
    else:
        where.append(rules.in_city("r"))
        if query.service_codes:
            where.append("r.service_code IN :codes")
            params["codes"] = list(query.service_codes)
            expanding.append("codes")
        if len(query.statuses) == 1:
            where.append("r.is_open" if query.statuses[0] == "open" else "NOT r.is_open")
        # Times are published to the second while stored with fractions: a window is read
        # on the published times, so that a bound equal to a request's own published time
        # takes it in (published >= start: stored >= start rounded up to the second;
        # published <= end: stored < end rounded down, plus one second).
        for column, operator, name, value in (
            ("requested_at", ">=", "start", second_at_or_after(query.start)),
            ("requested_at", "<", "end", second_after(query.end)),
            ("updated_at", ">=", "after", second_at_or_after(query.updated_after)),
            ("updated_at", "<", "before", second_after(query.updated_before)),
        ):
            if value is not None:
                where.append(f"r.{column} {operator} :{name}")
                params[name] = value
        if query.bbox is not None:
            where.append(
                "r.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326) AND r.location_quality <> 'placeholder'"
            )
            params.update(
                west=query.bbox.min_lon, south=query.bbox.min_lat, east=query.bbox.max_lon, north=query.bbox.max_lat
            )
        if query.circle is not None:
            condition, circle_params = _within(query.circle)
            where.append(condition)
            params.update(circle_params)
    join, text_conditions, text_params = text_join(query.words)
    where.extend(text_conditions)
    params.update(text_params)
    params.update(limit=query.page_size, offset=(query.page - 1) * query.page_size)
    statement = text(
        f"{request_select()} {join} WHERE {' AND '.join(where)} "
        "ORDER BY r.requested_at DESC, r.id DESC LIMIT :limit OFFSET :offset"
    )
    if expanding:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
    return _requests(session, city, statement, {**params, "media_base": media_base}, query.extensions)


def _within(circle: Circle) -> tuple[str, dict[str, Any]]:
    """The condition "the request's published point lies within ``circle``", and its parameters.

    The box around the circle lets the GiST index on ``geom`` answer; the geography test is
    exact (metres on the spheroid). A placeholder point is not published, so never matched.
    """
    # Degrees that surely cover the radius: a degree of latitude is over 110 km, one of
    # longitude that times cos(latitude); near a pole or across 180 degrees, every longitude.
    dy = circle.radius_m / 110_000
    cos_lat = math.cos(math.radians(min(90.0, abs(circle.lat) + dy)))
    dx = circle.radius_m / (110_000 * cos_lat) if cos_lat > 0.01 else 360.0
    west, east = circle.lon - dx, circle.lon + dx
    if west < -180 or east > 180:
        west, east = -180.0, 180.0
    condition = (
        "r.geom && ST_MakeEnvelope(:circle_west, :circle_south, :circle_east, :circle_north, 4326)"
        " AND ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(:circle_lon, :circle_lat), 4326)::geography,"
        " :circle_radius) AND r.location_quality <> 'placeholder'"
    )
    return condition, {
        "circle_west": west,
        "circle_east": east,
        "circle_south": max(-90.0, circle.lat - dy),
        "circle_north": min(90.0, circle.lat + dy),
        "circle_lon": circle.lon,
        "circle_lat": circle.lat,
        "circle_radius": circle.radius_m,
    }


def get_request(
    session: Session, city: CityConfig, service_request_id: str, extensions: bool = False, media_base: str = "/media/"
) -> dict[str, Any] | None:
    """GET a request by its id (the public reference, typed forgivingly), or None (``media_base``: as above)."""
    reference = normalize_reference(service_request_id)
    if reference is None:
        return None
    statement = text(f"{request_select()} WHERE r.city = :city AND r.public_ref = :ref")
    found = _requests(
        session, city, statement, {"city": city.key, "ref": reference, "media_base": media_base}, extensions
    )
    return found[0] if found else None


def resolve_token(session: Session, city: CityConfig, token: str) -> tuple[dict[str, Any], datetime] | None:
    """GET service_request_id from a token: the answer, and since when it holds (the request's filing).

    Every service here is ``realtime``: POST returns the service_request_id at once, and
    the id doubles as the token, so a client written for ``batch`` endpoints finds its
    request with the id it holds. None when no request has that token.
    """
    reference = normalize_reference(token)
    if reference is None:
        return None
    found = session.execute(
        text("SELECT public_ref, requested_at FROM service_request WHERE city = :city AND public_ref = :ref"),
        {"city": city.key, "ref": reference},
    ).first()
    return ({"service_request_id": found.public_ref, "token": token}, found.requested_at) if found else None


def _requests(
    session: Session, city: CityConfig, statement: Any, params: dict[str, Any], extensions: bool
) -> list[dict[str, Any]]:
    """Run a request query in the city's time zone and shape its rows (the database formats the fields)."""
    session.execute(text("SELECT set_config('TimeZone', :tz, true)"), {"tz": city.timezone})
    rows = session.execute(statement, {**params, "publish": city.open311.publish_descriptions}).all()
    records = [request_record(row) for row in rows]
    if not extensions or not rows:
        return records
    notes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in session.execute(
        text(
            f"SELECT e.request_id, to_char(e.at, {W3C_FORMAT}) AS at, e.kind, e.note FROM request_event e "
            f"WHERE e.request_id IN :ids AND {PUBLIC_NOTE} ORDER BY e.at, e.id"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": [row.id for row in rows]},
    ):
        notes[event.request_id].append(note_dict(event))
    applications = filing_applications(session, [row.id for row in rows])
    names = area_names(session, city.key)
    for record, row in zip(records, rows):
        extend_record(record, row, names, notes.get(row.id, []), city.channels, applications.get(row.id))
    return records


def filing_applications(session: Session, request_ids: Sequence[int]) -> dict[int, str]:
    """The name of the Open311 application that filed each request filed through the API, by request id
    (the ``created`` event of its history names the client)."""
    rows = session.execute(
        text(
            "SELECT e.request_id, c.name FROM request_event e "
            "JOIN open311_client c ON e.data->>'client' = 'open311:' || c.id "
            "WHERE e.request_id IN :ids AND e.kind = 'created'"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": list(request_ids)},
    )
    return {row.request_id: row.name for row in rows}


def area_names(session: Session, city: str) -> dict[tuple[str, str], str]:
    """The names of the current wards and districts, by (role, key)."""
    rows = session.execute(
        text(
            "SELECT v.role, f.key, f.name FROM boundary_feature f JOIN boundary_layer_version v ON v.id = f.version_id "
            f"WHERE {rules.current_layers('v', ('wards', 'districts'))}"
        ),
        {"city": city},
    )
    return {(row.role, row.key): row.name for row in rows}
