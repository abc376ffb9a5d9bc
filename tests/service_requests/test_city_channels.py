"""A city's own channels: seven sources, the city's names, each in a family so that cities compare.

The city file of Lakeview is written by the test in tmp_path; its history comes by the
source values of its own systems. Los Angeles keeps the nine channels of old.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from address_db.validation import Validator
from boundaries.index import IndexCache
from core.channels import DEFAULT_CHANNELS
from core.city import load_city
from core.errors import ConfigError
from geo import reports
from service_requests.importer import import_history
from service_requests.intake import IntakeError, RequestInput, create_request
from service_requests.selection import FilterError, RequestFilter, filter_choices, parse_filter
from tests.helpers.fixture_cities import SEVEN_CHANNELS, box, channels_toml, load_fixture_city, write_csv, write_geojson

KEY = "lakeview"
#: The city's own names for two of the seven channels.
OWN_NAMES = {"city_app": ("MyLakeview app", "mobile_app"), "field_app": ("Field workers' app", "staff")}

TOML = """
[city]
key = "lakeview"
name = "City of Lakeview"
timezone = "America/Chicago"
projected_crs = "EPSG:32616"

[jurisdiction]
source = "lakeview/city.geojson"

[requests]
sources = ["lakeview/cases.csv"]
datetime_formats = ["%Y-%m-%d %H:%M"]

[requests.fields]
source_id = "Case"
requested_at = "Opened"
service_name = "Kind"
status = "State"
channel = "Origin"
latitude = "Lat"
longitude = "Lon"

[requests.status_map]
"Open" = "submitted"

[requests.channel_map]
"CALL CENTER" = "call"
"MYLV" = "city_app"
"SELF SVC" = "self_service"
"SOCIAL" = "social"
"EMP GEN" = "employee"
"FIELD APP" = "field_app"
"WO SYNC" = "work_orders"
{map_extra}

[[departments]]
code = "PW"
name = "Public Works"

