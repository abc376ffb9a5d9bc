"""Address validation against the real Los Angeles address database."""

from __future__ import annotations

import pytest


def test_valid_gives_id_point_ward_and_district(session, validator):
    result = validator.validate(session, "2111 west bellevue avenue apt 3, Los Angeles CA 90026")
    assert result.status == "valid"
    assert result.match.text == "2111 W BELLEVUE AVE, 90026"
    assert result.match.address_id and result.match.lon < -118 and result.match.lat > 34
    assert result.unit == "APT 3"
    assert result.ward.name == "Council District 13"
    assert result.district.name == "ECHO PARK NC"


@pytest.mark.parametrize(
    "typed",
    ["2111 W Belevue Ave", "2111 W Bellveue Ave", "2111 W Bellvue Ave", "2111 W Belleveu Ave", "2111 W Bellvu Ave"],
)
def test_one_and_two_letter_typos_find_the_street(session, validator, typed):
    result = validator.validate(session, typed)
    assert (result.status, result.match.text) == ("valid", "2111 W BELLEVUE AVE, 90026")


def test_missing_directional_with_both_sides_is_ambiguous(session, validator):
    result = validator.validate(session, "326 Bonnie Brae St")
    assert result.status == "ambiguous"
    assert {c.text for c in result.candidates[:2]} == {"326 N BONNIE BRAE ST, 90026", "326 S BONNIE BRAE ST, 90057"}
    assert all(c.score > 0.9 for c in result.candidates[:2])
    assert validator.validate(session, "326 S Bonnie Brae St").match.text == "326 S BONNIE BRAE ST, 90057"
    assert validator.validate(session, "326 Bonnie Brae St 90057").match.text == "326 S BONNIE BRAE ST, 90057"


def test_a_house_number_that_does_not_exist_is_never_valid(session, validator):
    # 315 lies between the known 303 and 327 S Main St (odd side, 68 m apart): approximate, never valid
    result = validator.validate(session, "315 S Main St")
    assert result.status == "approximate"
    assert result.match.source_kind == "between" and result.basis == "between 303 and 327 S MAIN ST"
    assert result.ward is not None and result.match.address_id is None
    # beyond every known number and range: not found, the nearest numbers suggested
    result = validator.validate(session, "9113 W Bellevue Ave")
    assert result.status == "not_found"
    assert "no number 9113 on W BELLEVUE AVE" in result.reason
    assert result.suggestions[0].text.endswith("W BELLEVUE AVE, 90026")


def test_transposed_digits_are_suggested_first(session, validator):
    result = validator.validate(session, "1211 W Bellevue Ave")
    assert result.status == "not_found"
    assert result.suggestions[0].text == "2111 W BELLEVUE AVE, 90026"


def test_unknown_street_suggests_similar_names(session, validator):
    result = validator.validate(session, "100 Qwertyuiop Blvd")
    assert result.status == "not_found"
    assert "no street named QWERTYUIOP" in result.reason
    assert result.suggestions and all(s.kind == "street" for s in result.suggestions)


def test_half_numbers_are_their_own_addresses(session, validator):
    assert validator.validate(session, "3008 1/2 E Malabar St").status == "valid"
    result = validator.validate(session, "3008 E Malabar St")
    assert result.status == "ambiguous"
    assert result.candidates[0].text == "3008 1/2 E MALABAR ST, 90063"


@pytest.mark.parametrize(
    "typed", ["149th St & Hoover St", "Hoover and 149th", "hoover / 149th st", "149TH ST AT HOOVER ST"]
)
def test_intersections_in_any_order_and_notation(session, validator, typed):
    result = validator.validate(session, typed)
    assert result.status == "valid"
    assert result.match.text == "149TH ST AT HOOVER ST, 90247"
    assert result.match.kind == "intersection"


