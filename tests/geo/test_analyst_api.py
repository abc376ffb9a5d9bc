"""The analysts' API (geo.api) against the real PostGIS: same selections and figures as the
web, boundaries and addresses as frames, maps, and files for desktop GIS in both CRSs."""

from __future__ import annotations

from datetime import date

import folium
import geopandas as gpd
import pyogrio
import pytest
from sqlalchemy import text

from geo import aggregate, connect, listing
from geo.api import Analyst, make_filter
from geo.assets import external_references
from geo.exports import SHAPEFILE_FIELDS, ExportError
from service_requests.selection import FilterError, RequestFilter, coverage, parse_filter

GRAFFITI_2020 = {"services": "graffiti", "period": ("2020-01-01", "2020-12-31")}


@pytest.fixture
def analyst(session, la) -> Analyst:
    return Analyst(session, la)


@pytest.mark.parametrize(
    "keywords, args",
    [
        ({"services": "graffiti", "status": "open"}, {"service": ["graffiti"], "status": ["open"]}),
        (
            {"services": ["graffiti", "bulky-items"], "date_from": "2020-01-01", "date_to": date(2020, 3, 31)},
            {"service": ["bulky-items", "graffiti"], "from": ["2020-01-01"], "to": ["2020-03-31"]},
        ),
        (
            {"period": ("2020-01-01", "2020-01-31"), "ward": "01", "overdue": True},
            {"from": ["2020-01-01"], "to": ["2020-01-31"], "ward": ["01"], "overdue": ["1"]},
        ),
        (
            {"department": "BOS", "channels": "web", "district": "x1", "scope": "all"},
            {"department": ["BOS"], "channel": ["web"], "district": ["x1"], "scope": ["all"]},
        ),
    ],
)
def test_keywords_make_the_webs_filter(keywords, args):
    assert make_filter(**keywords) == parse_filter(args)


@pytest.mark.parametrize(
    "keywords, message",
    [
        ({"service": "graffiti"}, "There is no filter 'service'; the filters are services, "),
        ({"period": "2020"}, "period must be a pair"),
        ({"date_from": "1 May 2020"}, "date_from must be a date"),
        ({"status": "pending"}, "status must be one of"),
    ],
)
def test_bad_keywords_are_refused_with_a_sentence(keywords, message):
    with pytest.raises(FilterError, match=message):
        make_filter(**keywords)


def test_unknown_codes_are_refused_as_on_the_web(analyst):
    with pytest.raises(FilterError, match="There is no service 'potholes'; known services: "):
        analyst.requests(services="potholes")
    with pytest.raises(FilterError, match="There is no ward '99'"):
        analyst.area_summary("wards", ward="99")


def test_requests_are_the_webs_selection_without_personal_data(analyst, session, la):
    frame = analyst.requests(status="open", **GRAFFITI_2020)
    flt = RequestFilter(services=("graffiti",), status="open", date_from=date(2020, 1, 1), date_to=date(2020, 12, 31))
    points, total = listing.request_points(session, la, flt, limit=None)
    assert len(frame) == total == coverage(session, la, flt)[0] > 0
    assert list(frame["public_ref"]) == list(points["public_ref"])
    assert list(frame.columns) == [*listing.LIST_COLUMNS, "geometry"]  # nothing from request_contact
    assert frame.crs == "EPSG:4326" and frame["is_open"].all() and set(frame["service_code"]) == {"graffiti"}
    assert len(analyst.requests(limit=5)) == 5


def test_requests_in_a_state_are_the_same_on_the_web_and_for_analysts(analyst, session, la):
    """The ``state`` filter (the current lifecycle state) reaches the database, the web and the analysts' API."""
    frame = analyst.requests(states=["submitted", "in_progress"], scope="all")
    located = session.execute(
        text(
            "SELECT count(*) FROM service_request WHERE city = :c AND geom IS NOT NULL "
            "AND status IN ('submitted', 'in_progress')"
        ),
        {"c": la.key},
    ).scalar_one()
    assert len(frame) == located > 0  # every located request in those states, and no other
    assert set(frame["status"]) == {"submitted", "in_progress"}
    flt = parse_filter({"state": ["in_progress", "submitted"], "scope": ["all"]})
    assert flt == make_filter(states=("submitted", "in_progress"), scope="all")
    assert flt.describe() == "in progress, submitted"
    with pytest.raises(FilterError, match="There is no state 'open'; the states are submitted, "):
        parse_filter({"state": ["open"]})


