"""Hostile input at every argument of the Open311 API: a spec error list, never a server error, nothing stored."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from open311.clients import issue_client
from open311.errors import Open311Error
from open311.params import parse_datetime, parse_request_query
from service_requests.models import ServiceRequest

API = "/open311/v2"
LA = ZoneInfo("America/Los_Angeles")

#: Values no argument of the API takes as they are.
HOSTILE = [
    "'; DROP TABLE service_request; --",
    "' OR 1=1 --",
    "1 UNION SELECT * FROM request_contact",
    "<script>alert(1)</script>",
    "]]><!ENTITY x SYSTEM 'file:///etc/passwd'>",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "../../etc/passwd",
    "A" * 10_000,
    "\u202e\ufeff\u200b",
    "\x01\x02\x1f",
    "\U0001f600" * 50,
    "-1",
    "99999999999999999999999",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "[]",
    "{}",
    "true,false",
    ",",
    "2020-02-30T00:00:00Z",
    "2020-01-01T25:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "0000-01-01",
    "٢٠٢٠-٠١-٠١",
    "9999-12-31T00:00:00Z",
    "9999-12-31",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "10,10,-10,-10",
    "-200,0,0,0",
    "0,-95,0,0",
    "1,2,3",
    "a,b,c,d",
    " 1,2,3,4",
]

GET_ARGUMENTS = [
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "updated_after",
    "updated_before",
    "bbox",
    "page",
    "page_size",
    "extensions",
    "jurisdiction_id",
    "api_key",
]

#: What a valid request looks like; each case replaces one argument.
VALID_POST = {"service_code": "graffiti", "lat": "34.07325", "long": "-118.26690", "attribute[surface]": "wall"}

#: (changes to VALID_POST, expected status): None removes an argument, a list repeats it.
NO_POINT = {"lat": None, "long": None}
BAD_POSTS = [
    *[
        ({"service_code": v}, 400)
        for v in (
            "'; DROP TABLE service_request; --",
            "GRAFFITI",
            "a" * 5000,
            "graffiti\n",
            ["graffiti", "dead-animal"],
        )
    ],
    ({"service_code": "teleportation"}, 404),
    ({"service_code": None}, 400),
    *[
        ({"lat": v}, 400)
        for v in (
            "91",
            "-90.0001",
            "1e309",
            "NaN",
            "inf",
            "abc",
            "34,07",
            "0x22",
            "",
            "٣٤",
            "34 ",
            "1_0",
            ["34.07", "34.08"],
        )
    ],
    *[({"long": v}, 400) for v in ("181", "-180.5", "-1e309", "nan", "-118.2.6", "[]")],
    ({"lat": "0", "long": "0"}, 400),  # valid numbers, in the Gulf of Guinea: nobody's we know
    ({"lat": "34.0736", "long": "-118.4004"}, 400),  # Beverly Hills: another agency's
    *[
        ({**NO_POINT, "address_string": v}, 400)
        for v in (
            "A" * 201,
            "'; DROP TABLE service_request; --",
            "99999 Nowhere Street",
            "La Cienega Blvd & Blackwelder St",
        )
    ],
    ({**NO_POINT, "address_string": None}, 400),  # no location at all
    *[({"address_id": v}, 400) for v in ("' OR 1=1 --", "x" * 65, "../../etc")],
    *[({"email": v}, 400) for v in ("not-an-address", "a@b", "<script>@x.org", "x" * 201 + "@example.org")],
    ({"phone": "12"}, 400),
    ({"phone": "9" * 201}, 400),
    ({"first_name": "F" * 201}, 400),
    ({"last_name": "L" * 201}, 400),
    ({"device_id": "d" * 201}, 400),
    ({"account_id": "a" * 201}, 400),
    ({"description": "D" * 4001}, 400),
    *[
        ({"media_url": v}, 400)
        for v in (
            "javascript:alert(1)",
            "ftp://x.org/a",
            "http://x.org/<script>",
            "file:///etc/passwd",
            "https://" + "x" * 2001,
        )
    ],
    *[({"attribute[surface]": v}, 400) for v in ("roof", "'; DROP TABLE x; --", "W" * 2000, None)],
    ({"attribute[surface]": None, "attribute[surface][]": ["wall", "fence"]}, 400),
    *[
        ({name: "x"}, 400)
        for name in ("attribute[unknown]", "attribute[../x]", "attribute[]", "attribute", "attribute[surface][][]")
    ],
    ({"jurisdiction_id": "sfgov.org"}, 404),
    ({"jurisdiction_id": "' OR 1=1 --"}, 404),
    ({"idempotency_key": "has space"}, 400),
    ({"idempotency_key": "k" * 151}, 400),
]


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(ServiceRequest))


def assert_spec_document(response) -> None:
    """A well-formed body in the URL's format: the error list for an error, a list or document otherwise."""
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    body = response.get_data()
    if response.content_type.startswith("application/json"):
        document = json.loads(body)
        if response.status_code >= 400:
            assert document and all(
                set(e) == {"code", "description"} and e["code"] == str(response.status_code) for e in document
            )
    else:
        assert response.content_type.startswith("text/xml")
        root = ET.fromstring(body)
        if response.status_code >= 400:
            assert root.tag == "errors" and root.findtext("error/code") == str(response.status_code)


@pytest.fixture
def api_key(session) -> str:
    return issue_client(session, "la", "Fuzzer", per_minute=100_000)[1]


