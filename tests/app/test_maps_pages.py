"""The /maps pages through the Flask test client, on the real Los Angeles history."""

from __future__ import annotations

import html
import json
import re

import pytest

from geo.assets import external_references

MAP_DOCUMENTS = [
    "/maps/wards/map.html",
    "/maps/districts/map.html?measure=per_km2",
    "/maps/wards/13/map.html",
    "/maps/wards/13/map.html?color=service",
    "/maps/hotspots/map.html",
    "/maps/hotspots/map.html?weights=knn&k=10",
    "/maps/emerging/map.html?slice=quarter&slices=8",
    "/maps/heat/map.html",
]


def listed(client, href: str) -> str:
    """How many requests the list page at ``href`` says it holds."""
    body = client.get(href).get_data(as_text=True)
    found = re.search(r'id="list-summary">.*?:\s+([\d,]+) request', body, flags=re.S)
    assert found, f"{href} says nothing of how many requests it lists"
    return found.group(1)


@pytest.mark.parametrize("url", MAP_DOCUMENTS)
def test_every_map_document_is_local(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_data(as_text=True)
    assert external_references(body) == [] and "https://" not in body and "http://" not in body
    assert "/vendor/leaflet/leaflet.js" in body and "L.map(" in body


def test_the_ward_page_lists_every_ward_with_links(admin_client):
    body = admin_client.get("/maps/wards").get_data(as_text=True)
    assert 'src="/maps/wards/map.html?measure=requests"' in body
    rows = re.findall(r'<td><a href="(/maps/wards/\d+)[^"]*">Council District (\d+)</a></td>', body)
    assert len(rows) == 15
    assert "rates are per km²" in body and "Left out:" in body
    district = admin_client.get("/maps/districts?status=open")
    assert district.status_code == 200 and district.get_data(as_text=True).count('<td><a href="/maps/districts/') == 99


def test_every_figure_of_a_ward_links_to_the_requests_behind_it(admin_client):
    body = admin_client.get("/maps/wards/13?period=month").get_data(as_text=True)
    figures = {
        name: (html.unescape(href), value)
        for name, href, value in re.findall(r'<dt>([^<]+)</dt><dd><a href="([^"]+)">([^<]+)</a>', body)
    }
    assert set(figures) >= {"Requests", "Open backlog", "Overdue", "Median days to close"}
    for name in ("Requests", "Open backlog", "Overdue"):
        href, value = figures[name]
        assert listed(admin_client, href) == value, (name, href)
    services = re.findall(
        r'<td><a href="(/maps/requests\?[^"]+)">([^<]+)</a></td>\s*<td class="num"><a href="[^"]+">([\d,]+)</a>', body
    )
    assert 1 <= len(services) <= 10
    href, _, count = services[0]
    assert listed(admin_client, html.unescape(href)) == count
    months = re.findall(r'<td>(\d{4}-\d{2}-01)</td>\s*<td class="num"><a href="([^"]+)">([\d,]+)</a>', body)
    assert months
    start, href, count = months[0]
    assert listed(admin_client, html.unescape(href)) == count


def test_the_request_list_pages_and_links_to_the_staff_page(admin_client):
    first = admin_client.get("/maps/requests?ward=13").get_data(as_text=True)
    refs = re.findall(r'<td><a href="/staff/requests/([^"]+)">', first)
    assert len(refs) == 50
    second = admin_client.get("/maps/requests?ward=13&page=2").get_data(as_text=True)
    assert not set(refs) & set(re.findall(r'<td><a href="/staff/requests/([^"]+)">', second))
    assert admin_client.get(f"/staff/requests/{refs[0]}").status_code == 200
    assert "Page 2 of" in second and 'rel="prev"' in second


@pytest.mark.parametrize(
    "url, status, message",
    [
        ("/maps/wards?status=maybe", 400, "status must be one of"),
        ("/maps/wards?service=potholes", 400, "There is no service"),
        ("/maps/requests?from=yesterday", 400, "YYYY-MM-DD"),
        ("/maps/hotspots?cell=5", 400, "between 50 and 20000 metres"),
        ("/maps/hotspots?weights=queen", 400, "weights must be one of"),
        ("/maps/hotspots?k=500&weights=knn", 400, "between 1 and 64"),
        ("/maps/emerging?slice=day", 400, "slice must be one of"),
        ("/maps/wards?measure=per_1000", 400, "measure must be one of"),
        ("/maps/requests?page=0", 400, "page must be 1 or more"),
        ("/maps/wards/99", 404, "no council district '99'"),
        ("/maps/precincts", 404, ""),
        ("/maps/export/wards.shp", 404, "geojson or gpkg"),
        ("/maps/export/parcels.geojson", 404, "no layer 'parcels'"),
    ],
)
def test_bad_input_gets_a_sentence(admin_client, url, status, message):
    response = admin_client.get(url)
    assert response.status_code == status
    assert message in html.unescape(response.get_data(as_text=True))


def test_hot_spot_page_states_method_and_hot_cells_by_area(admin_client):
    body = html.unescape(admin_client.get("/maps/hotspots?status=all").get_data(as_text=True))
    assert "Getis-Ord Gi*" in body and "false discovery rate" in body and "hexagons of" in body
    assert 'id="hot-wards"' in body and 'id="hot-districts"' in body
    assert re.search(r"[\d,]+ requests</a> in\s+[\d,]+ hexagons", body)
    emerging = html.unescape(admin_client.get("/maps/emerging?slice=quarter&slices=8").get_data(as_text=True))
    assert "Mann-Kendall" in emerging and "quarterly slices" in emerging
    heat = admin_client.get("/maps/heat").get_data(as_text=True)
    assert "not a statistical result" in heat


def test_exports(admin_client):
    response = admin_client.get("/maps/export/wards.geojson?status=open")
    assert response.mimetype == "application/geo+json" and "attachment" in response.headers["Content-Disposition"]
    collection = json.loads(response.data)
    assert len(collection["features"]) == 15 and collection["metadata"]["filter"] == {"status": ["open"]}
    hot = json.loads(admin_client.get("/maps/export/hotspots.geojson").data)
    assert hot["metadata"]["statistic"].startswith("Getis-Ord Gi*") and hot["metadata"]["cell_edge_m"] > 0
    assert {"count", "z", "p", "bin", "label", "share"} <= set(hot["features"][0]["properties"])
    for what in ("districts", "hotspots", "emerging", "heat", "requests"):
        gpkg = admin_client.get(
            f"/maps/export/{what}.gpkg?ward=13" if what == "requests" else f"/maps/export/{what}.gpkg"
        )
        assert gpkg.status_code == 200 and gpkg.data[:16] == b"SQLite format 3\x00", what
    page = admin_client.get("/maps/hotspots/map.html?download=1")
    assert "attachment" in page.headers["Content-Disposition"]
    body = page.get_data(as_text=True)
    assert 'src="/vendor' not in body and 'href="/vendor' not in body and external_references(body) == []
    assert len(body) > 500_000


def test_maps_are_in_the_navigation(admin_client):
    body = admin_client.get("/").get_data(as_text=True)
    assert 'href="/maps/"' in body and 'href="/maps/hotspots"' in body
    assert admin_client.get("/maps/").headers["Location"].endswith("/maps/wards")
    assert admin_client.get("/vendor/fontawesome/webfonts/fa-solid-900.woff2").status_code == 200
    assert admin_client.get("/vendor/fontawesome/../../package.json").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/maps/wards",
        "/maps/wards/map.html",
        "/maps/wards/13",
        "/maps/wards/13/map.html",
        "/maps/hotspots",
        "/maps/hotspots/map.html",
        "/maps/emerging",
        "/maps/emerging/map.html",
        "/maps/heat/map.html",
        "/maps/requests",
        "/maps/export/hotspots.geojson",
    ],
)
def test_an_empty_selection_still_draws(admin_client, url):
    response = admin_client.get(url + ("&" if "?" in url else "?") + "from=2031-01-01&to=2031-12-31")
    assert response.status_code == 200, response.get_data(as_text=True)[-800:]


def test_a_city_without_wards_still_has_hot_spots(settings, bound_database):
    """Nothing is Los Angeles' own: Gardena configures no ward or district layer."""
    import dataclasses

    from app.factory import create_app
    from tests.helpers.staff import CsrfClient, log_in, make_user

    app = create_app(dataclasses.replace(settings, city="gardena"), database=bound_database)
    client = CsrfClient(app, app.response_class, use_cookies=True)
    with bound_database.session() as session:
        log_in(client, make_user(session, "planner", city="gardena"))
    assert client.get("/maps/").headers["Location"].endswith("/maps/hotspots")
    assert client.get("/maps/hotspots").status_code == 200
    assert client.get("/maps/hotspots/map.html").status_code == 200
    response = client.get("/maps/wards")
    assert response.status_code == 404 and "has no 'wards' layer" in html.unescape(response.get_data(as_text=True))
