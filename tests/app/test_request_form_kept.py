"""The request form sent back with an error keeps what was typed, and marks its fields for everyone (issue 20).

Each kind of error (a missing answer, a bad e-mail, a refused address, a replayed idempotency key,
a missing contact) re-renders the form; the HTML is read back with a parser, control by control.
"""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from app.factory import create_app
from service_requests.models import ServiceRequest
from tests.helpers.staff import CsrfClient

BELLEVUE = "2111 W Bellevue Ave"


class _Controls(HTMLParser):
    """Every form control of a page by its name (lists for repeated names), and elements by id."""

    def __init__(self) -> None:
        super().__init__()
        self.by_name: dict[str, list[dict]] = {}
        self.by_id: dict[str, dict] = {}
        self._open: dict | None = None  # a textarea being read
        self._select: dict | None = None  # the select whose options are being read

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        a["tag"] = tag
        if "id" in a:
            self.by_id[a["id"]] = a
        if tag in ("input", "select", "textarea") and "name" in a:
            self.by_name.setdefault(a["name"], []).append(a)
        if tag == "select":
            self._select = a
        if tag == "textarea":
            a["value"] = ""
            self._open = a
        if tag == "option" and "selected" in a and self._select is not None:
            self._select["value"] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["value"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._open = None


def parse(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    return parser


def value(page: _Controls, name: str) -> str:
    return page.by_name[name][0].get("value", "")


def checked(page: _Controls, name: str) -> list[str]:
    return [c["value"] for c in page.by_name.get(name, []) if "checked" in c]


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(ServiceRequest))


@pytest.fixture
def bellevue(session, validator) -> dict[str, str]:
    """What the widget posts once it has validated 2111 W Bellevue Ave."""
    match = validator.validate(session, BELLEVUE).match
    return {
        "address": match.text,
        "address_id": match.address_id,
        "lon": str(match.lon),
        "lat": str(match.lat),
        "address_confirmed": "yes",
        "address_outcome": "valid",
        "address_summary": json.dumps([match.text, "Council District 13"]),
    }


CONTACT = {
    "first_name": "Ana",
    "last_name": "Núñez",
    "phone": "213 555 0100",
    "contact_notes": "Gate code 44, ring twice",
    "response_method": "phone",
}


def assert_place_kept(page: _Controls, sent: dict[str, str]) -> None:
    for name in ("address", "address_id", "lon", "lat", "address_confirmed", "address_outcome", "address_summary"):
        assert value(page, name) == sent[name], name


def test_a_missing_answer_keeps_the_validated_address_and_every_answer(client, session, bellevue):
    before = count(session)
    sent = {**bellevue, **CONTACT, "email": "ana@example.org", "attribute[offensive]": "yes", "description": "Tags <b>"}
    response = client.post("/report/graffiti", data=sent)  # no answer to the required "where is the graffiti?"
    assert response.status_code == 400 and count(session) == before
    html = response.get_data(as_text=True)
    page = parse(html)
    assert_place_kept(page, sent)
    for name in ("first_name", "last_name", "email", "phone", "contact_notes", "description", "response_method"):
        assert value(page, name) == sent[name], name
    assert value(page, "attribute[offensive]") == "yes"
    assert "Tags &lt;b&gt;" in html  # kept as text, escaped
    # the error: in the summary (focused, linking to the field) and next to the field, which points at it
    summary = page.by_id["error-summary"]
    assert "autofocus" in summary and summary["tabindex"] == "-1" and summary["role"] == "alert"
    assert '<a href="#surface">Please answer: Where is the graffiti?</a>' in html
    surface = page.by_id["surface"]
    assert surface["aria-invalid"] == "true" and surface["aria-describedby"] == "error-attribute-surface"
    assert "error-attribute-surface" in page.by_id
    assert "autofocus" not in page.by_id["address-input"]  # the summary has the focus, not the address


def test_a_bad_email_keeps_everything(client, session, bellevue):
    sent = {**bellevue, **CONTACT, "email": "ana at example", "attribute[surface]": "fence", "description": "Tags"}
    response = client.post("/report/graffiti", data=sent)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = parse(html)
    assert_place_kept(page, sent)
    assert value(page, "email") == "ana at example" and value(page, "attribute[surface]") == "fence"
    assert value(page, "phone") == CONTACT["phone"] and value(page, "contact_notes") == CONTACT["contact_notes"]
    email = page.by_id["email"]
    assert email["aria-invalid"] == "true" and email["aria-describedby"] == "error-email"
    assert 'href="#email"' in html
    assert "aria-invalid" not in page.by_id["surface"]


def test_a_refused_address_keeps_the_text_and_drops_the_refused_point(client, session):
    sent = {
        "address": "La Cienega Blvd & Blackwelder St",
        "lon": "-118.3763",
        "lat": "34.0265",
        "address_outcome": "picked",
        "address_summary": json.dumps(["Nearest address: somewhere"]),
        "attribute[surface]": "wall",
        "description": "Across the line",
        "email": "ana@example.org",
    }
    response = client.post("/report/graffiti", data=sent)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = parse(html)
    assert value(page, "address") == sent["address"]
    for name in ("address_id", "lon", "lat", "address_outcome", "address_summary"):
        assert value(page, name) == "", name  # what was refused does not come back as chosen
    assert value(page, "description") == "Across the line" and value(page, "email") == "ana@example.org"
    assert value(page, "attribute[surface]") == "wall"
    address = page.by_id["address-input"]
    assert address["aria-invalid"] == "true"
    error_ids = [i for i in address["aria-describedby"].split() if i.startswith("error-")]
    assert error_ids and all(i in page.by_id for i in error_ids)
    assert 'href="#address-input"' in html and "City of Culver City" in html


def test_a_replayed_key_for_other_answers_keeps_them_and_gives_a_new_key(client, session, bellevue):
    first = client.post(
        "/report/graffiti",
        data={**bellevue, "attribute[surface]": "wall", "description": "First", "idempotency_key": "form-77"},
    )
    assert first.status_code == 303
    before = count(session)
    sent = {**bellevue, **CONTACT, "attribute[surface]": "sign", "description": "Second", "idempotency_key": "form-77"}
    again = client.post("/report/graffiti", data=sent)
    assert again.status_code == 400 and count(session) == before
    page = parse(again.get_data(as_text=True))
    assert_place_kept(page, sent)
    assert value(page, "description") == "Second" and value(page, "attribute[surface]") == "sign"
    new_key = value(page, "idempotency_key")
    assert new_key and new_key != "form-77"
    # sending the kept answers again (as the page would) files them as a new request
    resent = client.post("/report/graffiti", data={**sent, "idempotency_key": new_key})
    assert resent.status_code == 303 and count(session) == before + 1


def test_a_missing_contact_keeps_a_multi_value_list(client, session, bellevue):
    sent = {**bellevue, "attribute[items][]": ["mattress", "carpet"], "first_name": "Ana", "description": "By the curb"}
    response = client.post("/report/bulky-items", data=sent)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = parse(html)
    assert_place_kept(page, sent)
    assert checked(page, "attribute[items][]") == ["mattress", "carpet"]
    assert value(page, "first_name") == "Ana" and value(page, "description") == "By the curb"
    for name in ("email", "phone"):
        control = page.by_id[name]
        assert control["aria-invalid"] == "true"
        assert control["aria-describedby"].split() == ["contact-hint", "error-contact"]
    assert 'href="#email"' in html


def test_numbers_text_dates_and_the_location_note_are_kept(client, session):
    # an optional location: the note alone is a place; the required answer is missing
    response = client.post(
        "/report/homeless-encampment", data={"location_note": "Under the 101 bridge, Alameda side", "email": "x"}
    )
    page = parse(response.get_data(as_text=True))
    assert response.status_code == 400
    assert value(page, "location_note") == "Under the 101 bridge, Alameda side" and value(page, "email") == "x"
    sent = {"address": BELLEVUE, "attribute[lights_out]": "3", "email": "bad"}
    page = parse(client.post("/report/streetlight-multiple", data=sent).get_data(as_text=True))
    assert value(page, "attribute[lights_out]") == "3" and value(page, "address") == BELLEVUE
    sent = {"address": BELLEVUE, "attribute[pole_number]": "12345A", "attribute[problem]": "day", "email": "bad"}
    page = parse(client.post("/report/streetlight-single", data=sent).get_data(as_text=True))
    assert value(page, "attribute[pole_number]") == "12345A" and value(page, "attribute[problem]") == "day"
    sent = {"address": BELLEVUE, "attribute[observed_at]": "2026-11-30T07:15", "email": "bad"}
    page = parse(client.post("/report/water-waste", data=sent).get_data(as_text=True))
    assert value(page, "attribute[observed_at]") == "2026-11-30T07:15"


def test_the_staff_form_keeps_what_was_typed_too(client_as, session, bellevue):
    staff = client_as("intake")
    sent = {**bellevue, "phone": "12", "attribute[surface]": "pole", "description": "Caller on the line"}
    response = staff.post("/intake/new/graffiti", data=sent)
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    assert_place_kept(page, sent)
    assert value(page, "phone") == "12" and value(page, "attribute[surface]") == "pole"
    assert page.by_id["phone"]["aria-invalid"] == "true"


def test_required_fields_and_input_purposes_are_marked(client):
    html = client.get("/report/streetlight-single").get_data(as_text=True)
    page = parse(html)
    assert "novalidate" in page.by_id["request-form"]  # the server's messages are the ones shown
    address = page.by_id["address-input"]
    assert "required" in address and address["aria-required"] == "true"
    problem = page.by_id["problem"]  # a required answer
    assert "required" in problem and problem["aria-required"] == "true"
    pole = page.by_id["pole_number"]  # an optional one, with its hint
    assert "required" not in pole and "aria-required" not in pole and pole["aria-describedby"] == "hint-pole_number"
    assert "aria-invalid" not in pole and "error-summary" not in page.by_id
    assert page.by_id["first_name"]["autocomplete"] == "given-name"
    assert page.by_id["last_name"]["autocomplete"] == "family-name"
    assert (page.by_id["email"]["type"], page.by_id["email"]["autocomplete"]) == ("email", "email")
    phone = page.by_id["phone"]
    assert (phone["type"], phone["autocomplete"], phone["inputmode"]) == ("tel", "tel", "tel")
    assert page.by_id["contact_notes"]["autocomplete"] == "street-address"
    assert "autofocus" in address  # no error: the cursor starts in the address
    # an optional location is not required; a number is typed on a number pad
    optional = parse(client.get("/report/homeless-encampment").get_data(as_text=True))
    assert "required" not in optional.by_id["address-input"]
    lights = parse(client.get("/report/streetlight-multiple").get_data(as_text=True)).by_id["lights_out"]
    assert (lights["type"], lights["inputmode"]) == ("number", "decimal")
    # "Use my location" is in the page, hidden until the script finds the browser's geolocation
    assert "hidden" in page.by_id["address-locate"] and page.by_id["address-locate-status"]["role"] == "status"


def test_a_fixture_city_keeps_a_point_picked_on_its_map(settings, bound_database):
    app = create_app(dataclasses.replace(settings, city="gardena"), database=bound_database)
    app.test_client_class = CsrfClient
    client = app.test_client()
    sent = {
        "address": "",
        "address_id": "",
        "lon": "-118.309",
        "lat": "33.888",
        "address_confirmed": "",
        "address_outcome": "picked",
        "address_summary": json.dumps(["No address within 100 m: the point itself will be used."]),
        "description": "On the wall by the bus stop",
    }
    response = client.post("/report/graffiti", data=sent)  # no surface given
    assert response.status_code == 400
    page = parse(response.get_data(as_text=True))
    assert_place_kept(page, sent)
    assert value(page, "description") == sent["description"]
    assert page.by_id["surface"]["aria-invalid"] == "true"
