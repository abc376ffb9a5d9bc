"""Long text with line breaks: a CRLF, as browsers send a textarea's line breaks, is one character.

A description of exactly 4,000 characters written over 40 lines is accepted by the web
form and by Open311 POST and stored with LF line breaks; one character more is refused
with a sentence. Staff notes and service descriptions have the same limit and the same rule (notes are
refused, not cut, when too long).
"""

from __future__ import annotations

import re

from sqlalchemy import select

from core.states import MAX_DESCRIPTION
from core.text import normalise_newlines
from service_requests.models import RequestEvent, ServiceRecord, ServiceRequest
from tests.app.test_request_pages import count, file_graffiti
from tests.app.test_staff_pages import GRAFFITI_FORM, make
from tests.open311.test_open311 import api_client_and_key, api_key, post  # noqa: F401 (fixtures)

LINES = ["x" * 99] * 40
FULL = "\r\n".join(LINES) + "y"  # 40 * 99 letters, 39 line breaks and one more letter: 4,000 characters
STORED = FULL.replace("\r\n", "\n")


def test_the_text_is_as_long_as_it_reads():
    assert len(FULL) == MAX_DESCRIPTION + 39 and len(STORED) == MAX_DESCRIPTION
    assert normalise_newlines("a\r\nb\rc\n\r\nd") == "a\nb\nc\n\nd"


def test_the_web_form_accepts_4000_characters_with_line_breaks(client, session):
    response = file_graffiti(client, description=FULL)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    reference = re.search(r"/status/([0-9A-Z-]+)", response.headers["Location"]).group(1)
    stored = session.scalars(select(ServiceRequest.description).where(ServiceRequest.public_ref == reference)).one()
    assert stored == STORED


def test_the_web_form_refuses_one_character_more_and_keeps_the_text(client, session):
    before = count(session)
    response = file_graffiti(client, description=FULL + "z")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "4,001 characters" in html and "x" * 99 in html
    assert count(session) == before


def test_open311_accepts_4000_characters_with_line_breaks(client, session, api_key):  # noqa: F811
    response = post(client, api_key, description=FULL)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    reference = response.get_json()[0]["service_request_id"]
    stored = session.scalars(select(ServiceRequest.description).where(ServiceRequest.public_ref == reference)).one()
    assert stored == STORED
    too_long = post(client, api_key, description=FULL + "z")
    assert too_long.status_code == 400 and "4,001 characters" in too_long.get_data(as_text=True)


def test_a_staff_note_of_4000_characters_with_line_breaks(admin_client, session, la, validator):
    request = make(session, la, validator)
    url = f"/staff/requests/{request.public_ref}"
    assert admin_client.post(url, data={"action": "note", "note": FULL}).status_code == 303
    notes = session.scalars(
        select(RequestEvent.note).where(RequestEvent.request_id == request.id, RequestEvent.kind == "note")
    ).all()
    assert notes == [STORED]
    refused = admin_client.post(url, data={"action": "note", "note": FULL + "z"})
    assert refused.status_code == 400 and "4,001 characters" in refused.get_data(as_text=True)
    assert session.scalars(
        select(RequestEvent.note).where(RequestEvent.request_id == request.id, RequestEvent.kind == "note")
    ).all() == [STORED]


def test_a_service_description_of_4000_characters_with_line_breaks(admin_client, session):
    assert admin_client.post("/staff/services/graffiti", data={**GRAFFITI_FORM, "description": FULL}).status_code == 303
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == "la", ServiceRecord.code == "graffiti"))
    assert record.description == STORED  # whole, not cut 39 characters short