@pytest.mark.parametrize(
    "typed,agency",
    [
        ("La Cienega Blvd & Blackwelder St", "City of Culver City"),
        ("Willoughby Ave at Sweetzer Ave", "City of West Hollywood"),
        ("Vermont Ave & 117th St", "Unincorporated Athens (County of Los Angeles)"),
    ],
)
def test_outside_names_the_agency_with_its_contact(session, validator, typed, agency):
    result = validator.validate(session, typed)
    assert result.status == "outside"
    assert result.agency.name == agency
    assert result.agency.phone
    assert result.match.lon and result.match.lat
    assert agency in result.reason


def test_the_gardena_case(session, gardena_validator):
    """Under Gardena, a Harbor Gateway address with a Gardena ZIP is the City of Los Angeles'."""
    result = gardena_validator.validate(session, "16117 S Menlo Ave, Gardena, CA 90247")
    assert result.status == "outside"
    assert result.agency.name == "City of Los Angeles"
    assert result.agency.phone.startswith("311")
    assert result.reason == "The address lies within the boundaries of City of Los Angeles."


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "x" * 10_000,
        "12345",
        "😀",
        "<script>alert(1)</script>",
        "'; DROP TABLE address_point; --",
        "PO Box 1234",
        None,
        42,
        ["2111 Bellevue"],
    ],
)
def test_bad_input_is_invalid_with_a_reason_never_an_error(session, validator, typed):
    result = validator.validate(session, typed)
    assert result.status == "invalid"
    assert result.reason and result.reason.endswith(".")


def test_suggestions_as_you_type(session, validator):
    assert validator.suggest(session, "2111 w bel")[0].text == "2111 W BELLEVUE AVE, 90026"
    assert validator.suggest(session, "2111 belev")[0].text == "2111 W BELLEVUE AVE, 90026"  # a typo while typing
    streets = validator.suggest(session, "N Figu")
    assert streets[0].kind == "street" and streets[0].text.startswith("N FIGUEROA ST")
    crossings = validator.suggest(session, "hoover & 14")
    assert "149TH ST AT HOOVER ST, 90247" in [c.text for c in crossings]
    assert validator.suggest(session, "2") == []
    assert validator.suggest(session, "%_%") == []
    assert validator.suggest(session, "<script>") == []


def test_reverse_lookup_finds_the_nearest_address(session, validator):
    result = validator.reverse(session, -118.26690, 34.07325)
    assert result.address.text == "2111 W BELLEVUE AVE, 90026"
    assert 0 < result.distance_m < 10
    assert result.location.ward.key == "13"
    far = validator.reverse(session, -118.60, 33.90)  # in the bay: in no layer, within their extent
    assert far.address is None and far.distance_m > 100
    assert far.location.status == "unlisted" and far.location.agency.fallback  # the county, as the fallback
    assert validator.reverse(session, -117.0, 36.0).location.status == "unknown"  # beyond every layer


def test_house_number_zero_is_a_street_without_a_number(session, validator):
    """Many exports write 0 for "no number" (issue 16, item 11): the street is offered, never an address."""
    result = validator.validate(session, "0 W Bellevue Ave")
    assert result.status == "not_found" and "0 is no house number" in result.reason
    assert result.suggestions and result.suggestions[0].kind == "street"
    assert result.suggestions[0].text.startswith("W BELLEVUE AVE")
    crossing = validator.validate(session, "INTERSECTION of Bellevue Ave & Alvarado St")
    assert "INTERSECTION" not in (crossing.standardized or "") and crossing.standardized.startswith("BELLEVUE AVE AT")


def test_a_neighbours_suggestions_say_whose_they_are(session, validator):
    """Suggestions and candidates of another agency are labelled, never offered as if they were the city's."""
    result = validator.validate(session, "1st St & Main St")
    theirs = [c for c in result.suggestions if c.owner == "santa-monica"]
    assert theirs and all(c.note == "in the City of Santa Monica" for c in theirs)
    assert all(c.note is None for c in result.suggestions if c.owner is None)
