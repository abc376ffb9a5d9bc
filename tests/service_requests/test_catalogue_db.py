"""The catalogue's two homes, the city file (core.catalogue_file) and the table (service_requests.models),
use the same names, and one mapping (catalogue_db.service_values / to_service) goes between them."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from types import SimpleNamespace

import pytest

from core.catalogue_file import CatalogueDepartment, Service, parse_service
from service_requests import catalogue_db
from service_requests.catalogue_db import service_values, to_service
from service_requests.models import Department, ServiceRecord


def test_every_field_of_a_service_is_an_attribute_of_the_table_of_its_name():
    attributes = set(ServiceRecord.__mapper__.attrs.keys())
    assert {f.name for f in fields(Service)} <= attributes


def test_every_field_of_a_department_is_a_column_of_its_name():
    assert {f.name for f in fields(CatalogueDepartment)} <= set(Department.__mapper__.columns.keys())


def test_a_service_stored_and_read_back_is_the_same_service(la):
    for service in la.catalogue.services.values():
        record = ServiceRecord(city="la", **service_values(service))  # transient: no database
        assert to_service(record) == service
        assert record.service_level == service.service_level
        assert (record.sla_hours, record.sla_business_days) == (
            service.service_level.hours,
            service.service_level.business_days,
        )


def test_a_service_in_the_file_shape_parses_back_to_itself(la):
    def fail(table: str, message: str) -> Exception:
        return AssertionError(f"{table}: {message}")

    for service in la.catalogue.services.values():
        assert parse_service(service.as_entry(), la.catalogue.departments, fail) == service


@dataclass(frozen=True)
class WithPriority(Service):
    """A service with one field more, as a new catalogue field would be added to Service."""

    priority: str = "normal"


def test_a_field_added_to_the_service_is_stored_and_read_back_by_its_name(monkeypatch: pytest.MonkeyPatch, la):
    """The demonstration: the new field needs no line of the mapping (only its column, named as it is)."""
    monkeypatch.setattr(catalogue_db, "Service", WithPriority)
    graffiti = la.catalogue.services["graffiti"]
    service = WithPriority(**{f.name: getattr(graffiti, f.name) for f in fields(Service)}, priority="high")
    values = service_values(service)
    assert values["priority"] == "high"
    record = SimpleNamespace(**values)  # stands for a ServiceRecord with a `priority` column
    assert to_service(record) == service  # type: ignore[arg-type]
    assert service.as_entry()["priority"] == "high"  # what the admin form starts from
    assert to_service(SimpleNamespace(**{**values, "priority": "low"})) == replace(service, priority="low")  # type: ignore[arg-type]


def test_an_edit_keeps_what_the_admin_form_does_not_edit(session, la):
    graffiti = la.catalogue.services["graffiti"]
    entry = {**graffiti.as_entry(), "name": "Graffiti", "active": True}
    del entry["source_name"]  # as the admin form sends it: the history's name is no field of the form
    record = catalogue_db.save_service(session, "la", entry, actor="admin")
    assert record.name == "Graffiti" and record.source_name == graffiti.source_name is not None
    assert record.edited_by == "admin"
    assert catalogue_db.edited_services(session, "la") == ["graffiti"]
