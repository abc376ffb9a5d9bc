"""Open311 servicerequestupdates (mySociety's extension): GET the public updates in a window, POST a client's update."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from open311.clients import issue_client
from open311.models import ClientUpdate
from open311.params import parse_update_query
from open311.updates import STATE_OF_STATUS, STATUS_OF_STATE, STATUSES, find_updates, post_update
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import add_note, change_status
from service_requests.models import RequestEvent, ServiceRequest
from tests.helpers.browser import live_server

API = "/open311/v2"
#: The loopback server is reached directly, whatever proxy the environment names.
_open = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
CONTACT = {"first_name": "Marisol", "last_name": "Quintero-Vasquez", "email": "marisol.qv@example.org"}


def _file(session, city, validator, **extra) -> ServiceRequest:
    data = RequestInput(
        service_code="graffiti",
        channel="phone",
        lon=extra.pop("lon", -118.26690),
        lat=extra.pop("lat", 34.07325),
        attributes={"surface": "wall"},
        **extra,
    )
    return create_request(session, city, validator, data).request


def _now_second(session) -> str:
    """The second of the test's transaction (every event of the test is stamped with it), as a W3C moment."""
    moment = session.scalar(text("SELECT now()"))
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _publishing(app):
    """Make the app's city publish client updates ([open311] client_updates_public = true)."""
    runtime = app.extensions["geo311"]
    city = runtime.city
    public_city = dataclasses.replace(city, open311=dataclasses.replace(city.open311, client_updates_public=True))
    app.extensions["geo311"] = dataclasses.replace(runtime, city=public_city)
    return app


@pytest.fixture
def commenter(session):
    """A client whose key may post comments only (the default)."""
    return issue_client(session, "la", "Neighbourhood app", per_minute=10_000)


@pytest.fixture
def partner(session):
    """A client whose key may change statuses (a contractor's system)."""
    return issue_client(session, "la", "Contractor system", per_minute=10_000, may_change_status=True)


def _update(key: str, reference: str, update_id: str = "fms-1", **fields) -> dict[str, str]:
    form = {
        "api_key": key,
        "service_request_id": reference,
        "update_id": update_id,
        "updated_datetime": "2026-11-23T14:30:00-08:00",
        "status": "OPEN",
        "description": "Still there this morning.",
    }
    form.update(fields)
    return {k: v for k, v in form.items() if v is not None}


def _errors(response) -> list[str]:
    if response.content_type.startswith("application/json"):
        body = response.get_json()
        assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body)
        return [e["description"] for e in body]
    root = ET.fromstring(response.get_data())
    assert root.tag == "errors"
    return [e.findtext("description") or "" for e in root]


def _events(session, request_id: int) -> list[RequestEvent]:
    session.expire_all()
    return list(
        session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id))
    )


# -- the mapping ------------------------------------------------------------------------------


def test_every_state_has_a_status_and_every_status_a_meaning():
    assert set(STATUS_OF_STATE.values()) <= set(STATUSES)
    assert set(STATE_OF_STATUS) == set(STATUSES) and len(STATUSES) == 12
    # A status a client sends names the same state the server publishes for it (OPEN aside: "open, whichever").
    for state, status in STATUS_OF_STATE.items():
        assert STATE_OF_STATUS[status] in (state, None)


# -- GET --------------------------------------------------------------------------------------


