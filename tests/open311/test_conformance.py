"""Conformance: Open311 clients of each style real deployments meet, end to end against a live HTTP server.

Each test starts the app on a loopback port (:func:`tests.helpers.browser.live_server`) and talks
to it over HTTP with ``requests`` as the client would, then checks status codes, content types
and values, in JSON and in XML:

a. a GeoReport v2 client: a form POST with ``attribute[code]=`` and ``attribute[code][]=`` and the
   ``api_key`` in the form, then GET the request by its id and by its token;
b. the PyPI clients ``three`` and ``georeport``: ``api_key`` and ``jurisdiction_id`` in the query
   string of a POST whose other arguments are in the body;
c. mySociety's media extension: a multipart POST with a ``media`` photo, whose ``media_url`` serves
   the photo without its metadata;
d. FixMyStreet's Open311 client (perllib/Open311.pm): it polls ``servicerequestupdates.xml`` with
   ``start_date`` and ``end_date``, sees the city's status change with the extended status, and
   posts a comment with its own ``update_id``, retried;
e. a Chicago-style client: ``requests.json?extensions=true`` with ``service_code`` and
   ``updated_after``, reading ``extended_attributes`` and ``notes``.
"""

from __future__ import annotations

import dataclasses
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from app.factory import create_app
from open311.clients import issue_client
from service_requests.lifecycle import change_status, mark_duplicate
from service_requests.models import RequestEvent, RequestPhoto, ServiceRequest
from tests.app.test_photo_pages import show_photos_publicly
from tests.helpers.browser import live_server
from tests.service_requests.test_photo_processing import GPS_IFD, jpeg_with_gps

API = "/open311/v2"
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}
POINT = {"lat": "34.07325", "long": "-118.2669"}  # Echo Park, Council District 13
W3C_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
#: What a GET answer never holds of what the requester sent.
PRIVATE = ("Marisol", "Quintero", "marisol.qv@example.org", "213 555 0123")
CONTACT = {"first_name": "Marisol", "last_name": "Quintero", "email": "marisol.qv@example.org", "phone": "213 555 0123"}


@dataclass
class Live:
    """The live server's API, reached directly (whatever proxy the environment names)."""

    base: str
    http: requests.Session

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.http.get(f"{self.base}{API}{path}", params=params, timeout=30)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(f"{self.base}{API}{path}", timeout=30, **kwargs)


@pytest.fixture
def app(settings, bound_database, tmp_path):
    """The app with a media folder of the test's own."""
    return create_app(dataclasses.replace(settings, media_dir=tmp_path / "media"), database=bound_database)


@pytest.fixture
def live(app) -> Iterator[Live]:
    with live_server(app) as base, requests.Session() as http:
        http.trust_env = False
        yield Live(base, http)


@pytest.fixture
def key(session) -> str:
    return issue_client(session, "la", "Conformance client", per_minute=10_000)[1]


def answer(response: requests.Response, fmt: str, status: int = 200) -> Any:
    """The body of a ``status`` answer in ``fmt``: JSON data, or the XML root element."""
    assert response.status_code == status, response.text
    assert media_type(response) == MEDIA_TYPES[fmt]
    if fmt == "json":
        return response.json()
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def media_type(response: requests.Response) -> str:
    """The answer's media type; a charset, where one is named, must be UTF-8 (what the bodies are written in)."""
    kind, _, parameters = response.headers["Content-Type"].partition(";")
    assert parameters.strip().lower() in ("", "charset=utf-8"), response.headers["Content-Type"]
    return kind.strip()


def items(root: ET.Element, tag: str, item: str) -> list[dict[str, str | None]]:
    """The items of an XML list answer as flat dicts of their fields' text, the root and item names checked."""
    assert root.tag == tag and [child.tag for child in root] == [item] * len(root)
    return [{field.tag: field.text for field in element if len(field) == 0} for element in root]


def stored(session, reference: str) -> ServiceRequest:
    session.expire_all()
    found = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    assert found is not None, reference
    return found


