"""A second city built like the one issue 16 describes, loaded with the README's commands alone.

Millbrook is written by the test in tmp_path and differs from Los Angeles in every way the
issue lists: one CSV per request type (158 types, 17 departments whose codes have spaces and
punctuation) read through a pattern, seven intake sources of its own, target dates on most
rows, 4-decimal coordinates, ZIP codes stored as numbers, several placeholder points, a
precinct layer in state-plane feet with no ``crs`` member, a statewide towns layer as its
neighbours, generalised wards that its own points slightly overrun, and no ``[[services]]``:
the import runs with the catalogue drafted from the history. Nothing here is Los Angeles.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pyproj import Transformer
from sqlalchemy import text

from tests.helpers.fixture_cities import SEVEN_CHANNELS, app_serving, box, channels_toml, write_csv, write_geojson

KEY = "millbrook"
WEST, SOUTH, EAST, NORTH = -71.10, 42.28, -71.06, 42.32
MID_LON, MID_LAT = -71.08, 42.30
PLACEHOLDERS = [(-71.0900, 42.2900), (-71.0700, 42.3100), (-71.0800, 42.3000)]
M_LON = 1 / 82_300  # one metre of longitude at 42.3 degrees north, in degrees

#: The city's own intake sources, as its export spells them, and the channel each is.
SOURCES = {
    "Constituent Call": "call",
    "Citizens Connect App": "city_app",
    "Self Service": "self_service",
    "Twitter": "social",
    "Employee Generated": "employee",
    "City Worker App": "field_app",
    "Maximo Integration": "work_orders",
}
DEPARTMENTS = [
    "PWD X",
    "BTD T",
    "INFO & 311",
    "PARKS/REC",
    "ISD (CODE)",
    "BWSC-W",
    "PROP MGMT",
    "ANIMAL CTL",
    "GEN SVCS",
    "TRANS.SIG",
    "DND HOUSING",
    "ENV-AIR",
    "FIRE PREV",
    "POLICE NON-EMERG",
    "SCHOOLS O&M",
    "STREET LIGHTS",
    "CIVIC ENG",
]
TYPES = [f"Request Type {n:03d}" for n in range(1, 159)]
STREETS = ["ELM ST", "OAK AVE", "MAPLE RD", "CEDAR LN", "BIRCH WAY", "WILLOW CT", "ASH PL", "PINE TER"]

TOML = f"""
[city]
key = "{KEY}"
name = "Town of Millbrook"
phone = "(617) 555-0311"
timezone = "America/New_York"
projected_crs = "EPSG:26986"

[jurisdiction]
source = "{KEY}/wards.geojson"

[layers.wards]
label = "Ward"
source = "{KEY}/wards.geojson"
id_field = "WARD"
name_field = "WARD"
name_template = "Ward {{name}}"

[layers.districts]
label = "Precinct"
source = "{KEY}/precincts.geojson"
crs = "EPSG:2249"
id_field = "PRECINCT_ID"
name_field = "PRECINCT"

[agencies]
source = "state/towns.geojson"
id_field = "TOWN_ID"
name_field = "TOWN"
exclude = {{ field = "TOWN", values = ["MILLBROOK"] }}

[[agencies.rules]]
where = {{ field = "TYPE", values = ["C", "T"] }}
name = "{{name}} Town Hall"
phone = "(617) 555-0100"

[addresses]
home_place_names = ["MILLBROOK"]

[[addresses.sources]]
key = "history"
kind = "history"
sources = "311/*.csv"
[addresses.sources.fields]
full_address = "location"
zipcode = "location_zipcode"
latitude = "latitude"
longitude = "longitude"

[requests]
sources = "311/*.csv"
datetime_formats = ["%Y-%m-%d %H:%M:%S"]
placeholder_min_requests = 8
placeholder_min_addresses = 4
snap_within_m = 150

[requests.fields]
source_id = "case_enquiry_id"
requested_at = "open_dt"
due_at = "sla_target_dt"
closed_at = "closed_dt"
status = "case_status"
service_name = "type"
department = "department"
channel = "source"
address = "location"
zipcode = "location_zipcode"
latitude = "latitude"
longitude = "longitude"

[requests.status_map]
"Open" = "submitted"
"Closed" = "fixed"

[requests.channel_map]
{chr(10).join(f'"{source}" = "{channel}"' for source, channel in SOURCES.items())}

