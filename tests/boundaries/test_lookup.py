"""Point lookups: enclaves, shared lines, outside every agency, and index == database."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from boundaries.index import BoundaryIndex, IndexCache
from boundaries.loader import load_city
from boundaries.lookup import check_lon_lat, locate
from core.errors import InvalidCoordinates

ECHO_PARK = (-118.2668, 34.0732)


@pytest.mark.parametrize(
    "lon,lat,agency",
    [
        (-118.4004, 34.0736, "beverly-hills"),  # inside LA's outer ring, not LA
        (-118.3965, 34.0211, "culver-city"),
        (-118.4912, 34.0195, "santa-monica"),
        (-118.3614, 34.0900, "west-hollywood"),
        (-118.4395, 34.2817, "san-fernando"),  # an enclave in the San Fernando Valley
    ],
)
def test_enclaves_are_not_los_angeles(session, lon, lat, agency):
    location = locate(session, "la", lon, lat)
    assert location.status == "outside"
    assert location.agency.key == agency
    assert location.ward is None and location.district is None


def test_inside_los_angeles_gives_ward_and_district(session):
    location = locate(session, "la", *ECHO_PARK)
    assert location.status == "inside"
    assert (location.ward.key, location.ward.name) == ("13", "Council District 13")
    assert location.district.name == "ECHO PARK NC"  # nc_id 44; the 2017 request calls it GREATER ECHO PARK ELYSIAN NC
    assert location.agency is None


def test_unincorporated_area_names_the_county(session):
    location = locate(session, "la", -118.2433, 33.9684)  # Florence-Firestone
    assert location.status == "outside"
    assert location.agency.name == "Unincorporated Florence-Firestone (County of Los Angeles)"
    assert location.agency.phone


def test_outside_every_known_agency(session):
    for lon, lat in [(-118.60, 33.90), (-117.0, 36.0), (0.0, 0.0)]:  # the bay, the desert, the Gulf of Guinea
        location = locate(session, "la", lon, lat)
        assert location.status == "unknown"
        assert location.agency is None and not location.in_jurisdiction


def test_a_point_covered_by_two_wards_gets_one_deterministically(session):
    """The 2012 district lines overlap by slivers: a point in both gets the smaller key."""
    lon, lat, wards = session.execute(
        text(
            """
            WITH wards AS (
                SELECT f.key, f.geom FROM boundary_feature f
                JOIN boundary_layer_version v ON v.id = f.version_id
                WHERE v.city = 'la' AND v.role = 'wards' AND v.is_current
            ), overlap AS (
                SELECT ST_PointOnSurface(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) AS pt
                FROM wards a JOIN wards b ON a.key < b.key AND ST_Intersects(a.geom, b.geom)
                ORDER BY ST_Area(ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)) DESC LIMIT 1
            )
            SELECT ST_X(pt), ST_Y(pt), (SELECT array_agg(key ORDER BY key) FROM wards WHERE ST_Intersects(geom, pt))
            FROM overlap
            """
        )
    ).one()
    assert len(wards) == 2
    location = locate(session, "la", lon, lat)
    assert location.ward.key == min(wards)
    assert BoundaryIndex.build(session, "la").locate(lon, lat) == location


def test_a_point_on_a_ward_line_belongs_to_that_ward(session):
    lon, lat = session.execute(
        text(
            """
            SELECT ST_X(pt.geom), ST_Y(pt.geom)
            FROM boundary_feature f
            JOIN boundary_layer_version v ON v.id = f.version_id AND v.city = 'la' AND v.role = 'wards' AND v.is_current
            CROSS JOIN LATERAL ST_DumpPoints(f.geom) pt
            WHERE f.key = '13' AND NOT EXISTS (
                SELECT 1 FROM boundary_feature o
                WHERE o.version_id = f.version_id AND o.key <> f.key AND ST_Intersects(o.geom, pt.geom))
            LIMIT 1
            """
        )
    ).one()
    assert locate(session, "la", lon, lat).ward.key == "13"
    assert BoundaryIndex.build(session, "la").locate(lon, lat).ward.key == "13"


@pytest.mark.parametrize(
    "lon,lat,problem",
    [
        (float("nan"), 34.0, "finite"),
        (-118.0, float("inf"), "finite"),
        (-200.0, 34.0, "Longitude -200.0 is outside"),
        (-118.0, 95.0, "Latitude 95.0 is outside"),
        ("west", "34", "must be numbers"),
        (None, 34.0, "must be numbers"),
    ],
)
def test_invalid_coordinates_are_refused(session, lon, lat, problem):
    with pytest.raises(InvalidCoordinates, match=problem):
        locate(session, "la", lon, lat)
    with pytest.raises(InvalidCoordinates, match=problem):
        BoundaryIndex.build(session, "la").locate(lon, lat)


def test_coordinate_strings_are_accepted():
    assert check_lon_lat("-118.25", " 34.05 ") == (-118.25, 34.05)


def test_gardena_zip_codes_in_harbor_gateway_are_los_angeles(session, data_dir):
    """The Gardena case with real data: 311 addresses with Gardena ZIP codes that LA serves.

    Street addresses all lie in Harbor Gateway (council district 15). Intersections are
    points on street centre lines, some of which (Vermont Avenue) are the city line
    itself, so they may fall on either side and are left out here.
    """
    frames = [pd.read_csv(data_dir / name, dtype=str) for name in ("311_2017_sample.csv", "311_2020_sample.csv")]
    rows = pd.concat([f.rename(columns=str.lower) for f in frames])
    rows = rows[rows.zipcode.isin(["90247", "90248", "90249"]) & (rows.addressverified == "Y") & rows.latitude.notna()]
    rows = rows.drop_duplicates("address")
    rows = rows[~rows.address.str.contains(" AT ")]
    assert len(rows) >= 75

    for address, lon, lat in rows[["address", "longitude", "latitude"]].itertuples(index=False):
        as_gardena = locate(session, "gardena", lon, lat)
        assert as_gardena.status == "outside", address
        assert as_gardena.agency.key == "los-angeles", address
        assert as_gardena.agency.phone and as_gardena.agency.website
        as_la = locate(session, "la", lon, lat)
        assert as_la.status == "inside" and as_la.ward.key == "15", address


def test_gardena_is_home_under_its_own_configuration(session):
    assert locate(session, "gardena", -118.3089, 33.8883).status == "inside"
    assert locate(session, "la", -118.3089, 33.8883).agency.name == "City of Gardena"


def test_index_and_database_agree_on_thousands_of_points(session):
    """Random points over the county, every vertex of the ward lines, and near-vertex points."""
    rng = np.random.default_rng(311)
    points = list(zip(rng.uniform(-118.95, -117.65, 3000), rng.uniform(33.70, 34.82, 3000)))
    vertices = session.execute(
        text(
            """
            SELECT ST_X(pt.geom), ST_Y(pt.geom)
            FROM boundary_feature f
            JOIN boundary_layer_version v ON v.id = f.version_id AND v.city = 'la' AND v.is_current
                 AND v.role IN ('wards', 'jurisdiction')
            CROSS JOIN LATERAL ST_DumpPoints(f.geom) pt
            """
        )
    ).all()
    sample = [vertices[i] for i in rng.choice(len(vertices), 2000, replace=False)]
    points += sample
    points += [(x + dx, y + dy) for (x, y), dx, dy in zip(sample, rng.normal(0, 1e-6, 2000), rng.normal(0, 1e-6, 2000))]

    index = BoundaryIndex.build(session, "la")
    differences = [(x, y) for x, y in points if index.locate(x, y) != locate(session, "la", x, y)]

    assert len(points) == 7000
    assert differences == []
    statuses = {locate(session, "la", x, y).status for x, y in points[:3000]}
    assert statuses == {"inside", "outside", "unknown"}


def test_index_cache_follows_new_versions(session, la):
    cache = IndexCache(max_age=0)
    first = cache.get(session, "la")
    assert cache.get(session, "la") is first  # nothing changed: same index
    load_city(session, la, ("wards",), force=True)
    rebuilt = cache.get(session, "la")
    assert rebuilt is not first
    assert rebuilt.version_ids != first.version_ids
    assert rebuilt.locate(*ECHO_PARK).ward.key == "13"
    assert not math.isnan(len(rebuilt))