def test_a_georeport_v2_form_post_then_get_by_id_and_by_token(live, session, key):
    form = [
        ("api_key", key),
        ("jurisdiction_id", "lacity.org"),
        ("service_code", "bulky-items"),
        *POINT.items(),
        *CONTACT.items(),
        ("description", "A couch and a mattress at the curb."),
        ("attribute[items][]", "furniture"),
        ("attribute[items][]", "mattress"),
    ]
    (created,) = items(answer(live.post("/requests.xml", data=form), "xml"), "service_requests", "request")
    reference = created["service_request_id"]
    assert reference and not created["account_id"]
    assert re.fullmatch(r"Expected by .+ \(service level: 5 business days\)\.", created["service_notice"] or "")
    assert stored(session, reference).attributes == {"items": ["furniture", "mattress"]}

    single = {"api_key": key, "service_code": "graffiti", **POINT, "attribute[surface]": "wall"}
    (graffiti,) = answer(live.post("/requests.json", data={**single, "attribute[offensive]": "no"}), "json")
    assert set(graffiti) == {"service_request_id", "service_notice", "account_id"}
    assert stored(session, graffiti["service_request_id"]).attributes == {"surface": "wall", "offensive": "no"}

    (by_id,) = answer(live.get(f"/requests/{reference}.json"), "json")
    assert {k: by_id[k] for k in ("service_request_id", "status", "service_code", "service_name", "lat", "long")} == {
        "service_request_id": reference,
        "status": "open",
        "service_code": "bulky-items",
        "service_name": "Bulky Items",
        "lat": 34.07325,
        "long": -118.2669,
    }
    assert by_id["description"] is None  # the city does not publish descriptions
    assert W3C_OFFSET.match(by_id["requested_datetime"]) and by_id["agency_responsible"]
    (in_xml,) = items(answer(live.get(f"/requests/{reference}.xml"), "xml"), "service_requests", "request")
    assert in_xml["service_request_id"] == reference and in_xml["status"] == "open"
    assert (float(in_xml["lat"] or "nan"), float(in_xml["long"] or "nan")) == (34.07325, -118.2669)
    assert in_xml["requested_datetime"] == by_id["requested_datetime"] and in_xml["description"] is None
    for private in PRIVATE:
        assert private not in live.get(f"/requests/{reference}.json").text + live.get(f"/requests/{reference}.xml").text

    assert answer(live.get(f"/tokens/{reference}.json"), "json") == [
        {"service_request_id": reference, "token": reference}
    ]
    (token,) = items(answer(live.get(f"/tokens/{reference}.xml"), "xml"), "service_requests", "request")
    assert token == {"service_request_id": reference, "token": reference}
    unknown = answer(live.get("/tokens/7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK.xml"), "xml", 404)
    assert items(unknown, "errors", "error")[0]["code"] == "404"


def test_b_api_key_and_jurisdiction_in_the_query_string_of_a_post(live, session, key):
    """As ``three`` and ``georeport`` send them: the keys in the URL, the request's arguments in the body."""
    body = {"service_code": "graffiti", **POINT, "attribute[surface]": "fence", "description": "Tags on the fence."}
    query = {"api_key": key, "jurisdiction_id": "lacity.org"}
    (created,) = answer(live.post("/requests.json", params=query, data=body), "json")
    assert stored(session, created["service_request_id"]).attributes == {"surface": "fence"}
    (found,) = answer(live.get(f"/requests/{created['service_request_id']}.json", **query), "json")
    assert found["service_code"] == "graffiti" and found["status"] == "open"

    keyless = answer(live.post("/requests.json", params={"jurisdiction_id": "lacity.org"}, data=body), "json", 403)
    assert "api_key was not provided" in keyless[0]["description"]
    unknown_key = answer(live.post("/requests.xml", params={**query, "api_key": "not-a-key"}, data=body), "xml", 403)
    assert items(unknown_key, "errors", "error")[0]["code"] == "403"
    elsewhere = answer(
        live.post("/requests.json", params={**query, "jurisdiction_id": "sfgov.org"}, data=body), "json", 404
    )
    assert "sfgov.org" in elsewhere[0]["description"]
    # The key in the query string of a GET is the client's: its own rate limit applies, not the keyless one.
    assert live.get("/services.json", api_key=key).headers["X-RateLimit-Limit"] == "10000"