def test_area_figures_are_the_maps_figures(analyst, session, la):
    summary = analyst.area_summary("wards", **GRAFFITI_2020)
    flt = make_filter(**GRAFFITI_2020)
    expected = aggregate.area_summary(session, la, "wards", flt)
    assert summary.drop(columns="geometry").equals(expected.drop(columns="geometry"))
    in_wards = analyst.requests(**GRAFFITI_2020)["ward_key"].notna().sum()
    assert summary["requests"].sum() == in_wards
    facts = analyst.area_facts(ward=summary.iloc[0]["key"], **GRAFFITI_2020)
    assert facts.requests == summary.iloc[0]["requests"]
    assert analyst.top_services(limit=3)["requests"].is_monotonic_decreasing
    assert analyst.trend(by="month", **GRAFFITI_2020)["requests"].sum() == len(analyst.requests(**GRAFFITI_2020))


def test_boundaries_and_addresses(analyst):
    wards = analyst.boundaries("wards")
    assert len(wards) == 15 and {"key", "name", "area_km2", "population"} <= set(wards.columns)
    city = analyst.boundaries("jurisdiction")
    assert len(city) == 1 and city.crs == "EPSG:4326"
    assert city.geometry.iloc[0].contains(wards.geometry.representative_point()).all()
    with pytest.raises(FilterError, match="There is no boundary layer 'parcels'"):
        analyst.boundaries("parcels")
    some = analyst.addresses(limit=50)
    assert len(some) == 50 and some.crs == "EPSG:4326" and some["standardized"].is_monotonic_increasing
    zipcode = some["zipcode"].dropna().iloc[0]
    assert (analyst.addresses(zipcode=zipcode, limit=20)["zipcode"] == zipcode).all()
    inside = analyst.addresses(in_jurisdiction=True, limit=200)
    assert inside["in_jurisdiction"].all()


def test_hot_spots_and_maps_are_the_webs(analyst):
    result = analyst.hot_spots(cell_m=1000, **GRAFFITI_2020)
    assert result.points == len(analyst.requests(**GRAFFITI_2020))
    assert result.cell_m == 1000 and "Getis-Ord Gi*" in result.method()
    table = analyst.hot_cells_by_area(result, "wards")
    assert table["hot"].sum() <= result.hot
    for m in (
        analyst.hot_spot_map(result),
        analyst.ward_map("per_km2", **GRAFFITI_2020),
        analyst.heat_map(**GRAFFITI_2020),
    ):
        assert isinstance(m, folium.Map)
    page = analyst.standalone(analyst.ward_map())
    assert external_references(page.html) == [] and "<iframe srcdoc=" in page._repr_html_()


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
@pytest.mark.parametrize("crs, epsg", [("EPSG:4326", 4326), ("projected", 32611)])
def test_exports_for_desktop_gis(analyst, tmp_path, suffix, crs, epsg):
    expected = analyst.requests(**GRAFFITI_2020)
    path = analyst.export_requests(tmp_path / f"graffiti{suffix}", crs=crs, **GRAFFITI_2020)
    back = gpd.read_file(path, engine="pyogrio")
    assert back.crs.to_epsg() == epsg and len(back) == len(expected) > 0
    columns = [SHAPEFILE_FIELDS.get(c, c) if suffix == ".shp" else c for c in listing.LIST_COLUMNS]
    assert list(back.columns) == [*columns, "geometry"]
    assert all(len(c) <= 10 for c in back.columns) or suffix == ".gpkg"
    time_column = "requested" if suffix == ".shp" else "requested_at"
    first = back.sort_values("public_ref").iloc[0]
    original = expected.sort_values("public_ref").iloc[0]
    assert first[time_column] == original["requested_at"].isoformat()  # ISO 8601 text
    assert first.geometry.distance(gpd.GeoSeries([original.geometry], crs=4326).to_crs(epsg).iloc[0]) < 1e-6
    if suffix == ".shp":
        assert pyogrio.read_info(path)["encoding"] == "UTF-8"


def test_exports_refuse_what_they_cannot_write(analyst, tmp_path):
    with pytest.raises(ExportError, match=r"write a \.gpkg \(GeoPackage\) or a \.shp"):
        analyst.export_requests(tmp_path / "requests.csv", **GRAFFITI_2020)
    with pytest.raises(ExportError, match="crs must be 'EPSG:4326' or 'projected' \\(EPSG:32611"):
        analyst.export_requests(tmp_path / "requests.gpkg", crs="EPSG:3857", **GRAFFITI_2020)


def test_connect_with_an_explicit_database_url(database, monkeypatch):
    with connect("la", database_url=database.url) as city:
        explicit = len(city.requests(**GRAFFITI_2020))
        assert explicit > 0 and city.city.key == "la"
    monkeypatch.setenv("DATABASE_URL", database.url)
    with connect() as city:
        assert len(city.requests(**GRAFFITI_2020)) == explicit
