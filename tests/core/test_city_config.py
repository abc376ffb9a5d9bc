"""City configuration files: the two shipped cities, and mistakes named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.city import available_cities, load_city
from core.errors import ConfigError


def test_shipped_cities(settings):
    assert set(available_cities(settings.cities_dir)) >= {"la", "gardena"}
    la = load_city("la", settings.cities_dir, settings.data_dir)
    assert la.roles() == ("jurisdiction", "agencies", "wards", "districts")
    assert la.ward_layer.label == "Council district"
    assert la.tz.key == "America/Los_Angeles"
    assert la.addresses.source("history").mapping.fields["street_name"] == "StreetName"
    assert [s.kind for s in la.addresses.sources] == ["points", "centerlines", "list", "history"]
    assert la.addresses.source("santa-monica-buildings").place_on == "santa-monica-centerlines"
    assert la.requests.options["status_map"]["Closed"] == "fixed"
    gardena = load_city("gardena", settings.cities_dir, settings.data_dir)
    assert gardena.roles() == ("jurisdiction", "agencies")
    assert gardena.agencies.contacts["los-angeles"].name == "City of Los Angeles"
    assert (la.intake.radius(staff=False), la.intake.radius(staff=True), la.intake.duplicate_days) == (250, 1000, 30)
    assert len(la.catalogue.services) == 12 and la.catalogue.services["graffiti"].service_level.hours == 48


def write_city(tmp_path: Path, body: str, name: str = "testville") -> Path:
    (tmp_path / f"{name}.toml").write_text(body)
    return tmp_path


MINIMAL = """
[city]
key = "testville"
name = "Testville"
timezone = "America/Chicago"
projected_crs = "EPSG:26915"

[jurisdiction]
source = "testville/limits.geojson"
"""


def test_a_minimal_city_needs_no_code(tmp_path):
    city = load_city("testville", write_city(tmp_path, MINIMAL), tmp_path)
    assert city.name == "Testville"
    assert city.roles() == ("jurisdiction",)
    assert city.jurisdiction.source.path == tmp_path / "testville" / "limits.geojson"


@pytest.mark.parametrize(
    "change,message",
    [
        (("America/Chicago", "Mars/Olympus_Mons"), "not an IANA time zone"),
        (("EPSG:26915", "EPSG:4326"), "is geographic"),
        (("EPSG:26915", "EPSG:999999"), "not a CRS pyproj knows"),
        (('key = "testville"', 'key = "elsewhere"'), "make them agree"),
        (
            ("[jurisdiction]", "[jurisdictions]"),
            r"\[top level\] does not know .jurisdictions.: did you mean .jurisdiction.",
        ),
        (('name = "Testville"', ""), 'needs name = "..."'),
        (("[jurisdiction]", "[intake]\nduplicate_days = -1\n[jurisdiction]"), "duplicate_days must be a positive"),
        (
            ("[jurisdiction]", '[[services]]\ncode = "x"\ndepartment = "nope"\n[jurisdiction]'),
            "names department 'nope'",
        ),
        (
            (
                "[jurisdiction]",
                '[requests]\nsources = ["h.csv"]\n[requests.fields]\nsource_id = "Id"\n'
                '[requests.status_map]\n"Closed" = "closed"\n[jurisdiction]',
            ),
            r"\[requests.status_map\] maps 'Closed' to 'closed', which is not a request state; use one of submitted",
        ),
    ],
)
def test_mistakes_are_named_with_their_fix(tmp_path, change, message):
    body = MINIMAL.replace(*change)
    with pytest.raises(ConfigError, match=message):
        load_city("testville", write_city(tmp_path, body), tmp_path)


def test_layer_mistakes(tmp_path):
    unknown = MINIMAL + '\n[layers.precincts]\nlabel = "P"\nsource = "p.geojson"\nid_field = "id"\nname_field = "n"\n'
    with pytest.raises(ConfigError, match=r"\[layers.precincts\] is not a known layer"):
        load_city("testville", write_city(tmp_path, unknown), tmp_path)
    nameless = MINIMAL + '\n[layers.wards]\nlabel = "Ward"\nsource = "w.geojson"\nid_field = "id"\n'
    with pytest.raises(ConfigError, match="needs name_field or name_template"):
        load_city("testville", write_city(tmp_path, nameless), tmp_path)
    bad_filter = MINIMAL.replace('source = "testville/limits.geojson"', 'source = "l.geojson"\nwhere = "slug"')
    with pytest.raises(ConfigError, match="filters are written"):
        load_city("testville", write_city(tmp_path, bad_filter), tmp_path)


def test_broken_toml_and_unsafe_names(tmp_path):
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_city("testville", write_city(tmp_path, "[city\nkey="), tmp_path)
    with pytest.raises(ConfigError, match="Unknown city"):
        load_city("../etc/passwd", tmp_path, tmp_path)