""" + channels_toml(
    {**SEVEN_CHANNELS, "city_app": ("Citizens Connect", "mobile_app"), "field_app": ("City worker app", "staff")},
    web_form="self_service",
    open311="work_orders",
)

HEADER = [
    "case_enquiry_id",
    "open_dt",
    "sla_target_dt",
    "closed_dt",
    "case_status",
    "type",
    "department",
    "source",
    "location",
    "location_zipcode",
    "latitude",
    "longitude",
]


def in_feet(polygon: dict) -> dict:
    """A polygon of longitude/latitude in Massachusetts state-plane feet (EPSG:2249), densified."""
    to_feet = Transformer.from_crs("EPSG:4326", "EPSG:2249", always_xy=True)
    out = []
    for ring in polygon["coordinates"]:
        points = []
        for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
            points += [to_feet.transform(x0 + (x1 - x0) * i / 10, y0 + (y1 - y0) * i / 10) for i in range(10)]
        out.append([list(p) for p in points + points[:1]])
    return {"type": "Polygon", "coordinates": out}


def precincts() -> list[tuple[dict, dict]]:
    """Eight precincts: each ward split in two along its longitude, as the city's GIS draws them."""
    cells = []
    for i, (w, e) in enumerate([(WEST, -71.09), (-71.09, MID_LON), (MID_LON, -71.07), (-71.07, EAST)]):
        for j, (s, n) in enumerate([(SOUTH, MID_LAT), (MID_LAT, NORTH)]):
            cells.append(
                ({"PRECINCT_ID": f"{i + 1}-{j + 1}", "PRECINCT": f"Precinct {i + 1}-{j + 1}"}, in_feet(box(w, s, e, n)))
            )
    return cells


def history(rng: random.Random) -> tuple[list[list[str]], dict[str, str]]:
    """The rows of the export (one per request) and, for each type, its department."""
    department_of = {kind: DEPARTMENTS[i % len(DEPARTMENTS)] for i, kind in enumerate(TYPES)}
    sources = list(SOURCES)
    rows, n = [], 0
    start = datetime(2025, 1, 1, 8, 0)

    def row(
        kind: str,
        address: str,
        lon: float | None,
        lat: float | None,
        zipcode: str,
        *,
        source: str,
        opened: datetime,
        target: datetime | None,
        closed: datetime | None,
    ) -> list[str]:
        nonlocal n
        n += 1
        at = lambda t: t.strftime("%Y-%m-%d %H:%M:%S") if t else ""  # noqa: E731
        return [
            f"1010{n:06d}",
            at(opened),
            at(target),
            at(closed),
            "Closed" if closed else "Open",
            kind,
            department_of[kind],
            source,
            address,
            zipcode,
            "" if lat is None else f"{lat:.4f}",
            "" if lon is None else f"{lon:.4f}",
        ]

    for t, kind in enumerate(TYPES):
        for k in range(3):
            street = STREETS[(t + k) % len(STREETS)]
            number = 10 + 2 * ((t * 7 + k * 13) % 300)
            lon = WEST + 0.002 + (t % 18) * 0.002 + k * 0.0003
            lat = SOUTH + 0.003 + ((t * 3 + k) % 17) * 0.002
            opened = start + timedelta(days=(t * 2 + k * 41) % 360, hours=k)
            closed = opened + timedelta(days=1 + (t + k) % 9) if (t + k) % 4 else None
            target = opened + timedelta(days=5) if (t + k) % 10 else None
            rows.append(
                row(
                    kind,
                    f"{number} {street}",
                    lon,
                    lat,
                    f"{2130 + k}.0",
                    source=sources[(t + k) % len(sources)],
                    opened=opened,
                    target=target,
                    closed=closed,
                )
            )
    # Several placeholder points, each with many requests of different addresses and none of its own.
    for p, (lon, lat) in enumerate(PLACEHOLDERS):
        for k in range(12):
            kind = TYPES[(p * 12 + k) % len(TYPES)]
            opened = start + timedelta(days=100 + k)
            rows.append(
                row(
                    kind,
                    f"{900 + 2 * k} {STREETS[p]}",
                    lon,
                    lat,
                    "2131",
                    source="Constituent Call",
                    opened=opened,
                    target=opened + timedelta(days=3),
                    closed=opened + timedelta(days=2),
                )
            )
    # The city's own requests just outside its generalised wards; one deep in a neighbour's town.
    for m, label in ((40, "A"), (120, "B")):
        kind = TYPES[m % len(TYPES)]
        rows.append(
            row(
                kind,
                f"1 EDGE RD {label}",
                EAST + m * M_LON,
                MID_LAT + 0.004,
                "2130",
                source="City Worker App",
                opened=start,
                target=start + timedelta(days=2),
                closed=None,
            )
        )
    rows.append(
        row(
            TYPES[0], "7 FAR ST", EAST + 0.01, MID_LAT, "2130", source="Twitter", opened=start, target=None, closed=None
        )
    )
    return rows, department_of


