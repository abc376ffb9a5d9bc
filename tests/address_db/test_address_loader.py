"""Loading the address database: sources, field mappings, rejected rows, all-or-nothing."""

from __future__ import annotations

import csv
import dataclasses

import geopandas as gpd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import text

from address_db.loader import load_addresses
from core.city import FieldFilter, SourceMapping
from core.errors import DataFileError


def count(session, city: str, where: str = "true") -> int:
    return session.execute(
        text(f"SELECT count(*) FROM address_point WHERE city = :c AND {where}"), {"c": city}
    ).scalar()


def test_los_angeles_addresses_from_the_311_files(session):
    """The distinct verified addresses with coordinates, intersections kept as intersections."""
    history = "source_key = 'history'"
    assert 13_000 <= count(session, "la", history) <= 14_400
    assert 950 <= count(session, "la", f"{history} AND kind = 'intersection'") <= 1_050
    assert count(session, "la", f"{history} AND in_jurisdiction") >= 13_000
    row = session.execute(
        text(
            "SELECT house_number, predir, street_name, suffix, zipcode, standardized, source FROM address_point "
            "WHERE city = 'la' AND standardized = '2111 W BELLEVUE AVE, 90026'"
        )
    ).one()
    assert row[:5] == (2111, "W", "BELLEVUE", "AVE", "90026")
    assert row.source == "311_2017_sample.csv"


def test_jurisdiction_comes_from_the_point_not_the_zip(session):
    """Harbor Gateway addresses carry Gardena ZIP codes but are Los Angeles."""
    sql = (
        "SELECT count(*) FILTER (WHERE in_jurisdiction), count(*) FILTER (WHERE agency_key = 'los-angeles'), count(*) "
        "FROM address_point WHERE city = :c AND zipcode IN ('90247', '90248') AND kind = 'address'"
    )
    inside_la, _, total = session.execute(text(sql), {"c": "la"}).one()
    assert total >= 70 and inside_la == total
    inside_gardena, served_by_la, total = session.execute(text(sql), {"c": "gardena"}).one()
    assert inside_gardena == 0 and served_by_la == total


def test_rejected_rows_are_reported_with_reasons(session, la, tmp_path):
    source = tmp_path / "addresses.csv"
    with open(source, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["FULL", "LAT", "LON"])
        writer.writerow(["2111 W Bellevue Ave, 90026", "34.073216645", "-118.266861909"])
        writer.writerow(["PO Box 12, Los Angeles", "34.05", "-118.25"])
        writer.writerow(["200 N Spring St", "", ""])
        writer.writerow(["200 N Spring St", "91", "-118.24"])
        writer.writerow(["<script>x</script>", "34.05", "-118.24"])
        writer.writerow(["200 N Spring St, 90012", "34.0537", "-118.2427"])
        writer.writerow(["200 N. Spring Street 90012", "34.0537", "-118.2427"])  # the same address again
    mapping = SourceMapping(paths=(source,), fields={"full_address": "FULL", "latitude": "LAT", "longitude": "LON"})

    report = load_addresses(session, la, mapping, report_dir=tmp_path / "reports", allow_shrink=True)

    assert (report.rows_read, report.addresses, report.duplicates, len(report.rejected)) == (7, 2, 1, 4)
    with open(report.report_path) as handle:
        rows = list(csv.DictReader(handle))
    assert [r["row"] for r in rows] == ["3", "4", "5", "6"]
    assert "P.O. box" in rows[0]["reason"]
    assert "no usable coordinates" in rows[1]["reason"] and "no usable coordinates" in rows[2]["reason"]
    assert "not part of an address" in rows[3]["reason"]
    assert count(session, "la") == 2  # the new set replaced the old one


def test_address_ids_are_stable_across_loads(session, la):
    before = session.execute(text("SELECT address_id FROM address_point WHERE city = 'la' ORDER BY 1")).scalars().all()
    load_addresses(session, la)
    after = session.execute(text("SELECT address_id FROM address_point WHERE city = 'la' ORDER BY 1")).scalars().all()
    assert before == after


def test_an_unchanged_source_is_not_loaded_again(session, la):
    assert load_addresses(session, la, force=False) is None


def test_a_failed_load_keeps_the_previous_addresses(session, la, tmp_path):
    before = count(session, "la")
    history = la.addresses.source("history").mapping
    broken = dataclasses.replace(history, fields={**history.fields, "street_name": "NoSuchColumn"})
    with pytest.raises(DataFileError, match="no column 'NoSuchColumn'"):
        load_addresses(session, la, broken, report_dir=tmp_path)
    missing = dataclasses.replace(history, paths=(tmp_path / "gone.csv",))
    with pytest.raises(DataFileError, match="does not exist"):
        load_addresses(session, la, missing, report_dir=tmp_path)
    nothing = dataclasses.replace(history, where=FieldFilter("AddressVerified", ("maybe",)))
    with pytest.raises(DataFileError, match="No usable address"):
        load_addresses(session, la, nothing, report_dir=tmp_path)
    assert count(session, "la") == before


def test_parcels_from_polygons_are_located_on_their_surface(session, la, tmp_path):
    lot = box(-118.26700, 34.07310, -118.26670, 34.07335)
    frame = gpd.GeoDataFrame(
        {"APN": ["5403-012-001", "5403-012-002"], "SITUS": ["2111 W Bellevue Ave 90026", "2115 W Bellevue Ave 90026"]},
        geometry=[lot, box(-118.26670, 34.07310, -118.26640, 34.07335)],
        crs="EPSG:4326",
    ).to_crs("EPSG:2229")
    path = tmp_path / "parcels.gpkg"
    frame.to_file(path)
    mapping = SourceMapping(paths=(path,), fields={"full_address": "SITUS", "parcel_number": "APN"})

    report = load_addresses(session, la, mapping, report_dir=tmp_path, allow_shrink=True)

    assert report.addresses == 2
    kind, apn, inside = session.execute(
        text(
            "SELECT kind, parcel_number, ST_Within(geom, parcel_geom) FROM address_point "
            "WHERE city = 'la' AND standardized = '2111 W BELLEVUE AVE, 90026'"
        )
    ).one()
    assert (kind, apn, inside) == ("parcel", "5403-012-001", True)


def test_geojson_points(session, la, tmp_path):
    path = tmp_path / "points.geojson"
    gpd.GeoDataFrame(
        {"num": [200], "dir": ["N"], "street": ["Spring"], "type": ["Street"], "zip": ["90012"]},
        geometry=[Point(-118.2427, 34.0537)],
        crs="EPSG:4326",
    ).to_file(path)
    mapping = SourceMapping(
        paths=(path,),
        fields={
            "house_number": "num",
            "predirectional": "dir",
            "street_name": "street",
            "suffix": "type",
            "zipcode": "zip",
        },
    )
    report = load_addresses(session, la, mapping, report_dir=tmp_path, allow_shrink=True)
    assert report.addresses == 1
    assert (
        session.execute(text("SELECT standardized FROM address_point WHERE city = 'la'")).scalar()
        == "200 N SPRING ST, 90012"
    )