def test_c_a_multipart_post_with_a_media_photo_publishes_it_without_its_metadata(live, session, key):
    show_photos_publicly(session)
    photo = jpeg_with_gps((640, 480))
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)  # the camera's position is in the file
    form = {"api_key": key, "service_code": "graffiti", **POINT, "attribute[surface]": "wall"}
    response = live.post("/requests.json", data=form, files={"media": ("IMG_0042.jpg", photo, "image/jpeg")})
    (created,) = answer(response, "json")
    reference = created["service_request_id"]
    request = stored(session, reference)
    (kept,) = session.scalars(select(RequestPhoto).where(RequestPhoto.request_id == request.id))
    assert kept.origin == "open311"

    (found,) = answer(live.get(f"/requests/{reference}.json"), "json")
    assert found["media_url"] == f"{live.base}/media/{kept.stored_name}"
    (in_xml,) = items(answer(live.get(f"/requests/{reference}.xml"), "xml"), "service_requests", "request")
    assert in_xml["media_url"] == found["media_url"]
    download = live.http.get(found["media_url"], timeout=30)
    assert download.status_code == 200 and download.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(download.content))
    assert image.format == "JPEG" and image.size == (640, 480)
    assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)
    assert b"SecretCam" not in download.content and b"Ana Lopez" not in download.content

    not_an_image = live.post(
        "/requests.xml", data=form, files={"media": ("notes.jpg", b"%PDF-1.4 not a photo", "image/jpeg")}
    )
    (refused,) = items(answer(not_an_image, "xml", 400), "errors", "error")
    assert refused["code"] == "400" and "notes.jpg is not a photo" in (refused["description"] or ""), refused
    assert "JPEG, PNG or WebP" in (refused["description"] or "")


def test_d_fixmystreet_polls_updates_sees_the_citys_status_and_posts_a_comment_once(live, session, key):
    """As perllib/Open311.pm does: GET servicerequestupdates.xml with api_key, start_date and end_date (both,
    W3C), read every <request_update>; POST servicerequestupdates.xml with its comment's id as update_id."""
    form = {"api_key": key, "jurisdiction_id": "lacity.org", "service_code": "graffiti", **POINT}
    (created,) = answer(live.post("/requests.json", data={**form, "attribute[surface]": "pole"}), "json")
    reference = created["service_request_id"]
    request = stored(session, reference)

    def poll() -> list[dict[str, str | None]]:
        now = datetime.now(UTC)
        window = {
            "jurisdiction_id": "lacity.org",
            "api_key": key,
            "start_date": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": (now + timedelta(seconds=1)).isoformat(timespec="seconds"),
        }
        root = answer(live.get("/servicerequestupdates.xml", **window), "xml")
        return [
            u for u in items(root, "service_requests_updates", "request_update") if u["service_request_id"] == reference
        ]

    assert poll() == []  # filed, nothing updated yet
    change_status(session, request, "scheduled", "bss:crew4", "Crew booked for Tuesday.")
    change_status(session, request, "not_our_responsibility", "bss:crew4", "The wall is on private land.")
    updates = poll()
    assert [(u["status"], u["external_status_code"], u["description"]) for u in updates] == [
        ("ACTION_SCHEDULED", "scheduled", "Crew booked for Tuesday."),
        ("NOT_COUNCILS_RESPONSIBILITY", "not_our_responsibility", "The wall is on private land."),
    ]
    events = session.scalars(
        select(RequestEvent.id).where(RequestEvent.request_id == request.id, RequestEvent.kind == "status")
    ).all()
    assert [u["update_id"] for u in updates] == [str(e) for e in events]
    assert all(W3C_OFFSET.match(u["updated_datetime"] or "") for u in updates)

    comment = {
        "jurisdiction_id": "lacity.org",
        "api_key": key,
        "service_request_id": reference,
        "update_id": "93712",  # FixMyStreet's comment id
        "updated_datetime": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "NOT_COUNCILS_RESPONSIBILITY",  # the problem's state as FixMyStreet knows it: a comment
        "description": "The owner says it is the city's wall.",
        "first_name": "Marisol",
        "last_name": "Quintero",
        "email": "marisol.qv@example.org",
    }
    first = items(
        answer(live.post("/servicerequestupdates.xml", data=comment), "xml"),
        "service_requests_updates",
        "request_update",
    )
    again = items(
        answer(live.post("/servicerequestupdates.xml", data=comment), "xml"),
        "service_requests_updates",
        "request_update",
    )
    assert first == again and (first[0]["update_id"] or "").isdigit()  # the retry answers the first answer
    notes = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "note")
    ).all()
    assert [(str(n.id), n.note, n.data["update_id"]) for n in notes] == [
        (first[0]["update_id"], "The owner says it is the city's wall.", "93712")
    ]
    assert stored(session, reference).status == "not_our_responsibility"  # a comment changes no status
    assert [u["update_id"] for u in poll()] == [str(e) for e in events]  # client updates are private here
    changed = live.post("/servicerequestupdates.xml", data={**comment, "description": "Something else."})
    assert items(answer(changed, "xml", 409), "errors", "error")[0]["code"] == "409"


