"""Escalation: supervisors' accounts get the e-mail when they want it, the city file's address too,
imported history only when asked, the list, and an acknowledgement recorded once (against PostGIS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from accounts.escalations import escalate, supervisor_addresses
from accounts.users import UserFields, create_user, set_escalation_email
from core.errors import UserError
from service_requests.escalation import acknowledge, escalate_overdue, escalations
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import LifecycleError
from service_requests.models import Notification, RequestEvent, ServiceRequest
from tests.helpers.staff import PASSWORD


def late_graffiti(session, la, validator, hours_ago: int = 72) -> ServiceRequest:
    """A graffiti request (OCB, 48 hours) made ``hours_ago`` hours ago, so past due."""
    made = RequestInput(
        service_code="graffiti",
        channel="phone",
        address="2111 W Bellevue Ave",
        attributes={"surface": "wall"},
        actor="intake:maria",
        requested_at=datetime.now(UTC) - timedelta(hours=hours_ago),
    )
    return create_request(session, la, validator, made).request


def supervisor(session, username: str, email: str | None, wants: bool, department: str = "OCB", active=True):
    fields = UserFields(
        display_name=username.title(),
        role="supervisor",
        email=email,
        department_code=department,
        active=active,
        escalation_email=wants,
    )
    user = create_user(session, "la", username, PASSWORD, fields, actor="test")
    session.commit()
    return user


def recipients(session, request: ServiceRequest) -> set[str]:
    return set(session.scalars(select(Notification.recipient).where(Notification.request_id == request.id)))


def test_supervisors_who_want_it_and_the_city_file_address_get_the_email(session, la, validator):
    supervisor(session, "ines", "ines@city.example", wants=True)
    supervisor(session, "omar", "omar@city.example", wants=False)  # did not ask for it
    supervisor(session, "pia", "pia@city.example", wants=True, department="BSL")  # another department
    supervisor(session, "quinn", "quinn@city.example", wants=True, active=False)  # disabled
    request = late_graffiti(session, la, validator)
    assert supervisor_addresses(session, "la")["OCB"] == ["ines@city.example"]
    assert escalate(session, "la") >= 1
    assert recipients(session, request) == {"ines@city.example", "ocb.supervisor@example.org"}
    event = session.scalar(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "escalated")
    )
    assert event is not None and sorted(event.data["recipients"]) == ["ines@city.example", "ocb.supervisor@example.org"]
    assert escalate(session, "la") == 0  # once
    assert len(recipients(session, request)) == 2


def test_without_a_city_file_address_only_the_accounts_are_written_to(session, la, validator):
    session.execute(text("UPDATE department SET supervisor_email = NULL WHERE city = 'la' AND code = 'OCB'"))
    session.commit()
    request = late_graffiti(session, la, validator)
    escalate_overdue(session, "la", supervisors={"OCB": ["Ines@City.example", "ines@city.example"]})
    assert recipients(session, request) == {"Ines@City.example"}  # one address once, whatever its case


def test_an_account_without_an_address_cannot_ask_for_the_email(session):
    user = supervisor(session, "rui", None, wants=False)
    with pytest.raises(UserError, match="need an e-mail address"):
        set_escalation_email(session, user, True, actor="rui")
    set_escalation_email(session, user, False, actor="rui")  # turning it off is always allowed


def _imported_escalated(session) -> int:
    return session.scalar(
        select(func.count()).where(ServiceRequest.source == "import", ServiceRequest.escalated_at.is_not(None))
    )


def test_imported_history_is_escalated_only_when_asked(session):
    stale = session.scalar(
        select(func.count()).where(
            ServiceRequest.city == "la",
            ServiceRequest.source == "import",
            ServiceRequest.is_open,
            ServiceRequest.due_at < func.now(),
        )
    )
    assert stale > 0
    escalate(session, "la")
    assert _imported_escalated(session) == 0
    escalated = escalate(session, "la", include_imported=True)
    assert escalated >= min(stale, 5000) and _imported_escalated(session) == min(stale, 5000)


def test_the_list_holds_escalated_and_overdue_requests_of_the_department(session, la, validator):
    late = late_graffiti(session, la, validator, hours_ago=24 * 9)
    fresh = late_graffiti(session, la, validator, hours_ago=1)
    rows = {row.request.id: row for row in escalations(session, "la", department="OCB")}
    assert late.id in rows and fresh.id not in rows
    assert rows[late.id].days_late >= 6 and not rows[late.id].acknowledged  # 9 days old, due after 48 hours
    assert late.id not in {row.request.id for row in escalations(session, "la", department="BSL")}


def test_an_acknowledgement_is_recorded_once(session, la, validator):
    request = late_graffiti(session, la, validator)
    with pytest.raises(LifecycleError, match="not escalated"):
        acknowledge(session, request, "ocb:sam")
    escalate(session, "la")
    acknowledge(session, request, "ocb:sam", "Crew sent\r\ntomorrow")
    assert (request.escalation_ack_by, request.escalation_ack_at is not None) == ("ocb:sam", True)
    with pytest.raises(LifecycleError, match="already acknowledged by ocb:sam"):
        acknowledge(session, request, "ocb:lee")
    events = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "escalation_ack")
    ).all()
    assert [(e.actor, e.note) for e in events] == [("ocb:sam", "Crew sent\ntomorrow")]
    rows = escalations(session, "la", department="OCB")
    assert next(r for r in rows if r.request.id == request.id).acknowledged
    # unacknowledged escalations come first
    assert [r.acknowledged for r in rows] == sorted(r.acknowledged for r in rows)
