"""The street base layer (vector tiles from PostGIS) and the local basemap files."""

from __future__ import annotations

import dataclasses
import gzip

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from app.factory import create_app
from core.errors import ConfigError
from core.settings import Settings
from geo.basemap import open_archive
from geo.tiles import ADDRESS_ZOOM, TileError, check_tile, street_tile
from tests.helpers.street_data import NUMBERS, SPOT, load_santa_monica, tile_of
from tests.helpers.tile_files import write_mbtiles, write_pmtiles

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24  # enough bytes to tell one tile from another


@pytest.fixture
def streets(session, data_dir):
    return load_santa_monica(session, data_dir)


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data) if data else {}


def spot_tile(session, z: int, city: str = "la") -> dict:
    x, y = tile_of(*SPOT, z)
    return decode(street_tile(session, city, z, x, y))


def test_a_street_zoom_tile_has_the_streets_names_and_house_numbers(session, streets):
    tile = spot_tile(session, 16)
    names = {f["properties"].get("name") for f in tile["streets"]["features"]}
    assert {"COLORADO AVE", "6TH ST", "5TH ST"} <= names
    kinds = {f["geometry"]["type"] for f in tile["streets"]["features"]}
    assert kinds <= {"LineString", "MultiLineString"}
    numbers = {f["properties"]["number"] for f in tile["addresses"]["features"]}
    assert numbers == {str(n) for n in NUMBERS}  # the intersection point is not a house number
    assert {f["properties"]["street"] for f in tile["addresses"]["features"]} == {"COLORADO AVE"}
    assert {f["geometry"]["type"] for f in tile["addresses"]["features"]} == {"Point"}


def test_the_demo_load_gives_santa_monicas_streets_and_placed_numbers(session):
    """Without the fixture: the la address load itself fills the street layer from Santa Monica's centerlines."""
    tile = spot_tile(session, 16)
    names = {f["properties"].get("name") for f in tile["streets"]["features"]}
    assert {"COLORADO AVE", "5TH ST"} <= names
    assert tile.get("addresses", {}).get("features"), "house numbers placed from the building list and CAMS"


def test_lower_zooms_drop_house_numbers_then_minor_streets_then_all_but_major_roads(session, streets):
    street = spot_tile(session, 15)
    assert "addresses" not in street
    assert "minor" in {f["properties"]["class"] for f in spot_tile(session, 14)["streets"]["features"]}
    town = spot_tile(session, 13)["streets"]["features"]
    assert "minor" not in {f["properties"]["class"] for f in town}
    assert all(f["properties"].get("name") for f in town)
    assert "street" in {f["properties"]["class"] for f in town}
    region = spot_tile(session, 11)["streets"]["features"]
    assert region and {f["properties"]["class"] for f in region} == {"major"}  # the freeway and its ramps
    assert spot_tile(session, 9) == {}


def test_a_tile_holds_only_its_own_citys_streets(session, streets):
    assert spot_tile(session, 16, city="gardena") == {}
    assert spot_tile(session, 16, city="la")


def test_street_merges_its_segments_within_a_tile(session, streets):
    features = [
        f for f in spot_tile(session, 15)["streets"]["features"] if f["properties"].get("name") == "COLORADO AVE"
    ]
    assert len(features) == 1  # one feature a street and class, its blocks joined


def test_tile_coordinates_are_checked():
    check_tile(16, 11298, 26177)
    for z, x, y in [(23, 0, 0), (-1, 0, 0), (3, 8, 0), (3, 0, 8), (0, 0, 1), (3, -1, 0)]:
        with pytest.raises(TileError):
            check_tile(z, x, y)


def test_the_tile_view(client, session, streets):
    x, y = tile_of(*SPOT, ADDRESS_ZOOM)
    answer = client.get(f"/tiles/streets/{ADDRESS_ZOOM}/{x}/{y}.pbf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.mapbox-vector-tile"
    assert "public" in answer.headers["Cache-Control"] and answer.headers["ETag"]
    assert {"streets", "addresses"} <= set(decode(answer.data))
    again = client.get(f"/tiles/streets/{ADDRESS_ZOOM}/{x}/{y}.pbf", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/tiles/streets/16/0/0.pbf").status_code == 204  # no street there: an empty tile


def test_a_new_address_load_changes_the_tiles_etag(client, session, streets):
    before = client.get("/tiles/streets/16/0/0.pbf").headers["ETag"]
    session.execute(
        text(
            "INSERT INTO address_load (city, sources, rows_read, addresses, rejected, counts) "
            "VALUES ('la', ARRAY['again'], 0, 0, 0, '{}')"
        )
    )
    session.flush()
    assert client.get("/tiles/streets/16/0/0.pbf").headers["ETag"] != before


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/streets/23/0/0.pbf",
        "/tiles/streets/3/8/0.pbf",
        "/tiles/streets/3/0/99.pbf",
        "/tiles/streets/99999999999999999999/0/0.pbf",
    ],
)
def test_bad_tile_coordinates_are_a_400(client, path):
    answer = client.get(path)
    assert answer.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/streets/a/0/0.pbf",
        "/tiles/streets/3/-1/0.pbf",
        "/tiles/streets/3/0/0.5.pbf",
        "/tiles/streets/3/0.pbf",
        "/tiles/basemap/1/0/0",
    ],
)
def test_paths_that_name_no_tile_are_a_404(client, path):
    assert client.get(path).status_code == 404  # the last: no basemap file is configured


# --- local basemap files -----------------------------------------------------------------------


def basemap_client(settings, bound_database, path):
    app = create_app(dataclasses.replace(settings, basemap_file=path), database=bound_database)
    return app.test_client()