def test_e_a_chicago_style_client_reads_extensions_since_its_last_run(live, session, key):
    since = datetime.now(UTC) - timedelta(minutes=5)
    form = {"api_key": key, "service_code": "graffiti", **POINT, "attribute[surface]": "wall"}
    references = [answer(live.post("/requests.json", data=form), "json")[0]["service_request_id"] for _ in range(2)]
    other = {
        "api_key": key,
        "service_code": "bulky-items",
        **POINT,
        "email": "r@example.org",
        "attribute[items]": "carpet",
    }
    bulky = answer(live.post("/requests.json", data=other), "json")[0]["service_request_id"]
    original, copy = (stored(session, r) for r in references)
    mark_duplicate(session, copy, original, "ocb:ana")

    query = {
        "service_code": "graffiti",
        "updated_after": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "extensions": "true",
        "page_size": "50",
    }
    listed = answer(live.get("/requests.json", **query), "json")
    assert {r["service_code"] for r in listed} == {"graffiti"} and bulky not in {
        r["service_request_id"] for r in listed
    }
    assert all(datetime.fromisoformat(r["updated_datetime"]) >= since.replace(microsecond=0) for r in listed)
    found = {r["service_request_id"]: r for r in listed}
    assert set(references) <= set(found)
    duplicate = found[copy.public_ref]
    assert duplicate["status"] == "closed"
    extended = duplicate["extended_attributes"]
    assert (extended["ward"], extended["ward_name"], extended["duplicate_of"]) == (
        "13",
        "Council District 13",
        original.public_ref,
    )
    assert extended["district"] and extended["district_name"]
    assert [n["type"] for n in duplicate["notes"]] == ["created", "status"]
    assert duplicate["notes"][1]["description"] == f"Duplicate of {original.public_ref}."
    assert all(W3C_OFFSET.match(n["datetime"]) for n in duplicate["notes"])
    assert found[original.public_ref]["extended_attributes"]["duplicate_of"] is None

    root = answer(live.get("/requests.xml", **query), "xml")
    assert root.tag == "service_requests"
    in_xml = next(r for r in root if r.findtext("service_request_id") == copy.public_ref)
    assert in_xml.findtext("extended_attributes/duplicate_of") == original.public_ref
    assert [n.findtext("type") for n in in_xml.findall("notes/note")] == ["created", "status"]

    plain = answer(live.get("/requests.json", **{**query, "extensions": "false"}), "json")
    assert plain and all("extended_attributes" not in r and "notes" not in r for r in plain)
    later = answer(live.get("/requests.json", **{**query, "updated_after": "2099-01-01T00:00:00Z"}), "json")
    assert later == []
    bad = answer(live.get("/requests.json", **{**query, "updated_after": "last week"}), "json", 400)
    assert "updated_after" in bad[0]["description"]
    both = answer(live.get("/requests.json", **{**query, "service_code": "graffiti,bulky-items"}), "json")
    assert {bulky, *references} <= {r["service_request_id"] for r in both}
    pages = [answer(live.get("/requests.json", **{**query, "page_size": "1", "page": str(n)}), "json") for n in (1, 2)]
    assert [len(page) for page in pages] == [1, 1] and pages[0][0] != pages[1][0]  # paged, most recent first
    assert pages[0][0]["requested_datetime"] >= pages[1][0]["requested_datetime"]
