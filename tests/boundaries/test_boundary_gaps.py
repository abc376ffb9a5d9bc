"""Gaps between boundary layers: the fallback contact, both lookups agreeing, the load's report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
import shapely.affinity
from shapely.geometry import Point, Polygon, box, mapping

from boundaries.gaps import find_gaps
from boundaries.index import BoundaryIndex
from boundaries.loader import build_layer, load_layers
from boundaries.loader import load_city as load_boundaries
from boundaries.lookup import fallback_agency, locate, outside_reason
from core.city import CityConfig, load_city
from core.errors import ConfigError

#: 19530 S Normandie Ave, 90502 (its point in the 2020 311 history): 6 m outside council
#: district 15, inside the county's Harbor Gateway (a segment of the City of Los Angeles,
#: so no agency feature).
NORMANDIE = (-118.2991632, 33.85380685)
#: The Marina del Rey peninsula's tip: in no council district and no county feature.
MARINA_DEL_REY = (-118.45, 33.98)
BEYOND = (-117.0, 36.0)  # the Mojave: beyond the extent of the layers


# -- configuration ------------------------------------------------------------------------

CITY = """
[city]
key = "gapville"
name = "Town of Gapville"
timezone = "America/Los_Angeles"
projected_crs = "EPSG:32611"

[jurisdiction]
source = "gapville/town.geojson"

