"""The Open311 GeoReport v2 API: every method in both formats, its arguments, its errors, its keys."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.factory import create_app
from open311.clients import issue_client, revoke_client
from open311.params import IGNORED, MAX_RADIUS_M
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import add_note, change_status, mark_duplicate
from service_requests.models import RequestContact, RequestEvent, ServiceRequest

API = "/open311/v2"
POINT = {"lat": "34.07325", "long": "-118.26690"}  # Echo Park, Council District 13
W3C_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(ServiceRequest))


@pytest.fixture
def api_client_and_key(session):
    return issue_client(session, "la", "Test app", contact="dev@example.org", per_minute=10_000)


@pytest.fixture
def api_client(api_client_and_key):
    return api_client_and_key[0]


@pytest.fixture
def api_key(api_client_and_key) -> str:
    return api_client_and_key[1]


def post(client, key, fmt="json", query=None, headers=None, **fields):
    data = {"api_key": key, "service_code": "graffiti", **POINT, "attribute[surface]": "wall", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{API}/requests.{fmt}", data=data, query_string=query, headers=headers)


def xml(response) -> ET.Element:
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(body)


def errors_of(response) -> list[tuple[str, str]]:
    """The spec's error list, from either format, checked for its shape."""
    if response.content_type.startswith("application/json"):
        body = response.get_json()
        assert isinstance(body, list) and body
        assert all(set(e) == {"code", "description"} and isinstance(e["code"], str) for e in body)
        return [(e["code"], e["description"]) for e in body]
    root = xml(response)
    assert root.tag == "errors" and [child.tag for child in root] == ["error"] * len(root)
    return [(e.findtext("code") or "", e.findtext("description") or "") for e in root]


def filed(client, key, **fields) -> str:
    response = post(client, key, **fields)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()[0]["service_request_id"]


# -- discovery, services, service definitions ------------------------------------------------