def test_get_lists_public_updates_of_the_window_in_both_formats(client, session, la, validator):
    request = _file(session, la, validator, **CONTACT, phone="2135550123", description="Call me on 213 555 0123")
    change_status(session, request, "in_progress", "ocb:ana", "Crew on the way.")
    add_note(session, request, "ocb:ana", "Resident is Marisol, rings twice.", public=False)
    add_note(session, request, "ocb:ana", "Paint matched to the wall.", public=True)
    change_status(session, request, "fixed", "ocb:ana", "Removed.")
    second = _now_second(session)
    response = client.get(f"{API}/servicerequestupdates.json", query_string={"start_date": second, "end_date": second})
    assert response.status_code == 200, response.get_data(as_text=True)
    mine = [u for u in response.get_json() if u["service_request_id"] == request.public_ref]
    assert [(u["status"], u["description"], u["external_status_code"]) for u in mine] == [
        ("IN_PROGRESS", "Crew on the way.", "in_progress"),
        ("IN_PROGRESS", "Paint matched to the wall.", "in_progress"),
        ("FIXED", "Removed.", "fixed"),
    ]
    events = {e.note: e.id for e in _events(session, request.id)}
    assert [u["update_id"] for u in mine] == [str(events[u["description"]]) for u in mine]
    assert set(mine[0]) == {
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
        "external_status_code",
    }
    assert mine[0]["updated_datetime"].endswith(("-08:00", "-07:00"))  # the city's time, with its offset
    body = response.get_data(as_text=True)
    for private in ("Marisol", "Quintero", "marisol.qv", "555 0123", "rings twice", "ocb:ana", "Request received"):
        assert private not in body, private

    xml = client.get(f"{API}/servicerequestupdates.xml", query_string={"start_date": second, "end_date": second})
    assert xml.status_code == 200 and xml.content_type.startswith("text/xml")
    root = ET.fromstring(xml.get_data())
    assert root.tag == "service_requests_updates" and {child.tag for child in root} == {"request_update"}
    from_xml = [
        {field.tag: field.text for field in item}
        for item in root
        if item.findtext("service_request_id") == request.public_ref
    ]
    assert from_xml == [{k: v for k, v in u.items()} for u in mine]  # XML and JSON agree value for value


