"""The Open311 GET arguments, parsed on their own: no database (pytest -m unit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from open311.errors import Open311Error
from open311.params import IGNORED, MAX_RADIUS_M, MAX_TEXT, MAX_WORDS, Circle, parse_datetime, parse_request_query

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def parse(**args: str):
    return parse_request_query(MultiDict(args), LA, now=NOW)


def test_without_dates_the_window_is_the_last_90_days():
    query = parse()
    assert (query.start, query.end) == (NOW - timedelta(days=90), NOW)


def test_a_start_date_alone_means_the_90_days_from_it():
    query = parse(start_date="2026-01-01")  # a date alone: midnight in the city
    assert query.start == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    assert query.end == query.start + timedelta(days=90)


def test_ids_override_the_other_filters_but_these_are_still_checked():
    query = parse(service_request_id="7k3mq9xab0tq4zhm1c8re5w2pk", status="open")
    assert query.ids and query.statuses == () and query.start is None
    with pytest.raises(Open311Error):
        parse(service_request_id="7k3mq9xab0tq4zhm1c8re5w2pk", page="0")


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        ({"start_date": "2026-03-01", "end_date": "2026-01-01"}, "start_date is after end_date"),
        ({"start_date": "2025-01-01", "end_date": "2026-01-01"}, "may not span more than 90 days"),
        ({"updated_after": "2026-03-01", "updated_before": "2026-01-01"}, "updated_after is after updated_before"),
    ],
)
def test_impossible_windows_are_a_400_with_a_sentence(args, sentence):
    with pytest.raises(Open311Error) as refused:
        parse(**args)
    assert refused.value.status == 400
    assert sentence in str(refused.value.errors)


def test_a_moment_keeps_its_offset_and_a_date_is_local_midnight():
    assert parse_datetime("2010-01-01T00:00:00-08:00", LA) == datetime(2010, 1, 1, 8, tzinfo=UTC)
    assert parse_datetime("2010-07-01", LA) == datetime(2010, 7, 1, 7, tzinfo=UTC)  # summer time
    with pytest.raises(ValueError):
        parse_datetime("yesterday", LA)


def test_a_moment_without_seconds_is_the_w3c_form_the_spec_cites():
    assert parse_datetime("2017-12-20T00:00Z", LA) == datetime(2017, 12, 20, tzinfo=UTC)
    assert parse_datetime("2017-12-20T00:00-08:00", LA) == datetime(2017, 12, 20, 8, tzinfo=UTC)
    assert parse(start_date="2017-12-20T00:00Z").start == datetime(2017, 12, 20, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_datetime("2017-12-20T00Z", LA)  # hours alone are not a W3C form


# -- q, lat/long/radius and the peers' arguments (issue 21) -----------------------------------------------


def refusal(**args: str) -> list[str]:
    """The descriptions of the 400 that ``args`` get."""
    with pytest.raises(Open311Error) as refused:
        parse(**args)
    assert refused.value.status == 400
    return [e.description for e in refused.value.errors]


def test_q_is_its_words_and_text_of_spaces_alone_is_none():
    assert parse(q="Graffiti  on   the wall").words == ("Graffiti", "on", "the", "wall")
    assert parse(q="wall wall").words == ("wall",)
    assert parse(q="   ").words == () and parse(q="").words == ()
    assert parse(q="x" * MAX_TEXT).words == ("x" * MAX_TEXT,)


@pytest.mark.parametrize(
    ("q", "sentence"),
    [
        ("x" * (MAX_TEXT + 1), f"q is 201 characters long; give at most {MAX_TEXT}."),
        ("café\x00", "q 'café\\\\x00' must be text of 1 to 200 characters, without control characters."),
        ("tab\there", "must be text of 1 to 200 characters, without control characters"),
        (" ".join(f"w{i}" for i in range(MAX_WORDS + 1)), f"q holds 11 different words; give at most {MAX_WORDS}."),
    ],
)
def test_bad_q_is_a_400_naming_the_limit(q, sentence):
    (description,) = refusal(q=q)
    assert sentence in description


def test_q_given_twice_differently_is_a_400():
    with pytest.raises(Open311Error) as refused:
        parse_request_query(MultiDict([("q", "a"), ("q", "b")]), LA, now=NOW)
    assert "q was given 2 times; give it once." in str(refused.value)


def test_a_circle_is_lat_long_and_radius_together():
    query = parse(lat="34.07325", long="-118.26690", radius="100")
    assert query.circle == Circle(lon=-118.2669, lat=34.07325, radius_m=100.0)
    assert parse(lat="-90", long="180", radius=f"{MAX_RADIUS_M}").circle == Circle(180.0, -90.0, 5000.0)
    assert parse(lat="", long="", radius="").circle is None  # sent empty: not sent
    assert parse(radius=".5", lat="0", long="0").circle == Circle(0.0, 0.0, 0.5)


@pytest.mark.parametrize(
    ("args", "sentences"),
    [
        ({"lat": "34.07"}, ["lat, long and radius go together", "long and radius are missing."]),
        ({"lat": "34.07", "long": "-118.27"}, ["radius is missing."]),
        ({"radius": "100"}, ["lat and long are missing."]),
        ({"lat": "91", "long": "0", "radius": "1"}, ["lat '91' is outside the world: latitudes run from -90 to 90."]),
        ({"lat": "0", "long": "-180.5", "radius": "1"}, ["long '-180.5' is outside the world"]),
        ({"lat": "0", "long": "0", "radius": "0"}, ["radius must be more than 0 metres."]),
        ({"lat": "0", "long": "0", "radius": "5000.5"}, ["radius '5000.5' is over the limit of 5,000 metres"]),
        ({"lat": "0", "long": "0", "radius": "-5"}, ["radius '-5' must be a distance in metres, more than 0 and"]),
        ({"lat": "north", "long": "0", "radius": "5"}, ["lat 'north' must be a latitude in WGS 84 decimal degrees"]),
        ({"lat": "0", "long": "0", "radius": "1e3"}, ["radius '1e3' must be a distance in metres"]),
        (
            {"lat": "34.07", "long": "-118.27", "radius": "100", "bbox": "-118.3,34.0,-118.2,34.1"},
            ["bbox and lat/long/radius both say where; give one of them"],
        ),
    ],
)
def test_a_bad_circle_is_a_400_saying_what_is_wrong(args, sentences):
    descriptions = " ".join(refusal(**args))
    for sentence in sentences:
        assert sentence in descriptions, descriptions


def test_every_problem_of_a_circle_is_said_at_once():
    assert len(refusal(lat="95", long="190", radius="9000")) == 3


def test_the_peers_arguments_are_noted_not_refused():
    query = parse(limit="10", offset="20", sort="-requested_datetime", callback="cb", page_size="5")
    assert query.ignored == ("limit", "offset", "sort", "callback") and query.page_size == 5
    assert parse(limit="").ignored == ()  # sent empty: not sent
    assert parse(foo="bar", order="asc").ignored == ()  # nobody's arguments: ignored, as before
    assert parse(service_request_id="7k3mq9xab0tq4zhm1c8re5w2pk", limit="1").ignored == ("limit",)


def test_each_warning_names_what_to_use_instead():
    assert set(IGNORED) == {"limit", "offset", "sort", "callback"}
    assert "page_size" in IGNORED["limit"] and "page" in IGNORED["offset"]
    assert "newest first" in IGNORED["sort"] and "CORS" in IGNORED["callback"] and "JSONP" in IGNORED["callback"]
    for text in IGNORED.values():  # a quoted-string of a header: printable ASCII, no quote or backslash
        assert text.isascii() and text.isprintable() and '"' not in text and "\\" not in text
