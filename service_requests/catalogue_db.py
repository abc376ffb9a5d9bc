"""The catalogue in the database: synchronized from the city file, read by intake.

The database copy is what intake uses (the admin page edits it); :func:`sync_catalogue`
brings it in line with the city file. Requests keep the service level promised at their
creation, so changing a service level never rewrites history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.catalogue_file import Attribute, AttributeValue, Service, ServiceLevel, parse_service
from core.city import CityConfig
from core.errors import UserError
from service_requests.models import Department, ServiceRecord


def sync_catalogue(session: Session, city: CityConfig, overwrite_edits: bool = False) -> tuple[int, int]:
    """Upsert the city file's departments and services (the caller commits); returns their counts.

    A service changed on the admin page keeps its edits unless ``overwrite_edits``: the
    file is where a city starts, the admin page is where staff maintain it.
    """
    for department in city.catalogue.departments.values():
        session.execute(
            insert(Department)
            .values(
                city=city.key, code=department.code, name=department.name, supervisor_email=department.supervisor_email
            )
            .on_conflict_do_update(
                index_elements=["city", "code"],
                set_={"name": department.name, "supervisor_email": department.supervisor_email},
            )
        )
    for service in city.catalogue.services.values():
        values = {
            "name": service.name,
            "description": service.description,
            "group_name": service.group,
            "keywords": list(service.keywords),
            "department_code": service.department,
            "default_assignee": service.default_assignee,
            "sla_hours": service.service_level.hours,
            "sla_business_days": service.service_level.business_days,
            "contact_policy": service.contact,
            "location_policy": service.location,
            "attributes": [a.as_dict() for a in service.attributes],
            "source_name": service.source_name,
            "active": True,
        }
        if overwrite_edits:
            values.update(edited_by=None, edited_at=None)
        session.execute(
            insert(ServiceRecord)
            .values(city=city.key, code=service.code, **values)
            .on_conflict_do_update(
                index_elements=["city", "code"],
                set_=values,
                where=None if overwrite_edits else ServiceRecord.edited_at.is_(None),
            )
        )
    return len(city.catalogue.departments), len(city.catalogue.services)


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

    service = parse_service(entry, departments, fail)
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == city, ServiceRecord.code == service.code))
    if new and record is not None:
        raise CatalogueError(f"There is already a service with the code {service.code!r}; choose another code.")
    if not new and record is None:
        raise CatalogueError(f"There is no service {service.code!r}.")
    if record is None:
        record = ServiceRecord(city=city, code=service.code)
        session.add(record)
    record.name, record.description, record.group_name = service.name, service.description, service.group
    record.keywords = list(service.keywords)
    record.department_code, record.default_assignee = service.department, service.default_assignee
    record.sla_hours, record.sla_business_days = service.service_level.hours, service.service_level.business_days
    record.contact_policy, record.location_policy = service.contact, service.location
    record.attributes = [a.as_dict() for a in service.attributes]
    record.source_name = service.source_name if new else record.source_name
    record.active = bool(entry.get("active", True))
    record.edited_by, record.edited_at = actor, func.now()
    record.updated_at = func.now()
    session.flush()
    return record


def to_service(record: ServiceRecord) -> Service:
    """The catalogue entry of a stored service."""
    return Service(
        code=record.code,
        name=record.name,
        department=record.department_code,
        service_level=ServiceLevel(hours=record.sla_hours, business_days=record.sla_business_days),
        description=record.description,
        group=record.group_name,
        keywords=tuple(record.keywords or ()),
        default_assignee=record.default_assignee,
        contact=record.contact_policy,
        location=record.location_policy,
        attributes=tuple(
            Attribute(
                code=a["code"],
                description=a["description"],
                datatype=a["datatype"],
                required=a["required"],
                order=a.get("order", 0),
                datatype_description=a.get("datatype_description"),
                values=tuple(AttributeValue(v["key"], v["name"]) for v in a.get("values", [])),
            )
            for a in record.attributes or []
        ),
        source_name=record.source_name,
    )


def active_services(session: Session, city: str) -> list[Service]:
    """The services residents and staff can ask for, by group and name."""
    records = session.scalars(
        select(ServiceRecord)
        .where(ServiceRecord.city == city, ServiceRecord.active)
        .order_by(ServiceRecord.group_name, ServiceRecord.name)
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