def test_the_window_is_read_on_published_seconds_and_outside_it_nothing(client, session, la, validator):
    request = _file(session, la, validator)
    add_note(session, request, "ocb:ana", "Looked at it.", public=True)
    second = _now_second(session)
    before = (datetime.fromisoformat(second.replace("Z", "+00:00")) - timedelta(seconds=1)).isoformat()

    def refs(**query) -> list[str]:
        response = client.get(f"{API}/servicerequestupdates.json", query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [u["service_request_id"] for u in response.get_json()]

    assert request.public_ref in refs(start_date=second, end_date=second)  # a bound equal to its own time
    assert request.public_ref in refs(start_date=second)  # the 90 days from it
    assert request.public_ref in refs()  # the last 90 days
    assert request.public_ref not in refs(end_date=before)
    assert request.public_ref not in refs(start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z")


def test_get_pages_like_get_requests(client, session, la, validator):
    request = _file(session, la, validator)
    for n in range(3):
        add_note(session, request, "ocb:ana", f"Visit {n}.", public=True)
    second = _now_second(session)
    window = {"start_date": second, "end_date": second, "page_size": "1"}
    pages = [
        client.get(f"{API}/servicerequestupdates.json", query_string={**window, "page": str(page)}).get_json()
        for page in (1, 2, 3, 4)
    ]
    assert [[u["description"] for u in page] for page in pages] == [["Visit 0."], ["Visit 1."], ["Visit 2."], []]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "after end_date"),
        ({"start_date": "yesterday"}, "start_date 'yesterday'"),
        ({"end_date": "2026-02-30T00:00:00Z"}, "not a real date"),
        ({"page": "0"}, "page"),
        ({"page_size": "5000"}, "page_size"),
        ({"jurisdiction_id": "example.com"}, "jurisdiction_id"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_get_arguments_are_the_specs_errors(client, query, says, fmt):
    response = client.get(f"{API}/servicerequestupdates.{fmt}", query_string=query)
    assert response.status_code in (400, 404), response.get_data(as_text=True)
    assert any(says in description for description in _errors(response)), _errors(response)


# -- POST -------------------------------------------------------------------------------------


def test_a_comment_is_recorded_with_the_clients_name_and_kept_private_by_default(client, session, la, validator):
    app_client, key = issue_client(session, "la", "Neighbourhood app", per_minute=10_000)
    request = _file(session, la, validator)
    response = client.post(f"{API}/servicerequestupdates.json", data=_update(key, request.public_ref, **CONTACT))
    assert response.status_code == 200, response.get_data(as_text=True)
    ((answer),) = response.get_json()
    event = _events(session, request.id)[-1]
    assert answer == {"update_id": str(event.id)}
    assert (event.kind, event.note, event.public) == ("note", "Still there this morning.", False)
    assert event.actor == f"Neighbourhood app (Open311 client {app_client.id})"
    assert event.data["update_id"] == "fms-1" and event.data["client_datetime"] == "2026-11-23T14:30:00-08:00"
    stored = session.scalar(select(ClientUpdate).where(ClientUpdate.event_id == event.id))
    assert stored.author == "Marisol Quintero-Vasquez <marisol.qv@example.org>"
    second = _now_second(session)
    listed = client.get(f"{API}/servicerequestupdates.json", query_string={"start_date": second}).get_json()
    assert str(event.id) not in [u["update_id"] for u in listed]  # the city does not publish client updates
    xml = client.post(f"{API}/servicerequestupdates.xml", data=_update(key, request.public_ref, "fms-2"))
    root = ET.fromstring(xml.get_data())
    assert root.tag == "service_requests_updates" and root.find("request_update/update_id").text.isdigit()


def test_where_the_city_publishes_them_a_comment_is_public(app, session, la, validator, commenter):
    client = _publishing(app).test_client()
    request = _file(session, la, validator)
    posted = client.post(
        f"{API}/servicerequestupdates.json",
        data=_update(commenter[1], request.public_ref, media_url="https://fms.example/photo/1.jpeg", **CONTACT),
    ).get_json()[0]["update_id"]
    second = _now_second(session)
    listed = client.get(f"{API}/servicerequestupdates.json", query_string={"start_date": second}).get_json()
    (mine,) = [u for u in listed if u["update_id"] == posted]
    assert mine["status"] == "OPEN" and mine["description"] == "Still there this morning."
    assert mine["media_url"] == "https://fms.example/photo/1.jpeg"
    assert "Marisol" not in json.dumps(listed) and "marisol.qv" not in json.dumps(listed)


def test_a_partner_changes_the_status_through_the_lifecycle(client, session, la, validator, partner):
    _, key = partner
    request = _file(session, la, validator)

    def send(update_id: str, status: str, description: str = "Done by the crew."):
        response = client.post(
            f"{API}/servicerequestupdates.json",
            data=_update(key, request.public_ref, update_id, status=status, description=description),
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        session.expire_all()
        return response.get_json()[0]["update_id"]

    send("u1", "ACTION_SCHEDULED")
    assert request.status == "scheduled"
    send("u2", "FIXED")
    assert request.status == "fixed" and request.closed_at is not None
    send("u3", "FIXED", "Checked again.")  # its own status: a comment
    assert _events(session, request.id)[-1].kind == "note" and request.status == "fixed"
    send("u4", "REOPEN", "It is back.")
    assert request.status == "submitted"
    send("u5", "CLOSED", "Nothing to do.")
    assert request.status == "cancelled"
    last = send("u6", "NOT_COUNCILS_RESPONSIBILITY", "Private land.")  # closed: reopened, then closed so
    assert request.status == "not_our_responsibility"
    kinds = [(e.kind, e.to_status) for e in _events(session, request.id)][-2:]
    assert kinds == [("reopened", "submitted"), ("status", "not_our_responsibility")]
    assert last == str(_events(session, request.id)[-1].id)


def test_a_comments_only_key_may_not_change_the_status(client, session, la, validator, commenter):
    request = _file(session, la, validator)
    before = len(_events(session, request.id))
    for fmt in ("json", "xml"):
        response = client.post(
            f"{API}/servicerequestupdates.{fmt}",
            data=_update(commenter[1], request.public_ref, f"x-{fmt}", status="FIXED"),
        )
        assert response.status_code == 403
        assert "comments only" in _errors(response)[0]
    assert len(_events(session, request.id)) == before and request.status == "submitted"
    assert (
        session.scalar(select(func.count()).select_from(ClientUpdate).where(ClientUpdate.request_id == request.id)) == 0
    )


def test_the_same_update_id_answers_the_first_answer_and_other_contents_are_a_409(client, session, la, validator):
    _, key = issue_client(session, "la", "FixMyStreet", per_minute=10_000)
    _, other_key = issue_client(session, "la", "Another app", per_minute=10_000)
    request = _file(session, la, validator)
    url = f"{API}/servicerequestupdates.json"
    first = client.post(url, data=_update(key, request.public_ref, "638344")).get_json()
    count = len(_events(session, request.id))
    assert client.post(url, data=_update(key, request.public_ref, "638344")).get_json() == first
    assert len(_events(session, request.id)) == count  # nothing recorded twice
    changed = client.post(url, data=_update(key, request.public_ref, "638344", description="Something else."))
    assert changed.status_code == 409
    assert "already used" in _errors(changed)[0] and first[0]["update_id"] in _errors(changed)[0]
    theirs = client.post(url, data=_update(other_key, request.public_ref, "638344")).get_json()
    assert theirs != first  # update ids are each client's own
    assert len(_events(session, request.id)) == count + 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_posts_are_400s_naming_each_argument(client, session, la, validator, commenter, fmt):
    request = _file(session, la, validator)
    key = commenter[1]
    url = f"{API}/servicerequestupdates.{fmt}"
    missing = client.post(url, data={"api_key": key})
    assert missing.status_code == 400
    described = " ".join(_errors(missing))
    for name in ("service_request_id", "update_id", "updated_datetime", "status", "description"):
        assert f"{name} was not provided" in described
    cases = [
        ({"status": "SOLVED"}, "status 'SOLVED' must be one of OPEN, CLOSED"),
        ({"updated_datetime": "last tuesday"}, "updated_datetime 'last tuesday'"),
        ({"update_id": "has spaces in it"}, "update_id must be"),
        ({"service_request_id": "12"}, "is not a service request id"),
        ({"media_url": "ftp://x"}, "media_url"),
        ({"email": "nobody"}, "not an e-mail address"),
        ({"description": "x" * 4001}, "at most 4,000"),
        ({"description": "   "}, "description was not provided"),
        ({"status": "DUPLICATE"}, "DUPLICATE cannot be set"),
    ]
    for fields, says in cases:
        response = client.post(url, data=_update(key, request.public_ref, **fields))
        assert response.status_code == 400, (fields, response.get_data(as_text=True))
        assert any(says in d for d in _errors(response)), (fields, _errors(response))
    unknown = client.post(url, data=_update(key, "7K3MQ-9XAB0-TQ4ZH-M1C8R-E5W2PK"))
    assert unknown.status_code == 404 and "was not found" in _errors(unknown)[0]
    keyless = client.post(url, data={k: v for k, v in _update(key, request.public_ref).items() if k != "api_key"})
    assert keyless.status_code == 403 and "posting an update needs the key" in _errors(keyless)[0]
    assert (
        session.scalar(select(func.count()).select_from(ClientUpdate).where(ClientUpdate.request_id == request.id)) == 0
    )


def test_a_fixture_city_posts_and_lists_its_own_updates(session, gardena, gardena_validator):
    city = dataclasses.replace(gardena, open311=dataclasses.replace(gardena.open311, client_updates_public=True))
    caller, key = issue_client(session, "gardena", "Gardena app", per_minute=10_000, may_change_status=True)
    from open311.clients import authenticate

    request = _file(session, gardena, gardena_validator, lon=-118.3090, lat=33.8880)
    form = _FormArgs(_update(key, request.public_ref, status="IN_PROGRESS"))
    posted = post_update(session, city, authenticate(session, "gardena", key), form)
    assert posted.created and request.status == "in_progress"
    second = _now_second(session)
    updates = find_updates(session, city, parse_update_query(_FormArgs({"start_date": second}), city.tz))
    assert [u["update_id"] for u in updates if u["service_request_id"] == request.public_ref] == [posted.update_id]
    stored = session.scalar(select(func.count()).select_from(ClientUpdate).where(ClientUpdate.client_id == caller.id))
    assert stored == 1


class _FormArgs:
    """A plain dict as the multi-dict the parsers read."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def getlist(self, key: str) -> list[str]:
        return [self.values[key]] if key in self.values else []


# -- as FixMyStreet's client drives it ------------------------------------------------------------


def test_fixmystreet_polls_posts_and_sees_its_update_in_the_next_poll(app, session, la, validator, partner):
    """Open311::GetServiceRequestUpdates polls a window ending now; post_service_request_update sends a
    comment with FixMyStreet's own comment id as update_id and keeps the server's update_id, by which the
    next poll's entry is known to be its own (and skipped)."""
    _, key = partner
    request = _file(session, la, validator)
    change_status(session, request, "acknowledged", "ocb:ana", "We are looking into it.")
    _publishing(app)

    def get(base: str, start: datetime, end: datetime) -> list[dict]:
        query = urllib.parse.urlencode(
            {
                "jurisdiction_id": "lacity.org",
                "api_key": key,
                "start_date": start.isoformat(timespec="seconds"),
                "end_date": end.isoformat(timespec="seconds"),
            }
        )
        with _open(f"{base}{API}/servicerequestupdates.xml?{query}", timeout=30) as answer:
            root = ET.fromstring(answer.read())
        assert root.tag == "service_requests_updates"
        return [{field.tag: field.text for field in item} for item in root.iter("request_update")]

    with live_server(app) as base:
        last_poll = datetime.now(UTC) - timedelta(hours=1)
        now = datetime.now(UTC) + timedelta(seconds=1)
        first = [u for u in get(base, last_poll, now) if u["service_request_id"] == request.public_ref]
        assert [(u["status"], u["description"]) for u in first] == [("INVESTIGATING", "We are looking into it.")]

        form = urllib.parse.urlencode(
            {
                "jurisdiction_id": "lacity.org",
                "api_key": key,
                "service_request_id": request.public_ref,
                "update_id": "93712",  # FixMyStreet's comment id
                "updated_datetime": datetime.now(UTC).isoformat(timespec="seconds"),
                "status": "FIXED",
                "description": "Fixed, says the resident.",
                "first_name": "Marisol",
                "last_name": "Quintero-Vasquez",
                "email": "marisol.qv@example.org",
                "media_url": "https://fms.example/c/93712.0.jpeg",
                "public_anonymity_required": "FALSE",  # FixMyStreet's extras: ignored
                "email_alerts_requested": "FALSE",
                "service_request_id_ext": "4242",
            }
        ).encode()
        with _open(f"{base}{API}/servicerequestupdates.xml", data=form, timeout=30) as answer:
            ours = ET.fromstring(answer.read()).findtext("request_update/update_id")
        assert ours and ours.isdigit()
        with _open(f"{base}{API}/servicerequestupdates.xml", data=form, timeout=30) as answer:
            assert ET.fromstring(answer.read()).findtext("request_update/update_id") == ours  # a retry

        second = [u for u in get(base, now - timedelta(hours=1), datetime.now(UTC) + timedelta(seconds=1))]
        mine = [u for u in second if u["service_request_id"] == request.public_ref]
        assert [u["update_id"] for u in mine][-1] == ours
        assert (mine[-1]["status"], mine[-1]["description"]) == ("FIXED", "Fixed, says the resident.")
        new_to_fixmystreet = [u for u in mine if u["update_id"] not in {ours, first[0]["update_id"]}]
        assert new_to_fixmystreet == []
        assert "Marisol" not in json.dumps(second)

        bad = urllib.parse.urlencode({"api_key": key, "status": "FIXED"}).encode()
        with pytest.raises(urllib.error.HTTPError) as refused:
            _open(f"{base}{API}/servicerequestupdates.xml", data=bad, timeout=30)
        assert refused.value.code == 400
    session.expire_all()
    assert request.status == "fixed"


# -- discovery and the OpenAPI document ---------------------------------------------------------


def test_discovery_and_the_openapi_document_describe_the_endpoint(client):
    endpoints = client.get(f"{API}/discovery.json").get_json()["endpoints"]
    assert any("mysociety" in e["specification"] for e in endpoints)
    document = client.get(f"{API}/openapi.json").get_json()
    for fmt in ("json", "xml"):
        path = document["paths"][f"{API}/servicerequestupdates.{fmt}"]
        assert set(path) == {"get", "post"}
        assert {"409", "403", "404"} <= set(path["post"]["responses"])
    schema = document["components"]["schemas"]["RequestUpdate"]
    assert schema["required"] == [
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
        "external_status_code",
    ]
    assert schema["properties"]["status"]["enum"] == list(STATUSES)
