"""The CLI imports given bad files: one sentence, exit code 1, nothing half-loaded.

An empty file (no bytes, or a header only), a date pandas cannot hold (before 1677 or
after 2262), one huge field, and Latin-1 text in a file read as UTF-8 each end the
import with one sentence naming the file, the row or column and the fix. Coordinates
out of range are rejected rows with that reason, never clamped or quietly dropped; a
source whose city file names its encoding is read in it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import text

from address_db.loader import load_addresses
from core.city import load_city
from core.errors import ConfigError
from service_requests.importer import import_history
from tests.helpers.fixture_cities import app_serving, load_fixture_city, write_csv
from tests.service_requests.test_request_import_new_city import HEADER, KEY, TOML, case, write_city

GOOD = case("G-1", "10 DUE ST", (-71.092, 42.302), checked="yes")


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8", header: list[str] = HEADER) -> None:
    write_csv(path, header, rows, encoding)


@pytest.fixture
def brookton(tmp_path, settings, bound_database, session):
    """A small city with its boundaries and catalogue loaded: (CLI runner, its history file, its city folder)."""
    cities, data = write_city(tmp_path)
    load_fixture_city(session, load_city(KEY, cities, data))
    return app_serving(settings, bound_database, KEY, cities, data).test_cli_runner(), data / KEY / "cases.csv", cities


def counts(session) -> tuple[int, int]:
    return (
        session.execute(text("SELECT count(*) FROM service_request WHERE city = :c"), {"c": KEY}).scalar_one(),
        session.execute(text("SELECT count(*) FROM address_point WHERE city = :c"), {"c": KEY}).scalar_one(),
    )


def one_sentence(result, *words: str) -> str:
    """The command failed with exit code 1 and one line of error naming ``words``; no traceback."""
    output = result.output.strip()
    assert result.exit_code == 1, output
    assert "Traceback" not in output and isinstance(result.exception, SystemExit), repr(result.exception)
    assert len(output.splitlines()) == 1 and output.startswith("Error: "), output
    for word in words:
        assert word in output, (word, output)
    return output


COMMANDS = [["requests", "import"], ["addresses", "load", "--allow-shrink"]]


@pytest.mark.parametrize("command", COMMANDS, ids=["requests", "addresses"])
def test_an_empty_file(brookton, session, tmp_path, command):
    runner, history, _ = brookton
    before = counts(session)
    history.write_bytes(b"")
    one_sentence(runner.invoke(args=[*command, "--report-dir", str(tmp_path)]), "cases.csv", "is empty (0 bytes)")
    write_rows(history, [])
    one_sentence(runner.invoke(args=[*command, "--report-dir", str(tmp_path)]), "cases.csv", "header row but no rows")
    assert counts(session) == before


@pytest.mark.parametrize("opened", ["01/01/1500 09.00", "31/12/9999 09.00"])
def test_a_date_outside_what_can_be_held(brookton, session, tmp_path, opened):
    runner, history, _ = brookton
    before = counts(session)
    write_rows(history, [GOOD, case("OLD", "12 DUE ST", (-71.092, 42.302), opened=opened)])
    message = one_sentence(
        runner.invoke(args=["requests", "import", "--report-dir", str(tmp_path)]),
        "cases.csv",
        "row 3",
        "Opened",
        opened,
        "1677",
        "2262",
    )
    assert "correct" in message
    assert counts(session) == before


@pytest.mark.parametrize("column", ["Where", "CaseNo", "Kind"])
@pytest.mark.parametrize("command", COMMANDS, ids=["requests", "addresses"])
def test_one_huge_field(brookton, session, tmp_path, command, column):
    runner, history, _ = brookton
    before = counts(session)
    huge = case("H-1", "14 DUE ST", (-71.092, 42.302), checked="yes")
    huge[HEADER.index(column)] = "A" * 200_000
    write_rows(history, [GOOD, huge])
    one_sentence(runner.invoke(args=[*command, "--report-dir", str(tmp_path)]), "cases.csv", "row 3", column)
    assert counts(session) == before


@pytest.mark.parametrize("command", COMMANDS, ids=["requests", "addresses"])
def test_coordinates_out_of_range_are_rejected_rows(brookton, session, tmp_path, command):
    runner, history, _ = brookton
    rows = [
        case("G-1", "10 DUE ST", (-71.092, 42.302), checked="yes"),
        case("LAT", "12 DUE ST", (-71.092, 91.0), checked="yes"),
        case("LON", "14 DUE ST", (-200.0, 42.302), checked="yes"),
        case("TEXT", "16 DUE ST", None, checked="yes"),
    ]
    rows[3][HEADER.index("Y")], rows[3][HEADER.index("X")] = "north", "-71.09"
    write_rows(history, rows)
    result = runner.invoke(args=[*command, "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (report,) = tmp_path.glob("*-rejected.csv")
    with open(report, newline="", encoding="utf-8") as handle:
        rejected = {r["row"]: r["reason"] for r in csv.DictReader(handle)}
    assert "latitude 91" in rejected["3"] and "-90" in rejected["3"]
    assert "longitude -200" in rejected["4"] and "-180" in rejected["4"]
    assert "north" in rejected["5"]
    assert "2" not in rejected
    if command[0] == "requests":
        stored = (
            session.execute(text("SELECT source_id FROM service_request WHERE city = :c ORDER BY 1"), {"c": KEY})
            .scalars()
            .all()
        )
        assert stored == ["G-1"]


@pytest.mark.parametrize("command", COMMANDS, ids=["requests", "addresses"])
def test_latin1_text_read_as_utf8_is_an_error_naming_the_line_and_the_option(brookton, session, tmp_path, command):
    runner, history, _ = brookton
    before = counts(session)
    write_rows(history, [GOOD, case("E-1", "12 CAFÉ ST", (-71.092, 42.302), checked="yes")], encoding="latin-1")
    one_sentence(
        runner.invoke(args=[*command, "--report-dir", str(tmp_path)]), "cases.csv", "line 3", "encoding", "UTF-8"
    )
    assert counts(session) == before


def test_the_city_file_names_the_encoding(brookton, session, tmp_path):
    _, history, cities = brookton
    toml = cities / f"{KEY}.toml"
    toml.write_text(
        toml.read_text().replace(
            'sources = ["brookton/cases.csv"]\n', 'sources = ["brookton/cases.csv"]\nencoding = "latin-1"\n'
        )
    )
    write_rows(history, [GOOD, case("E-1", "12 CAFÉ ST", (-71.092, 42.302), checked="yes")], encoding="latin-1")
    city = load_city(KEY, cities, history.parent.parent)
    assert city.requests.options["encoding"] == "latin-1"
    assert all(s.mapping.options["encoding"] == "latin-1" for s in city.addresses.sources)
    load_addresses(session, city, report_dir=tmp_path, allow_shrink=True)
    import_history(session, city, report_dir=tmp_path)
    address = session.execute(
        text("SELECT address FROM service_request WHERE city = :c AND source_id = 'E-1'"), {"c": KEY}
    ).scalar_one()
    assert address == "12 CAFÉ ST"
    known = (
        session.execute(
            text("SELECT standardized FROM address_point WHERE city = :c AND standardized LIKE '12 %'"), {"c": KEY}
        )
        .scalars()
        .all()
    )
    assert known == [
        "12 CAFE ST, 02124"
    ]  # the address database folds accents; it read an É, not a replacement character


@pytest.mark.parametrize("encoding", ["klingon", "base64", 8])
def test_an_unknown_encoding_is_a_config_error(tmp_path, encoding):
    cities, data = write_city(tmp_path)
    toml = cities / f"{KEY}.toml"
    value = f'"{encoding}"' if isinstance(encoding, str) else str(encoding)
    toml.write_text(
        TOML.replace(
            'sources = ["brookton/cases.csv"]\n', f'sources = ["brookton/cases.csv"]\nencoding = {value}\n'
        ).replace("{numbers}", "")
    )
    with pytest.raises(
        ConfigError, match=r"\[(requests|addresses.sources.history)\] encoding .* is not an encoding Python knows"
    ):
        load_city(KEY, cities, data)


def test_an_empty_boundary_file(brookton, tmp_path):
    runner, _, _ = brookton
    empty = tmp_path / "wards.geojson"
    empty.write_bytes(b"")
    one_sentence(runner.invoke(args=["boundaries", "load", "wards", str(empty)]), "wards.geojson", "is empty (0 bytes)")
    empty_shp = tmp_path / "wards.shp"
    empty_shp.write_bytes(b"")
    one_sentence(runner.invoke(args=["boundaries", "load", "wards", str(empty_shp)]), "wards.shp", "is empty (0 bytes)")


@pytest.mark.parametrize("opened", ["01/01/1500 09.00", None])
def test_the_catalogue_draft_reads_the_history_as_strictly(brookton, tmp_path, opened):
    runner, history, _ = brookton
    if opened:
        write_rows(history, [GOOD, case("OLD", "12 DUE ST", (-71.092, 42.302), opened=opened)])
        words = ("1677", "2262", opened)
    else:
        history.write_bytes(b"")
        words = ("cases.csv", "is empty (0 bytes)")
    one_sentence(runner.invoke(args=["services", "draft", "--output", str(tmp_path / "draft.toml")]), *words)
    assert not (tmp_path / "draft.toml").exists()


def test_a_rejected_row_report_is_formula_safe(brookton, tmp_path):
    runner, history, _ = brookton
    attack = case("F-1", '=HYPERLINK("http://x","y")', (-71.092, 91.0), checked="yes")
    write_rows(history, [GOOD, attack])
    for command in COMMANDS:
        folder = tmp_path / command[0]
        assert runner.invoke(args=[*command, "--report-dir", str(folder)]).exit_code == 0
        (report,) = folder.glob("*-rejected.csv")
        with open(report, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert [r["row"] for r in rows] == ["3"]
        assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
        if "address" in rows[0]:
            assert rows[0]["address"] == "'" + '=HYPERLINK("http://x","y")'


def test_a_long_request_number_is_a_rejected_row(brookton, session, tmp_path):
    runner, history, _ = brookton
    long_number = "".join(chr(0x41 + (i * 7919) % 26) + chr(0x61 + (i * 104729) % 26) for i in range(50_000))
    write_rows(
        history, [GOOD, case(long_number, "14 DUE ST", (-71.092, 42.302))]
    )  # 100,000 characters, not compressible
    result = runner.invoke(args=["requests", "import", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, (result.output, repr(result.exception))
    (report,) = tmp_path.glob("*-rejected.csv")
    with open(report, newline="", encoding="utf-8") as handle:
        assert [(r["row"], r["reason"]) for r in csv.DictReader(handle)] == [
            ("3", "a request number longer than 200 characters")
        ]
