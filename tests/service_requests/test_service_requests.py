"""Service requests: intake rules, routing, service levels, duplicates, lifecycle and history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core.catalogue_file import ServiceLevel
from service_requests.escalation import escalate_overdue
from service_requests.intake import IntakeError, RequestInput, create_request
from service_requests.lifecycle import (
    LifecycleError,
    change_status,
    mark_duplicate,
    overdue,
    reassign,
    reopen,
)
from service_requests.models import Notification, RequestContact, RequestEvent, ServiceRecord, ServiceRequest
from service_requests.references import normalize_reference
from service_requests.service_levels import due_at

LA_TZ = ZoneInfo("America/Los_Angeles")


def graffiti(**changes) -> RequestInput:
    base = dict(
        service_code="graffiti",
        channel="phone",
        address="2111 W Bellevue Ave",
        attributes={"surface": "wall"},
        description="Tags on the garage door",
        actor="intake:maria",
    )
    return RequestInput(**{**base, **changes})


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(ServiceRequest))


def test_a_request_is_validated_routed_and_given_a_due_date(session, la, validator):
    created = create_request(session, la, validator, graffiti(email="ana@example.org", response_method="email"))
    request = created.request
    assert request.status == "submitted" and request.is_open
    assert request.department_code == "OCB"
    assert request.address == "2111 W BELLEVUE AVE, 90026" and request.address_id
    assert (request.ward_key, request.district_key) == ("13", "100")
    assert request.location_quality == "address"
    assert request.service_level == "48 hours"
    assert request.due_at - request.requested_at == timedelta(hours=48)
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{5}-){4}[0-9A-HJKMNP-TV-Z]{6}", request.public_ref)
    events = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    ).all()
    assert [(e.kind, e.actor) for e in events] == [("created", "intake:maria"), ("assigned", "routing")]
    notice = session.scalar(select(Notification).where(Notification.request_id == request.id))
    assert notice.recipient == "ana@example.org" and request.public_ref in notice.body


def test_references_cannot_be_guessed_from_one_another(session, la, validator):
    refs = {create_request(session, la, validator, graffiti(description=str(i))).request.public_ref for i in range(20)}
    assert len(refs) == 20
    assert normalize_reference(next(iter(refs)).lower().replace("-", " ")) in refs
    assert normalize_reference("1") is None and normalize_reference("' OR 1=1") is None


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"service_code": "graffitti"}, "service_code", "There is no service 'graffitti'"),
        ({"attributes": {}}, "attribute[surface]", "Please answer: Where is the graffiti?"),
        ({"attributes": {"surface": "roof"}}, "attribute[surface]", "'roof' is not one of the choices"),
        ({"attributes": {"surface": "wall", "color": "red"}}, "attribute[color]", "has no question 'color'"),
        ({"address": None}, "location", "needs a location"),
        (
            {"address": "La Cienega Blvd & Blackwelder St"},
            "address",
            "City of Culver City. Contact them at (310) 253-6000",
        ),
        ({"address": None, "lon": -118.4004, "lat": 34.0736}, "location", "City of Beverly Hills"),
        ({"address": None, "lon": -117.0, "lat": 36.0}, "location", "lies beyond every area this system knows"),
        ({"address": None, "lon": "nan", "lat": 34}, "location", "finite"),
        ({"address": "2113 W Bellevue Ave"}, "address", "no number 2113"),
        ({"address": "326 Bonnie Brae St"}, "address", "Candidates: 326 "),
        ({"description": "x" * 4001}, "description", "4,001 characters"),
        ({"email": "not-an-email", "response_method": "email"}, "email", "is not an e-mail address"),
        ({"response_method": "email"}, "email", "give an e-mail address"),
        ({"channel": "pigeon"}, "channel", "The channel must be one of"),
        ({"media_url": "javascript:alert(1)"}, "media_url", "http(s)"),
        ({"media_url": "https://example.org/a\x00b"}, "media_url", "http(s)"),
        ({"idempotency_key": "k\x00ey"}, "idempotency_key", "An idempotency key is 1 to 200 printable characters."),
        ({"idempotency_key": "k" * 201}, "idempotency_key", "An idempotency key is"),
        ({"service_code": "graffiti\x00"}, "service_code", "There is no service"),
    ],
)
def test_bad_requests_name_the_field_and_store_nothing(session, la, validator, changes, field, message):
    before = count(session)
    with pytest.raises(IntakeError, match=re.escape(message)) as caught:
        create_request(session, la, validator, graffiti(**changes))
    assert caught.value.field == field
    assert count(session) == before


def test_required_contact(session, la, validator):
    bulky = RequestInput(
        service_code="bulky-items",
        channel="web",
        address="2111 W Bellevue Ave",
        attributes={"items": ["mattress", "furniture"]},
    )
    with pytest.raises(IntakeError, match="needs a way to reach you"):
        create_request(session, la, validator, bulky)
    bulky.phone = "(213) 555-0199"
    request = create_request(session, la, validator, bulky).request
    assert request.attributes == {"items": ["furniture", "mattress"]}
    assert request.service_level == "5 business days"


def test_html_is_stored_as_text(session, la, validator):
    request = create_request(session, la, validator, graffiti(description="<script>alert('x')</script> & more")).request
    assert session.get(ServiceRequest, request.id).description == "<script>alert('x')</script> & more"


def test_sensitive_services_keep_no_contact_at_all(session, la, validator):
    session.add(
        ServiceRecord(
            city="la",
            code="staff-complaint",
            name="Complaint about staff",
            department="ITA",
            sla_business_days=10,
            contact="never",
            location="none",
            attributes=[],
            keywords=[],
            active=True,
        )
    )
    session.commit()
    request = create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="staff-complaint",
            channel="web",
            description="Rude at the counter",
            first_name="Ana",
            email="ana@example.org",
            phone="2135550100",
            response_method="email",
        ),
    ).request
    assert session.get(RequestContact, request.id) is None
    assert request.response_method == "none"
    assert (
        session.scalar(select(func.count()).select_from(Notification).where(Notification.request_id == request.id)) == 0
    )


def test_general_location_for_services_that_allow_it(session, la, validator):
    request = create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="homeless-encampment",
            channel="phone",
            attributes={"what_to_report": "blocking"},
            location_note="Under the 101 overpass near Alvarado",
        ),
    ).request
    assert request.location_quality == "general" and request.geom is None


def test_staff_may_pick_the_point_when_the_address_is_unknown(session, la, validator):
    request = create_request(
        session, la, validator, graffiti(address="2113 W Bellevue Ave", lon=-118.26690, lat=34.07325)
    ).request
    assert request.location_quality == "point"
    assert request.typed_address == "2113 W Bellevue Ave"  # as typed, kept for staff: the point is what was checked
    assert request.address == "near the 2100 block of W BELLEVUE AVE"  # the point's public place
    assert request.ward_key == "13"


def test_nearby_open_requests_of_the_same_service(session, la, validator):
    first = create_request(session, la, validator, graffiti()).request
    second = create_request(session, la, validator, graffiti(address=None, lon=-118.2672, lat=34.0734))
    assert [n.public_ref for n in second.nearby] == [first.public_ref]
    assert second.nearby[0].distance_m < 250
    other = create_request(
        session, la, validator, RequestInput(service_code="dead-animal", channel="phone", address="2111 W Bellevue Ave")
    )
    assert other.nearby == []  # another service is another problem


def test_idempotency_key_makes_one_request(session, la, validator):
    first = create_request(session, la, validator, graffiti(idempotency_key="app-123"))
    again = create_request(session, la, validator, graffiti(idempotency_key="app-123"))
    assert again.created is False and again.request.id == first.request.id


def test_lifecycle_with_history(session, la, validator):
    request = create_request(session, la, validator, graffiti(phone="2135550100", response_method="phone")).request
    change_status(session, request, "acknowledged", "ocb:lee")
    change_status(session, request, "scheduled", "ocb:lee", "Crew on Thursday")
    with pytest.raises(LifecycleError, match="needs a note"):
        change_status(session, request, "cancelled", "ocb:lee")
    change_status(session, request, "fixed", "crew:7", "Painted over")
    session.refresh(request)
    assert (request.status, request.is_open) == ("fixed", False) and request.closed_at is not None
    with pytest.raises(LifecycleError, match="reopen it first"):
        change_status(session, request, "in_progress", "ocb:lee")
    reopen(session, request, "intake:maria", "Caller says the tags are back")
    assert request.status == "submitted" and request.closed_at is None
    reassign(session, request, "ocb:chief", "Wrong crew area", assignee="crew:9")
    kinds = session.scalars(
        select(RequestEvent.kind).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    ).all()
    assert kinds == ["created", "assigned", "status", "status", "status", "reopened", "assigned"]
    assert session.scalar(select(Notification.method).where(Notification.request_id == request.id)) == "phone"


def test_history_is_append_only(session, la, validator):
    request = create_request(session, la, validator, graffiti()).request
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(
                text("UPDATE request_event SET note = 'rewritten' WHERE request_id = :id"), {"id": request.id}
            )
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("DELETE FROM request_event WHERE request_id = :id"), {"id": request.id})


def test_duplicates_point_at_the_original(session, la, validator):
    original = create_request(session, la, validator, graffiti()).request
    copy = create_request(session, la, validator, graffiti()).request
    third = create_request(session, la, validator, graffiti()).request
    mark_duplicate(session, copy, original, "ocb:lee")
    mark_duplicate(session, third, copy, "ocb:lee")
    assert (copy.status, copy.duplicate_of) == ("duplicate", original.id)
    assert third.duplicate_of == original.id  # a chain collapses onto the original
    with pytest.raises(LifecycleError, match="cannot duplicate itself"):
        fresh = create_request(session, la, validator, graffiti()).request
        mark_duplicate(session, fresh, fresh, "ocb:lee")


def test_overdue_requests_escalate_to_the_supervisor_once(session, la, validator):
    request = create_request(
        session, la, validator, graffiti(requested_at=datetime.now(UTC) - timedelta(hours=72))
    ).request
    assert request in overdue(session, "la", department="OCB")
    assert escalate_overdue(session, "la") >= 1
    notice = session.scalar(
        select(Notification).where(
            Notification.request_id == request.id, Notification.recipient == "ocb.supervisor@example.org"
        )
    )
    assert notice is not None and "Overdue" in notice.subject
    assert escalate_overdue(session, "la") == 0


def test_changing_a_service_level_does_not_rewrite_history(session, la, validator):
    request = create_request(session, la, validator, graffiti()).request
    session.execute(text("UPDATE service SET sla_hours = 4 WHERE city = 'la' AND code = 'graffiti'"))
    session.commit()
    assert session.get(ServiceRequest, request.id).service_level == "48 hours"
    assert create_request(session, la, validator, graffiti()).request.service_level == "4 hours"


@pytest.mark.parametrize(
    "made,days,expected",
    [
        ("2026-11-20 15:00", 2, "2026-11-24 15:00"),  # Friday afternoon + 2 business days: Tuesday afternoon
        ("2026-11-21 11:00", 1, "2026-11-24 08:00"),  # Saturday: the clock starts Monday 08:00
        ("2026-11-23 09:30", 5, "2026-11-30 09:30"),  # Monday + 5: next Monday
    ],
)
def test_business_days(made, days, expected):
    start = datetime.fromisoformat(made).replace(tzinfo=LA_TZ)
    due = due_at(start, ServiceLevel(business_days=days), LA_TZ)
    assert due.strftime("%Y-%m-%d %H:%M") == expected


def test_bulk_due_dates_follow_the_same_rule():
    import pandas as pd

    moments = pd.Series(pd.date_range("2026-11-16 00:30", periods=400, freq="7h17min", tz="UTC"))
    for level in (ServiceLevel(business_days=1), ServiceLevel(business_days=5), ServiceLevel(hours=48)):
        hours = pd.Series([level.hours or 0] * len(moments))
        days = pd.Series([level.business_days] * len(moments), dtype="float")
        from service_requests.service_levels import due_at_many

        bulk = due_at_many(moments, hours, days, LA_TZ)
        one_by_one = [due_at(m.to_pydatetime(), level, LA_TZ) for m in moments]
        assert [b.to_pydatetime() for b in bulk] == one_by_one


def test_a_reused_key_with_other_content_is_refused_not_swallowed(session, la, validator):
    create_request(session, la, validator, graffiti(idempotency_key="form-7", description="first caller"))
    with pytest.raises(IntakeError, match="as a different request") as caught:
        create_request(session, la, validator, graffiti(idempotency_key="form-7", description="second caller"))
    assert caught.value.field == "idempotency_key"


def test_a_reused_key_with_another_place_or_answer_is_refused_and_the_same_body_replays(session, la, validator):
    # Issue 21, item 6: the same key with a different body silently returned the first request.
    first = create_request(session, la, validator, graffiti(idempotency_key="app-9")).request
    for changed in (
        graffiti(idempotency_key="app-9", address="2100 W Bellevue Ave"),
        graffiti(idempotency_key="app-9", attributes={"surface": "sign"}),
        graffiti(idempotency_key="app-9", email="other@example.org", response_method="email"),
    ):
        with pytest.raises(IntakeError, match="as a different request"):
            create_request(session, la, validator, changed)
    again = create_request(session, la, validator, graffiti(idempotency_key="app-9"))
    assert again.created is False and again.request.id == first.id


def test_imported_history_is_not_escalated(session):
    stale = session.execute(
        text(
            "SELECT count(*) FROM service_request WHERE city = 'la' AND source = 'import' "
            "AND is_open AND due_at < now()"
        )
    ).scalar()
    assert stale > 0  # the 2017 and 2020 samples hold open requests long past due
    escalate_overdue(session, "la")
    assert (
        session.execute(
            text("SELECT count(*) FROM service_request WHERE source = 'import' AND escalated_at IS NOT NULL")
        ).scalar()
        == 0
    )


def test_backoff_is_capped_however_often_delivery_failed():
    from service_requests.notifications import MAX_BACKOFF

    assert min(MAX_BACKOFF, timedelta(minutes=2 ** min(60, 9))) == MAX_BACKOFF
