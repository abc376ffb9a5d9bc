"""Breakout dimensions (geo/dimensions.py): one definition read by the reports' SQL and labels. No database."""

from __future__ import annotations

import dataclasses

import pytest

from core.channels import FAMILIES
from geo import reports
from geo.dimensions import DIMENSIONS, SERVICE_JOIN, Dimension, dimension
from service_requests.selection import FilterChoices, FilterError, RequestFilter

CHOICES = FilterChoices(
    services={"S1": "Pothole"},
    departments={"D1": "Streets"},
    wards={"1": "Ward one"},
    districts={"N": "North"},
    groups={"Roads": "Roads"},
)


def test_the_dimensions_in_the_order_of_the_tabs():
    assert [(d.key, d.label) for d in DIMENSIONS.values()] == [
        ("department", "Department"),
        ("service", "Service"),
        ("group", "Service group"),
        ("ward", "Ward"),
        ("district", "District"),
        ("state", "State"),
        ("channel", "Channel"),
        ("family", "Channel family"),
    ]
    assert reports.DIMENSIONS is DIMENSIONS


def test_every_dimension_selects_its_rows_by_a_field_of_the_request_filter(la):
    fields = {f.name: f for f in dataclasses.fields(RequestFilter)}
    for dim in DIMENSIONS.values():
        assert dim.filter_field in fields, dim.key
        value = dim.filter_value(next(iter(dim.names(None, la)), "x"))  # a key it names, without the database
        assert RequestFilter().replace(**{dim.filter_field: value}).args(), dim.key
        assert isinstance(value, tuple) == dim.many == str(fields[dim.filter_field].type).startswith("tuple")


def test_sql_joins_and_names_come_from_the_definition(la):
    assert dimension("ward").expression(la) == "r.ward_key"
    assert dimension("family").expression(la) == la.channels.family_sql("r.channel")
    assert [d.key for d in DIMENSIONS.values() if d.join] == ["group"] and DIMENSIONS["group"].join == SERVICE_JOIN
    assert reports._names("department", CHOICES, la) == {"D1": "Streets"}
    assert reports._names("group", CHOICES, la) == {"Roads": "Roads"}
    assert reports._names("ward", None, la) == {}
    assert reports._names("channel", None, la) == la.channels.names()
    assert reports._names("family", None, la) == dict(FAMILIES)


def test_an_unknown_dimension_is_refused_naming_them():
    with pytest.raises(FilterError, match="Break out by one of department, service, group, .*, not 'colour'"):
        dimension("colour")


def test_a_new_dimension_is_one_entry(monkeypatch, la):
    """Added to DIMENSIONS only, a dimension has its SQL, labels and top-services rule in the reports."""
    monkeypatch.setitem(
        DIMENSIONS,
        "agency",
        Dimension("agency", "Agency", "r.agency_key", lambda _, city: {"LAPD": "Police"}, "department", top=False),
    )
    assert dimension("agency").expression(la) == "r.agency_key"
    assert reports._names("agency", None, la) == {"LAPD": "Police"}
    with pytest.raises(FilterError, match="Top services per agency is not offered"):
        reports.top_services(None, la, RequestFilter(), per="agency")
