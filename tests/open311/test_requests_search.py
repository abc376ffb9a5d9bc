"""GET requests with ``q`` and ``lat``/``long``/``radius``, the peers' arguments answered with a Warning,
and the channel in ``extended_attributes`` (issue 21), against the real database."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from sqlalchemy import select, text

from app.factory import create_app
from open311.params import IGNORED, MAX_RADIUS_M
from open311.queries import API_CHANGED
from open311.search import fold
from service_requests.lifecycle import add_note, change_status
from service_requests.models import ServiceRequest
from tests.helpers.requests import file_graffiti
from tests.open311.test_open311 import (  # noqa: F401 (fixtures)
    API,
    POINT,
    api_client_and_key,
    api_key,
    errors_of,
    filed,
    xml,
)

CENTRE = (float(POINT["long"]), float(POINT["lat"]))


def listed(client, **args: str) -> list[dict]:
    response = client.get(f"{API}/requests.json", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ids(client, **args: str) -> set[str]:
    return {r["service_request_id"] for r in listed(client, **args)}


def stored(session, reference: str) -> ServiceRequest:
    return session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))


# -- q -----------------------------------------------------------------------------------------------


def test_q_finds_by_service_name_whatever_the_case(client, api_key):  # noqa: F811
    graffiti = filed(client, api_key)
    animal = filed(client, api_key, service_code="dead-animal", **{"attribute[surface]": None})
    for q in ("graffiti", "GRAFFITI removal", "Gräffiti"):
        found = ids(client, q=q)
        assert graffiti in found and animal not in found, q
    assert animal in ids(client, q="dead animal")


def test_q_finds_by_published_address_and_every_answer_holds_every_word(client, api_key):  # noqa: F811
    reference = filed(client, api_key, lat=None, long=None, address_string="2111 W Bellevue Ave")
    answers = listed(client, q="bellevue 2111", extensions="true")
    assert reference in {r["service_request_id"] for r in answers}
    for answer in answers:  # each word is in what the answer publishes
        published = fold(
            " ".join(
                [answer["service_name"], answer["address"] or "", answer["description"] or ""]
                + [n["description"] for n in answer["notes"]]
            )
        )
        assert "bellevue" in published and "2111" in published, answer
    assert reference not in ids(client, q="bellevue 2112")  # every word must be found


def test_q_finds_by_public_note_not_by_a_private_one(client, session, api_key):  # noqa: F811
    reference = filed(client, api_key)
    request = stored(session, reference)
    add_note(session, request, "crew", "Crew 4 met the owner, Mr Quillfeather.", public=False)
    change_status(session, request, "fixed", "crew", note="Painted over beside the Café Tropicál.", public=True)
    session.commit()
    for q in ("cafe tropical", "CAFÉ", "tropicál"):
        assert reference in ids(client, q=q), q
    assert reference not in ids(client, q="quillfeather")
    # it combines with the other arguments (AND)
    assert reference in ids(client, q="tropical", status="closed", service_code="graffiti")
    assert reference not in ids(client, q="tropical", status="open")
    assert reference not in ids(client, q="tropical", service_code="dead-animal")


def test_q_finds_a_description_only_where_it_is_published(settings, bound_database, client, session, api_key):  # noqa: F811
    reference = filed(client, api_key, description="A mural of Quetzalcoatl was tagged")
    assert reference not in ids(client, q="quetzalcoatl")
    publishing = create_app(settings, database=bound_database)
    services = publishing.extensions["geo311"]
    services.city = dataclasses.replace(
        services.city, open311=dataclasses.replace(services.city.open311, publish_descriptions=True)
    )
    assert reference in ids(publishing.test_client(), q="quetzalcoatl")
    # staff may publish one request's description: the same rule as the description field's
    stored(session, reference).details_public = True
    session.commit()
    assert reference in ids(client, q="QUETZALCOATL")


def test_q_of_any_characters_is_text_not_a_pattern(client, api_key):  # noqa: F811
    filed(client, api_key)
    for q in ("(", "[a-z]*", "\\", "100%", "_", "'; DROP TABLE service_request; --", "é" * 200, "漢字"):
        assert client.get(f"{API}/requests.json", query_string={"q": q}).status_code == 200, q
    assert ids(client, q=".*") == set()


def test_a_bad_q_is_a_400_in_both_formats(client):
    for fmt in ("json", "xml"):
        response = client.get(f"{API}/requests.{fmt}", query_string={"q": "x" * 201})
        assert response.status_code == 400
        assert errors_of(response) == [("400", "q is 201 characters long; give at most 200.")]
    assert client.get(f"{API}/requests.json?q=a%00b").status_code == 400


# -- lat, long, radius -------------------------------------------------------------------------------


def place(session, reference: str, metres_east: float) -> None:
    """Put the request ``metres_east`` of CENTRE (on the spheroid)."""
    session.execute(
        text(
            "UPDATE service_request SET geom = ST_Project(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,"
            " :m, radians(90))::geometry WHERE public_ref = :ref"
        ),
        {"lon": CENTRE[0], "lat": CENTRE[1], "m": metres_east, "ref": reference},
    )
    session.commit()


def test_radius_finds_a_request_at_90_m_not_at_110_m(client, session, api_key):  # noqa: F811
    near, far, hidden = filed(client, api_key), filed(client, api_key), filed(client, api_key)
    place(session, near, 90)
    place(session, far, 110)
    place(session, hidden, 50)
    session.execute(
        text("UPDATE service_request SET location_quality = 'placeholder' WHERE public_ref = :r"), {"r": hidden}
    )
    session.commit()
    circle = {"lat": POINT["lat"], "long": POINT["long"], "radius": "100"}
    answers = listed(client, **circle)
    found = {r["service_request_id"] for r in answers}
    assert near in found and far not in found and hidden not in found  # no published point: never matched
    assert all(r["lat"] is not None for r in answers)
    times = [datetime.fromisoformat(r["requested_datetime"]) for r in answers]
    assert times == sorted(times, reverse=True)  # the usual order, newest first
    assert {near, far} <= ids(client, **{**circle, "radius": "110.5"})
    assert near in ids(client, **circle, q="graffiti") and near not in ids(client, **circle, q="animal")
    root = xml(client.get(f"{API}/requests.xml", query_string=circle))
    assert near in {r.findtext("service_request_id") for r in root}


def test_radius_is_capped_and_goes_with_lat_and_long(client):
    circle = {"lat": POINT["lat"], "long": POINT["long"]}
    assert client.get(f"{API}/requests.json", query_string={**circle, "radius": MAX_RADIUS_M}).status_code == 200
    for fmt in ("json", "xml"):
        over = client.get(f"{API}/requests.{fmt}", query_string={**circle, "radius": "5001"})
        assert over.status_code == 400
        ((code, description),) = errors_of(over)
        assert code == "400" and "over the limit of 5,000 metres" in description
    missing = client.get(f"{API}/requests.json", query_string=circle)
    assert missing.status_code == 400 and "radius is missing" in errors_of(missing)[0][1]
    both = client.get(f"{API}/requests.json", query_string={**circle, "radius": "100", "bbox": "-118.3,34,-118.2,34.1"})
    assert both.status_code == 400 and "give one of them" in errors_of(both)[0][1]


def test_the_circle_patterns_are_the_parsers(client):
    """What the document's patterns admit is what the server takes (the other two of the three given)."""
    document = client.get(f"{API}/openapi.json").get_json()
    patterns = {
        p["name"]: re.compile(p["schema"]["pattern"])
        for p in document["paths"][f"{API}/requests.json"]["get"]["parameters"]
        if p["name"] in ("lat", "long", "radius")
    }
    circle = {"lat": POINT["lat"], "long": POINT["long"], "radius": "100"}
    samples = {
        "lat": (["34", "-34.07325", "+34.1", ".5", "34."], ["34,1", "1e1", "north", "34.0.1", "0x10"]),
        "long": (["-118.2669", "-118", "180"], ["-118,27", "W118", "1e2"]),
        "radius": (["100", "0.5", ".5", "5000", "99.125"], ["-1", "1e3", "100m", "1,000", "123456", "1.2345"]),
    }
    for name, (good, bad) in samples.items():
        for value in good:
            assert patterns[name].search(value), (name, value)
            response = client.get(f"{API}/requests.json", query_string={**circle, name: value})
            assert response.status_code == 200, (name, value, response.get_data(as_text=True))
        for value in bad:
            assert not patterns[name].search(value), (name, value)
            assert client.get(f"{API}/requests.json", query_string={**circle, name: value}).status_code == 400


