"""The history import of a city unlike Los Angeles, written by the test in tmp_path.

Other column names and date formats, two placeholder points (with addresses the address
database saw only on placeholder rows, so they sit on the placeholder), ZIP codes stored as
numbers, the city's own target dates (one before its request), and generalised ward
polygons that some of the city's own points overrun by 20-90 m.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from core.city import load_city
from core.errors import ConfigError
from geo import reports
from service_requests.importer import import_history
from service_requests.selection import RequestFilter
from tests.helpers.fixture_cities import box, load_fixture_city, write_csv, write_geojson

KEY = "brookton"
LAT = 42.305
M_LON = 1 / 82_323  # one metre of longitude at 42.3 degrees north, in degrees
M_LAT = 1 / 111_132
P1, P2 = (-71.095, LAT), (-71.085, LAT)  # the placeholder points, one in each ward

TOML = """
[city]
key = "brookton"
name = "Town of Brookton"
timezone = "America/New_York"
projected_crs = "EPSG:32619"

[jurisdiction]
source = "brookton/wards.geojson"

[layers.wards]
label = "Ward"
source = "brookton/wards.geojson"
id_field = "ward_no"
name_field = "ward_name"

[agencies]
source = "brookton/neighbours.geojson"
id_field = "slug"
name_field = "name"

[addresses]
[[addresses.sources]]
key = "history"
kind = "history"
sources = ["brookton/cases.csv"]
where = { field = "Checked", values = ["yes"] }
[addresses.sources.fields]
full_address = "Where"
zipcode = "Zip"
latitude = "Y"
longitude = "X"

[requests]
sources = ["brookton/cases.csv"]
datetime_formats = ["%d/%m/%Y %H.%M", "%Y%m%dT%H%M"]
{numbers}

[requests.fields]
source_id = "CaseNo"
requested_at = "Opened"
updated_at = "Touched"
closed_at = "Done"
due_at = "TargetDate"
service_name = "Kind"
department = "Dept"
status = "State"
channel = "Via"
address = "Where"
zipcode = "Zip"
latitude = "Y"
longitude = "X"

[requests.status_map]
"OPEN" = "submitted"
"DONE" = "fixed"

[requests.channel_map]
"TEL" = "phone"
"APP" = "mobile_app"

[[departments]]
code = "DPW"
name = "Public Works"

