"""The catalogue in the database: synchronized from the city file, read by intake.

The database copy is what intake uses (the admin page edits it); :func:`sync_catalogue`
brings it in line with the city file. Requests keep the service level promised at their
creation, so changing a service level never rewrites history.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.catalogue import Attribute, AttributeValue, Service, ServiceLevel
from app.city import CityConfig
from app.service_requests.models import Department, ServiceRecord


def sync_catalogue(session: Session, city: CityConfig) -> tuple[int, int]:
    """Upsert the city file's departments and services (the caller commits); returns their counts."""
    for department in city.catalogue.departments.values():
        session.execute(
            insert(Department)
            .values(city=city.key, code=department.code, name=department.name,
                    supervisor_email=department.supervisor_email)
            .on_conflict_do_update(index_elements=["city", "code"],
                                   set_={"name": department.name, "supervisor_email": department.supervisor_email})
        )
    for service in city.catalogue.services.values():
        values = {
            "name": service.name, "description": service.description, "group_name": service.group,
            "keywords": list(service.keywords), "department_code": service.department,
            "default_assignee": service.default_assignee, "sla_hours": service.service_level.hours,
            "sla_business_days": service.service_level.business_days, "contact_policy": service.contact,
            "location_policy": service.location, "attributes": [a.as_dict() for a in service.attributes],
            "source_name": service.source_name, "active": True,
        }
        session.execute(
            insert(ServiceRecord).values(city=city.key, code=service.code, **values)
            .on_conflict_do_update(index_elements=["city", "code"], set_=values)
        )
    return len(city.catalogue.departments), len(city.catalogue.services)


def to_service(record: ServiceRecord) -> Service:
    """The catalogue entry of a stored service."""
    return Service(
        code=record.code, name=record.name, department=record.department_code,
        service_level=ServiceLevel(hours=record.sla_hours, business_days=record.sla_business_days),
        description=record.description, group=record.group_name, keywords=tuple(record.keywords or ()),
        default_assignee=record.default_assignee, contact=record.contact_policy, location=record.location_policy,
        attributes=tuple(
            Attribute(code=a["code"], description=a["description"], datatype=a["datatype"], required=a["required"],
                      order=a.get("order", 0), datatype_description=a.get("datatype_description"),
                      values=tuple(AttributeValue(v["key"], v["name"]) for v in a.get("values", [])))
            for a in record.attributes or []
        ),
        source_name=record.source_name,
    )


def active_services(session: Session, city: str) -> list[Service]:
    """The services residents and staff can ask for, by group and name."""
    records = session.scalars(
        select(ServiceRecord).where(ServiceRecord.city == city, ServiceRecord.active)
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