def test_an_mbtiles_raster_basemap_is_served_with_the_tms_rows_flipped(settings, bound_database, tmp_path):
    path = tmp_path / "base.mbtiles"
    write_mbtiles(path, "png", {(1, 0, 0): PNG + b"north-west", (1, 0, 1): PNG + b"south-west"})
    client = basemap_client(settings, bound_database, path)
    north = client.get("/tiles/basemap/1/0/0")
    assert north.status_code == 200 and north.mimetype == "image/png" and north.data.endswith(b"north-west")
    assert client.get("/tiles/basemap/1/0/1").data.endswith(b"south-west")
    assert "Content-Encoding" not in north.headers
    assert client.get("/tiles/basemap/1/1/1").status_code == 204  # not in the file
    assert client.get("/tiles/basemap/1/2/0").status_code == 400
    page = client.get("/").get_data(as_text=True)
    assert '"kind": "raster"' in page and '"url": "/tiles/basemap/{z}/{x}/{y}"' in page


def test_an_mbtiles_vector_basemap_is_sent_gzipped_as_stored(settings, bound_database, tmp_path):
    tile = gzip.compress(
        mapbox_vector_tile.encode(
            [
                {
                    "name": "roads",
                    "features": [{"geometry": "LINESTRING (0 0, 4096 4096)", "properties": {"name": "Main St"}}],
                }
            ]
        )
    )
    path = tmp_path / "vector.mbtiles"
    write_mbtiles(path, "pbf", {(0, 0, 0): tile})
    answer = basemap_client(settings, bound_database, path).get("/tiles/basemap/0/0/0")
    assert answer.mimetype == "application/vnd.mapbox-vector-tile"
    assert answer.headers["Content-Encoding"] == "gzip"
    assert decode(gzip.decompress(answer.data))["roads"]["features"][0]["properties"]["name"] == "Main St"
    assert open_archive(path).vector


def test_a_pmtiles_basemap_is_served(settings, bound_database, tmp_path):
    from pmtiles.tile import Compression, TileType

    raster = tmp_path / "base.pmtiles"
    write_pmtiles(raster, TileType.PNG, Compression.NONE, {(0, 0, 0): PNG + b"world", (2, 1, 3): PNG + b"deep"})
    client = basemap_client(settings, bound_database, raster)
    assert client.get("/tiles/basemap/2/1/3").data.endswith(b"deep")
    assert client.get("/tiles/basemap/0/0/0").mimetype == "image/png"
    assert client.get("/tiles/basemap/2/0/0").status_code == 204
    assert open_archive(raster).attribution == "Test PMTiles"

    vector = tmp_path / "vector.pmtiles"
    tile = gzip.compress(
        mapbox_vector_tile.encode([{"name": "roads", "features": [{"geometry": "POINT (10 10)", "properties": {}}]}])
    )
    write_pmtiles(vector, TileType.MVT, Compression.GZIP, {(0, 0, 0): tile})
    answer = basemap_client(settings, bound_database, vector).get("/tiles/basemap/0/0/0")
    assert answer.headers["Content-Encoding"] == "gzip" and answer.mimetype == "application/vnd.mapbox-vector-tile"
    assert "roads" in decode(gzip.decompress(answer.data))


def test_a_basemap_file_that_is_missing_or_of_another_kind_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="GEO311_BASEMAP_FILE"):
        Settings.from_env({"GEO311_BASEMAP_FILE": str(tmp_path / "none.mbtiles")})
    other = tmp_path / "base.tif"
    other.write_bytes(b"II*\x00")
    with pytest.raises(ConfigError, match="GEO311_BASEMAP_FILE"):
        Settings.from_env({"GEO311_BASEMAP_FILE": str(other)})


def test_the_maps_draw_the_city_streets_unless_a_tile_server_is_configured(settings, bound_database, client):
    page = client.get("/").get_data(as_text=True)
    assert '"kind": "streets"' in page and '"url": "/tiles/streets/{z}/{x}/{y}.pbf"' in page
    served = (
        create_app(
            dataclasses.replace(settings, tile_url="https://tiles.example.org/{z}/{x}/{y}.png"), database=bound_database
        )
        .test_client()
        .get("/")
    )
    text = served.get_data(as_text=True)
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in text and "/tiles/streets/" not in text
    assert "https://tiles.example.org" in served.headers["Content-Security-Policy"]


def test_a_folium_map_carries_the_street_layer_and_stays_offline(session, la):
    from geo import exports, maps

    config = {
        "kind": "streets",
        "url": "/tiles/streets/{z}/{x}/{y}.pbf",
        "attribution": "Streets",
        "maxDataZoom": 16,
        "addressZoom": 16,
    }
    html = maps.render(maps.base_map(session, la, maps.MapOptions(basemap=config)))
    assert "window.geo311Basemap = function" in html and "geo311Basemap(map_" in html
    assert '<script src="/vendor/protomaps-leaflet/protomaps-leaflet.js"></script>' in html
    assert '"fillOpacity": 0.25' in html  # the city tinted, its streets readable under it
    standalone = exports.standalone_html(html)
    assert 'src="/vendor' not in standalone and "var protomapsL" in standalone


def test_the_map_documents_name_the_street_tiles(admin_client):
    body = admin_client.get("/maps/wards/map.html").get_data(as_text=True)
    assert '"url": "/tiles/streets/{z}/{x}/{y}.pbf"' in body
    download = admin_client.get("/maps/wards/map.html?download=1").get_data(as_text=True)
    assert '"url": "http://localhost/tiles/streets/{z}/{x}/{y}.pbf"' in download  # a file opened anywhere