[[services]]
code = "pothole"
name = "Pothole"
source_name = "Road Hole"
department = "DPW"
service_level = { business_days = 2 }
"""

HEADER = [
    "CaseNo",
    "Opened",
    "Touched",
    "Done",
    "TargetDate",
    "Kind",
    "Dept",
    "State",
    "Via",
    "Where",
    "Zip",
    "Y",
    "X",
    "Checked",
]


def case(
    number: str,
    address: str,
    point: tuple[float, float] | None,
    *,
    target: str = "05/03/2026 17.00",
    zipcode: str = "2124.0",
    checked: str = "no",
    opened: str = "02/03/2026 09.00",
    done: str = "04/03/2026 12.00",
) -> list[str]:
    lon, lat = (f"{point[0]:.7f}", f"{point[1]:.7f}") if point else ("", "")
    return [
        number,
        opened,
        done,
        done,
        target,
        "Road Hole",
        "DPW",
        "DONE" if done else "OPEN",
        "TEL",
        address,
        zipcode,
        lat,
        lon,
        checked,
    ]


def history() -> list[list[str]]:
    rows = []
    for p, (lon0, street) in enumerate([(P1[0], "ELM ST"), (P2[0], "OAK AVE")], start=1):
        placeholder = (lon0, LAT)
        known = [f"{100 + 10 * i} {street}" for i in range(3)]
        only_here = [f"{500 + 10 * i} {street}" for i in range(3)]
        for i, address in enumerate(known):  # seen (checked) at its real point, and on the placeholder
            rows.append(case(f"K{p}{i}", address, (lon0 + 0.001 * (i + 1), LAT + 0.002), checked="yes"))
            rows.append(case(f"PK{p}{i}", address, placeholder))
        for i, address in enumerate(only_here):  # checked, but only ever on the placeholder
            rows.append(case(f"PO{p}{i}", address, placeholder, checked="yes"))
        for i in range(2):
            rows.append(case(f"PX{p}{i}", f"NEAR THE PARK {p}{i}", placeholder))
    rows += [
        case("S-W20", "1 WEST END RD", (-71.10 - 20 * M_LON, LAT), zipcode="2125"),
        case("S-N90", "2 NORTH END RD", (-71.085, 42.31 + 90 * M_LAT), zipcode="02124"),
        case("S-E40", "3 BORDER RD", (-71.08 + 40 * M_LON, LAT)),  # 40 m into the neighbour's generalised polygon
        case("N-400", "4 NEXT ST", (-71.08 + 400 * M_LON, LAT)),  # deep inside the neighbour
        case("F-300", "5 FAR RD", (-71.10 - 300 * M_LON, LAT)),  # far outside, in no one's area
        case("D-OWN", "10 DUE ST", (-71.092, 42.302), target="20/03/2026 17.00", done="10/03/2026 12.00"),
        case("D-CAT", "12 DUE ST", (-71.092, 42.302), target=""),
        case("D-ISO", "14 DUE ST", (-71.092, 42.302), target="20260306T0900"),
        case("D-BAD", "16 DUE ST", (-71.092, 42.302), target="01/03/2026 09.00"),  # before the request
        case("D-WHAT", "18 DUE ST", (-71.092, 42.302), target="next week"),
        case("Z-NONE", "20 DUE ST", (-71.092, 42.302), zipcode=""),
    ]
    return rows


NUMBERS = "placeholder_min_requests = 6\nplaceholder_min_addresses = 4\nsnap_within_m = 120"


def write_city(tmp_path: Path, numbers: str = NUMBERS) -> tuple[Path, Path]:
    data, cities = tmp_path / "data", tmp_path / "cities"
    (data / KEY).mkdir(parents=True)
    cities.mkdir()
    write_geojson(
        data / KEY / "wards.geojson",
        [
            ({"ward_no": "1", "ward_name": "West"}, box(-71.10, 42.30, -71.09, 42.31)),
            ({"ward_no": "2", "ward_name": "East"}, box(-71.09, 42.30, -71.08, 42.31)),
        ],
    )
    write_geojson(
        data / KEY / "neighbours.geojson", [({"slug": "nextown", "name": "Nextown"}, box(-71.08, 42.30, -71.06, 42.31))]
    )
    write_csv(data / KEY / "cases.csv", HEADER, history())
    (cities / f"{KEY}.toml").write_text(TOML.replace("{numbers}", numbers))
    return cities, data


@pytest.fixture
def imported(session, tmp_path):
    cities, data = write_city(tmp_path)
    city = load_city(KEY, cities, data)
    load_fixture_city(session, city, addresses=True, report_dir=tmp_path)
    return city, import_history(session, city, report_dir=tmp_path)


def request(session, source_id: str):
    return session.execute(
        text("SELECT * FROM service_request WHERE city = :c AND source_id = :s"), {"c": KEY, "s": source_id}
    ).one()


def test_two_placeholder_points_move_requests_only_to_real_addresses(session, imported):
    city, report = imported
    # The circle is there: the addresses seen only on placeholder rows are in the address database, on the placeholder.
    on_placeholder = session.execute(
        text(
            "SELECT count(*) FROM address_point WHERE city = :c AND "
            "ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 1)"
        ),
        {"c": KEY, "x": P1[0], "y": P1[1]},
    ).scalar()
    assert on_placeholder == 3
    assert report.placeholders.points == 2
    # 3 known addresses per point move; 3 addresses known only at the placeholder and 2 unknown ones stay, flagged.
    assert (report.placeholders.relocated, report.placeholders.flagged) == (6, 10)
    assert "2 placeholder point(s): 6 request(s) moved to their address, 10 flagged" in report.summary()
    moved = request(session, "PK10")
    assert moved.location_quality == "relocated"
    assert session.execute(
        text("SELECT ST_X(geom) FROM service_request WHERE id = :i"), {"i": moved.id}
    ).scalar() == pytest.approx(P1[0] + 0.001, abs=1e-6)
    assert request(session, "PO10").location_quality == "placeholder"
    assert request(session, "PX21").location_quality == "placeholder"


def test_numeric_zip_codes_keep_their_leading_zero(session, imported):
    assert request(session, "K10").zipcode == "02124"  # "2124.0"
    assert request(session, "S-W20").zipcode == "02125"  # "2125"
    assert request(session, "S-N90").zipcode == "02124"
    assert request(session, "Z-NONE").zipcode is None


def test_the_citys_own_due_dates_are_used(session, imported):
    city, report = imported
    own = request(session, "D-OWN")
    assert own.due_at == datetime(2026, 3, 20, 21, 0, tzinfo=UTC)  # 17:00 daylight time in Brookton
    assert own.due_source == "source"
    assert request(session, "D-ISO").due_at == datetime(2026, 3, 6, 14, 0, tzinfo=UTC)  # second format
    catalogue = request(session, "D-CAT")
    assert catalogue.due_source == "catalogue"
    assert catalogue.due_at == datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # two business days
    reasons = {row: why for _, row, why in report.rejected}
    assert set(reasons.values()) == {
        "a due date before the request was made",
        "a due date that cannot be read (see datetime_formats)",
    }
    assert (
        session.execute(text("SELECT count(*) FROM service_request WHERE source_id IN ('D-BAD', 'D-WHAT')")).scalar()
        == 0
    )
    rows = len(history())
    assert (report.due_from_source, report.due_from_catalogue) == (rows - 3, 1)
    # In the city's scope: all but N-400 and F-300, of which one (D-CAT) has a computed date.
    due = reports.due_date_sources(session, city, RequestFilter())
    assert (due.source, due.catalogue) == (rows - 5, 1)
    share = round(100 * (rows - 5) / (rows - 4))
    compliance = reports.compliance(session, city, RequestFilter(), "service")
    assert (
        compliance.attrs["due_dates"]
        == f"due dates: {share} % from the city's data, {100 - share} % from service levels"
    )
    # Only D-CAT (two business days: due 4 March 09:00, closed 12:00) is late. D-OWN, closed on 10 March,
    # would be late by the service level too, but is on time by the date the city set.
    assert int(compliance["closed_on_time"].sum()) == int(compliance["closed_with_due"].sum()) - 1


def test_points_just_outside_the_generalised_wards_are_the_citys(session, imported):
    city, report = imported
    for source_id, ward in (("S-W20", "1"), ("S-N90", "2"), ("S-E40", "2")):
        row = request(session, source_id)
        assert (row.in_jurisdiction, row.agency_key, row.ward_key) == (True, None, ward), source_id
    deep = request(session, "N-400")
    assert (deep.in_jurisdiction, deep.agency_key) == (False, "nextown")
    far = request(session, "F-300")
    assert (far.in_jurisdiction, far.ward_key) == (False, None)
    assert report.snapped.requests == 3
    assert 85 <= report.snapped.largest_m <= 95
    assert "3 request(s) up to 120 m outside the city limit" in report.summary()


def test_importing_again_keeps_the_fixes(session, imported, tmp_path):
    city, _ = imported
    again = import_history(session, city, report_dir=tmp_path)
    assert again.updated == len(history()) - 2 and again.inserted == 0
    assert request(session, "S-W20").in_jurisdiction is True
    assert request(session, "PO10").location_quality == "placeholder"
    assert request(session, "D-OWN").due_source == "source"


@pytest.mark.parametrize(
    "numbers, message",
    [
        ('snap_within_m = "far"', "snap_within_m must be a number of metres"),
        ("placeholder_min_requests = 2.5", "placeholder_min_requests must be a whole number"),
        ("placeholder_min_addresses = 0", "placeholder_min_addresses must be a whole number, 1 or more"),
    ],
)
def test_bad_import_numbers_are_one_sentence(tmp_path, numbers, message):
    cities, data = write_city(tmp_path, numbers)
    with pytest.raises(ConfigError, match=message):
        load_city(KEY, cities, data)


def test_a_location_the_source_corrected_is_taken_on_the_next_import(session, imported, tmp_path):
    """A flagged placeholder row that the city's export later gives a real point moves there, with its ward;
    a request relocated here keeps its address point."""
    city, _ = imported
    rows = history()
    corrected = (-71.083, 42.306)  # in ward 2
    for row in rows:
        if row[0] == "PX10":
            row[-3], row[-2] = f"{corrected[1]:.7f}", f"{corrected[0]:.7f}"
    write_csv(city.requests.paths[0], HEADER, rows)
    import_history(session, city, report_dir=tmp_path)
    fixed = request(session, "PX10")
    assert (fixed.location_quality, fixed.ward_key, fixed.in_jurisdiction) == ("source", "2", True)
    assert session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM service_request WHERE id = :i"), {"i": fixed.id}
    ).one() == pytest.approx(corrected, abs=1e-6)
    assert request(session, "PX11").location_quality == "placeholder"
    assert request(session, "PK10").location_quality == "relocated"
