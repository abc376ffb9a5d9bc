"""A city file written for another city's data: a crs that overrides GDAL's guess, glob
patterns for the sources, unknown keys refused with a suggestion, and ``city check``
listing every problem at once."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import box, mapping

from app.city_check import check_city, main
from boundaries.loader import build_area_layer
from boundaries.sources import read_polygons
from core.city import load_city
from core.errors import ConfigError, DataFileError

#: Massachusetts mainland state plane, US survey feet: Boston is near (775000, 2950000).
FEET = "EPSG:2249"
TO_FEET = pyproj.Transformer.from_crs("EPSG:4326", FEET, always_xy=True)

CITY = """
[city]
key = "bayport"
name = "City of Bayport"
timezone = "America/New_York"
projected_crs = "EPSG:26986"

[jurisdiction]
source = "precincts/wards_*.geojson"
crs = "EPSG:2249"

[layers.wards]
label = "Ward"
source = "precincts/wards_*.geojson"
crs = "EPSG:2249"
id_field = "WARD_NO"
name_field = "WARD_NAME"

[[addresses.sources]]
key = "points"
kind = "points"
sources = ["addresses/*.csv"]
[addresses.sources.fields]
full_address = "ADDR"
latitude = "Y"
longitude = "X"

[requests]
sources = "311/*.csv"
snap_within_m = 40
placeholder_min_requests = 20
placeholder_min_addresses = 5
datetime_formats = ["%Y-%m-%d %H:%M"]

[requests.fields]
source_id = "CASE_ID"
requested_at = "OPENED"
due_at = "TARGET"
service_name = "TYPE"
status = "CASE_STATUS"
channel = "SOURCE"
zipcode = "ZIP"
latitude = "Y"
longitude = "X"
"""

REQUEST_HEADER = "CASE_ID,OPENED,TARGET,TYPE,CASE_STATUS,SOURCE,ZIP,Y,X\n"


def feet_square(west: float, south: float, size: float = 0.01) -> dict:
    """A square of ``size`` degrees as a GeoJSON polygon in state-plane feet."""
    ring = [TO_FEET.transform(x, y) for x, y in box(west, south, west + size, south + size).exterior.coords]
    return {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}


def write_feet_geojson(path: Path, features: list[tuple[dict, dict]]) -> None:
    """A GeoJSON in feet with no ``crs`` member: GDAL reads it as WGS84."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": geometry} for props, geometry in features
                ],
            }
        )
    )


@pytest.fixture
def bayport(tmp_path: Path) -> tuple[Path, Path]:
    """(cities folder, data folder) of a city whose wards are in state-plane feet."""
    cities, data = tmp_path / "cities", tmp_path / "data"
    cities.mkdir()
    write_feet_geojson(
        data / "precincts" / "wards_2022.geojson",
        [
            ({"WARD_NO": str(i + 1), "WARD_NAME": f"Ward {i + 1}"}, feet_square(-71.07 + i * 0.01, 42.35))
            for i in range(3)
        ],
    )
    (data / "311").mkdir()
    for year in (2021, 2020):
        (data / "311" / f"cases_{year}.csv").write_text(
            REQUEST_HEADER + f"{year}-1,{year}-03-01 10:00,,Pothole,Open,Phone,02108,42.355,-71.06\n"
        )
    (data / "addresses").mkdir()
    (data / "addresses" / "points.csv").write_text("ADDR,Y,X\n1 MAIN ST,42.355,-71.06\n")
    (cities / "bayport.toml").write_text(CITY)
    return cities, data


def rewrite(cities: Path, old: str, new: str) -> None:
    path = cities / "bayport.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


# -- the crs of a layer is authoritative ---------------------------------------------------


def test_a_crs_in_the_city_file_overrides_what_gdal_guesses(bayport):
    cities, data = bayport
    city = load_city("bayport", cities, data)

    built = build_area_layer(city.areas["wards"])

    assert sorted(f.key for f in built.features) == ["1", "2", "3"]
    first = next(f for f in built.features if f.key == "1")
    assert first.name == "Ward 1"
    centre = first.geometry.centroid
    assert centre.x == pytest.approx(-71.065, abs=1e-4) and centre.y == pytest.approx(42.355, abs=1e-4)


def test_without_a_crs_projected_coordinates_are_named_with_the_fix(bayport):
    cities, data = bayport
    rewrite(cities, 'crs = "EPSG:2249"\nid_field', "id_field")
    spec = load_city("bayport", cities, data).areas["wards"]
    assert spec.source.crs is None

    with pytest.raises(
        DataFileError,
        match=r"coordinates look projected \(e\.g\. 7\d{5}, 29\d{5}\).*"
        r'give crs = "EPSG:\.\.\.\." for this layer',
    ):
        read_polygons(spec.source)