def test_discovery_in_both_formats(client):
    document = client.get(f"{API}/discovery.json").get_json()
    assert set(document) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint, updates = document["endpoints"]  # GeoReport v2, and mySociety's servicerequestupdates
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert "mysociety" in updates["specification"] and updates["url"] == endpoint["url"]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["formats"] == ["text/xml", "application/json"]
    assert W3C_OFFSET.match(document["changeset"])
    root = xml(client.get(f"{API}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


@pytest.mark.parametrize("jurisdiction", [None, "", "lacity.org", "LACITY.ORG", "la"])
def test_jurisdiction_id_present_or_absent(client, jurisdiction):
    query = {} if jurisdiction is None else {"jurisdiction_id": jurisdiction}
    for path in ("discovery", "services", "services/graffiti", "requests"):
        assert client.get(f"{API}/{path}.json", query_string=query).status_code == 200, path


def test_an_unknown_jurisdiction_is_404_in_both_formats(client):
    for fmt in ("json", "xml"):
        response = client.get(f"{API}/services.{fmt}?jurisdiction_id=sfgov.org")
        assert response.status_code == 404
        ((code, description),) = errors_of(response)
        assert code == "404" and "sfgov.org" in description and "lacity.org" in description


def test_the_service_list(client):
    services = client.get(f"{API}/services.json").get_json()
    graffiti = next(s for s in services if s["service_code"] == "graffiti")
    assert graffiti == {
        "service_code": "graffiti",
        "service_name": "Graffiti Removal",
        "description": "Removal of graffiti from walls, fences, poles and other public-facing surfaces.",
        "metadata": True,
        "type": "realtime",
        "keywords": "tagging, paint, vandalism",
        "group": "Beautification",
    }
    assert all(isinstance(s["service_code"], str) for s in services)
    root = xml(client.get(f"{API}/services.xml"))
    assert root.tag == "services" and {c.tag for c in root} == {"service"}
    assert [s.findtext("service_code") for s in root] == [s["service_code"] for s in services]
    assert root.find("service/metadata").text in ("true", "false")


def test_service_definitions_come_from_the_catalogue(client):
    definition = client.get(f"{API}/services/bulky-items.json").get_json()
    (items,) = definition["attributes"]
    assert definition["service_code"] == "bulky-items"
    assert items["code"] == "items" and items["datatype"] == "multivaluelist" and items["required"] is True
    assert items["variable"] is True and items["order"] == 1
    assert {"key": "mattress", "name": "Mattress or box spring"} in items["values"]
    root = xml(client.get(f"{API}/services/streetlight-single.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "streetlight-single"
    assert [a.findtext("order") for a in root.find("attributes")] == ["1", "2"]
    assert root.find("attributes/attribute[code='pole_number']/datatype").text == "string"
    for fmt in ("json", "xml"):
        response = client.get(f"{API}/services/teleportation.{fmt}")
        assert response.status_code == 404 and "teleportation" in errors_of(response)[0][1]


# -- POST requests --------------------------------------------------------------------------------


def test_post_with_the_key_in_the_body_or_the_query_string(client, session, api_client, api_key):
    before = count(session)
    in_body = post(client, api_key, "json")
    assert in_body.status_code == 200 and in_body.content_type == "application/json"
    (created,) = in_body.get_json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert "48 hours" in created["service_notice"]
    in_query = post(client, None, "xml", query={"api_key": api_key}, account_id="acct-7")
    assert in_query.status_code == 200 and in_query.content_type == "text/xml"
    root = xml(in_query)
    assert root.tag == "service_requests" and root.find("request/account_id").text == "acct-7"
    assert count(session) == before + 2
    stored = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == created["service_request_id"]))
    assert (stored.channel, stored.service_code, stored.department_code, stored.ward_key) == (
        "open311",
        "graffiti",
        "OCB",
        "13",
    )
    created_event = session.scalar(
        select(RequestEvent).where(RequestEvent.request_id == stored.id, RequestEvent.kind == "created")
    )
    assert created_event.data == {"channel": "open311", "client": f"open311:{api_client.id}"}


def test_post_as_clients_send_it(client, session, api_key):
    """Form-encoded with a charset, multipart, everything in the query string, jurisdiction_id in the body."""
    body = "&".join(
        f"{k}={v}"
        for k, v in {
            "api_key": api_key,
            "jurisdiction_id": "lacity.org",
            "service_code": "graffiti",
            **POINT,
            "attribute%5Bsurface%5D": "wall",
        }.items()
    )
    charset = client.post(
        f"{API}/requests.xml", data=body, content_type="application/x-www-form-urlencoded; charset=utf-8"
    )
    assert charset.status_code == 200, charset.get_data(as_text=True)
    multipart = client.post(
        f"{API}/requests.json",
        content_type="multipart/form-data",
        data={"api_key": api_key, "service_code": "graffiti", **POINT, "attribute[surface]": "sign"},
    )
    assert multipart.status_code == 200, multipart.get_data(as_text=True)
    in_query = client.post(
        f"{API}/requests.json",
        query_string={"api_key": api_key, "service_code": "graffiti", **POINT, "attribute[surface]": "pole"},
    )
    assert in_query.status_code == 200, in_query.get_data(as_text=True)


def test_post_goes_through_the_intake_rules(client, session, api_key):
    before = count(session)
    outside = post(client, api_key, "xml", lat=None, long=None, address_string="La Cienega Blvd & Blackwelder St")
    assert outside.status_code == 400
    ((code, description),) = errors_of(outside)
    assert code == "400" and "City of Culver City" in description and "(310) 253-6000" in description
    for typed, agency, phone in [
        ("9770 Culver Blvd, Culver City", "City of Culver City", "(310) 253-6000"),
        ("9400 S Santa Monica Blvd, Beverly Hills", "City of Beverly Hills", "(310) 285-1000"),
    ]:
        by_place = post(client, api_key, lat=None, long=None, address_string=typed)  # judged by the place typed
        assert by_place.status_code == 400
        assert agency in errors_of(by_place)[0][1] and phone in errors_of(by_place)[0][1]
    point_outside = post(client, api_key, lat="34.0736", long="-118.4004")  # Beverly Hills
    assert point_outside.status_code == 400 and "Beverly Hills" in errors_of(point_outside)[0][1]
    missing = post(client, api_key, **{"attribute[surface]": None})
    assert missing.status_code == 400 and errors_of(missing)[0][1].startswith("attribute[surface]:")
    wrong_choice = post(client, api_key, **{"attribute[surface]": "roof"})
    assert wrong_choice.status_code == 400 and "not one of the choices" in errors_of(wrong_choice)[0][1]
    no_code = post(client, api_key, service_code=None)
    assert no_code.status_code == 400 and "service_code" in errors_of(no_code)[0][1]
    unknown = post(client, api_key, service_code="teleportation")
    assert unknown.status_code == 404 and "teleportation" in errors_of(unknown)[0][1]
    half_point = post(client, api_key, long=None)
    assert half_point.status_code == 400 and "lat and long" in errors_of(half_point)[0][1]
    contact_required = post(
        client, api_key, service_code="bulky-items", **{"attribute[surface]": None, "attribute[items][]": "mattress"}
    )
    assert contact_required.status_code == 400 and "email or phone" in errors_of(contact_required)[0][1]
    wrong_jurisdiction = post(client, api_key, jurisdiction_id="sfgov.org")
    assert wrong_jurisdiction.status_code == 404
    assert count(session) == before  # nothing stored


def test_a_location_sent_to_a_service_that_takes_none_is_refused_not_dropped(client, api_key):
    # Issue 21, item 1: a point in Nebraska or an address in Beverly Hills was dropped with 200.
    for place in (
        {"lat": "41.2565", "long": "-95.9345"},
        {"lat": None, "long": None, "address_string": "9400 S Santa Monica Blvd, Beverly Hills"},
        {"lat": None, "long": None, "address_id": "123"},
    ):
        response = post(
            client, api_key, service_code="feedback", description="Thanks", **{"attribute[surface]": None}, **place
        )
        assert response.status_code == 400, (place, response.get_data(as_text=True))
        assert "Feedback takes no location" in errors_of(response)[0][1]
    plain = post(
        client,
        api_key,
        service_code="feedback",
        description="Thanks",
        lat=None,
        long=None,
        **{"attribute[surface]": None},
    )
    assert plain.status_code in (200, 201), plain.get_data(as_text=True)


def test_post_by_address_string_or_address_id(client, session, api_key):
    by_address = filed(client, api_key, lat=None, long=None, address_string="2111 W Bellevue Ave")
    stored = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == by_address))
    assert stored.address.startswith("2111 W BELLEVUE AVE") and stored.location_quality == "address"
    address_id = stored.address_id
    by_id = filed(client, api_key, lat=None, long=None, address_id=address_id)
    again = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == by_id))
    assert again.address_id == address_id and again.address == stored.address
    (found,) = client.get(f"{API}/requests/{by_id}.json").get_json()
    assert found["address_id"] == address_id and found["address"] == stored.address
    assert found["zipcode"] == stored.zipcode and found["lat"] is not None
    unknown = post(client, api_key, lat=None, long=None, address_id="no-such-id")
    assert unknown.status_code == 400 and errors_of(unknown)[0][1].startswith("address_id:")


