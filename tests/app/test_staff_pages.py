"""Staff pages: a request's record and actions, the overdue view, the catalogue admin."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.web.staff import service_entry_from_form
from core.catalogue_file import Service
from service_requests.models import RequestEvent, ServiceRecord
from tests.helpers.requests import file_graffiti


def make(session, la, validator, **changes):
    return file_graffiti(session, la, validator, **{"email": "ana@example.org", **changes})


def test_the_record_shows_contact_and_history_to_staff(admin_client, session, la, validator):
    request = make(session, la, validator)
    html = admin_client.get(f"/staff/requests/{request.public_ref}").get_data(as_text=True)
    assert "ana@example.org" in html and "Created" in html and "Change status" in html


def test_actions_append_to_the_history(admin_client, session, la, validator):
    request = make(session, la, validator)
    url = f"/staff/requests/{request.public_ref}"
    assert (
        admin_client.post(
            url, data={"action": "status", "status": "in_progress", "note": "Crew sent", "public": "1"}
        ).status_code
        == 303
    )
    refused = admin_client.post(url, data={"action": "status", "status": "cancelled"})
    assert refused.status_code == 400 and "needs a note" in refused.get_data(as_text=True)
    assert (
        admin_client.post(url, data={"action": "reassign", "department": "BSS", "reason": "Sidewalk"}).status_code
        == 303
    )
    assert admin_client.post(url, data={"action": "status", "status": "fixed", "note": "Done"}).status_code == 303
    assert admin_client.post(url, data={"action": "reopen", "reason": "Back again"}).status_code == 303
    kinds = session.scalars(
        select(RequestEvent.kind).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    ).all()
    assert kinds == ["created", "assigned", "status", "assigned", "status", "reopened"]
    public = admin_client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert "Crew sent" in public and "Sidewalk" not in public  # reassignment reasons are internal


def test_mark_duplicate_by_reference(admin_client, session, la, validator):
    original, copy = make(session, la, validator), make(session, la, validator)
    response = admin_client.post(
        f"/staff/requests/{copy.public_ref}", data={"action": "duplicate", "original": original.public_ref}
    )
    assert response.status_code == 303
    session.refresh(copy)
    assert copy.duplicate_of == original.id and copy.status == "duplicate"


def test_overdue_view(admin_client, session, la, validator):
    late = make(session, la, validator, requested_at=datetime.now(UTC) - timedelta(days=5))
    html = admin_client.get("/staff/overdue?department=OCB").get_data(as_text=True)
    assert late.public_ref in html


GRAFFITI_FORM = {
    "name": "Graffiti Removal",
    "description": "Paint on walls.",
    "group": "Beautification",
    "keywords": "tagging, paint",
    "department": "OCB",
    "default_assignee": "",
    "sla_amount": "24",
    "sla_unit": "hours",
    "contact": "ask",
    "location": "required",
    "active": "1",
    "attribute_count": "2",
    "attribute-0-code": "surface",
    "attribute-0-description": "Where is the graffiti?",
    "attribute-0-datatype": "singlevaluelist",
    "attribute-0-required": "1",
    "attribute-0-order": "1",
    "attribute-0-values": "wall = Building wall\nfence = Fence\nother = Other",
}


def test_catalogue_admin_changes_new_requests_only(admin_client, session, la, validator):
    before = make(session, la, validator)
    page = admin_client.get("/staff/services/graffiti").get_data(as_text=True)
    assert "Where is the graffiti?" in page and "wall = Building wall" in page
    assert admin_client.post("/staff/services/graffiti", data=GRAFFITI_FORM).status_code == 303
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == "la", ServiceRecord.code == "graffiti"))
    assert record.sla_hours == 24 and record.edited_by.startswith("admin") and record.keywords == ["tagging", "paint"]
    assert [v["key"] for v in record.attributes[0]["values"]] == ["wall", "fence", "other"]
    assert make(session, la, validator).service_level == "24 hours"
    session.refresh(before)
    assert before.service_level == "48 hours"
    bad = admin_client.post("/staff/services/graffiti", data={**GRAFFITI_FORM, "sla_amount": "-3"})
    assert bad.status_code == 400 and "service_level" in bad.get_data(as_text=True)


def test_catalogue_admin_edits_questions(admin_client, session):
    form = {
        **GRAFFITI_FORM,
        "attribute-1-code": "pole_number",
        "attribute-1-description": "Pole number",
        "attribute-1-datatype": "string",
        "attribute-1-order": "2",
    }
    assert admin_client.post("/staff/services/graffiti", data=form).status_code == 303
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == "la", ServiceRecord.code == "graffiti"))
    assert [a["code"] for a in record.attributes] == ["surface", "pole_number"]
    removed = {**form, "attribute-0-delete": "1"}
    assert admin_client.post("/staff/services/graffiti", data=removed).status_code == 303
    session.refresh(record)
    assert [a["code"] for a in record.attributes] == ["pole_number"]
    for broken, message in [
        ({"attribute-1-datatype": "multivaluelist"}, "needs values"),
        ({"attribute-1-code": "surface"}, "same code"),
        ({"attribute-1-code": "no spaces"}, "letters, digits and _"),
        ({"department": "NOPE"}, "NOPE"),
    ]:
        response = admin_client.post("/staff/services/graffiti", data={**form, **broken})
        assert response.status_code == 400 and message in response.get_data(as_text=True), broken
    session.refresh(record)
    assert [a["code"] for a in record.attributes] == ["pole_number"]  # nothing stored from a refused form


def test_catalogue_admin_adds_a_service_and_sync_keeps_edits(admin_client, session, la):
    from service_requests.catalogue_db import get_service, sync_catalogue

    form = {**GRAFFITI_FORM, "code": "mural-damage", "name": "Mural damage", "attribute_count": "0"}
    assert admin_client.post("/staff/services/new", data=form).status_code == 303
    assert get_service(session, "la", "mural-damage").name == "Mural damage"
    again = admin_client.post("/staff/services/new", data=form)
    assert again.status_code == 400 and "already a service" in again.get_data(as_text=True)
    assert admin_client.post("/staff/services/graffiti", data=GRAFFITI_FORM).status_code == 303
    sync_catalogue(session, la)
    assert get_service(session, "la", "graffiti").service_level.hours == 24  # the edit survives a sync
    sync_catalogue(session, la, overwrite_edits=True)
    assert get_service(session, "la", "graffiti").service_level.hours == 48
    assert admin_client.get("/staff/services/nothing-here").status_code == 404


def test_the_admin_form_speaks_the_city_file_shape(la):
    """The form's entry has only fields of the catalogue's Service (and active); what it lacks, an edit keeps."""
    entry = service_entry_from_form({}, "graffiti")
    assert set(entry) - {"active"} <= {f.name for f in fields(Service)}
    graffiti = la.catalogue.services["graffiti"]
    assert set(graffiti.as_entry()) - set(entry) == {"source_name"}  # kept by catalogue_db.save_service
