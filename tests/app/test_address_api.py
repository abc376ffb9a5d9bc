"""The address endpoints, as the intake widget and other clients call them."""

from __future__ import annotations

import pytest


def test_validate_by_query_string_and_by_json(client):
    by_query = client.get("/api/addresses/validate?q=2111+W+Bellevue+Ave").get_json()
    assert by_query["status"] == "valid" and by_query["ward"]["key"] == "13"
    by_json = client.post("/api/addresses/validate", json={"q": "2111 W Bellevue Ave"}).get_json()
    assert by_json == by_query
    by_form = client.post("/api/addresses/validate", data={"address": "2111 W Bellevue Ave"}).get_json()
    assert by_form["match"] == by_query["match"]


@pytest.mark.parametrize("q", ["", "<img src=x onerror=alert(1)>", "x" * 10_000, "1' OR '1'='1", "P.O. Box 5", "🙂"])
def test_hostile_input_is_an_answer_not_an_error(client, q):
    response = client.post("/api/addresses/validate", json={"q": q})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "invalid" and body["reason"]


def test_validate_needs_text(client):
    assert client.get("/api/addresses/validate").status_code == 400
    response = client.post("/api/addresses/validate", json={"q": ["2111 Bellevue"]})
    assert response.status_code == 400 and response.get_json()["error"]["description"] == "The address must be text."


def test_suggest_and_reverse(client):
    suggestions = client.get("/api/addresses/suggest?q=2111+w+bel").get_json()["suggestions"]
    assert suggestions[0]["text"] == "2111 W BELLEVUE AVE, 90026"
    assert client.get("/api/addresses/suggest?q=2111&limit=abc").status_code == 400
    nearest = client.get("/api/addresses/reverse?lon=-118.2669&lat=34.07325").get_json()
    assert nearest["address"]["text"] == "2111 W BELLEVUE AVE, 90026"
    assert nearest["location"]["status"] == "inside"
    assert client.get("/api/addresses/reverse?lon=-118.2669&lat=NaN").status_code == 400


def test_agency_outline_for_the_redirect_map(client):
    response = client.get("/api/boundaries/agencies/culver-city.geojson")
    assert response.status_code == 200
    assert response.get_json()["features"][0]["properties"]["name"] == "City of Culver City"
    assert client.get("/api/boundaries/agencies/atlantis.geojson").status_code == 404


def test_intake_page_has_the_widget(client_as):
    html = client_as("intake").get("/intake/address").get_data(as_text=True)
    assert 'role="combobox"' in html and 'id="redirect-dialog"' in html
