"""Priorities: parsed from the city file with clear errors, set on a request, kept in its history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.catalogue_file import Priority, parse_priorities
from core.errors import ConfigError
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import LifecycleError, set_priority
from service_requests.models import RequestEvent


def fail(table: str, problem: str) -> ConfigError:
    return ConfigError(f"{table}: {problem}")


def test_priorities_parse_with_labels():
    found = parse_priorities([{"name": "Emergency", "hours": 4}, {"name": "Routine"}], "departments #1", fail)
    assert found == (Priority("Emergency", 4), Priority("Routine"))
    assert [p.label for p in found] == ["Emergency: 4 hours", "Routine"]
    assert parse_priorities(None, "t", fail) == ()


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("Emergency", "must be a list"),
        ([{"hours": 4}], "needs a name"),
        ([{"name": "Emergency", "hours": 0}], "whole number of 1 or more"),
        ([{"name": "Emergency", "hours": "4h"}], "whole number"),
        ([{"name": "Emergency", "minutes": 4}], "unknown key"),
        ([{"name": "A"}, {"name": "A"}], "repeats"),
    ],
)
def test_bad_priorities_are_refused_naming_the_table(raw, problem):
    with pytest.raises(ConfigError, match=problem) as refused:
        parse_priorities(raw, "departments #2", fail)
    assert "departments #2" in str(refused.value)


def test_la_departments_have_priorities(la):
    assert la.catalogue.priorities["OCB"][0] == Priority("Emergency", 4)


def test_a_fixture_city_without_priorities_has_none(gardena):
    assert gardena.catalogue.departments and gardena.catalogue.priorities == {}


def test_set_priority_keeps_each_change_in_the_history(session, la, validator):
    request = create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti", channel="phone", address="2111 W Bellevue Ave", attributes={"surface": "wall"}
        ),
    ).request
    allowed = [p.name for p in la.catalogue.priorities["OCB"]]
    set_priority(session, request, "Emergency", allowed, "ocb:ana")
    set_priority(session, request, "Routine", allowed, "ocb:ana")
    with pytest.raises(LifecycleError, match="no priority 'Whenever'"):
        set_priority(session, request, "Whenever", allowed, "ocb:ana")
    with pytest.raises(LifecycleError, match="already Routine"):
        set_priority(session, request, "Routine", allowed, "ocb:ana")
    events = session.scalars(
        select(RequestEvent)
        .where(RequestEvent.request_id == request.id, RequestEvent.kind == "priority")
        .order_by(RequestEvent.id)
    ).all()
    assert [(e.data["from_priority"], e.data["to_priority"]) for e in events] == [
        (None, "Emergency"),
        ("Emergency", "Routine"),
    ]
    assert request.priority == "Routine"