def test_the_command_line_crs_overrides_the_file(runner_la, la, tmp_path):
    frame = gpd.read_file(la.areas["wards"].source.path).to_crs("EPSG:2229")  # California zone 5, feet
    path = tmp_path / "wards_feet.geojson"
    write_feet_geojson(path, [({"WARD": str(row.name)}, mapping(row.geometry)) for row in frame.itertuples()])

    refused = runner_la.invoke(
        args=["boundaries", "load", "wards", str(path), "--id-field", "WARD", "--name-field", "WARD"]
    )
    loaded = runner_la.invoke(
        args=[
            "boundaries",
            "load",
            "wards",
            str(path),
            "--id-field",
            "WARD",
            "--name-field",
            "WARD",
            "--crs",
            "EPSG:2229",
        ]
    )

    assert refused.exit_code == 1 and "coordinates look projected" in refused.output
    assert "Traceback" not in refused.output
    assert loaded.exit_code == 0, loaded.output
    assert "15 feature(s)" in loaded.output


def test_an_address_geo_source_takes_a_crs(bayport):
    from address_db.loader import read_rows

    cities, data = bayport
    x, y = TO_FEET.transform(-71.06, 42.355)
    points = data / "addresses" / "points.geojson"
    write_feet_geojson(points, [({"ADDR": "1 MAIN ST"}, {"type": "Point", "coordinates": [x, y]})])
    rewrite(cities, 'sources = ["addresses/*.csv"]', 'sources = ["addresses/*.geojson"]')
    rewrite(cities, 'latitude = "Y"\nlongitude = "X"\n\n[requests]', "\n[requests]")

    without = load_city("bayport", cities, data).addresses.sources[0].mapping
    with pytest.raises(DataFileError, match=r"coordinates look projected.*for this address source"):
        list(read_rows(without))

    rewrite(cities, 'kind = "points"\n', 'kind = "points"\ncrs = "EPSG:2249"\n')
    (row,) = read_rows(load_city("bayport", cities, data).addresses.sources[0].mapping)
    assert row.lon == pytest.approx(-71.06, abs=1e-6) and row.lat == pytest.approx(42.355, abs=1e-6)


# -- patterns --------------------------------------------------------------------------------


def test_patterns_are_expanded_sorted_in_the_data_folder(bayport):
    cities, data = bayport
    city = load_city("bayport", cities, data)

    assert [p.name for p in city.requests.paths] == ["cases_2020.csv", "cases_2021.csv"]
    assert [p.name for p in city.addresses.sources[0].mapping.paths] == ["points.csv"]
    assert city.areas["wards"].source.path == (data / "precincts" / "wards_2022.geojson").resolve()


def test_a_pattern_matching_no_file_is_named_with_the_folder(bayport):
    cities, data = bayport
    rewrite(cities, 'sources = "311/*.csv"', 'sources = "311/*.txt"')

    with pytest.raises(ConfigError) as error:
        load_city("bayport", cities, data)

    assert str(error.value) == (
        f"bayport.toml: [requests] the pattern '311/*.txt' matches no file in {data}; "
        "fix the pattern or put the files there."
    )


def test_a_layer_pattern_must_name_one_file(bayport):
    cities, data = bayport
    (data / "precincts" / "wards_2012.geojson").write_text((data / "precincts" / "wards_2022.geojson").read_text())

    with pytest.raises(
        ConfigError,
        match=r"\[jurisdiction\] source pattern 'precincts/wards_\*.geojson' matches 2 "
        r"files \(wards_2012.geojson, wards_2022.geojson\)",
    ):
        load_city("bayport", cities, data)


# -- unknown keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old,new,message",
    [
        (
            'requested_at = "OPENED"',
            'requsted_at = "OPENED"',
            r"\[requests.fields\] does not know 'requsted_at': did you mean 'requested_at'\? Rename it.",
        ),
        (
            'full_address = "ADDR"',
            'full_adress = "ADDR"',
            r"\[addresses.sources.points.fields\] does not know 'full_adress': did you mean 'full_address'\?",
        ),
        (
            "snap_within_m = 40",
            "snap_within = 40",
            r"\[requests\] does not know 'snap_within': did you mean 'snap_within_m'",
        ),
        ("timezone = ", 'time_zone = "America/New_York"\ntimezone = ', r"\[city\] does not know 'time_zone'"),
        (
            'id_field = "WARD_NO"',
            'id_field = "WARD_NO"\ncolour = "red"',
            r"\[layers.wards\] does not know 'colour': remove it or use one of source, layer, crs",
        ),
        (
            "[requests]\n",
            "[request]\nsources = []\n[requests]\n",
            r"\[top level\] does not know 'request': did you mean 'requests'",
        ),
    ],
)
def test_unknown_keys_are_refused_with_a_suggestion(bayport, old, new, message):
    cities, data = bayport
    rewrite(cities, old, new)

    with pytest.raises(ConfigError, match=message):
        load_city("bayport", cities, data)


