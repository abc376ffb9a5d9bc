"""The address normalizer: one standard form for every way people write an address."""

from __future__ import annotations

import pytest

from address_db.normalize import InvalidAddress, ordinal, parse_address, standardize_components


@pytest.mark.parametrize(
    "typed,standard",
    [
        ("2111 W BELLEVUE AVE, 90026", "2111 W BELLEVUE AVE, 90026"),
        ("2111 west bellevue avenue", "2111 W BELLEVUE AVE"),
        ("2111 W. Bellevue Ave., Los Angeles, CA 90026", "2111 W BELLEVUE AVE, 90026"),
        ("2111 W Bellevue Ave Apt 3", "2111 W BELLEVUE AVE APT 3"),
        ("2111 W Bellevue Ave #3", "2111 W BELLEVUE AVE # 3"),
        ("2111 W Bellevue Ave Unit 4B", "2111 W BELLEVUE AVE UNIT 4B"),
        ("123 N Main St Suite 200", "123 N MAIN ST STE 200"),
        ("6141 E Monterey Road", "6141 E MONTEREY RD"),
        ("1031 E Van Buren Av", "1031 E VAN BUREN AVE"),
        ("1 W 135 St", "1 W 135TH ST"),
        ("1 W 135th St", "1 W 135TH ST"),
        ("1 W 135TH ST", "1 W 135TH ST"),
        ("100 First Street", "100 1ST ST"),
        ("206 E Saint Louis St", "206 E ST LOUIS ST"),
        ("3008 1/2 E Malabar St", "3008 1/2 E MALABAR ST"),
        ("5649-5647 Tampa Ave, Tarzana, CA 91356, USA", "5649 TAMPA AVE, 91356"),
        ("1600 Pennsylvania Avenue Northwest", "1600 PENNSYLVANIA AVE NW"),
        ("1234 Avenue 64", "1234 AVENUE 64"),
    ],
)
def test_street_addresses(typed, standard):
    assert parse_address(typed).text() == standard


@pytest.mark.parametrize(
    "typed,standard",
    [
        ("149TH ST AT HOOVER ST, 90247", "149TH ST AT HOOVER ST, 90247"),
        ("149th St & Hoover St", "149TH ST AT HOOVER ST"),
        ("Hoover and 149th", "HOOVER AT 149TH"),
        ("Rinaldi / Gaynor", "RINALDI AT GAYNOR"),
        ("Sylvan St. & Hazeltine Ave., Los Angeles, CA 91401, USA", "SYLVAN ST AT HAZELTINE AVE, 91401"),
        ("N. Marmion Way and N. Figueroa St. 90042", "N MARMION WAY AT N FIGUEROA ST, 90042"),
        ("Exposition Boulevard N/R at 9th Ave, 90018", "EXPOSITION BLVD AT 9TH AVE, 90018"),
        ("Martin Luther King, Jr Blvd at Muirfield Road, 90008", "MARTIN LUTHER KING JR BLVD AT MUIRFIELD RD, 90008"),
        ("5th @ Main", "5TH AT MAIN"),
    ],
)
def test_intersections(typed, standard):
    parsed = parse_address(typed)
    assert parsed.kind == "intersection"
    assert parsed.text() == standard


@pytest.mark.parametrize(
    "typed,reason",
    [
        ("", "empty"),
        ("   \t ", "empty"),
        ("x" * 10_000, "too long (10000 characters"),
        ("12345", "only a number"),
        ("90026", "only a number"),
        ("😀😀", "characters that are not part of an address"),
        ("2111 W Bellevue 🏠", "characters that are not part of an address"),
        ("<script>alert(1)</script>", "characters that are not part of an address ('(' ')' '<' '>')"),
        ("<b>2111 W Bellevue</b>", "characters that are not part of an address"),
        ("'; DROP TABLE address_point; --", "characters that are not part of an address"),
        ("1 OR 1=1", "characters that are not part of an address ('=')"),
        ("PO Box 1234, Los Angeles CA 90012", "P.O. box is a mailing address"),
        ("P.O. Box 77", "P.O. box is a mailing address"),
        ("Post Office Box 9", "P.O. box is a mailing address"),
        ("Main Street", "no house number"),
        ("hello", "no house number"),
    ],
)
def test_what_is_not_an_address_says_why(typed, reason):
    with pytest.raises(InvalidAddress, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_address(typed)


def test_non_text_is_refused():
    with pytest.raises(InvalidAddress, match="must be text"):
        parse_address(None)  # type: ignore[arg-type,unused-ignore]


def test_accents_are_folded_not_refused():
    assert parse_address("1200 Avenida César Chávez").street.name == "AVENIDA CESAR CHAVEZ"


def test_columns_and_text_give_the_same_standard():
    from_columns = standardize_components(
        number="2111", predir="West", street_name="Bellevue", suffix="Avenue", zipcode="90026-1234"
    )
    assert from_columns == parse_address("2111 W Bellevue Ave 90026")


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111, 112)] == [
        "1ST",
        "2ND",
        "3RD",
        "4TH",
        "11TH",
        "12TH",
        "13TH",
        "21ST",
        "22ND",
        "101ST",
        "111TH",
        "112TH",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "INTERSECTION of Bellevue Ave & Alvarado St",
        "intersection of BELLEVUE AVE and ALVARADO ST",
        "The corner of Bellevue Ave / Alvarado St",
    ],
)
def test_intersection_of_is_not_part_of_the_street(text):
    """Exports write "INTERSECTION of X & Y" (issue 16, item 11): the words before the streets are dropped."""
    parsed = parse_address(text)
    assert parsed.kind == "intersection"
    assert (parsed.street.name, parsed.cross_street.name) == ("BELLEVUE", "ALVARADO")


@pytest.mark.parametrize(
    "text, expected",
    [("1 S FIRST #12", "1 S 1ST # 12"), ("1 5TH #12", "1 5TH # 12"), ("12 N 5TH APT 3", "12 N 5TH APT 3")],
)
def test_a_bare_numbered_street_keeps_its_unit(text, expected):
    """Found by the fuzz test: a numbered street without a type, then a unit, reads back the same."""
    assert parse_address(text).text() == expected
    assert parse_address(expected).text() == expected


@pytest.mark.parametrize(
    "text, expected",
    [("1 N SPG # 12", "1 N SPG # 12"), ("40 W PICO # 5", "40 W PICO # 5"), ("7 MAIN UNIT 2", "7 MAIN UNIT 2")],
)
def test_a_street_without_a_type_keeps_its_unit(text, expected):
    """The CRF reads a unit after a street with no type into the name ("SPG 12"): the unit is split off first."""
    parsed = parse_address(text)
    assert parsed.unit is not None and parsed.unit in expected
    assert parsed.text() == expected
    assert parse_address(parsed.text()).text() == expected
