"""The PyPI client ``georeport`` (nobody here wrote it) against a live server, unchanged and unshimmed.

It reads the catalogue, one service's definition, the requests of a service and one request, in
JSON and in XML (which it parses with xmltodict), with the city's ``jurisdiction_id``. It has no
POST: the request it reads back is filed as a GeoReport v2 client files one.
"""

from __future__ import annotations

import os

import pytest
import requests
from georeport import GeoReport

from app.factory import create_app
from open311.clients import issue_client
from tests.helpers.browser import live_server

POINT = {"lat": "34.07325", "long": "-118.2669"}  # Echo Park


@pytest.fixture
def base(settings, bound_database, monkeypatch):
    monkeypatch.setitem(os.environ, "NO_PROXY", "127.0.0.1,localhost")  # the client reads the environment's proxies
    with live_server(create_app(settings, database=bound_database)) as url:
        yield url + "/open311/v2"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_the_catalogue_and_a_request_it_did_not_file(base, session, fmt):
    key = issue_client(session, "la", "Another app", per_minute=10_000)[1]
    filed = requests.post(
        f"{base}/requests.json",
        data={"api_key": key, "service_code": "graffiti", **POINT, "attribute[surface]": "wall"},
        timeout=30,
    )
    assert filed.status_code == 200, filed.text
    reference = filed.json()[0]["service_request_id"]
    client = GeoReport(base, jurisdiction="lacity.org", output_format=fmt)

    services = client.get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["graffiti"]["service_name"] == "Graffiti Removal"
    assert str(by_code["graffiti"]["metadata"]).lower() == "true" and by_code["graffiti"]["type"] == "realtime"

    definition = client.get_service_definition("graffiti")
    attributes = definition["attributes"]
    if fmt == "xml":  # xmltodict: the list is an element of <attribute> elements
        attributes = attributes["attribute"]
        attributes = attributes if isinstance(attributes, list) else [attributes]
    assert definition["service_code"] == "graffiti"
    assert "surface" in {a["code"] for a in attributes}

    listed = client.get_service_requests(service_code="graffiti", status="open")
    listed = listed if isinstance(listed, list) else [listed]
    assert reference in {r["service_request_id"] for r in listed}

    one = client.get_service_request(reference)
    assert one["service_request_id"] == reference and one["service_code"] == "graffiti"
    assert one["status"] == "open" and float(one["lat"]) == pytest.approx(34.07325)

    with pytest.raises(requests.HTTPError) as refused:  # the client raises on the spec's error answers
        client.get_service_definition("no-such-service")
    assert refused.value.response.status_code == 404