def test_a_circle_far_from_the_city_or_at_the_edge_of_the_world_answers(client):
    for lat, lon in (("0", "0"), ("90", "180"), ("-89.99", "-179.999"), ("34.07", "179.9999")):
        assert ids(client, lat=lat, long=lon, radius="5000") == set(), (lat, lon)


# -- the peers' arguments ----------------------------------------------------------------------------


def test_each_peers_argument_is_answered_as_without_it_with_a_warning(client, api_key):  # noqa: F811
    filed(client, api_key)
    plain = client.get(f"{API}/requests.json?page_size=5")
    assert plain.headers.getlist("Warning") == []
    for name in IGNORED:
        for fmt in ("json", "xml"):
            response = client.get(f"{API}/requests.{fmt}", query_string={"page_size": "5", name: "3"})
            assert response.status_code == 200
            assert response.headers.getlist("Warning") == [f'299 - "{IGNORED[name]}"'], name
            if fmt == "json":
                assert response.get_json() == plain.get_json(), name  # nothing in the body
    every = client.get(f"{API}/requests.json", query_string={name: "1" for name in IGNORED})
    assert len(every.headers.getlist("Warning")) == 4
    assert "Warning" in every.headers["Access-Control-Expose-Headers"]  # a browser app may read it
    # sent empty is not sent; arguments nobody uses are ignored as before, without a word
    quiet = client.get(f"{API}/requests.json?limit=&order=asc&frobnicate=1")
    assert quiet.status_code == 200 and quiet.headers.getlist("Warning") == []


