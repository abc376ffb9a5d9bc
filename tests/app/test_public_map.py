"""The public map and list of reports (/around, /around/list, /around/reports.geojson): for anyone,
approximate, free of personal data, filterable with a plain form, and clear about bad input."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.helpers.translations import page_words
from tests.service_requests.test_public_reports import BELLEVUE, BELLEVUE_PLACE, SECRETS, file

PROPERTIES = {"reference", "service", "service_code", "status", "family", "requested", "closed", "place",
              "description", "url"}  # fmt: skip


def _secret_free(body: str, where: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in body.lower(), (secret, where)


def test_the_geojson_holds_approximate_points_and_public_words_only(client, session, la, validator):
    request = file(session, la, validator)
    response = client.get("/around/reports.geojson")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = response.get_data(as_text=True)
    _secret_free(body, "geojson")
    assert request.public_ref not in body  # the short reference is the public one here
    data = response.get_json()
    assert (
        data["type"] == "FeatureCollection"
        and data["truncated"] is False
        and data["limit"] == la.public_map.max_points == 1000
    )
    feature = next(f for f in data["features"] if f["properties"]["reference"] == request.short_ref_shown)
    assert set(feature["properties"]) == PROPERTIES
    p = feature["properties"]
    assert (p["service"], p["status"], p["family"], p["place"], p["closed"], p["description"]) == (
        "Graffiti Removal",
        "Submitted",
        "open",
        BELLEVUE_PLACE,
        None,
        None,
    )
    assert p["url"] == f"/status/{request.short_ref_shown}"
    assert client.get(p["url"]).status_code == 200  # the link leads to the public status page
    lon, lat = feature["geometry"]["coordinates"]
    assert abs(lon - BELLEVUE[0]) < 0.0005 and abs(lat - BELLEVUE[1]) < 0.0005 and [lon, lat] != list(BELLEVUE)


def test_the_geojson_filters_and_refuses_bad_values_with_a_sentence(client, session, la, validator):
    request = file(session, la, validator)
    ref = request.short_ref_shown

    def refs(query: str) -> list[str]:
        response = client.get("/around/reports.geojson" + query)
        assert response.status_code == 200, (query, response.get_data(as_text=True))
        return [f["properties"]["reference"] for f in response.get_json()["features"]]

    assert ref in refs("?ward=13&service=graffiti&status=open")
    assert ref not in refs("?status=closed") and ref not in refs("?service=dead-animal")
    assert ref in refs(f"?bbox={BELLEVUE[0] - 0.01},{BELLEVUE[1] - 0.01},{BELLEVUE[0] + 0.01},{BELLEVUE[1] + 0.01}")
    assert ref not in refs("?bbox=-118.1,33.0,-118.0,33.1")
    for query, words in (
        ("?status=cancelled", "status must be one of"),
        ("?ward=nowhere", "There is no ward"),
        ("?bbox=1,2,3", "bbox must be four numbers"),
        ("?service=" + "x" * 80, "is not a code"),
    ):
        response = client.get("/around/reports.geojson" + query)
        assert response.status_code == 400, query
        assert words in response.get_json()["error"], (query, response.get_json())


def test_the_list_shows_the_reports_as_text_with_links_and_nothing_private(client, session, la, validator):
    request = file(session, la, validator)
    closed = file(session, la, validator, service_code="dead-animal", attributes={"animal": "cat"})
    session.execute(
        text("UPDATE service_request SET status = 'fixed', closed_at = now() WHERE id = :id"), {"id": closed.id}
    )
    session.commit()
    response = client.get("/around/list")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    _secret_free(page, "list")
    assert f'href="/status/{request.short_ref_shown}"' in page and BELLEVUE_PLACE in page_words(page)
    assert closed.short_ref_shown in page and "Fixed" in page and "closed " in page
    assert "See them on a map" in page and 'action="/around/list"' in page
    only_open = client.get("/around/list?status=open").get_data(as_text=True)
    assert request.short_ref_shown in only_open and closed.short_ref_shown not in only_open
    selected = client.get("/around/list?service=dead-animal&older=1").get_data(as_text=True)
    assert closed.short_ref_shown in selected and request.short_ref_shown not in selected
    assert re.search(r'<option value="dead-animal"\s+selected>', selected) and "checked" in selected
    spanish = client.get("/around/list", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'cerca de la cuadra 2100 de <span translate="no">W BELLEVUE AVE</span>' in spanish
    assert "Reportes abiertos y cerrados hace poco" in spanish and "Resuelta" in spanish


def test_the_list_pages_and_a_bad_value_keeps_the_form(client, session, la, validator):
    refused = client.get("/around/list?status=cancelled")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "status must be one of all, open, closed" in page and 'name="service"' in page and 'role="alert"' in page
    assert client.get("/around/list?page=0").status_code == 400
    assert client.get("/around/list?page=2").status_code == 200  # past the last page: the last page


def test_the_map_page_carries_its_data_urls_the_legend_and_the_list_link(client, session, la):
    response = client.get("/around?ward=13&status=open")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-reports-url="/around/reports.geojson?status=open&amp;ward=13"' in page
    assert 'data-outline-url="/api/boundaries/wards/13.geojson"' in page
    assert 'href="/around/list?status=open&amp;ward=13"' in page  # the text alternative, same selection
    assert "around-open" in page and "around-closed" in page and "Legend" in page
    assert "/vendor/leaflet.markercluster/leaflet.markercluster.js" in page and "/static/public-map.js" in page
    assert "<script>" not in page and " onclick=" not in page and ' style="' not in page  # the CSP allows neither
    assert 'data-outline-url="/api/boundaries/jurisdiction.geojson"' in client.get("/around").get_data(as_text=True)
    assert client.get("/around?status=cancelled").status_code == 400


def test_linked_from_the_header_and_the_home_page(client):
    home = client.get("/").get_data(as_text=True)
    assert 'id="home-around-link"' in home and home.count('href="/around"') == 2  # the nav and the home page
    assert 'href="/around"' in client.get("/status").get_data(as_text=True)  # the header, on every page


def test_staff_see_the_same_public_reports(client_as, session, la, validator):
    request = file(session, la, validator)
    for role in ("admin", "intake"):
        body = client_as(role).get("/around/reports.geojson").get_data(as_text=True)
        assert request.short_ref_shown in body
        _secret_free(body, role)


def test_a_fixture_city_serves_its_own_public_map(
    settings, bound_database, session, gardena, gardena_validator, la, validator
):
    import dataclasses

    from app.factory import create_app
    from service_requests.intake import RequestInput, create_request

    theirs = create_request(
        session,
        gardena,
        gardena_validator,
        RequestInput(
            service_code="graffiti", channel="phone", lon=-118.3090, lat=33.8880, attributes={"surface": "wall"}
        ),
    ).request
    ours = file(session, la, validator)
    client = create_app(dataclasses.replace(settings, city="gardena"), database=bound_database).test_client()
    page = client.get("/around/list").get_data(as_text=True)
    assert "City of Gardena" in page and theirs.short_ref_shown in page and ours.short_ref_shown not in page
    features = client.get("/around/reports.geojson").get_json()["features"]
    assert [f["properties"]["reference"] for f in features] == [theirs.short_ref_shown]
    assert client.get("/around").status_code == 200
