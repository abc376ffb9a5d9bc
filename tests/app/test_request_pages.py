"""The resident and staff forms and the public status page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from service_requests.models import ServiceRequest
from tests.helpers.translations import page_words


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(ServiceRequest))


def file_graffiti(client, **fields):
    data = {"address": "2111 W Bellevue Ave", "attribute[surface]": "wall", "description": "Tags", **fields}
    return client.post("/report/graffiti", data=data)


def test_the_catalogue_by_group(client):
    html = client.get("/report").get_data(as_text=True)
    assert "Graffiti Removal" in html and "Street lighting" in html and "48 hours" in html


def test_a_resident_files_and_follows_a_request(client, session, admin_client):
    response = file_graffiti(
        client,
        email="ana@example.org",
        phone="2135550100",
        first_name="Ana",
        response_method="email",
        description="<script>alert('x')</script>",
    )
    assert response.status_code == 303
    reference = re.search(r"/status/([0-9A-Z-]+)", response.headers["Location"]).group(1)
    page = client.get(f"/status/{reference}").get_data(as_text=True)
    assert "Graffiti Removal" in page and "Submitted" in page
    assert "2100 block of W BELLEVUE AVE" in page_words(page) and "2111" not in page  # where, not whose door
    assert "<script>alert" not in page  # the requester's words stay off
    staff = admin_client.get(f"/staff/requests/{reference}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in staff and "<script>alert" not in staff  # stored as text, escaped on display
    assert "ana@example.org" not in page and "2135550100" not in page and "Ana" not in page
    assert client.get(f"/status/{reference.lower()}").status_code == 200  # forgiving of how it is typed


def test_errors_name_the_field_and_keep_what_was_typed(client, session):
    before = count(session)
    response = file_graffiti(client, **{"attribute[surface]": "roof", "description": "Still there"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="error-attribute-surface"' in html and "is not one of the choices" in html
    assert "Still there" in html
    assert count(session) == before
    outside = file_graffiti(client, address="La Cienega Blvd & Blackwelder St")
    assert outside.status_code == 400 and "City of Culver City" in outside.get_data(as_text=True)
    assert count(session) == before


def test_a_resubmitted_form_makes_one_request(client, session):
    before = count(session)
    first = file_graffiti(client, idempotency_key="form-42")
    again = file_graffiti(client, idempotency_key="form-42")
    assert first.headers["Location"] == again.headers["Location"]
    assert count(session) == before + 1


def test_staff_record_the_channel(client_as, session):
    staff = client_as("intake")
    staff.post("/intake/channel", data={"channel": "walk_in"})  # chosen once per shift (app/web/requests.py)
    response = staff.post(
        "/intake/new/graffiti", data={"address": "2111 W Bellevue Ave", "attribute[surface]": "fence"}
    )
    assert response.status_code == 303
    short = re.search(r"/staff/requests/([0-9A-Z]+)$", response.headers["Location"]).group(1)
    assert session.scalar(select(ServiceRequest.channel).where(ServiceRequest.short_ref == short)) == "walk_in"


def test_references_cannot_be_enumerated(client):
    assert client.get("/status/1").status_code == 404
    assert client.get("/status/00000-00000-00000-00000-000000").status_code == 404
    assert client.post("/status", data={"reference": "1-870704831"}).status_code == 400  # not a public reference
    assert client.get("/status/1-870704831").status_code == 404  # the city's own number is no key either


def test_nearby_requests_for_the_form(client):
    file_graffiti(client)
    found = client.get("/api/requests/nearby?service=graffiti&lon=-118.2669&lat=34.0733").get_json()["nearby"]
    assert found and found[0]["address"] == "2100 block of W BELLEVUE AVE"
    assert client.get("/api/requests/nearby?service=graffiti&lon=x&lat=1").status_code == 400


def test_unknown_service_is_404(client):
    assert client.get("/report/teleportation").status_code == 404


HOSTILE = [
    {"idempotency_key": "k\x00ey"},
    {"idempotency_key": "k" * 10_000},
    {"media_url": "https://example.org/a\x00b"},
    {"lat": "1e309", "lon": "-118.2", "address": ""},
    {"lat": "", "lon": "abc", "address": ""},
    {"attribute[surface][]": ["wall", "fence"]},
    {"attribute[surface]": "wall\x00"},
    {"attribute[unknown]": "x"},
    {"description": "a\x00b" * 10},
    {"email": "a\x00@b.org", "response_method": "email"},
    {"address": "'; DROP TABLE service_request; --"},
    {"address_id": "' OR 1=1 --"},
    {"address_id": "x" * 5000},
    {"location_note": "<img src=x onerror=alert(1)>" * 100},
    {"response_method": ["email", "phone"]},
    {"first_name": "\u202e\u0000 Bobby"},
]


def test_hostile_form_input_never_breaks_the_server(client, session):
    before = count(session)
    for payload in HOSTILE:
        response = file_graffiti(client, **payload)
        assert response.status_code in (303, 400), (payload, response.status_code)
    stored = count(session) - before
    assert stored <= len(HOSTILE)  # what was accepted was accepted whole, the rest not at all
    for path in ("/status/%00", "/status/" + "A" * 5000, "/report/%00", "/api/requests/nearby?service=%00&lon=1&lat=1"):
        assert client.get(path).status_code in (200, 400, 404), path


def test_the_public_page_shows_no_free_text_of_the_requester(client, session, la, validator):
    from service_requests.intake import RequestInput, create_request

    request = create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti",
            channel="web",
            address="Jane Doe house, 12 Elm",
            lon=-118.26690,
            lat=34.07325,
            attributes={"surface": "wall"},
            description="Call me at 213 555 0100, I am Jane",
        ),
    ).request
    page = client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert "Jane" not in page and "555" not in page and "Elm" not in page


def test_a_public_status_change_without_a_note_reads_as_the_change(client, session, la, validator):
    from service_requests.intake import RequestInput, create_request
    from service_requests.lifecycle import change_status

    request = create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti", channel="web", address="2111 W Bellevue Ave", attributes={"surface": "wall"}
        ),
    ).request
    change_status(session, request, "in_progress", "crew", note=None, public=True)
    session.commit()
    page = client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert "None" not in page and "Status changed: In progress" in page