def test_the_fixture_city_and_the_importers_optional_keys_are_accepted(bayport):
    cities, data = bayport
    city = load_city("bayport", cities, data)

    assert city.requests.options["snap_within_m"] == 40
    assert {"due_at", "zipcode"} <= set(city.requests.fields)
    assert check_city("bayport", cities, data).report().endswith("bayport.toml: no problems")


# -- city check ------------------------------------------------------------------------------


def test_city_check_lists_every_problem_at_once(bayport, monkeypatch, capsys):
    cities, data = bayport
    rewrite(cities, 'requested_at = "OPENED"', 'requsted_at = "OPENED"')  # a typo in a field mapping
    rewrite(cities, 'status = "CASE_STATUS"', 'status = "STATUS"')  # a column the files lack
    rewrite(cities, 'name_field = "WARD_NAME"', 'name_field = "NAME"')  # a field the layer lacks
    rewrite(cities, 'crs = "EPSG:2249"\nid_field', "id_field")  # the ward layer read as degrees
    rewrite(cities, 'sources = ["addresses/*.csv"]', 'sources = ["addresses/*.txt"]')  # matches nothing

    result = check_city("bayport", cities, data)

    text = "\n".join(result.problems)
    assert "[requests.fields] does not know 'requsted_at': did you mean 'requested_at'?" in text
    assert '[requests.fields] needs requested_at = "column"' in text
    assert "[requests.fields] status names 'STATUS', which cases_2020.csv does not have" in text
    assert "[requests.fields] status names 'STATUS', which cases_2021.csv does not have" in text
    assert "[layers.wards] wards_2022.geojson: coordinates look projected" in text
    assert "[addresses.sources.points] the pattern 'addresses/*.txt' matches no file" in text
    assert len(result.problems) >= 6
    assert result.report().splitlines()[0].endswith(f"bayport.toml: {len(result.problems)} problem(s)")

    monkeypatch.setenv("GEO311_CITIES_DIR", str(cities))
    monkeypatch.setenv("GEO311_DATA_DIR", str(data))
    assert main(["bayport"]) == 1
    out = capsys.readouterr().out
    assert "did you mean 'requested_at'" in out and "Traceback" not in out


def test_city_check_names_a_missing_layer_field_once_the_crs_is_right(bayport):
    cities, data = bayport
    rewrite(cities, 'name_field = "WARD_NAME"', 'name_field = "NAME"')

    (problem,) = check_city("bayport", cities, data).problems

    assert problem.startswith(
        "bayport.toml: [layers.wards] name_field names 'NAME', which wards_2022.geojson "
        "does not have (its columns: WARD_NO, WARD_NAME); fix the name"
    )


def test_city_check_of_a_missing_file_and_broken_toml(bayport):
    cities, data = bayport
    (data / "311" / "cases_2020.csv").unlink()
    (data / "precincts" / "wards_2022.geojson").rename(data / "precincts" / "wards.geojson")
    result = check_city("bayport", cities, data)
    assert any("[layers.wards] the pattern 'precincts/wards_*.geojson' matches no file" in p for p in result.problems)
    assert any("[jurisdiction] the pattern" in p for p in result.problems)

    (cities / "bayport.toml").write_text("[city\nkey = 1")
    (problem,) = check_city("bayport", cities, data).problems
    assert "bayport.toml is not valid TOML" in problem


@pytest.mark.parametrize("name", ["la", "gardena"])
def test_the_shipped_cities_check_clean(runner_la, name):
    result = runner_la.invoke(args=["city", "check", name])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"cities/{name}.toml: no problems"


def test_city_check_exits_non_zero_on_problems(runner_la):
    result = runner_la.invoke(args=["city", "check", "atlantis"])

    assert result.exit_code == 1
    assert "there is no atlantis.toml" in result.output and "known cities:" in result.output


@pytest.fixture
def runner_la(app):
    return app.test_cli_runner()