@pytest.mark.parametrize("argument", GET_ARGUMENTS)
def test_hostile_values_at_every_argument_of_get_requests(client, session, argument):
    before = count(session)
    for fmt in ("json", "xml"):
        for value in HOSTILE:
            response = client.get(f"{API}/requests.{fmt}", query_string={argument: value})
            assert_spec_document(response)
            if argument == "jurisdiction_id":
                assert response.status_code == 404, value
            elif argument == "api_key":
                assert response.status_code == 403, value
            elif response.status_code != 200:
                assert response.status_code == 400, (argument, value)
    assert count(session) == before


@pytest.mark.parametrize("argument", ["start_date", "end_date", "updated_after", "updated_before"])
@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T00:00:00Z",
        "9999-12-31",
        "0001-01-01",
        "0001-01-01T00:00:00Z",
        "2200-01-01T00:00:00Z",
        "1899-12-31T23:59:59Z",
    ],
)
def test_moments_beyond_the_served_dates_are_a_spec_400(client, argument, value):
    for fmt in ("json", "xml"):
        response = client.get(f"{API}/requests.{fmt}", query_string={argument: value})
        assert response.status_code == 400, (argument, value, response.get_data(as_text=True)[:300])
        assert_spec_document(response)
        assert "1900-01-01 to 2199-12-31" in response.get_data(as_text=True)


def test_the_ends_of_the_served_dates_are_answered(client):
    for query in (
        {"start_date": "1900-01-01T00:00:00Z"},
        {"end_date": "2199-12-31T23:59:59Z"},
        {"updated_after": "1900-01-01", "updated_before": "2199-12-31"},
    ):
        response = client.get(f"{API}/requests.json", query_string=query)
        assert response.status_code == 200, (query, response.get_data(as_text=True)[:300])


def test_hostile_values_in_paths_and_other_methods(client, session):
    for value in HOSTILE[:20]:
        for fmt in ("json", "xml"):
            for path in (f"services/{value}", f"requests/{value}", f"tokens/{value}"):
                response = client.get(f"{API}/{path}.{fmt}")
                assert response.status_code in (400, 404), path
                assert_spec_document(response)
            for path in ("discovery", "services", "services/graffiti", "requests/X"):
                for argument in ("jurisdiction_id", "extensions", "api_key"):
                    response = client.get(f"{API}/{path}.{fmt}", query_string={argument: value})
                    assert response.status_code in (200, 400, 403, 404), (path, argument, value)
                    assert_spec_document(response)


@pytest.mark.parametrize(("changes", "status"), BAD_POSTS, ids=[str(c)[:40] for c, _ in BAD_POSTS])
def test_bad_posts_are_refused_and_store_nothing(client, session, api_key, changes, status):
    before = count(session)
    data = MultiDict({**VALID_POST, "api_key": api_key})
    for name, value in changes.items():
        data.poplist(name)
        for item in value if isinstance(value, list) else [] if value is None else [value]:
            data.add(name, item)
    for fmt in ("json", "xml"):
        response = client.post(f"{API}/requests.{fmt}", data=data)
        assert_spec_document(response)
        assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert count(session) == before


def test_hostile_api_keys_are_403_and_store_nothing(client, session):
    before = count(session)
    for value in HOSTILE:
        response = client.post(f"{API}/requests.json", data={**VALID_POST, "api_key": value})
        assert response.status_code == 403
        assert_spec_document(response)
    assert count(session) == before


def test_injection_in_free_text_is_stored_as_text(client, session, api_key):
    """Text fields take any text: it is stored verbatim and harms nothing."""
    payload = "'; DROP TABLE service_request; -- <script>alert(1)</script> \x01"
    response = client.post(
        f"{API}/requests.xml",
        data={**VALID_POST, "api_key": api_key, "description": payload, "first_name": payload, "device_id": payload},
    )
    assert response.status_code == 200
    reference = ET.fromstring(response.get_data()).find("request/service_request_id").text
    stored = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    assert stored.description == payload.strip()
    for fmt in ("json", "xml"):
        assert_spec_document(client.get(f"{API}/requests/{reference}.{fmt}?extensions=true"))


def test_huge_bodies_are_413_in_the_spec_format(app, client, api_key):
    too_large = app.config["MAX_CONTENT_LENGTH"] + 1024 * 1024  # room for photos, then 1 MB more
    response = client.post(
        f"{API}/requests.json", data={**VALID_POST, "api_key": api_key, "description": "x" * too_large}
    )
    assert response.status_code == 413
    assert_spec_document(response)


# -- the argument parser on its own, with generated input -------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(GET_ARGUMENTS + ["other"]),
        st.lists(st.text(max_size=40) | st.sampled_from(HOSTILE), max_size=3),
        max_size=6,
    )
)
def test_the_parser_answers_any_arguments_with_a_query_or_a_400(arguments):
    args = MultiDict([(k, v) for k, values in arguments.items() for v in values])
    try:
        query = parse_request_query(args, LA)
    except Open311Error as exc:
        assert exc.status == 400 and exc.errors
    else:
        assert 1 <= query.page_size <= 1000 and 1 <= query.page <= 10_000
        if query.start and query.end:
            assert query.start <= query.end and (query.end - query.start).days <= 90
        if query.bbox:
            assert query.bbox.min_lon <= query.bbox.max_lon and query.bbox.min_lat <= query.bbox.max_lat


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30), timezones=st.sampled_from([UTC, LA]))
)
def test_every_w3c_datetime_reads_back_as_the_same_moment(moment):
    for text in (moment.isoformat(timespec="seconds"), moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")):
        # (timestamps: PEP 495 makes times in a repeated hour unequal to any other zone's)
        assert parse_datetime(text, LA).timestamp() == moment.replace(microsecond=0).timestamp(), text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_datetime_text_is_a_moment_or_a_value_error(value):
    try:
        parsed = parse_datetime(value, LA)
    except ValueError:
        return
    assert parsed.tzinfo is not None