[agencies]
source = "gapville/agencies.geojson"
id_field = "slug"
name_field = "name"
"""

FALLBACK = """
[agencies.fallback]
name = "County of Gapville"
phone = "(555) 010-0000"
website = "https://county.example.gov"
"""


def write_city(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "gapville.toml").write_text(body)
    return directory


def test_the_shipped_cities_name_the_county(la, gardena):
    for city in (la, gardena):
        assert city.agencies.fallback.name == "County of Los Angeles"
        assert city.agencies.fallback.website == "https://lacounty.gov"
        assert city.agencies.ignore_gaps_below_m2 == 10_000
    assert la.agencies.fallback.note


def test_fallback_is_optional_and_parsed(tmp_path):
    assert load_city("gapville", write_city(tmp_path, CITY), tmp_path).agencies.fallback is None
    body = CITY + FALLBACK + 'note = "Ask for the department of public works."\n'
    fallback = load_city("gapville", write_city(tmp_path, body), tmp_path).agencies.fallback
    assert (fallback.name, fallback.phone, fallback.note) == (
        "County of Gapville",
        "(555) 010-0000",
        "Ask for the department of public works.",
    )


@pytest.mark.parametrize(
    "change,message",
    [
        (('name = "County of Gapville"\n', ""), r"\[agencies.fallback\] needs name"),
        (('phone = "(555) 010-0000"\n', ""), r"\[agencies.fallback\] needs phone"),
        (('website = "https://county.example.gov"\n', ""), r"\[agencies.fallback\] needs website"),
        (('phone = "(555) 010-0000"', "phone = 5550100000"), "phone must be a string"),
        (('name = "County of Gapville"', 'name = "   "'), "must not be blank"),
        (('website = "https://county.example.gov"', 'website = "county.example.gov"'), "full http"),
        (
            ('website = "https://county.example.gov"', 'website = "https://county.example.gov"\nemail = "x@y"'),
            "does not know 'email'",
        ),
    ],
)
def test_fallback_mistakes_are_named(tmp_path, change, message):
    body = (CITY + FALLBACK).replace(*change)
    with pytest.raises(ConfigError, match=message):
        load_city("gapville", write_city(tmp_path, body), tmp_path)


def test_fallback_must_be_a_table(tmp_path):
    body = CITY + 'fallback = "the county"\n'
    with pytest.raises(ConfigError, match=r"\[agencies.fallback\] must be a table with name, phone, website"):
        load_city("gapville", write_city(tmp_path, body), tmp_path)


@pytest.mark.parametrize("value", ["-1", '"big"', "true"])
def test_gap_threshold_must_be_square_metres(tmp_path, value):
    body = CITY + f"ignore_gaps_below_m2 = {value}\n"
    with pytest.raises(ConfigError, match="ignore_gaps_below_m2 must be a number of square metres"):
        load_city("gapville", write_city(tmp_path, body), tmp_path)


# -- the real Los Angeles layers --------------------------------------------------------


@pytest.mark.parametrize("point", [NORMANDIE, MARINA_DEL_REY], ids=["normandie", "marina-del-rey"])
def test_points_in_no_layer_get_the_county_in_both_lookups(session, la, point):
    fallback = fallback_agency(la)
    by_database = locate(session, "la", *point, fallback=fallback)
    by_index = BoundaryIndex.build(session, "la", fallback).locate(*point)
    assert by_database == by_index
    assert by_database.status == "unlisted" and not by_database.in_jurisdiction
    assert by_database.agency.fallback and by_database.agency.name == "County of Los Angeles"
    assert "not inside any agency area we know either; for help contact County of Los Angeles at 211" in (
        outside_reason(by_database)
    )
    # without a fallback configured, the same point is unknown in both
    assert locate(session, "la", *point).status == BoundaryIndex.build(session, "la").locate(*point).status == "unknown"


def test_beyond_the_layers_is_unknown_with_a_clear_sentence(session, la):
    fallback = fallback_agency(la)
    by_database = locate(session, "la", *BEYOND, fallback=fallback)
    assert by_database == BoundaryIndex.build(session, "la", fallback).locate(*BEYOND)
    assert by_database.status == "unknown" and by_database.agency is None
    assert outside_reason(by_database) == (
        "The location (36.00000, -117.00000) lies beyond every area this system knows; "
        "check the point (are longitude and latitude swapped?) or the address."
    )


def test_a_known_agency_is_not_the_fallback(session, la):
    location = locate(session, "la", -118.3965, 34.0211, fallback=fallback_agency(la))  # Culver City
    assert location.status == "outside" and not location.agency.fallback
    assert outside_reason(location, "address") == "The address lies within the boundaries of City of Culver City."


def test_the_load_reports_the_real_gaps_with_the_demo_points_in_them(session, la):
    (report,) = load_boundaries(session, la, ("agencies",), force=True)
    gaps = report.gaps
    assert gaps is not None and gaps == find_gaps(session, la)
    assert 10 <= len(gaps.gaps) <= 40 and 2e6 < gaps.total_m2 < 6e6
    assert all(gap.area_m2 >= 10_000 for gap in gaps.gaps) and gaps.ignored > 100
    assert [g.area_m2 for g in gaps.gaps] == sorted((g.area_m2 for g in gaps.gaps), reverse=True)

    def gap_of(point):
        (found,) = [gap for gap in gaps.gaps if gap.geometry.contains(Point(point))]
        assert found.geometry.contains(Point(found.lon, found.lat))
        return found

    marina = gap_of(MARINA_DEL_REY)
    assert 1.0e6 < marina.area_m2 < 2.0e6
    assert marina.neighbors == ("City of Los Angeles", "Unincorporated Marina del Rey (County of Los Angeles)")
    normandie = gap_of(NORMANDIE)
    assert 0.1e6 < normandie.area_m2 < 0.5e6 and normandie.neighbors == ("City of Los Angeles",)
    assert gaps.summary().startswith(f"{len(gaps.gaps)} gaps between the City of Los Angeles and the agencies' layer (")
    assert "inside City of Los Angeles" in normandie.summary()
    assert gaps.summary() in report.summary()


def test_loading_wards_alone_reports_no_gaps(session, la):
    (report,) = load_boundaries(session, la, ("wards",), force=True)
    assert report.gaps is None


# -- a small city with known gaps -------------------------------------------------------

KM = 1000.0
ORIGIN = (380_000.0, 3_750_000.0)  # UTM 11N metres, near Gardena


UTM_TO_WGS84 = pyproj.Transformer.from_crs("EPSG:32611", "EPSG:4326", always_xy=True)


def to_wgs84(geometry: Polygon) -> dict:
    """A shape drawn in metres from ``ORIGIN``, as a GeoJSON geometry in lon/lat (edges cut every 50 m)."""
    moved = shapely.segmentize(shapely.affinity.translate(geometry, *ORIGIN), 50)
    return mapping(shapely.transform(moved, lambda xy: np.column_stack(UTM_TO_WGS84.transform(xy[:, 0], xy[:, 1]))))


def cell(col: int, row: int) -> Polygon:
    return box(col * KM, row * KM, (col + 1) * KM, (row + 1) * KM)


def write_layers(directory: Path) -> None:
    """A 3 x 3 km grid: the town is the bottom row, agency A the left column above it,
    agency B the top row and right column, the centre cell is in none (a 1 km² gap);
    B has a 200 x 300 m hole (a 6 ha gap) and a 50 x 50 m one (a sliver)."""
    town = shapely.union_all([cell(0, 0), cell(1, 0), cell(2, 0)])
    a = shapely.union_all([cell(0, 1), cell(0, 2)])
    b = shapely.union_all([cell(1, 2), cell(2, 2), cell(2, 1)])
    b = b.difference(box(2400, 1300, 2600, 1600)).difference(box(2400, 2400, 2450, 2450))

    def feature(geometry, **properties):
        return {"type": "Feature", "properties": properties, "geometry": to_wgs84(geometry)}

    (directory / "gapville").mkdir(parents=True, exist_ok=True)
    (directory / "gapville" / "town.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature(town, name="Gapville")]})
    )
    (directory / "gapville" / "agencies.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [feature(a, slug="a", name="City of A"), feature(b, slug="b", name="City of B")],
            }
        )
    )


def point(x: float, y: float) -> tuple[float, float]:
    return UTM_TO_WGS84.transform(ORIGIN[0] + x, ORIGIN[1] + y)


@pytest.fixture
def gapville(tmp_path: Path) -> CityConfig:
    write_layers(tmp_path)
    return load_city("gapville", write_city(tmp_path, CITY + FALLBACK), tmp_path)


def test_a_small_city_has_the_gaps_drawn(session, gapville):
    reports = load_layers(session, gapville, [build_layer(gapville, "jurisdiction"), build_layer(gapville, "agencies")])
    assert reports[0].gaps is None  # reported once, on the last of the two layers
    gaps = reports[1].gaps
    assert [round(g.area_m2 / 1000) for g in gaps.gaps] == [1000, 60]  # 1 km², 6 ha (in thousands of m²)
    assert gaps.gaps[0].area_m2 == pytest.approx(1e6, rel=0.005)
    assert gaps.gaps[1].area_m2 == pytest.approx(60_000, rel=0.005)
    assert gaps.ignored == 1  # the 50 x 50 m sliver
    assert gaps.gaps[0].neighbors == ("City of A", "City of B", "Town of Gapville")
    assert gaps.gaps[1].neighbors == ("City of B",)
    assert gaps.lines() == [
        "2 gaps between the Town of Gapville and the agencies' layer (1.06 km² in all); points in them get the "
        "fallback contact; 1 sliver(s) under 10000 m² left out.",
        f"  1.00 km² near ({gaps.gaps[0].lat:.5f}, {gaps.gaps[0].lon:.5f}) between City of A, City of B and "
        "Town of Gapville",
        f"  6.00 ha near ({gaps.gaps[1].lat:.5f}, {gaps.gaps[1].lon:.5f}) inside City of B",
    ]

    fallback = fallback_agency(gapville)
    index = BoundaryIndex.build(session, "gapville", fallback)
    for x, y, status in [
        (1500, 1500, "unlisted"),
        (2500, 1450, "unlisted"),
        (2425, 2425, "unlisted"),
        (500, 500, "inside"),
        (500, 1500, "outside"),
        (2500, 2500, "outside"),
        (5000, 5000, "unknown"),
    ]:
        by_database = locate(session, "gapville", *point(x, y), fallback=fallback)
        assert by_database == index.locate(*point(x, y)), (x, y)
        assert by_database.status == status, (x, y)
    assert locate(session, "gapville", *point(1500, 1500), fallback=fallback).agency.name == "County of Gapville"


def test_no_gaps_is_said_plainly(session, gapville, tmp_path):
    load_layers(session, gapville, [build_layer(gapville, "jurisdiction")])
    closed = tmp_path / "closed"
    write_layers(closed)
    # one agency covering every cell above the town: nothing is left between the layers
    full = shapely.union_all([cell(0, 1), cell(0, 2), cell(1, 1), cell(1, 2), cell(2, 1), cell(2, 2)])
    (closed / "gapville" / "agencies.geojson").write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"slug": "ab", "name": "City of AB"}, "geometry": to_wgs84(full)}
                ],
            }
        )
    )
    city = load_city("gapville", write_city(closed, CITY + FALLBACK), closed)
    (report,) = load_layers(session, city, [build_layer(city, "agencies")])
    assert report.gaps.gaps == () and report.gaps.ignored == 0
    assert report.gaps.summary() == "No gaps between the Town of Gapville and the agencies' layer."


# -- what callers say ---------------------------------------------------------------------

COUNTY_HELP = (
    "This location is not in the City of Los Angeles. The location is not inside any agency area we know "
    "either; for help contact County of Los Angeles at 211 or (213) 974-1234 (https://lacounty.gov)."
)


def test_intake_at_a_gap_sends_the_caller_to_the_county(session, la):
    from address_db.validation import Validator
    from boundaries.index import IndexCache
    from service_requests.intake import IntakeError, RequestInput, create_request

    validator = Validator(la.key, boundaries=IndexCache(cities=[la]))
    data = RequestInput(
        service_code="graffiti",
        channel="web",
        lon=MARINA_DEL_REY[0],
        lat=MARINA_DEL_REY[1],
        attributes={"surface": "wall"},
    )
    with pytest.raises(IntakeError) as caught:
        create_request(session, la, validator, data)
    assert caught.value.field == "location"
    assert str(caught.value).startswith(COUNTY_HELP)
    assert "Contact them at" not in str(caught.value)  # the county is whom to ask, not whose the place is


def test_open311_at_a_gap_and_beyond_the_layers(client, session):
    from open311.clients import issue_client

    _, key = issue_client(session, "la", "Gap app", contact="dev@example.org", per_minute=10_000)
    base = {"api_key": key, "service_code": "graffiti", "attribute[surface]": "wall"}
    gap = client.post("/open311/v2/requests.json", data={**base, "lat": str(NORMANDIE[1]), "long": str(NORMANDIE[0])})
    assert gap.status_code == 400
    (error,) = gap.get_json()
    assert error["code"] == "400" and error["description"].startswith(f"location: {COUNTY_HELP}")
    beyond = client.post("/open311/v2/requests.json", data={**base, "lat": "36.0", "long": "-117.0"})
    assert beyond.status_code == 400
    assert "lies beyond every area this system knows" in beyond.get_json()[0]["description"]


def test_the_point_apis_mark_the_fallback(client):
    located = client.get("/api/locate", query_string={"lon": MARINA_DEL_REY[0], "lat": MARINA_DEL_REY[1]}).get_json()
    assert located["status"] == "unlisted" and located["agency"]["fallback"] is True
    assert located["agency"]["name"] == "County of Los Angeles" and "for help contact" in located["reason"]
    reverse = client.get("/api/addresses/reverse", query_string={"lon": NORMANDIE[0], "lat": NORMANDIE[1]}).get_json()
    assert reverse["location"]["status"] == "unlisted" and reverse["location"]["agency"]["fallback"] is True
    inside = client.get("/api/locate", query_string={"lon": -118.2668, "lat": 34.0732}).get_json()
    assert inside["status"] == "inside" and inside["reason"] is None
    culver = client.get("/api/locate", query_string={"lon": -118.3965, "lat": 34.0211}).get_json()
    assert culver["status"] == "outside" and culver["agency"]["fallback"] is False


def test_the_cli_lists_the_gaps_and_locates_with_the_fallback(app):
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["boundaries", "load-city", "--role", "agencies", "--force"])
    assert loaded.exit_code == 0, loaded.output
    assert "gaps between the City of Los Angeles and the agencies' layer" in loaded.output
    assert "Unincorporated Marina del Rey (County of Los Angeles)" in loaded.output
    located = runner.invoke(args=["boundaries", "locate", str(MARINA_DEL_REY[0]), str(MARINA_DEL_REY[1])])
    assert located.output.startswith("Outside City of Los Angeles. The point is not inside any agency area we know")


@pytest.mark.browser
def test_the_widget_sends_a_gap_address_to_the_county(settings, bound_database):
    import dataclasses

    from app.factory import create_app
    from tests.app.test_address_widget import open_widget
    from tests.helpers.browser import chromium, live_server

    app = create_app(dataclasses.replace(settings, city="la"), database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page, requests = open_widget(browser, base, bound_database)
        page.fill("#address-input", "19530 S Normandie Ave, 90502")
        page.press("#address-input", "Enter")
        page.wait_for_selector("#redirect-dialog[open]")
        page.wait_for_selector('#redirect-map[data-ready="true"]')
        text = page.inner_text("#redirect-dialog")
        assert "is not in the City of Los Angeles" in text
        assert "It is not inside any agency area we know; for help contact County of Los Angeles." in text
        assert "Call 211 or (213) 974-1234." in text and "lies within the boundaries" not in text
    assert not any("/agencies/" in url for url in requests)  # the fallback has no area to draw