def test_multivaluelist_attributes(client, session, api_key):
    reference = filed(
        client,
        api_key,
        service_code="bulky-items",
        email="resident@example.org",
        **{"attribute[surface]": None, "attribute[items][]": ["mattress", "furniture"]},
    )
    stored = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    assert stored.attributes == {"items": ["furniture", "mattress"]}
    one = filed(
        client,
        api_key,
        service_code="bulky-items",
        phone="213 555 0100",
        **{"attribute[surface]": None, "attribute[items]": "carpet"},
    )
    assert session.scalar(select(ServiceRequest.attributes).where(ServiceRequest.public_ref == one)) == {
        "items": ["carpet"]
    }
    wrong = post(
        client,
        api_key,
        service_code="bulky-items",
        email="resident@example.org",
        **{"attribute[surface]": None, "attribute[items][]": ["mattress", "piano"]},
    )
    assert wrong.status_code == 400 and "piano" in errors_of(wrong)[0][1]
    two_for_one = post(client, api_key, **{"attribute[surface]": None, "attribute[surface][]": ["wall", "fence"]})
    assert two_for_one.status_code == 400


def test_api_key_missing_wrong_or_revoked_is_403(client, session, api_key):
    before = count(session)
    for key in (None, "", "not-a-key", api_key[:-1] + ("A" if api_key[-1] != "A" else "B")):
        for fmt in ("json", "xml"):
            response = post(client, key, fmt)
            assert response.status_code == 403, key
            assert errors_of(response)[0][0] == "403"
    revoked, revoked_key = issue_client(session, "la", "Old app")
    assert post(client, revoked_key).status_code == 200
    revoke_client(session, "la", revoked.id)
    response = post(client, revoked_key)
    assert response.status_code == 403 and "revoked" in errors_of(response)[0][1]
    assert client.get(f"{API}/requests.json?api_key={revoked_key}").status_code == 403  # a GET with it too
    assert count(session) == before + 1


