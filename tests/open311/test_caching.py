"""HTTP caching of the Open311 API: ETag, Last-Modified, 304 Not Modified, Cache-Control, gzip."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from werkzeug.http import http_date, parse_date

from app.web.compression import MIN_SIZE
from core.caching import POLICY
from open311.clients import issue_client
from service_requests.lifecycle import change_status
from service_requests.models import ServiceRequest
from tests.open311.test_open311 import API, filed, post

pytestmark = pytest.mark.db

#: Every GET method, in both formats where it has two ({ref}: a filed request's id).
GETS = [
    "discovery.json",
    "discovery.xml",
    "services.json",
    "services.xml",
    "services/graffiti.json",
    "services/graffiti.xml",
    "requests.json",
    "requests.xml",
    "requests/{ref}.json",
    "requests/{ref}.xml",
    "tokens/{ref}.json",
    "tokens/{ref}.xml",
    "servicerequestupdates.json",
    "servicerequestupdates.xml",
    "openapi.json",
]


@pytest.fixture
def api_key(session) -> str:
    return issue_client(session, "la", "Caching test app", per_minute=10_000)[1]


@pytest.fixture
def ref(client, session, api_key) -> str:
    """A request filed through the API, acknowledged with a public note (so it has an update)."""
    reference = filed(client, api_key)
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    change_status(session, request, "acknowledged", "crew", note="On the list for Tuesday.", public=True)
    return reference


def get(client, path: str, **headers: str):
    return client.get(f"{API}/{path}", headers={k.replace("_", "-"): v for k, v in headers.items()})


@pytest.mark.parametrize("method", GETS)
def test_every_get_has_an_etag_and_answers_304_to_it(client, ref, method):
    path = method.format(ref=ref)
    response = get(client, path)
    assert response.status_code == 200 and response.headers["ETag"].startswith('"')
    etag = response.headers["ETag"]
    assert get(client, path).headers["ETag"] == etag  # the same bytes, the same tag
    again = get(client, path, If_None_Match=etag)
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    # a list of tags, the weak form of the tag (RFC 9110 compares weakly for GET), and "*"
    assert get(client, path, If_None_Match=f'"other", {etag}').status_code == 304
    assert get(client, path, If_None_Match=f"W/{etag}").status_code == 304
    assert get(client, path, If_None_Match="*").status_code == 304
    assert get(client, path, If_None_Match='"other"').status_code == 200
    # Last-Modified is known for each of them here, and never ahead of the server's clock
    modified = parse_date(response.headers["Last-Modified"])
    assert modified is not None and modified <= parse_date(response.headers["Date"]) + timedelta(seconds=1)


def test_an_empty_page_has_a_tag_and_no_last_modified(client):
    response = get(client, "servicerequestupdates.json")
    assert response.status_code == 200 and response.get_json() == []
    assert "ETag" in response.headers and "Last-Modified" not in response.headers
    assert get(client, "servicerequestupdates.json", If_None_Match=response.headers["ETag"]).status_code == 304


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_tag_differs_by_format_and_language(client, fmt):
    english = get(client, f"services.{fmt}", Accept_Language="en")
    spanish = get(client, f"services.{fmt}", Accept_Language="es")
    assert english.get_data() != spanish.get_data()
    assert english.headers["ETag"] != spanish.headers["ETag"]
    assert (
        get(client, f"services.{fmt}", Accept_Language="es", If_None_Match=english.headers["ETag"]).status_code == 200
    )
    assert {"Accept-Language", "Accept-Encoding"} <= {v.strip() for v in english.headers["Vary"].split(",")}
    other = "xml" if fmt == "json" else "json"
    assert get(client, f"services.{other}").headers["ETag"] != english.headers["ETag"]


def test_a_status_change_changes_the_list_and_the_detail(client, session, ref):
    paths = ["requests.json", f"requests/{ref}.json", "requests.xml", f"requests/{ref}.xml"]
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == ref))
    session.execute(  # a second earlier, so that Last-Modified moves too (HTTP dates are whole seconds)
        text("UPDATE service_request SET updated_at = updated_at - interval '2 seconds' WHERE id = :id"),
        {"id": request.id},
    )
    session.commit()
    before = {path: get(client, path) for path in paths}
    change_status(session, request, "fixed", "crew", note="Painted over.", public=True)
    for path in paths:
        after = get(client, path, If_None_Match=before[path].headers["ETag"])
        assert after.status_code == 200, path
        assert after.headers["ETag"] != before[path].headers["ETag"]
        assert parse_date(after.headers["Last-Modified"]) > parse_date(before[path].headers["Last-Modified"])
        # a client that only sends If-Modified-Since is told too
        since = get(client, path, If_Modified_Since=before[path].headers["Last-Modified"])
        assert since.status_code == 200, path


def test_if_modified_since_a_second_after_is_304_a_second_before_is_200(client, ref):
    for path in ("requests.json", f"requests/{ref}.xml", "services.json", "discovery.xml", "openapi.json"):
        modified = parse_date(get(client, path).headers["Last-Modified"])
        after = get(client, path, If_Modified_Since=http_date(modified + timedelta(seconds=1)))
        assert after.status_code == 304 and after.get_data() == b"", path
        assert get(client, path, If_Modified_Since=http_date(modified)).status_code == 304
        assert get(client, path, If_Modified_Since=http_date(modified - timedelta(seconds=1))).status_code == 200
        # If-None-Match, when sent, decides alone
        assert get(client, path, If_None_Match='"other"', If_Modified_Since=http_date(modified)).status_code == 200


def test_a_time_ahead_of_the_clock_is_not_sent_as_last_modified(client, session, ref):
    session.execute(
        text("UPDATE service_request SET updated_at = now() + interval '1 hour' WHERE public_ref = :ref"), {"ref": ref}
    )
    session.commit()
    for path in ("requests.json", f"requests/{ref}.json"):
        response = get(client, path)
        assert response.status_code == 200 and "Last-Modified" not in response.headers and "ETag" in response.headers


def test_cache_control_per_method(client, ref, api_key):
    catalogue = f"public, max-age={POLICY.open311_catalogue_max_age}"
    expected = {
        "discovery.json": catalogue,
        "services.xml": catalogue,
        "services/graffiti.json": catalogue,
        "openapi.json": catalogue,
        "requests.json": "public, no-cache",
        f"requests/{ref}.xml": "public, no-cache",
        "servicerequestupdates.json": "public, no-cache",
        f"tokens/{ref}.json": "private, no-cache",
    }
    for path, control in expected.items():
        assert set(get(client, path).headers["Cache-Control"].split(", ")) == set(control.split(", ")), path
    # asked with a key, the answer (and its rate-limit figures) is the client's own
    keyed = client.get(f"{API}/services.json?api_key={api_key}")
    assert set(keyed.headers["Cache-Control"].split(", ")) == {"private", "no-cache"}
    posted = post(client, api_key)
    assert posted.status_code == 200 and posted.headers["Cache-Control"] == "no-store" and "ETag" not in posted.headers


@pytest.mark.parametrize(
    "path",
    [
        "requests/7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK.json",
        "requests.xml?status=pending",
        "services/nope.json",
        "tokens/nope.xml",
        "discovery.json?jurisdiction_id=elsewhere.gov",
        "nothing-here.json",
    ],
)
def test_errors_carry_no_etag_and_are_never_304(client, path):
    response = client.get(f"{API}/{path}")
    assert 400 <= response.status_code < 500
    assert "ETag" not in response.headers and "Last-Modified" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"{API}/{path}", headers={"If-None-Match": "*"}).status_code == response.status_code


def test_a_rate_limited_answer_is_no_store(client, session):
    _, key = issue_client(session, "la", "Chatty app", per_minute=1)
    assert client.get(f"{API}/services.json?api_key={key}").status_code == 200
    limited = client.get(f"{API}/services.json?api_key={key}", headers={"If-None-Match": "*"})
    assert limited.status_code == 429 and "ETag" not in limited.headers
    assert limited.headers["Cache-Control"] == "no-store" and limited.headers["Retry-After"].isdigit()


@pytest.mark.parametrize("path", ["requests.json", "requests.xml", "services.json", "openapi.json"])
def test_gzip_when_asked(client, ref, path):
    plain = get(client, path)
    assert "Content-Encoding" not in plain.headers and len(plain.get_data()) >= MIN_SIZE
    zipped = get(client, path, Accept_Encoding="gzip, deflate, br")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert int(zipped.headers["Content-Length"]) == len(zipped.get_data()) < len(plain.get_data())
    assert "Accept-Encoding" in zipped.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    # other bytes, another (strong) tag; either tag revalidates without a body, never gzipped
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + ':gzip"'
    for etag in (zipped.headers["ETag"], plain.headers["ETag"]):
        again = get(client, path, Accept_Encoding="gzip", If_None_Match=etag)
        assert again.status_code == 304 and again.get_data() == b"" and "Content-Length" not in again.headers
        assert again.headers["ETag"] == etag and "Content-Encoding" not in again.headers
    changed = zipped.headers["ETag"].replace('"', '"0', 1)
    assert get(client, path, Accept_Encoding="gzip", If_None_Match=changed).status_code == 200
    assert get(client, path, Accept_Encoding="identity").headers.get("Content-Encoding") is None


def test_small_answers_are_not_gzipped(client, ref):
    response = get(client, f"tokens/{ref}.json", Accept_Encoding="gzip")
    assert len(response.get_data()) < MIN_SIZE
    assert "Content-Encoding" not in response.headers and response.get_json()[0]["service_request_id"] == ref


def test_errors_are_not_gzipped(client):
    response = client.get(
        f"{API}/requests.json?page=0&status=pending&" + "x=1&" * 200, headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 400 and "Content-Encoding" not in response.headers


def test_html_pages_are_not_gzipped(client):
    """Pages carry the CSRF token in their forms: compressing them would open them to BREACH."""
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert len(response.get_data()) >= MIN_SIZE and "Content-Encoding" not in response.headers


def test_the_cors_preflight_and_the_rate_limit_headers_stay(client, ref):
    preflight = client.options(
        f"{API}/requests.json",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]
    assert "If-Modified-Since" in preflight.headers["Access-Control-Allow-Headers"]
    assert "ETag" not in preflight.headers
    first = get(client, "requests.json")
    revalidated = get(client, "requests.json", If_None_Match=first.headers["ETag"], Accept_Encoding="gzip")
    for response in (first, revalidated):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["X-RateLimit-Limit"].isdigit() and response.headers["X-RateLimit-Remaining"].isdigit()
    assert revalidated.status_code == 304
    assert int(revalidated.headers["X-RateLimit-Remaining"]) < int(first.headers["X-RateLimit-Remaining"])


def test_the_openapi_document_declares_the_304s(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    gets = {path: item["get"] for path, item in paths.items() if "get" in item}
    assert len(gets) >= 14
    assert all("304" in operation["responses"] for operation in gets.values())
    assert not any("304" in item["post"]["responses"] for item in paths.values() if "post" in item)