[[services]]
code = "pothole"
name = "Pothole"
department = "PW"
service_level = { business_days = 3 }
"""

#: Source value -> rows of it. "Social media" is the channel's own name (no map needed); FAX is mapped nowhere.
SOURCE_ROWS = {
    "CALL CENTER": 5,
    "MYLV": 4,
    "SELF SVC": 3,
    "SOCIAL": 1,
    "Social media": 1,
    "EMP GEN": 2,
    "FIELD APP": 1,
    "WO SYNC": 1,
    "FAX": 1,
}


def write_city(
    tmp_path: Path, *, field_family: str = "staff", extra: str = "", map_extra: str = ""
) -> tuple[Path, Path]:
    data, cities = tmp_path / "data", tmp_path / "cities"
    (data / KEY).mkdir(parents=True)
    cities.mkdir()
    write_geojson(data / KEY / "city.geojson", [({"name": "Lakeview"}, box(-90.02, 41.99, -89.98, 42.01))])
    rows: list[list[str]] = []
    for source, count in SOURCE_ROWS.items():
        for _ in range(count):
            n = len(rows) + 1
            rows.append([f"LV-{n}", "2026-03-02 09:00", "Pothole", "Open", source, "42.0", f"{-90.01 + n / 1e4}"])
    write_csv(data / KEY / "cases.csv", ["Case", "Opened", "Kind", "State", "Origin", "Lat", "Lon"], rows)
    # the city's settings belong in [channels], before its channel tables
    channels = channels_toml(
        {**SEVEN_CHANNELS, **OWN_NAMES, "field_app": (OWN_NAMES["field_app"][0], field_family)},
        extra=extra,
        web_form="self_service",
    )
    (cities / f"{KEY}.toml").write_text(TOML.replace("{map_extra}", map_extra) + channels)
    return cities, data


@pytest.fixture
def imported(session, tmp_path):
    cities, data = write_city(tmp_path)
    city = load_city(KEY, cities, data)
    load_fixture_city(session, city)
    return city, import_history(session, city, report_dir=tmp_path)


def test_the_city_file_names_its_channels_and_the_built_in_paths(tmp_path):
    city = load_city(KEY, *write_city(tmp_path))
    assert city.channels.codes == ("call", "city_app", "self_service", "social", "employee", "field_app", "work_orders")
    assert city.channels.name("field_app") == "Field workers' app" and city.channels.family("field_app") == "staff"
    assert city.channels.web_form == "self_service"
    assert city.channels.open311 == "work_orders"  # the first of family integration, by default
    assert city.channels.staff_intake == ("call", "social", "employee", "field_app")  # not web, app, integration


def test_seven_channels_are_imported_filtered_and_broken_out_by_channel_and_family(session, imported):
    city, report = imported
    assert [why for _, _, why in report.rejected] == ["a channel the city file does not map ([requests.channel_map])"]
    stored = dict(
        session.execute(
            text("SELECT channel, count(*) FROM service_request WHERE city = :c GROUP BY 1"), {"c": KEY}
        ).all()
    )
    assert stored == {
        "call": 5,
        "city_app": 4,
        "self_service": 3,
        "social": 2,
        "employee": 2,
        "field_app": 1,
        "work_orders": 1,
    }

    choices = filter_choices(session, city)
    assert choices.channels["work_orders"] == "Work-order system"
    staff = parse_filter({"channel": ["employee", "field_app"], "scope": ["city"]}, choices)
    assert int(reports.summary(session, city, staff)["requests"]) == 3
    assert staff.describe(choices) == "by Employee generated, Field workers' app"
    by_family = parse_filter({"family": ["staff", "integration"], "scope": ["city"]}, choices)
    assert int(reports.summary(session, city, by_family)["requests"]) == 4

    channels = reports.breakout(session, city, RequestFilter(), "channel", choices=choices)
    assert dict(zip(channels["label"], channels["requests"])) == {
        "Call": 5,
        "MyLakeview app": 4,
        "Self service": 3,
        "Social media": 2,
        "Employee generated": 2,
        "Field workers' app": 1,
        "Work-order system": 1,
    }
    families = reports.breakout(session, city, RequestFilter(), "family", choices=choices)
    assert dict(zip(families["key"], families["requests"])) == {
        "phone": 5,
        "mobile_app": 4,
        "web": 3,
        "staff": 3,
        "social": 2,
        "integration": 1,
    }
    assert dict(zip(families["key"], families["label"]))["social"] == "Social media"

    listed = reports.requests_behind(session, city, staff)
    assert Counter(zip(listed["channel_name"], listed["channel_family"])) == {
        ("Employee generated", "staff"): 2,
        ("Field workers' app", "staff"): 1,
    }


def test_a_channel_the_city_does_not_have_is_refused_with_its_channels(session, imported):
    city, _ = imported
    choices = filter_choices(session, city)
    with pytest.raises(FilterError, match="There is no channel 'phone'; known channels: call, city_app"):
        parse_filter({"channel": ["phone"]}, choices)
    with pytest.raises(FilterError, match=r"There is no channel 'phone' in this city; its channels are call \(Call\)"):
        reports.summary(session, city, RequestFilter(channels=("phone",)))


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"field_family": "carrier_pigeon"},
            r"\[channels.field_app\] family 'carrier_pigeon' is not a channel family; use one of phone, web",
        ),
        (
            {"map_extra": '"FAX" = "fax"'},
            r"\[requests.channel_map\] maps 'FAX' to 'fax', which is not a channel of the city; use one of call",
        ),
        ({"extra": 'open311 = "phone"'}, r"\[channels\] open311 = 'phone' is not one of its channels"),
        ({"extra": "staff_intake = []"}, r"\[channels\] offers staff no channel at intake"),
    ],
)
def test_a_bad_channel_vocabulary_is_refused_in_the_city_file(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        load_city(KEY, *write_city(tmp_path, **change))


def test_an_unknown_key_of_a_channel_is_refused(tmp_path):
    cities, data = write_city(tmp_path)
    path = cities / f"{KEY}.toml"
    path.write_text(path.read_text().replace('name = "Call"', 'label = "Call"'))
    with pytest.raises(ConfigError, match=r"\[channels.call\] does not know 'label'"):
        load_city(KEY, cities, data)


def test_los_angeles_keeps_the_nine_channels_each_in_its_family(session, la):
    assert la.channels is DEFAULT_CHANNELS and not la.channels.own
    assert la.channels.family("council_office") == "staff" and la.channels.family("open311") == "integration"
    stored = dict(
        session.execute(
            text(
                "SELECT channel, count(*) FROM service_request WHERE city = 'la' AND in_jurisdiction IS NOT FALSE "
                "GROUP BY 1"
            ),
            {},
        ).all()
    )
    assert set(stored) <= set(DEFAULT_CHANNELS.codes) and len(stored) >= 3
    channels = reports.breakout(session, la, RequestFilter(), "channel", medians=False)
    assert dict(zip(channels["key"], channels["requests"])) == stored
    families = dict(
        zip(
            *reports.breakout(session, la, RequestFilter(), "family", medians=False)[["key", "requests"]]
            .to_dict("list")
            .values()
        )
    )
    assert families.get("staff", 0) == stored.get("staff", 0) + stored.get("council_office", 0)
    assert families.get("phone", 0) == stored.get("phone", 0)
    assert sum(families.values()) == sum(stored.values())


def test_intake_takes_the_citys_channels_only(session, imported):
    city, _ = imported
    validator = Validator(city.key, boundaries=IndexCache(cities=[city]), settings=city.addresses, home_name=city.name)
    point = {"service_code": "pothole", "lon": "-90.0", "lat": "42.0"}
    created = create_request(session, city, validator, RequestInput(channel="field_app", **point))
    assert created.request.channel == "field_app"
    with pytest.raises(IntakeError, match="The channel must be one of call, city_app, self_service"):
        create_request(session, city, validator, RequestInput(channel="phone", **point))