def test_a_retried_post_makes_one_request(client, session, api_key):
    before = count(session)
    first = post(client, api_key, headers={"Idempotency-Key": "app-7f3a"}, description="Tags on the wall")
    again = post(client, api_key, headers={"Idempotency-Key": "app-7f3a"}, description="Tags on the wall")
    assert first.status_code == again.status_code == 200
    assert first.get_json()[0]["service_request_id"] == again.get_json()[0]["service_request_id"]
    assert count(session) == before + 1
    in_form = post(client, api_key, idempotency_key="app-7f3a", description="Tags on the wall")
    assert in_form.get_json()[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    other = post(client, api_key, headers={"Idempotency-Key": "app-7f3a"}, description="Something else")
    assert other.status_code == 400 and "Idempotency-Key" in errors_of(other)[0][1]
    _, other_key = issue_client(session, "la", "Another app")  # keys are per client
    assert post(client, other_key, headers={"Idempotency-Key": "app-7f3a"}).status_code == 200
    assert count(session) == before + 2


# -- GET requests ------------------------------------------------------------------------------


def test_requests_in_both_formats_with_the_spec_fields(client, session, api_key):
    reference = filed(client, api_key, media_url="https://example.org/photo.jpg")
    listed = client.get(f"{API}/requests.json").get_json()
    found = next(r for r in listed if r["service_request_id"] == reference)
    assert list(found) == [
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    ]
    assert found["status"] == "open" and found["agency_responsible"] == "Office of Community Beautification"
    assert found["service_code"] == "graffiti" and found["media_url"] == "https://example.org/photo.jpg"
    assert (found["lat"], found["long"]) == (34.07325, -118.2669)
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C_OFFSET.match(found[field]) and found[field].endswith("-08:00"), found[field]  # LA in November
    due = datetime.fromisoformat(found["expected_datetime"]) - datetime.fromisoformat(found["requested_datetime"])
    assert due == timedelta(hours=48)
    root = xml(client.get(f"{API}/requests.xml"))
    assert root.tag == "service_requests" and {c.tag for c in root} == {"request"}
    request = next(r for r in root if r.findtext("service_request_id") == reference)
    assert [c.tag for c in request] == list(found)
    assert request.findtext("lat") == "34.07325" and request.findtext("status") == "open"


def test_a_single_request_is_an_array_of_one(client, api_key):
    reference = filed(client, api_key)
    single = client.get(f"{API}/requests/{reference}.json").get_json()
    assert isinstance(single, list) and len(single) == 1 and single[0]["service_request_id"] == reference
    assert client.get(f"{API}/requests/{reference.lower()}.json").get_json()[0]["service_request_id"] == reference
    root = xml(client.get(f"{API}/requests/{reference}.xml"))
    assert root.tag == "service_requests" and len(root) == 1 and root[0].tag == "request"
    for fmt in ("json", "xml"):
        for missing in ("7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK", "12345", "x" * 300):
            response = client.get(f"{API}/requests/{missing}.{fmt}")
            assert response.status_code == 404 and errors_of(response)[0][0] == "404"


def test_tokens_resolve_to_the_request_id(client, api_key):
    reference = filed(client, api_key)
    assert client.get(f"{API}/tokens/{reference}.json").get_json() == [
        {"service_request_id": reference, "token": reference}
    ]
    root = xml(client.get(f"{API}/tokens/{reference}.xml"))
    assert root.find("request/service_request_id").text == reference and root.find("request/token").text == reference
    assert client.get(f"{API}/tokens/nope.json").status_code == 404


def test_status_and_status_notes(client, session, api_key):
    open_ref = filed(client, api_key)
    closed_ref = filed(client, api_key)
    closed = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == closed_ref))
    add_note(session, closed, "crew", "Crew 4 inspected: private wall, owner informed.", public=False)
    change_status(session, closed, "fixed", "crew", note="Painted over on the 24th.", public=True)
    listed = {r["service_request_id"]: r for r in client.get(f"{API}/requests.json").get_json()}
    assert (
        listed[closed_ref]["status"] == "closed" and listed[closed_ref]["status_notes"] == "Painted over on the 24th."
    )
    assert listed[open_ref]["status"] == "open" and listed[open_ref]["status_notes"] == "Request received by open311."
    assert "Crew 4" not in client.get(f"{API}/requests.json?extensions=true").get_data(as_text=True)

    def ids(query: str) -> set[str]:
        return {r["service_request_id"] for r in client.get(f"{API}/requests.json?{query}").get_json()}

    assert open_ref in ids("status=open") and closed_ref not in ids("status=open")
    assert closed_ref in ids("status=closed") and open_ref not in ids("status=closed")
    assert {open_ref, closed_ref} <= ids("status=open,closed") and {open_ref, closed_ref} <= ids(
        "status=open&status=closed"
    )


