"""The supervisors' pages (escalations, overdue), the account's e-mail setting, times in the city's zone, ward order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from accounts.escalations import escalate
from accounts.models import StaffUser
from service_requests.intake import RequestInput, create_request
from service_requests.models import RequestEvent, ServiceRequest
from service_requests.selection import FilterChoices, filter_choices, natural_key


def late(session, la, validator, service="graffiti", hours_ago=24 * 5) -> ServiceRequest:
    made = RequestInput(
        service_code=service,
        channel="phone",
        address="2111 W Bellevue Ave",
        attributes={"surface": "wall"} if service == "graffiti" else {},
        actor="intake:maria",
        requested_at=datetime.now(UTC) - timedelta(hours=hours_ago),
    )
    return create_request(session, la, validator, made).request


def test_a_supervisor_lists_and_acknowledges_an_escalation(client_as, session, la, validator):
    request = late(session, la, validator)
    escalate(session, "la")
    client = client_as("supervisor", department_code="OCB")
    html = client.get("/staff/escalations").get_data(as_text=True)
    assert request.short_ref_shown in html and "days late" in html and "Acknowledge" in html
    answer = client.post(
        f"/staff/escalations/{request.public_ref}/acknowledge", data={"note": "Crew on it"}, follow_redirects=True
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert f"Escalation of {request.short_ref_shown} acknowledged." in html
    session.expire_all()
    event = session.scalar(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "escalation_ack")
    )
    assert event is not None and event.note == "Crew on it" and event.actor.startswith("supervisor")
    again = client.post(f"/staff/escalations/{request.public_ref}/acknowledge", data={"note": "twice"})
    assert again.status_code == 400 and "already acknowledged" in again.get_data(as_text=True)
    missing = client.post("/staff/escalations/NOPE-NOPE/acknowledge", data={})
    assert missing.status_code == 400 and "No request" in missing.get_data(as_text=True)


def test_escalations_stay_within_the_department(client_as, session, la, validator):
    request = late(session, la, validator)
    escalate(session, "la")
    other = client_as("supervisor", department_code="BSL")
    assert request.short_ref_shown not in other.get("/staff/escalations?department=OCB").get_data(as_text=True)
    refused = other.post(f"/staff/escalations/{request.public_ref}/acknowledge", data={})
    assert refused.status_code == 400 and request.escalation_ack_at is None
    assert client_as("department").get("/staff/escalations").status_code == 403
    admin = client_as("admin")
    assert request.short_ref_shown in admin.get("/staff/escalations?department=OCB").get_data(as_text=True)


def test_the_overdue_picker_has_a_visible_button_and_no_inline_script(client_as, session, la, validator):
    late(session, la, validator)
    html = client_as("admin").get("/staff/overdue?department=OCB").get_data(as_text=True)
    assert "onchange" not in html and "<noscript>" not in html
    assert '<button type="submit">Show</button>' in html and "submit-on-change.js" in html
    assert "in OCB" in html and "3 days late" in html  # made 5 days ago, due after 48 hours


def test_a_supervisor_turns_escalation_emails_on_and_off(client_as, session):
    client = client_as("supervisor")
    username = session.scalars(select(StaffUser.username).order_by(StaffUser.id.desc())).first()
    refused = client.post("/account/escalation-email", data={"escalation_email": "1"})
    assert refused.status_code == 400 and "need an e-mail address" in refused.get_data(as_text=True)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    user.email = "sup@city.example"
    session.commit()
    assert "you get escalation" in client.post("/account/escalation-email", data={"escalation_email": "1"}).get_data(
        as_text=True
    )
    session.expire_all()
    assert session.scalar(select(StaffUser.escalation_email).where(StaffUser.username == username)) is True


def test_last_login_is_shown_in_the_city_zone(admin_client, session):
    user = session.scalars(select(StaffUser).where(StaffUser.last_login_at.is_not(None))).first()
    html = admin_client.get("/admin/users").get_data(as_text=True)
    local = user.last_login_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Los_Angeles"))
    assert f"{local:%Y-%m-%d %H:%M} {local:%Z}" in html


def test_numbers_sort_as_numbers():
    assert sorted(["10", "2", "1", "Ward 10", "Ward 9"], key=natural_key) == ["1", "2", "10", "Ward 9", "Ward 10"]
    choices = FilterChoices(wards={"04": "Four", "4a": "Other", "10": "Ten"})
    assert choices.area_key("wards", "4") == "04"
    assert choices.area_key("wards", "04") == "04" and choices.area_key("wards", "010") == "10"
    assert choices.area_key("wards", "5") is None and choices.area_key("wards", "") is None


def test_ward_lists_are_in_number_order_and_reachable_without_the_zero(admin_client, session, la):
    wards = filter_choices(session, la).wards
    names = list(wards.values())
    assert names == sorted(names, key=natural_key)
    padded = next(key for key in wards if key.startswith("0"))
    short = str(int(padded))
    answer = admin_client.get(f"/maps/wards/{short}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/maps/wards/{padded}")
    assert admin_client.get(f"/maps/wards/{padded}").status_code == 200
    assert admin_client.get("/maps/wards/987654").status_code == 404