@dataclasses.dataclass
class Millbrook:
    cities: Path
    data: Path
    rows: list[list[str]]
    department_of: dict[str, str]


def write_millbrook(root: Path, *, one_point: bool = False) -> Millbrook:
    data, cities = root / "data", root / "cities"
    for folder in (data / KEY, data / "state", data / "311", cities):
        folder.mkdir(parents=True)
    wards = [
        ({"WARD": str(i + 1)}, box(w, SOUTH, e, NORTH))
        for i, (w, e) in enumerate([(WEST, -71.09), (-71.09, MID_LON), (MID_LON, -71.07), (-71.07, EAST)])
    ]
    write_geojson(data / KEY / "wards.geojson", wards)
    write_geojson(data / KEY / "precincts.geojson", precincts())
    write_geojson(
        data / "state" / "towns.geojson",
        [
            ({"TOWN_ID": "1", "TOWN": "MILLBROOK", "TYPE": "T"}, box(WEST, SOUTH, EAST, NORTH)),
            ({"TOWN_ID": "2", "TOWN": "EASTHAM", "TYPE": "C"}, box(EAST, SOUTH, EAST + 0.04, NORTH)),
            ({"TOWN_ID": "3", "TOWN": "WESTON", "TYPE": "T"}, box(WEST - 0.04, SOUTH, WEST, NORTH)),
        ],
    )
    rows, department_of = history(random.Random(16))
    if one_point:  # an export whose every coordinate is the city hall's
        rows = [r[:-2] + ["42.3000", "-71.0800"] for r in rows]
    for kind in TYPES:
        write_csv(data / "311" / f"{kind.lower().replace(' ', '_')}.csv", HEADER, [r for r in rows if r[5] == kind])
    (cities / f"{KEY}.toml").write_text(TOML)
    return Millbrook(cities, data, rows, department_of)


@pytest.fixture
def millbrook(settings, bound_database, tmp_path):
    """The app serving Millbrook on the test database (rolled back afterwards), and its files."""
    town = write_millbrook(tmp_path)
    app = app_serving(settings, bound_database, KEY, town.cities, town.data)
    return app, town


