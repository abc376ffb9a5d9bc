"""Staff pages: a request's record and actions, the overdue view, the catalogue admin."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.service_requests.intake import RequestInput, create_request
from app.service_requests.models import RequestEvent, ServiceRecord


def make(session, la, validator, **changes):
    base = dict(service_code="graffiti", channel="phone", address="2111 W Bellevue Ave",
                attributes={"surface": "wall"}, email="ana@example.org")
    return create_request(session, la, validator, RequestInput(**{**base, **changes})).request


def test_the_record_shows_contact_and_history_to_staff(client, session, la, validator):
    request = make(session, la, validator)
    html = client.get(f"/staff/requests/{request.public_ref}").get_data(as_text=True)
    assert "ana@example.org" in html and "created" in html and "Change status" in html


def test_actions_append_to_the_history(client, session, la, validator):
    request = make(session, la, validator)
    url = f"/staff/requests/{request.public_ref}"
    assert client.post(url, data={"action": "status", "status": "in_progress", "note": "Crew sent", "public": "1"}).status_code == 303
    refused = client.post(url, data={"action": "status", "status": "cancelled"})
    assert refused.status_code == 400 and "needs a note" in refused.get_data(as_text=True)
    assert client.post(url, data={"action": "reassign", "department": "BSS", "reason": "Sidewalk"}).status_code == 303
    assert client.post(url, data={"action": "status", "status": "fixed", "note": "Done"}).status_code == 303
    assert client.post(url, data={"action": "reopen", "reason": "Back again"}).status_code == 303
    kinds = session.scalars(select(RequestEvent.kind).where(RequestEvent.request_id == request.id)
                            .order_by(RequestEvent.id)).all()
    assert kinds == ["created", "assigned", "status", "assigned", "status", "reopened"]
    public = client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert "Crew sent" in public and "Sidewalk" not in public  # reassignment reasons are internal


def test_mark_duplicate_by_reference(client, session, la, validator):
    original, copy = make(session, la, validator), make(session, la, validator)
    response = client.post(f"/staff/requests/{copy.public_ref}", data={"action": "duplicate", "original": original.public_ref})
    assert response.status_code == 303
    session.refresh(copy)
    assert copy.duplicate_of == original.id and copy.status == "duplicate"


def test_overdue_view(client, session, la, validator):
    late = make(session, la, validator, requested_at=datetime.now(timezone.utc) - timedelta(days=5))
    html = client.get("/staff/overdue?department=OCB").get_data(as_text=True)
    assert late.public_ref in html


def test_catalogue_admin_changes_new_requests_only(client, session, la, validator):
    before = make(session, la, validator)
    form = {"code": "graffiti", "sla_amount": "24", "sla_unit": "hours", "department_code": "OCB",
            "contact_policy": "ask", "location_policy": "required", "active": "1"}
    assert client.post("/staff/services", data=form).status_code == 303
    assert session.scalar(select(ServiceRecord.sla_hours).where(ServiceRecord.city == "la",
                                                                ServiceRecord.code == "graffiti")) == 24
    assert make(session, la, validator).service_level == "24 hours"
    session.refresh(before)
    assert before.service_level == "48 hours"
    bad = client.post("/staff/services", data={**form, "sla_amount": "-3"})
    assert bad.status_code == 400 and "whole number" in bad.get_data(as_text=True)
