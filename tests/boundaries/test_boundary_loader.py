"""Loading boundary layers: formats, validation, repair, versions, all-or-nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from boundaries.loader import build_layer, load_city, load_layers
from boundaries.lookup import locate
from boundaries.models import Feature, LayerVersion, Piece
from boundaries.queries import layer_versions
from core.city import CityConfig, LayerSource
from core.errors import DataFileError


@pytest.fixture(scope="module")
def wards_frame(la: CityConfig) -> gpd.GeoDataFrame:
    """The real council districts with a flat DISTRICT field, for writing test files."""
    frame = gpd.read_file(la.areas["wards"].source.path)
    frame["DISTRICT"] = frame["name"].astype(str)
    return frame[["DISTRICT", "geometry"]]


def current(session: Session, city: str, role: str) -> LayerVersion:
    version = session.scalar(
        select(LayerVersion).where(LayerVersion.city == city, LayerVersion.role == role, LayerVersion.is_current)
    )
    assert version is not None
    return version


def load_file(session: Session, city: CityConfig, role: str, path: Path, **options: object):
    source = LayerSource(path=path, layer=options.pop("layer", None), crs=options.pop("crs", None))  # type: ignore[arg-type]
    built = build_layer(city, role, source, **options)  # type: ignore[arg-type]
    (report,) = load_layers(session, city, [built])
    return report


# -- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix,driver", [(".geojson", "GeoJSON"), (".shp", "ESRI Shapefile"), (".gpkg", "GPKG")])
def test_loads_geojson_shapefile_and_geopackage(session, la, wards_frame, tmp_path, suffix, driver):
    path = tmp_path / f"wards{suffix}"
    wards_frame.to_file(path, driver=driver)

    report = load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")

    assert report.feature_count == 15
    assert report.version == current(session, "la", "wards").version
    assert locate(session, "la", -118.2668, 34.0732).ward.key == "13"  # Echo Park: council district 13


def test_reprojects_to_wgs84(session, la, wards_frame, tmp_path):
    path = tmp_path / "wards_state_plane.shp"
    wards_frame.to_crs("EPSG:2229").to_file(path)  # California zone 5, US feet

    load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")

    srid, minx = session.execute(
        text("SELECT ST_SRID(geom), ST_XMin(geom) FROM boundary_feature WHERE version_id = :v LIMIT 1"),
        {"v": current(session, "la", "wards").id},
    ).one()
    assert srid == 4326
    assert -119 < minx < -118


def test_a_shapefile_without_crs_needs_one(session, la, wards_frame, tmp_path):
    path = tmp_path / "nocrs.shp"
    wards_frame.to_file(path)
    path.with_suffix(".prj").unlink()

    with pytest.raises(DataFileError, match="does not say which coordinate reference system"):
        load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")
    report = load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT", crs="EPSG:4326")
    assert report.feature_count == 15


def test_projected_coordinates_labelled_as_degrees_are_refused(session, la, wards_frame, tmp_path):
    path = tmp_path / "mislabelled.geojson"
    wards_frame.to_crs("EPSG:2229").set_crs("EPSG:4326", allow_override=True).to_file(path)

    with pytest.raises(DataFileError, match="CRS is probably wrong"):
        load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")


def test_degrees_labelled_as_projected_are_refused(session, la, wards_frame, tmp_path):
    path = tmp_path / "mislabelled.shp"
    wards_frame.set_crs("EPSG:2229", allow_override=True).to_file(path)

    with pytest.raises(DataFileError, match="nowhere near the city.s jurisdiction|do not lie in the area"):
        load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")


# -- validation and repair -----------------------------------------------------------------


def test_invalid_geometry_is_repaired_and_reported(session, la, wards_frame, tmp_path):
    frame = wards_frame.copy()
    x0, y0, x1, y1 = frame.geometry.iloc[0].bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])  # self-intersecting
    frame.loc[frame.index[0], "geometry"] = bowtie
    path = tmp_path / "bowtie.geojson"
    frame.to_file(path)

    report = load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")

    assert len(report.repairs) == 1
    assert report.repairs[0].feature == f"DISTRICT={frame.DISTRICT.iloc[0]}"
    assert "Self-intersection" in report.repairs[0].reason
    assert current(session, "la", "wards").repairs == [r.as_dict() for r in report.repairs]
    invalid = session.scalar(
        select(func.count())
        .select_from(Feature)
        .where(Feature.version_id == current(session, "la", "wards").id, ~func.ST_IsValid(Feature.geom))
    )
    assert invalid == 0


def test_missing_id_field_names_the_fields_there_are(session, la, wards_frame, tmp_path):
    path = tmp_path / "wards.geojson"
    wards_frame.to_file(path)
    with pytest.raises(DataFileError, match=r"no field 'WARD_NO' \(its fields: DISTRICT\)"):
        load_file(session, la, "wards", path, id_field="WARD_NO")


def test_empty_layer_is_refused(session, la, tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(DataFileError, match="has no features"):
        load_file(session, la, "wards", path)


def test_points_are_not_boundaries(session, la, tmp_path):
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame(
        {"DISTRICT": ["1", "2"]},
        geometry=[Point(-118.2, 34.0), LineString([(-118, 34), (-118.1, 34.1)])],
        crs="EPSG:4326",
    ).to_file(path)
    with pytest.raises(DataFileError, match="not a polygon layer: 2 feature"):
        load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")


def test_missing_and_unreadable_files(session, la, tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        load_file(session, la, "wards", tmp_path / "nowhere.geojson")
    garbage = tmp_path / "garbage.geojson"
    garbage.write_bytes(b"\x00\x01 this is not geojson {")
    with pytest.raises(DataFileError, match="cannot be read"):
        load_file(session, la, "wards", garbage)
    truncated = tmp_path / "truncated.shp"
    truncated.write_bytes(b"\x00\x00\x27\x0a" + b"\x00" * 20)
    with pytest.raises(DataFileError, match="cannot be read"):
        load_file(session, la, "wards", truncated)


def test_ids_must_tell_areas_apart(session, la, wards_frame, tmp_path):
    frame = wards_frame.copy()
    frame["NAME"] = "Ward " + frame["DISTRICT"]
    frame.loc[frame.index[1], "DISTRICT"] = frame.DISTRICT.iloc[0]
    path = tmp_path / "dupes.geojson"
    frame.to_file(path)
    with pytest.raises(DataFileError, match="share DISTRICT"):
        load_file(session, la, "wards", path, id_field="DISTRICT", name_field="NAME")


def test_features_without_id_are_refused(session, la, wards_frame, tmp_path):
    frame = wards_frame.copy()
    frame.loc[frame.index[3], "DISTRICT"] = None
    path = tmp_path / "noid.geojson"
    frame.to_file(path)
    with pytest.raises(DataFileError, match="1 feature\\(s\\) have no DISTRICT \\(feature number 4\\)"):
        load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")


def test_geopackage_with_several_layers_needs_a_layer_name(session, la, wards_frame, tmp_path):
    path = tmp_path / "many.gpkg"
    wards_frame.to_file(path, layer="wards_2012")
    wards_frame.to_file(path, layer="wards_2022")
    with pytest.raises(DataFileError, match="several layers \\(wards_2012, wards_2022\\)"):
        load_file(session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT")
    assert (
        load_file(
            session, la, "wards", path, id_field="DISTRICT", name_field="DISTRICT", layer="wards_2022"
        ).feature_count
        == 15
    )


# -- versions and atomicity ----------------------------------------------------------------


def test_a_failed_load_leaves_the_loaded_layer_untouched(session, la, wards_frame, tmp_path):
    before = current(session, "la", "wards")
    before_id, before_version = before.id, before.version
    pieces_before = session.scalar(select(func.count()).select_from(Piece).where(Piece.version_id == before_id))
    broken = tmp_path / "broken.geojson"
    broken.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"DISTRICT": "1"}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}'
    )  # truncated

    with pytest.raises(DataFileError):
        load_file(session, la, "wards", broken, id_field="DISTRICT", name_field="DISTRICT")

    after = current(session, "la", "wards")
    assert (after.id, after.version) == (before_id, before_version)
    assert session.scalar(select(func.count()).select_from(Piece).where(Piece.version_id == before_id)) == pieces_before
    assert locate(session, "la", -118.2668, 34.0732).ward.key == "13"


def test_a_database_failure_midway_rolls_the_whole_load_back(session, la, wards_frame, tmp_path):
    """Two layers in one load, the second failing in the database: the first is not kept."""
    versions_before = {v.role: v.version for v in layer_versions(session, "la", current_only=True)}
    good = build_layer(la, "wards")
    bad = build_layer(la, "districts")
    bad.features[1].key = bad.features[0].key  # violates UNIQUE (version_id, key) on insert

    with pytest.raises(Exception, match="unique|duplicate"):
        load_layers(session, la, [good, bad])

    assert {v.role: v.version for v in layer_versions(session, "la", current_only=True)} == versions_before


def test_every_load_is_kept_as_a_version(session, la):
    first = current(session, "la", "wards").version
    (report,) = load_city(session, la, ("wards",), force=True)
    assert report.version == first + 1
    versions = [v for v in layer_versions(session, "la") if v.role == "wards"]
    assert [v.version for v in versions][:2] == [first + 1, first]
    assert [v.is_current for v in versions][:2] == [True, False]
    assert versions[1].feature_count == 15  # the old version's features are still there
    assert session.scalar(select(func.count()).select_from(Feature).where(Feature.version_id == versions[1].id)) == 15


def test_unchanged_layers_are_skipped_unless_forced(session, la):
    assert load_city(session, la) == []
    changed = dataclasses.replace(la, areas={**la.areas, "wards": dataclasses.replace(la.areas["wards"], label="Ward")})
    assert [r.role for r in load_city(session, changed)] == ["wards"]


def test_city_limit_of_los_angeles(session):
    """The union of the council districts, slivers filled, real enclaves kept as holes."""
    jurisdiction = current(session, "la", "jurisdiction")
    assert any("filled" in r["reason"] for r in jurisdiction.repairs)
    holes = session.scalar(
        text(
            "SELECT sum(ST_NumInteriorRings(d.geom)) FROM boundary_feature f, ST_Dump(f.geom) d WHERE f.version_id = :v"
        ),
        {"v": jurisdiction.id},
    )
    assert holes == 10  # Beverly Hills, Culver City, San Fernando, Marina del Rey, ...


def test_agencies_group_city_segments(session, gardena):
    agencies = current(session, "gardena", "agencies")
    la_city = session.scalar(select(Feature).where(Feature.version_id == agencies.id, Feature.key == "los-angeles"))
    assert la_city.name == "City of Los Angeles"
    assert len(la_city.properties["members"]) == 114  # every segment of the city
    assert (
        session.scalar(
            select(func.count()).select_from(Feature).where(Feature.version_id == agencies.id, Feature.key == "gardena")
        )
        == 0
    )