def run(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, f"flask {' '.join(args)}:\n{result.output}"
    return result.output


def test_a_city_built_like_the_issue_says_loads_with_the_readme_commands(millbrook, session, tmp_path):
    app, town = millbrook
    assert run(app, "city", "check", KEY).strip().endswith(f"{KEY}.toml: no problems")
    run(app, "boundaries", "load-city")
    loaded = run(app, "addresses", "load")
    assert "history" in loaded
    draft = tmp_path / "draft.toml"
    drafted = run(app, "services", "draft", "--output", str(draft))
    assert "158 services" in drafted and "17 departments" in drafted
    imported = run(app, "requests", "import", "--draft-catalogue")
    assert "3 placeholder point(s)" in imported
    assert "2 request(s) up to 150 m outside the city limit" in imported

    def one(sql: str, **params):
        return session.execute(text(sql), {"c": KEY, **params}).scalar()

    # Every row was read from its own file; only the one request deep in Eastham is not the town's.
    assert one("SELECT count(*) FROM service_request WHERE city = :c") == len(town.rows)
    assert one("SELECT count(*) FROM service_request WHERE city = :c AND NOT in_jurisdiction") == 1
    assert one("SELECT agency_key FROM service_request WHERE city = :c AND NOT in_jurisdiction") is not None
    assert one("SELECT count(DISTINCT service_code) FROM service_request WHERE city = :c") == 158
    assert one("SELECT count(*) FROM department WHERE city = :c") == 17
    # The precincts in feet were read as feet: a request in the west half of ward 1's south is in precinct 1-1.
    assert one("SELECT district_key FROM service_request WHERE city = :c AND source_id = '1010000001'") == "1-1"
    assert one("SELECT count(*) FROM service_request WHERE city = :c AND in_jurisdiction AND district_key IS NULL") == 0
    # Numeric ZIP codes keep their leading zero; the city's own due dates are used where it set them.
    assert one("SELECT zipcode FROM service_request WHERE city = :c AND source_id = '1010000001'") == "02130"
    with_target = sum(1 for r in town.rows if r[2])
    assert one("SELECT count(*) FROM service_request WHERE city = :c AND due_source = 'source'") == with_target
    assert (
        one("SELECT count(*) FROM service_request WHERE city = :c AND due_source = 'catalogue'")
        == len(town.rows) - with_target
    )
    # Seven channels of its own, stored by the city's codes.
    channels = dict(
        session.execute(
            text("SELECT channel, count(*) FROM service_request WHERE city = :c GROUP BY 1"), {"c": KEY}
        ).all()
    )
    assert set(channels) == set(SOURCES.values())
    # Placeholders: none of their 36 requests is drawn on a placeholder point.
    on_placeholder = one(
        "SELECT count(*) FROM service_request WHERE city = :c AND location_quality IS DISTINCT FROM 'placeholder' "
        "AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography, 2)",
        x=PLACEHOLDERS[0][0],
        y=PLACEHOLDERS[0][1],
    )
    assert on_placeholder == 0

    # The reports work for departments whose codes have spaces, and speak the city's names.
    from tests.helpers.staff import CsrfClient, log_in, make_user

    app.test_client_class = CsrfClient
    staff = app.test_client()
    log_in(staff, make_user(session, "admin", city=KEY))
    by_department = staff.get("/reports/by/department")
    assert by_department.status_code == 200
    page = by_department.get_data(as_text=True)
    assert "INFO &amp; 311" in page or "INFO & 311" in page
    by_channel = staff.get("/reports/by/channel").get_data(as_text=True)
    assert "Citizens Connect" in by_channel and "Work-order system" in by_channel
    backlog = staff.get("/reports/backlog").get_data(as_text=True)
    assert "from the city&#39;s data" in backlog or "from the city's data" in backlog

    # The work queue of a department whose code has spaces and punctuation, in the town's own
    # names: its open requests only, the ward reachable by its number, the precinct by name.
    info = one("SELECT code FROM department WHERE city = :c AND code LIKE 'INFO%'")
    assert info == "INFO & 311"
    worker = app.test_client()
    log_in(worker, make_user(session, "department", city=KEY, department_code=info))
    queue = worker.get("/staff/queue?sort=due")
    assert queue.status_code == 200, queue.get_data(as_text=True)[:300]
    html = queue.get_data(as_text=True)
    open_info = one("SELECT count(*) FROM service_request WHERE city = :c AND is_open AND department_code = :d", d=info)
    assert open_info > 0 and f"{open_info:,} open request(s)" in html
    assert "Ward " in html and "Precinct " in html
    in_ward = worker.get("/staff/queue?ward=1")
    assert in_ward.status_code == 200
    rows = list(csv.DictReader(io.StringIO(worker.get("/staff/queue/queue.csv?ward=1").get_data(as_text=True))))
    assert rows and {r["ward"] for r in rows} == {"Ward 1"}


def test_a_history_whose_every_coordinate_is_one_point_is_refused_in_one_sentence(
    settings, bound_database, session, tmp_path
):
    town = write_millbrook(tmp_path, one_point=True)
    app = app_serving(settings, bound_database, KEY, town.cities, town.data)
    run(app, "boundaries", "load-city")
    runner = app.test_cli_runner()

    addresses = runner.invoke(args=["addresses", "load"])
    assert addresses.exit_code == 1 and "Traceback" not in addresses.output
    assert "No usable address in 158 files (request_type_001.csv ... request_type_158.csv)" in addresses.output
    assert "most for 'on a placeholder point shared by" in addresses.output

    imported = runner.invoke(args=["requests", "import", "--draft-catalogue"])
    assert imported.exit_code == 1 and "Traceback" not in imported.output
    assert (
        f"Every one of the {len(town.rows)} located rows of 158 files (request_type_001.csv ... "
        "request_type_158.csv) is at the same point (latitude 42.30000, longitude -71.08000), so the columns "
        "mapped as latitude ('latitude') and longitude ('longitude') in [requests.fields]"
    ) in imported.output
    assert "Nothing was imported." in imported.output
    assert session.execute(text("SELECT count(*) FROM service_request WHERE city = :c"), {"c": KEY}).scalar() == 0


def test_a_type_without_requests_that_year_is_a_header_only_file_among_many(
    settings, bound_database, session, tmp_path
):
    town = write_millbrook(tmp_path)
    empty = town.data / "311" / "request_type_159.csv"
    empty.write_text(",".join(HEADER) + "\n")
    app = app_serving(settings, bound_database, KEY, town.cities, town.data)
    run(app, "boundaries", "load-city")
    run(app, "addresses", "load")
    assert f"{len(town.rows)} requests added" in run(app, "requests", "import", "--draft-catalogue")