def test_the_warnings_name_the_alternatives(client):
    warnings = {
        name: client.get(f"{API}/requests.json", query_string={name: "x"}).headers["Warning"] for name in IGNORED
    }
    assert "use page_size" in warnings["limit"] and "use page" in warnings["offset"]
    assert "newest first" in warnings["sort"] and "CORS" in warnings["callback"]


# -- the channel in extended_attributes ----------------------------------------------------------------


def test_the_channel_and_application_in_json_and_xml(client, session, la, validator, api_key):  # noqa: F811
    through_api = filed(client, api_key)
    by_phone = file_graffiti(session, la, validator).public_ref
    answers = {
        r["service_request_id"]: r["extended_attributes"]
        for r in listed(client, service_request_id=f"{through_api},{by_phone}", extensions="true")
    }
    api_filed = answers[through_api]
    assert (api_filed["channel"], api_filed["channel_name"], api_filed["application"]) == (
        "open311",
        "Open311",
        "Test app",
    )
    assert (answers[by_phone]["channel"], answers[by_phone]["channel_name"]) == ("phone", "Phone")
    assert answers[by_phone]["application"] is None
    assert "channel" not in str(listed(client, service_request_id=through_api))  # only with extensions=true
    root = xml(client.get(f"{API}/requests.xml?extensions=true&service_request_id={through_api},{by_phone}"))
    by_id = {r.findtext("service_request_id"): r.find("extended_attributes") for r in root}
    assert by_id[through_api].findtext("channel") == "open311"
    assert by_id[through_api].findtext("application") == "Test app"
    assert by_id[by_phone].findtext("channel_name") == "Phone" and by_id[by_phone].findtext("application") == ""
    (single,) = client.get(f"{API}/requests/{by_phone}.json?extensions=true").get_json()
    assert single["extended_attributes"]["channel"] == "phone"


def test_history_requests_publish_their_own_channel(client, session):
    reference, channel = session.execute(
        text("SELECT public_ref, channel FROM service_request WHERE city = 'la' AND source = 'import' LIMIT 1")
    ).one()
    (found,) = client.get(f"{API}/requests/{reference}.json?extensions=true").get_json()
    assert found["extended_attributes"]["channel"] == channel and found["extended_attributes"]["application"] is None


def test_discovery_changeset_follows_the_api(client):
    changeset = client.get(f"{API}/discovery.json").get_json()["changeset"]
    assert datetime.fromisoformat(changeset) >= API_CHANGED