def test_service_code_and_service_request_id_lists(client, api_key):
    graffiti = filed(client, api_key)
    animal = filed(client, api_key, service_code="dead-animal", **{"attribute[surface]": None})

    def ids(query: str) -> set[str]:
        response = client.get(f"{API}/requests.json?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return {r["service_request_id"] for r in response.get_json()}

    assert graffiti in ids("service_code=graffiti") and animal not in ids("service_code=graffiti")
    assert {graffiti, animal} <= ids("service_code=graffiti,dead-animal")
    assert ids("service_code=no-such-service") == set()
    # service_request_id overrides every other argument
    assert ids(f"service_request_id={graffiti},{animal}&status=closed&service_code=feedback") == {graffiti, animal}
    assert ids(f"service_request_id={graffiti.lower()}") == {graffiti}


def test_the_default_window_is_the_last_90_days(client, session, api_key):
    recent = filed(client, api_key)
    old = session.scalar(
        select(ServiceRequest)
        .where(ServiceRequest.source == "import")
        .order_by(ServiceRequest.requested_at.desc())
        .limit(1)
    )
    listed = {r["service_request_id"] for r in client.get(f"{API}/requests.json").get_json()}
    assert recent in listed and old.public_ref not in listed
    day = old.requested_at.astimezone(UTC)
    window = {
        "start_date": (day - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (day + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert old.public_ref in {
        r["service_request_id"] for r in client.get(f"{API}/requests.json", query_string=window).get_json()
    }
    only_start = client.get(f"{API}/requests.json", query_string={"start_date": window["start_date"]}).get_json()
    assert old.public_ref in {r["service_request_id"] for r in only_start}
    too_long = client.get(f"{API}/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z")
    assert too_long.status_code == 400 and "90 days" in errors_of(too_long)[0][1]
    inverted = client.get(f"{API}/requests.json?start_date=2020-02-01T00:00:00Z&end_date=2020-01-01T00:00:00Z")
    assert inverted.status_code == 400


def test_at_most_1000_requests_and_paging(client, session, api_key):
    for _ in range(3):
        filed(client, api_key)
    first = client.get(f"{API}/requests.json?page_size=2").get_json()
    second = client.get(f"{API}/requests.json?page_size=2&page=2").get_json()
    assert (
        len(first) == 2
        and second
        and not {r["service_request_id"] for r in first} & {r["service_request_id"] for r in second}
    )
    assert first[0]["requested_datetime"] >= first[1]["requested_datetime"]  # most recent first
    assert client.get(f"{API}/requests.json?page_size=1001").status_code == 400
    session.execute(
        text(
            "INSERT INTO service_request (city, public_ref, short_ref, service_code, service_name, status, channel, "
            "response_method, description, attributes, location_quality, requested_at, updated_at, source) "
            "SELECT 'la', 'BULK' || lpad(i::text, 22, '0'), 'BULK' || lpad(i::text, 6, '0'), 'graffiti', "
            "'Graffiti Removal', 'submitted', 'phone', 'none', "
            "'', '{}', 'none', now() - make_interval(mins => i), now(), 'intake' FROM generate_series(1, 1005) i"
        )
    )
    session.commit()
    assert len(client.get(f"{API}/requests.json").get_json()) == 1000


def test_updated_after_and_updated_before(client, session, api_key):
    reference = filed(client, api_key)
    stored = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    stamp = stored.updated_at.astimezone(UTC)

    def ids(**query) -> set[str]:
        return {r["service_request_id"] for r in client.get(f"{API}/requests.json", query_string=query).get_json()}

    before, after = (stamp - timedelta(minutes=1)).isoformat(), (stamp + timedelta(minutes=1)).isoformat()
    assert reference in ids(updated_after=before) and reference not in ids(updated_after=after)
    assert reference in ids(updated_before=after) and reference not in ids(updated_before=before)
    assert reference in ids(updated_after=before, updated_before=after)
    assert (
        client.get(f"{API}/requests.json", query_string={"updated_after": after, "updated_before": before}).status_code
        == 400
    )


def test_a_window_ending_at_a_requests_own_published_times_takes_it_in(client, session, api_key):
    reference = filed(client, api_key)
    stored = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    # Stored times keep fractions of a second; the published ones are cut to the second.
    session.execute(
        text(
            "UPDATE service_request SET requested_at = requested_at + interval '0.7 second', "
            "updated_at = updated_at + interval '0.4 second' WHERE id = :id"
        ),
        {"id": stored.id},
    )
    session.commit()
    published = client.get(f"{API}/requests/{reference}.json").get_json()[0]
    requested, updated = published["requested_datetime"], published["updated_datetime"]

    def ids(**query) -> set[str]:
        response = client.get(f"{API}/requests.json", query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return {r["service_request_id"] for r in response.get_json()}

    assert reference in ids(start_date=requested, end_date=requested)
    assert reference in ids(updated_after=updated, updated_before=updated)
    later = (datetime.fromisoformat(requested) + timedelta(seconds=1)).isoformat()
    earlier = (datetime.fromisoformat(requested) - timedelta(seconds=1)).isoformat()
    assert reference not in ids(start_date=later, end_date=later)
    assert reference not in ids(start_date=earlier, end_date=earlier)


def test_bbox(client, session, api_key):
    reference = filed(client, api_key)

    def ids(bbox: str) -> set[str]:
        response = client.get(f"{API}/requests.json?bbox={bbox}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return {r["service_request_id"] for r in response.get_json()}

    assert reference in ids("-118.27,34.07,-118.26,34.08")
    assert reference not in ids("-118.5,33.9,-118.4,34.0")
    for wrong in (
        "-118.26,34.07,-118.27,34.08",
        "-118.27,34.08,-118.26,34.07",
        "-200,0,0,1",
        "0,-91,1,0",
        "1,2,3",
        "a,b,c,d",
        "nan,0,1,1",
        "1e400,0,1,1",
    ):
        response = client.get(f"{API}/requests.json?bbox={wrong}")
        assert response.status_code == 400 and "bbox" in errors_of(response)[0][1], wrong


def test_extensions(client, session, api_key):
    original = filed(client, api_key)
    copy = filed(client, api_key)
    requests = {
        r.public_ref: r
        for r in session.scalars(select(ServiceRequest).where(ServiceRequest.public_ref.in_([original, copy])))
    }
    mark_duplicate(session, requests[copy], requests[original], "staff")
    plain = client.get(f"{API}/requests/{copy}.json").get_json()[0]
    assert "extended_attributes" not in plain and "notes" not in plain
    extended = client.get(f"{API}/requests/{copy}.json?extensions=true").get_json()[0]
    assert extended["extended_attributes"] == {
        "ward": "13",
        "ward_name": "Council District 13",
        "district": requests[copy].district_key,
        "district_name": extended["extended_attributes"]["district_name"],
        "duplicate_of": original,
        "channel": "open311",
        "channel_name": "Open311",
        "application": "Test app",
    }
    assert extended["extended_attributes"]["district_name"]
    assert [n["type"] for n in extended["notes"]] == ["created", "status"]
    assert extended["notes"][1]["description"] == f"Duplicate of {original}."
    assert all(W3C_OFFSET.match(n["datetime"]) for n in extended["notes"])
    root = xml(client.get(f"{API}/requests.xml?extensions=true&service_request_id={copy}"))
    assert root.find("request/extended_attributes/duplicate_of").text == original
    assert [n.findtext("type") for n in root.find("request/notes")] == ["created", "status"]
    assert client.get(f"{API}/requests.json?extensions=maybe").status_code == 400


def test_placeholder_points_have_no_lat_long(client, session, api_key):
    reference = filed(client, api_key)
    session.execute(
        text("UPDATE service_request SET location_quality = 'placeholder' WHERE public_ref = :r"), {"r": reference}
    )
    session.commit()
    found = client.get(f"{API}/requests/{reference}.json").get_json()[0]
    assert found["lat"] is None and found["long"] is None
    assert reference not in {
        r["service_request_id"] for r in client.get(f"{API}/requests.json?bbox=-118.27,34.07,-118.26,34.08").get_json()
    }


def test_every_history_request_with_an_address_is_published_with_a_place(session):
    # Issue 21, item 7: history rows whose source gave an address but no coordinates were
    # published with neither a point nor an address, though staff pages show the address.
    from open311.fields import FIELDS

    sql = {f.name: f.sql for f in FIELDS}
    placeless = session.execute(
        text(
            f"SELECT count(*) FILTER (WHERE ({sql['address']}) IS NULL AND ({sql['lat']}) IS NULL), "
            "count(*) FILTER (WHERE r.location_quality = 'none') "
            "FROM service_request r WHERE r.city = 'la' AND r.source = 'import' AND r.address IS NOT NULL"
        )
    ).one()
    assert placeless[1] > 0, "the demo history has rows with an address and no coordinates"
    assert placeless[0] == 0


def test_requests_of_other_jurisdictions_are_left_out_of_lists(client, session, api_key):
    reference = filed(client, api_key)
    session.execute(text("UPDATE service_request SET in_jurisdiction = false WHERE public_ref = :r"), {"r": reference})
    session.commit()
    assert reference not in {r["service_request_id"] for r in client.get(f"{API}/requests.json").get_json()}
    assert client.get(f"{API}/requests/{reference}.json").status_code == 200  # asked for by id: answered


# -- no personal data ------------------------------------------------------------------------

SECRETS = [
    "Zelda",
    "Quixotic",
    "zelda.q@example.org",
    "2135550199",
    "555 0199",
    "Secret Lane",
    "behind the gate",
    "my own words",
]


def test_no_get_response_holds_personal_data(app, client, session, la, api_key):
    through_api = filed(
        client,
        api_key,
        first_name="Zelda",
        last_name="Quixotic",
        email="zelda.q@example.org",
        phone="2135550199",
        description="my own words: Zelda at 213 555 0199",
        address_string="Zelda Quixotic's house, 12 Secret Lane",
        account_id="zelda-acct",
        device_id="zelda-phone",
    )
    validator = app.extensions["geo311"].validator
    through_web = create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti",
            channel="phone",
            address="Zelda's, 12 Secret Lane",
            lon=-118.26690,
            lat=34.07325,
            attributes={"surface": "wall"},
            first_name="Zelda",
            last_name="Quixotic",
            phone="213 555 0199",
            contact_notes="Mail to Zelda Quixotic, 12 Secret Lane",
            response_method="mail",
            location_note="behind the gate",
            description="my own words",
        ),
    ).request
    stored = session.get(RequestContact, through_web.id)
    assert stored.notes and stored.first_name == "Zelda"  # kept for staff...
    references = [through_api, through_web.public_ref]
    bodies = []
    for fmt in ("json", "xml"):
        for path in ("requests", "services", "discovery"):
            for query in ("", "?extensions=true", f"?service_request_id={','.join(references)}&extensions=true"):
                bodies.append(client.get(f"{API}/{path}.{fmt}{query}"))
        for reference in references:
            bodies.append(client.get(f"{API}/requests/{reference}.{fmt}?extensions=true"))
            bodies.append(client.get(f"{API}/tokens/{reference}.{fmt}"))
    for response in bodies:
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in body, (secret, response.request.path)  # ...and never shown
    assert through_api in bodies[0].get_data(as_text=True)


def test_descriptions_are_published_only_where_the_city_says_so(settings, bound_database, client, api_key):
    reference = filed(client, api_key, description="Blue tags on the north wall")
    assert client.get(f"{API}/requests/{reference}.json").get_json()[0]["description"] is None
    app = create_app(settings, database=bound_database)
    services = app.extensions["geo311"]
    services.city = dataclasses.replace(
        services.city, open311=dataclasses.replace(services.city.open311, publish_descriptions=True)
    )
    found = app.test_client().get(f"{API}/requests/{reference}.json").get_json()[0]
    assert found["description"] == "Blue tags on the north wall"


# -- limits and errors -------------------------------------------------------------------------


def test_rate_limits_per_key_and_per_address(settings, bound_database, client, session):
    _, key = issue_client(session, "la", "Chatty app", per_minute=2)
    assert post(client, key).status_code == 200
    assert client.get(f"{API}/services.json?api_key={key}").status_code == 200
    limited = post(client, key, "xml")
    assert limited.status_code == 429 and limited.headers["Retry-After"].isdigit()
    ((code, description),) = errors_of(limited)
    assert code == "429" and "2 requests a minute" in description
    app = create_app(dataclasses.replace(settings, open311_keyless_per_minute=3), database=bound_database)
    anonymous = app.test_client()
    statuses = [anonymous.get(f"{API}/services.json").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert anonymous.get(f"{API}/services.json", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    response = client.get(f"{API}/services.json")
    assert response.headers["X-RateLimit-Limit"] == str(settings.open311_keyless_per_minute)


def test_errors_are_lists_with_string_codes(client):
    checks = {
        f"{API}/requests.json?status=pending&page=0": (400, 2),
        f"{API}/requests.xml?start_date=yesterday": (400, 1),
        f"{API}/services/nope.xml": (404, 1),
        f"{API}/services.xml?api_key=forged": (403, 1),
        f"{API}/no-such-method.json": (404, 1),
        f"{API}/services.yaml": (404, 1),
    }
    for url, (status, how_many) in checks.items():
        response = client.get(url)
        assert response.status_code == status, url
        found = errors_of(response)
        assert len(found) == how_many and all(code == str(status) for code, _ in found), url
    wrong_method = client.delete(f"{API}/requests.json")
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}
    for method in ("TRACE", "QUERY", "PUT"):
        response = client.open(f"{API}/services.xml", method=method)
        assert response.status_code == 405 and "GET" in response.headers["Allow"], method
        assert errors_of(response)[0][0] == "405"
    assert errors_of(wrong_method)[0][0] == "405"
    nul = client.get(f"{API}/requests.xml?service_code=a%00b")
    assert nul.status_code == 400 and errors_of(nul)[0][0] == "400"


# -- the OpenAPI document ----------------------------------------------------------------------


def test_the_openapi_document(client):
    document = client.get(f"{API}/openapi.json").get_json()
    assert document["openapi"].startswith("3.0")
    paths = document["paths"]
    for fmt in ("json", "xml"):
        for path in (
            "discovery",
            "services",
            "services/{service_code}",
            "requests",
            "requests/{service_request_id}",
            "tokens/{token}",
        ):
            assert f"{API}/{path}.{fmt}" in paths
    listing = paths[f"{API}/requests.json"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "jurisdiction_id",
        "service_request_id",
        "service_code",
        "start_date",
        "end_date",
        "status",
        "updated_after",
        "updated_before",
        "bbox",
        "q",
        "lat",
        "long",
        "radius",
        "page",
        "page_size",
        "extensions",
        *IGNORED,
    }
    for parameter in listing["parameters"]:
        if parameter["name"] in IGNORED:  # accepted and ignored, with a Warning: any value is valid
            assert parameter["schema"] == {"type": "string"} and "Warning" in parameter["description"]
    radius = next(p for p in listing["parameters"] if p["name"] == "radius")
    assert f"{MAX_RADIUS_M:,}" in radius["description"]
    assert document["components"]["securitySchemes"]["api_key"] == {
        **document["components"]["securitySchemes"]["api_key"],
        "type": "apiKey",
        "in": "query",
        "name": "api_key",
    }
    assert paths[f"{API}/requests.json"]["post"]["security"] == [{"api_key": []}]
    assert listing["security"] == [{}, {"api_key": []}]
    form = paths[f"{API}/requests.xml"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert {
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
        "attribute[surface]",
        "attribute[items][]",
    } <= set(form["schema"]["properties"])
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"200", "400", "403", "404", "414", "429", "503"} <= set(operation["responses"]), (path, method)


def test_the_openapi_patterns_are_the_parsers(client):
    """A value the document's pattern admits is one the server takes, and the other way round."""
    document = client.get(f"{API}/openapi.json").get_json()
    parameters = {p["name"]: p["schema"] for p in document["paths"][f"{API}/requests.json"]["get"]["parameters"]}
    samples = {
        "status": (["open", "closed", "open,closed", ""], ["Open", "open,", " open", "pending"]),
        "page": (["1", "10000", ""], ["0", "01", "10001", "1.0", " 1"]),
        "page_size": (["1", "1000"], ["0", "1001", "-1"]),
        "extensions": (["true", "False", "TRUE"], ["1", "yes", " true"]),
        "start_date": (
            ["2010-01-01T00:00:00Z", "2010-01-01t00:00:00.5-08:00", "2010-01-01", "2010-01-01T00:00Z"],
            ["2010-01-01T00Z", "2010-01-01T00:00:00", "2010-01-01 00:00:00Z", "yesterday"],
        ),
        "service_code": (["graffiti", "graffiti,dead-animal"], ["Graffiti", "graffiti,", ",graffiti", "a b"]),
        "service_request_id": (["7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK", "7k3mq9xab0tq4zhm1c8re5w2pk"], ["12345", "7K3MQ"]),
        "bbox": (["-118.3,34.0,-118.2,34.1", "1,2,3,4"], ["1,2,3", "1e3,1,2,3", "a,b,c,d", "1000,1,2,3"]),
        "jurisdiction_id": (["lacity.org", "LA", ""], ["sfgov.org", "la "]),
        "q": (["graffiti", "Café Tropical", "x" * 200, "(", ""], ["x" * 201, "a\x00b", "tab\there"]),
    }
    for name, (good, bad) in samples.items():
        schema = parameters[name]
        pattern = re.compile(
            "|".join(f"(?:{a['pattern']})" if "pattern" in a else "^$" for a in schema["anyOf"])
            if "anyOf" in schema
            else schema["pattern"]
        )
        for value in good:
            assert pattern.search(value), (name, value)
            assert client.get(f"{API}/requests.json", query_string={name: value}).status_code == 200, (name, value)
        for value in bad:
            assert not pattern.search(value), (name, value)
            assert client.get(f"{API}/requests.json", query_string={name: value}).status_code in (400, 404), (
                name,
                value,
            )
    refs = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', __import__("json").dumps(document))
    assert set(refs) <= set(document["components"]["schemas"])


def test_the_clients_command(app, session):
    runner = app.test_cli_runner()
    added = runner.invoke(
        args=["open311", "clients", "add", "Fix-it app", "--contact", "dev@fixit.example", "--per-minute", "120"]
    )
    assert added.exit_code == 0, added.output
    key = re.search(r"api_key: (\S+)", added.output).group(1)
    listed = runner.invoke(args=["open311", "clients", "list"])
    assert "Fix-it app" in listed.output and key[:6] in listed.output and key not in listed.output
    assert "120/min" in listed.output and "active" in listed.output
    client_id = re.search(r"Client (\d+)", added.output).group(1)
    revoked = runner.invoke(args=["open311", "clients", "revoke", client_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in runner.invoke(args=["open311", "clients", "list"]).output
    assert runner.invoke(args=["open311", "clients", "revoke", "99999"]).exit_code == 1
    assert runner.invoke(args=["open311", "clients", "add", " "]).exit_code == 1


def test_text_that_is_not_utf8_is_a_400_naming_the_argument(client, session, api_key):
    # Issue 21, item 3: caf%E9 was stored as the literal text; a raw byte lost the whole form.
    body = f"api_key={api_key}&service_code=graffiti&lat=34.0782&long=-118.2606&attribute%5Bsurface%5D=wall"
    escaped = client.post(
        f"{API}/requests.json",
        data=body + "&description=caf%E9",
        content_type="application/x-www-form-urlencoded",
    )
    assert escaped.status_code == 400 and errors_of(escaped)[0][1].startswith("description: the text is not UTF-8")
    raw = client.post(
        f"{API}/requests.json",
        data=body.encode() + b"&description=caf\xe9",
        content_type="application/x-www-form-urlencoded",
    )
    assert raw.status_code == 400 and "not UTF-8" in errors_of(raw)[0][1]  # not "api_key was not provided"
    in_query = client.get(f"{API}/requests.json?service_code=gr%FFaffiti")
    assert in_query.status_code == 400 and errors_of(in_query)[0][1].startswith("service_code: the text is not UTF-8")
    fine = client.post(
        f"{API}/requests.json", data=body + "&description=caf%C3%A9", content_type="application/x-www-form-urlencoded"
    )
    assert fine.status_code == 200, fine.get_data(as_text=True)
    reference = fine.get_json()[0]["service_request_id"]
    stored = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    assert stored.description == "café"


def test_a_json_body_is_a_415_saying_to_send_a_form(client, api_key):
    response = client.post(
        f"{API}/requests.json", json={"api_key": api_key, "service_code": "graffiti", "lat": 34.07, "long": -118.26}
    )
    assert response.status_code == 415
    assert "A POST is sent as a form" in errors_of(response)[0][1]


def test_a_browser_preflight_may_send_the_idempotency_key(client):
    response = client.options(
        f"{API}/requests.json",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "idempotency-key",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]
