"""The catalogue in the database: synchronized from the city file, read by intake.

The database copy is what intake uses (the admin page edits it); :func:`sync_catalogue`
brings it in line with the city file. Requests keep the service level promised at their
creation, so changing a service level never rewrites history.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Composite, Session

from core.catalogue_file import Attribute, Service, parse_service
from core.city import CityConfig
from core.errors import UserError
from service_requests.models import Department, ServiceRecord

#: The fields of a service stored as something else, and how: (to the stored value, from it). Every
#: other field of :class:`Service` is stored as it is, in the attribute of :class:`ServiceRecord` of its name.
_STORED_AS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "keywords": (list, lambda stored: tuple(stored or ())),
    "attributes": (
        lambda attributes: [a.as_dict() for a in attributes],
        lambda stored: tuple(Attribute.from_dict(a) for a in stored or ()),
    ),
    "translations": (
        lambda translations: {language: dict(words) for language, words in translations.items()},
        lambda stored: dict(stored or {}),
    ),
}


def _same(value: Any) -> Any:
    return value


def service_values(service: Service) -> dict[str, Any]:
    """The values of the :class:`ServiceRecord` of ``service``, by attribute: the one mapping of file to table."""
    return {f.name: _STORED_AS.get(f.name, (_same, _same))[0](getattr(service, f.name)) for f in fields(Service)}


def to_service(record: ServiceRecord) -> Service:
    """The catalogue entry of a stored service: the mapping of :func:`service_values`, read back."""
    return Service(
        **{f.name: _STORED_AS.get(f.name, (_same, _same))[1](getattr(record, f.name)) for f in fields(Service)}
    )


def sync_catalogue(session: Session, city: CityConfig, overwrite_edits: bool = False) -> tuple[int, int]:
    """Upsert the city file's departments and services (the caller commits); returns their counts.

    A service changed on the admin page keeps its edits unless ``overwrite_edits``: the
    file is where a city starts, the admin page is where staff maintain it.
    """
    for department in city.catalogue.departments.values():
        _upsert(session, Department, {"city": city.key, **asdict(department)})
    for service in city.catalogue.services.values():
        values = {"city": city.key, **service_values(service), "active": True}
        if overwrite_edits:
            values.update(edited_by=None, edited_at=None)
        _upsert(session, ServiceRecord, values, where=None if overwrite_edits else ServiceRecord.edited_at.is_(None))
    return len(city.catalogue.departments), len(city.catalogue.services)


def _upsert(
    session: Session, model: type[Department] | type[ServiceRecord], values: dict[str, Any], where: Any = None
) -> None:
    """Insert a row of ``values`` (by attribute), or update the city's row of its code with them (if ``where``)."""
    statement = insert(model).values(**values)
    columns = [name for key in values if key not in ("city", "code") for name in _column_names(model, key)]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["city", "code"], set_={name: statement.excluded[name] for name in columns}, where=where
        )
    )


def _column_names(model: type[Department] | type[ServiceRecord], key: str) -> list[str]:
    """The columns of the attribute ``key`` of ``model``: one, or those of a composite (the service level)."""
    prop = model.__mapper__.attrs[key]
    props = prop.props if isinstance(prop, Composite) else [prop]
    return [column.name for p in props for column in p.columns]


def edited_services(session: Session, city: str) -> list[str]:
    """Codes of the services whose admin-page edits a sync keeps."""
    return list(
        session.scalars(
            select(ServiceRecord.code)
            .where(ServiceRecord.city == city, ServiceRecord.edited_at.is_not(None))
            .order_by(ServiceRecord.code)
        )
    )


class CatalogueError(UserError):
    """A service definition that cannot be saved as given."""


def save_service(session: Session, city: str, entry: Mapping[str, Any], actor: str, new: bool = False) -> ServiceRecord:
    """Check ``entry`` (a service in the city file's shape) and store it; the caller commits.

    ``new`` creates a service (its code must be free); otherwise the service ``entry["code"]``
    is replaced. Requests already made keep the service level and name they were given.
    """
    departments = set(session.scalars(select(Department.code).where(Department.city == city)))

    def fail(table: str, message: str) -> CatalogueError:
        return CatalogueError(f"The service {message}.")

    code = entry.get("code")
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == city, ServiceRecord.code == code))
    if record is not None and not new:  # what the page does not edit (the history's name, say) stays as it was
        entry = {**to_service(record).as_entry(), **entry}
    service = parse_service(entry, departments, fail)
    if new and record is not None:
        raise CatalogueError(f"There is already a service with the code {service.code!r}; choose another code.")
    if not new and record is None:
        raise CatalogueError(f"There is no service {service.code!r}.")
    if record is None:
        record = ServiceRecord(city=city)
        session.add(record)
    for key, value in service_values(service).items():
        setattr(record, key, value)
    record.active = bool(entry.get("active", True))
    record.edited_by, record.edited_at = actor, func.now()
    record.updated_at = func.now()
    session.flush()
    return record


def active_services(session: Session, city: str) -> list[Service]:
    """The services residents and staff can ask for, by group and name."""
    records = session.scalars(
        select(ServiceRecord)
        .where(ServiceRecord.city == city, ServiceRecord.active)
        .order_by(ServiceRecord.group, ServiceRecord.name)
    )
    return [to_service(r) for r in records]


def get_service(session: Session, city: str, code: str) -> Service | None:
    """The active service ``code`` of ``city``, or None."""
    if not isinstance(code, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", code):
        return None
    record = session.scalar(
        select(ServiceRecord).where(ServiceRecord.city == city, ServiceRecord.code == code, ServiceRecord.active)
    )
    return to_service(record) if record else None
