"""Property-based fuzzing (hypothesis, bounded budgets): the normalizer, the validator, the importers.

Whatever arrives, each either answers or refuses with a sentence a person can act on;
none raises anything else, and an import accounts for every row it read.
"""

from __future__ import annotations

import csv
import dataclasses
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from address_db.normalize import InvalidAddress, parse_address
from core.city import SourceMapping
from core.errors import UserError
from service_requests.importer import import_history

BUDGET = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SMALL_BUDGET = settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Address-like text: numbers, street words, punctuation, unicode and control characters mixed.
WORDS = st.sampled_from(
    [
        "2111",
        "W",
        "BELLEVUE",
        "AVE",
        "ST",
        "&",
        "AND",
        "AT",
        "/",
        "#",
        "APT",
        "1/2",
        "N",
        "PO",
        "BOX",
        "90026",
        "CA",
        "LOS",
        "ANGELES",
        ",",
        "-",
        "½",
        "Ñ",
        "'",
        '"',
        "<b>",
        "%",
        "\t",
    ]
)
ADDRESSES = st.one_of(st.text(max_size=120), st.lists(WORDS, max_size=12).map(" ".join))


@BUDGET
@given(ADDRESSES)
def test_the_normalizer_answers_or_refuses_anything(typed):
    try:
        parsed = parse_address(typed)
    except InvalidAddress as exc:
        assert str(exc).strip()
    else:
        assert parsed.text().strip()


NAMES = st.sampled_from(
    [
        "MAIN",
        "SPRING",
        "BELLEVUE",
        "SUNSET",
        "5TH",
        "FIRST",
        "MARTIN LUTHER KING JR",
        "LA CIENEGA",
        "BEVERLY GLEN",
        "ST ANDREWS",
        "CESAR E CHAVEZ",
        "WEST KENSINGTON",
        "103RD",
    ]
)
SUFFIXES = st.sampled_from(["", "ST", "STREET", "AVE", "AVENUE", "BLVD", "BOULEVARD", "DR", "PL", "WAY", "RD"])
DIRECTIONS = st.sampled_from(["", "N", "S", "E", "W", "NORTH", "SOUTH", "EAST", "WEST"])
STREETS = st.builds(lambda d, n, s: " ".join(p for p in (d, n, s) if p), DIRECTIONS, NAMES, SUFFIXES)
REALISTIC = st.one_of(
    st.builds(
        lambda number, street, unit, zipcode: f"{number} {street}{unit}{zipcode}",
        st.integers(1, 99999),
        STREETS,
        st.sampled_from(["", " APT 4", " #12", " UNIT B", " STE 200"]),
        st.sampled_from(["", ", 90026", " LOS ANGELES CA 90012", ", Los Angeles, CA"]),
    ),
    st.builds(lambda a, c, b: f"{a} {c} {b}", STREETS, st.sampled_from(["&", "AND", "AT", "/", "@"]), STREETS),
)


@BUDGET
@given(REALISTIC)
def test_a_standard_address_reads_back_the_same(typed):
    try:
        parsed = parse_address(typed)
    except InvalidAddress as exc:
        assert str(exc).strip()
        return
    assert parsed.text() == parse_address(parsed.text()).text()  # its own output is a fixed point


@BUDGET
@given(ADDRESSES)
def test_the_validator_answers_anything(session, validator, typed):
    result = validator.validate(session, typed)
    assert result.status in ("valid", "approximate", "ambiguous", "not_found", "outside", "invalid")
    assert result.as_dict()["status"] == result.status


@BUDGET
@given(st.text(max_size=60))
def test_suggestions_for_anything(session, validator, typed):
    for suggestion in validator.suggest(session, typed, limit=5):
        assert suggestion.as_dict()["text"]


HEADER = [
    "SRNumber",
    "CreatedDate",
    "UpdatedDate",
    "ClosedDate",
    "RequestType",
    "Owner",
    "Status",
    "RequestSource",
    "Address",
    "ZipCode",
    "Latitude",
    "Longitude",
]
GOOD = [
    "F-1",
    "2020-01-02 10:00:00",
    "2020-01-03 10:00:00",
    "2020-01-03 10:00:00",
    "Graffiti Removal",
    "OCB",
    "Closed",
    "Call",
    "2111 W BELLEVUE AVE, 90026",
    "90026",
    "34.073216645",
    "-118.266861909",
]
CELL = st.one_of(
    st.text(max_size=40).map(lambda s: s.replace("\x00", "")),
    st.sampled_from(
        [
            "",
            "NaN",
            "-1e309",
            "99999999999999999999",
            "2020-02-30 10:00:00",
            "2021-03-14 02:30:00",
            "Closed",
            "Open",
            "Graffiti Removal",
            "Call",
            "0",
            "181",
            "-91",
            "'; DROP TABLE service_request; --",
        ]
    ),
)
ROWS = st.lists(st.lists(CELL, min_size=12, max_size=12), min_size=1, max_size=8)


@SMALL_BUDGET
@given(ROWS, st.data())
def test_the_history_import_accounts_for_every_row(session, la, tmp_path_factory, rows, data):
    # Each fuzzed row keeps some good cells so that some rows pass and reach the database.
    mixed = [
        [cell if data.draw(st.booleans(), label="fuzz cell") else GOOD[i] for i, cell in enumerate(row)] for row in rows
    ]
    for n, row in enumerate(mixed):
        row[0] = f"F-{n}-{row[0]}"[:60] if row[0] else ""
    path = tmp_path_factory.mktemp("fuzz") / "history.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(mixed)
    before = session.execute(text("SELECT count(*) FROM service_request")).scalar()
    mapping = dataclasses.replace(la.requests, paths=(path,))
    try:
        report = import_history(session, la, mapping, report_dir=path.parent)
    except UserError as exc:  # a file that cannot be read at all: refused whole, with a reason
        assert str(exc).strip()
        assert session.execute(text("SELECT count(*) FROM service_request")).scalar() == before
        return
    assert report.inserted + report.updated + len(report.rejected) == report.rows_read == len(mixed)
    assert all(reason for _, _, reason in report.rejected)
    assert session.execute(text("SELECT count(*) FROM service_request")).scalar() == before + report.inserted


@SMALL_BUDGET
@given(st.lists(st.lists(CELL, min_size=5, max_size=5), min_size=1, max_size=8))
def test_the_address_loader_accounts_for_every_row(session, la, tmp_path_factory, rows):
    from address_db.loader import load_addresses

    path = tmp_path_factory.mktemp("fuzz") / "addresses.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["number", "street", "zipcode", "lat", "lon"])
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    before = session.execute(text("SELECT count(*) FROM address_point WHERE city = 'la'")).scalar()
    source = SourceMapping(
        paths=(path,),
        fields={
            "house_number": "number",
            "street_name": "street",
            "zipcode": "zipcode",
            "latitude": "lat",
            "longitude": "lon",
        },
    )
    try:
        report = load_addresses(session, la, source, report_dir=path.parent, allow_shrink=True)
    except UserError as exc:
        assert str(exc).strip()
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM address_point WHERE city = 'la'")).scalar() == before
        return
    assert report.addresses + len(report.rejected) <= report.rows_read
