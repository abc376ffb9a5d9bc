"""The geo package as analysts use it: filters, area figures, the request list, population
rates, exports and the local assets of the maps."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import folium
import numpy as np
import pyogrio
import pytest
from sqlalchemy import text

from core.city import PopulationSpec
from geo import aggregate, exports, listing, maps
from geo.assets import UnknownAsset, check_offline, external_references, inline, local_url, localize
from geo.grid import density_points
from service_requests.selection import FilterError, RequestFilter, coverage, filter_choices, parse_filter
from tests.helpers.maps_synthetic import insert, only_synthetic, random_points


def test_filter_sql_binds_every_value(la):
    flt = RequestFilter(
        services=("graffiti", "bulky-items"),
        department="BOS",
        status="open",
        channels=("web",),
        date_from=date(2024, 1, 1),
        date_to=date(2024, 1, 31),
        ward="01",
        overdue=True,
    )
    where, params = flt.sql(la)
    assert "graffiti" not in where and "BOS" not in where and "2024" not in where
    assert params["f_services"] == ["bulky-items", "graffiti"] and params["f_ward"] == "01"
    assert params["f_to"].isoformat() == "2024-02-01T00:00:00-08:00"  # the whole last day, local time
    assert parse_filter(flt.args()) == flt


@pytest.mark.parametrize(
    "args, message",
    [
        ({"status": ["maybe"]}, "status must be one of"),
        ({"channel": ["Pigeon post"]}, "There is no channel 'Pigeon post'"),
        ({"family": ["pigeon"]}, "There is no channel family 'pigeon'"),
        ({"from": ["2024-13-01"]}, "from must be a date written YYYY-MM-DD"),
        ({"from": ["2024-02-01"], "to": ["2024-01-01"]}, "ends (2024-01-01) before it starts"),
        ({"service": ["bad\x00code"]}, "is not a code"),
        ({"department": ["x" * 65]}, "is not a code"),
        ({"department": ["A", "B"]}, "Give one department"),
    ],
)
def test_bad_filters_are_refused_with_a_sentence(args, message):
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_filter(args)


def test_unknown_codes_are_refused_naming_known_ones(session, la):
    choices = filter_choices(session, la)
    assert "graffiti" in choices.services and len(choices.wards) == 15
    with pytest.raises(FilterError, match="There is no service 'potholes'; known services: "):
        parse_filter({"service": ["potholes"]}, choices)
    with pytest.raises(FilterError, match="There is no ward '99'"):
        parse_filter({"ward": ["99"]}, choices)
    with pytest.raises(FilterError, match="There is no channel 'pigeon'; known channels: phone"):
        parse_filter({"channel": ["pigeon"]}, choices)
    with pytest.raises(FilterError, match="There is no channel 'pigeon' in this city; its channels are phone"):
        RequestFilter(channels=("pigeon",)).sql(la)  # without choices too


def test_ward_counts_add_up_and_leave_out_placeholders(session, la):
    rng = np.random.default_rng(1)
    insert(session, la, random_points(session, la, 300, rng), "in")
    insert(session, la, np.array([[-118.2437, 34.0522]] * 25), "ph", location_quality="placeholder")
    session.execute(
        text(
            "UPDATE service_request r SET ward_key = a.ward, district_key = a.district FROM ("
            "SELECT s.id, min(f.key) FILTER (WHERE v.role = 'wards') AS ward, "
            "min(f.key) FILTER (WHERE v.role = 'districts') AS district FROM service_request s "
            "JOIN boundary_piece p ON ST_Intersects(p.geom, s.geom) "
            "JOIN boundary_layer_version v ON v.id = p.version_id AND v.is_current AND v.city = 'la' "
            "JOIN boundary_feature f ON f.id = p.feature_id WHERE s.service_code = 'synthetic-test' "
            "GROUP BY s.id) a WHERE r.id = a.id"
        )
    )
    flt = only_synthetic()
    wards = aggregate.area_summary(session, la, "wards", flt)
    assert len(wards) == 15 and wards["requests"].sum() == 300  # the 25 on a placeholder are not counted
    assert (wards["per_km2"] > 0).all() and wards["per_1000"].isna().all()  # no population configured
    mapped, left = coverage(session, la, flt)
    assert mapped == 300 and left.placeholder == 25 and "25 on a placeholder point" in left.sentence()
    districts = aggregate.area_summary(session, la, "districts", flt)
    assert len(districts) == 99 and districts["requests"].sum() <= 300

    ward = wards.sort_values("requests").iloc[-1]
    facts = aggregate.area_facts(session, la, flt.replace(ward=ward["key"]))
    assert facts.requests == ward["requests"] == facts.open and facts.closed == 0
    assert facts.median_days_to_close is None
    page = listing.request_page(session, la, flt.replace(ward=ward["key"]), page=1, page_size=7)
    assert page.total == ward["requests"] and len(page.rows) == min(7, page.total)
    left_page = listing.request_page(session, la, flt.replace(scope="left_out"))
    assert left_page.total == 25


def test_area_figures_on_the_real_history(session, la):
    flt = RequestFilter(ward="13")
    facts = aggregate.area_facts(session, la, flt)
    assert facts.requests > 100 and facts.closed > 0 and facts.median_days_to_close is not None
    top = aggregate.top_services(session, la, flt)
    assert 1 <= len(top) <= 10 and top["requests"].is_monotonic_decreasing
    assert top["requests"].sum() <= facts.requests
    trend = aggregate.trend(session, la, flt, "month")
    assert trend["requests"].sum() == facts.requests
    assert (trend["start"].map(lambda d: d.day) == 1).all()
    weekly = aggregate.trend(session, la, flt.replace(date_from=date(2020, 1, 6), date_to=date(2020, 2, 2)))
    assert len(weekly) <= 4 and all(d.weekday() == 0 for d in weekly["start"])


def test_rates_per_1000_residents_from_a_population_file(session, la, tmp_path):
    path = tmp_path / "population.csv"
    path.write_text("district,residents\n" + "".join(f"{k:02d},{100_000 + k}\n" for k in range(1, 16)))
    wards_spec = dataclasses.replace(
        la.areas["wards"], population=PopulationSpec(path=path, key_column="district", value_column="residents")
    )
    city = dataclasses.replace(la, areas={**la.areas, "wards": wards_spec})
    summary = aggregate.area_summary(session, city, "wards", RequestFilter())
    row = summary[summary["key"] == "13"].iloc[0]
    assert row["population"] == 100_013
    assert row["per_1000"] == pytest.approx(row["requests"] * 1000 / 100_013)


def test_population_config_is_checked(settings, tmp_path):
    from core.city import load_city
    from core.errors import ConfigError

    text_ = (settings.cities_dir / "la.toml").read_text()
    for population, message in [
        ('{ source = "x.csv", field = "POP" }', "either field"),
        ('{ field = "POP", column = "x" }', "does not know 'column'"),
    ]:
        bad = text_.replace("[layers.wards]", f"[layers.wards]\npopulation = {population}", 1)
        assert bad != text_
        (tmp_path / "la.toml").write_text(bad)
        with pytest.raises(ConfigError, match=message):
            load_city("la", tmp_path, settings.data_dir)
    (tmp_path / "la.toml").write_text(
        text_.replace("[layers.wards]", '[layers.wards]\npopulation = { field = "POP" }', 1)
    )
    assert load_city("la", tmp_path, settings.data_dir).areas["wards"].population == PopulationSpec(field="POP")


def test_exports_read_back(session, la, tmp_path):
    summary = aggregate.area_summary(session, la, "wards", RequestFilter())
    collection = json.loads(exports.to_geojson(summary, {"filter": {}}))
    assert len(collection["features"]) == 15 and collection["metadata"] == {"filter": {}}
    assert set(collection["features"][0]["properties"]) >= {"key", "name", "requests", "per_km2"}
    data = exports.to_geopackage(summary, "wards", {"method": "test"})
    layers = [name for name, _ in pyogrio.list_layers(_gpkg(data, tmp_path))]
    assert layers == ["wards", "wards_parameters"] or sorted(layers) == ["wards", "wards_parameters"]
    back = pyogrio.read_dataframe(_gpkg(data, tmp_path), layer="wards")
    assert len(back) == 15 and back.crs.to_epsg() == 4326
    points, total = listing.request_points(session, la, RequestFilter(ward="13"), limit=None)
    assert len(points) == total > 0
    assert json.loads(exports.to_geojson(points))["features"][0]["properties"]["requested_at"].startswith("20")


def test_maps_load_nothing_from_outside(session, la):
    m = maps.base_map(session, la, maps.MapOptions())
    folium.plugins.MarkerCluster().add_to(m)
    folium.plugins.HeatMap([[34.05, -118.25, 1.0]]).add_to(m)
    folium.Marker([34.05, -118.25], icon=folium.Icon(icon="info-sign")).add_to(m)
    html = maps.render(m)
    assert "/vendor/leaflet/leaflet.js" in html and "/vendor/leaflet.heat/leaflet-heat.js" in html
    assert external_references(html) == [] and "https://" not in html and "http://" not in html
    standalone = exports.standalone_html(html)
    assert 'src="/vendor' not in standalone and 'href="/vendor' not in standalone
    assert len(standalone) > len(html) + 100_000 and "L.map(" in standalone
    assert 'url("data:font/woff2;base64,' in standalone  # Font Awesome's fonts travel with the file


def test_an_unknown_asset_fails_loudly(session, la):
    assert local_url("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js") == "/vendor/leaflet/leaflet.js"
    with pytest.raises(UnknownAsset, match="not installed locally"):
        local_url("https://cdn.example.org/some-plugin.js")
    m = folium.Map(tiles=None)
    m.get_root().header.add_child(folium.JavascriptLink("https://unpkg.com/leaflet-foo/foo.js"))
    with pytest.raises(UnknownAsset):
        localize(m)
    with pytest.raises(UnknownAsset):
        check_offline('<img src="https://example.org/x.png">')
    assert inline('<script src="/vendor/leaflet/leaflet.js"></script>').startswith("<script>/* @preserve")


def test_density_points_count_every_mapped_request(session, la):
    rng = np.random.default_rng(4)
    insert(session, la, random_points(session, la, 400, rng), "d")
    points = density_points(session, la, only_synthetic(), 300.0)
    assert points["count"].sum() == 400 and len(points) <= 400


def _gpkg(data: bytes, folder):
    path = folder / "export.gpkg"
    path.write_bytes(data)
    return path


def test_a_configured_tile_server_is_the_base(session, la):
    options = maps.MapOptions(tile_url="https://tiles.example.org/{z}/{x}/{y}.png", tile_attribution="Example tiles")
    html = maps.render(maps.base_map(session, la, options))
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in html and "Example tiles" in html
    assert '"fillOpacity": 0.0' in html  # the city is drawn over the tiles, not hiding them
    without = maps.render(maps.base_map(session, la, maps.MapOptions()))
    assert "L.tileLayer" not in without and '"fillOpacity": 1.0' in without


def test_the_hexagon_grid_is_built_once_and_kept(session, la):
    from geo import grid

    grid._cells_cache.clear()
    first = grid.hex_cells(session, la, 700.0)
    kept = session.execute(text("SELECT cells FROM hex_grid WHERE size_m = 700")).scalar()
    assert kept == len(first) > 100  # stored for every process, with as many cells as computed
    grid._cells_cache.clear()
    again = grid.hex_cells(session, la, 700.0)  # read back, not built again
    assert again["cell"].tolist() == first["cell"].tolist()
    assert np.allclose(again["share"], first["share"])
