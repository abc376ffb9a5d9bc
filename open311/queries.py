"""What the Open311 GET methods read: discovery, services, service definitions, requests, tokens.

Each function takes a session and the city and returns plain dicts in the spec's field
order (see :mod:`open311.serialize` for JSON and XML). Service request ids are the
public references, never the internal row ids.

What the lists hold: every request of the city except those whose point lies in another
jurisdiction (history imported from a source that also records its neighbors' requests):
those are not the city's demand. Asked for by id they are still answered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from core.city import CityConfig
from open311.fields import W3C_FORMAT, Field, select_list
from open311.params import RequestQuery
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

#: What the extensions need besides the spec's fields (see serialize.extend_record).
_EXTENSION_COLUMNS = """
    r.id AS id, r.ward_key AS ward_key, r.district_key AS district_key,
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
    changeset = catalogue_changeset(session, city)
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


def catalogue_changeset(session: Session, city: CityConfig) -> str:
    """When the catalogue last changed (services and their definitions), as a W3C datetime."""
    return w3c(catalogue_changed_at(session, city), city.tz) or "1970-01-01T00:00:00Z"


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
    params.update(limit=query.page_size, offset=(query.page - 1) * query.page_size)
    statement = text(
        f"{request_select()} WHERE {' AND '.join(where)} "
        "ORDER BY r.requested_at DESC, r.id DESC LIMIT :limit OFFSET :offset"
    )
    if expanding:
        statement = statement.bindparams(*(bindparam(name, expanding=True) for name in expanding))
    return _requests(session, city, statement, {**params, "media_base": media_base}, query.extensions)


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
            f"SELECT request_id, to_char(at, {W3C_FORMAT}) AS at, kind, note FROM request_event "
            "WHERE request_id IN :ids AND public AND note IS NOT NULL ORDER BY at, id"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": [row.id for row in rows]},
    ):
        notes[event.request_id].append(note_dict(event))
    names = area_names(session, city.key)
    for record, row in zip(records, rows):
        extend_record(record, row, names, notes.get(row.id, []))
    return records


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
