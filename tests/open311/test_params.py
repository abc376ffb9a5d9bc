"""The Open311 GET arguments, parsed on their own: no database (pytest -m unit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from open311.errors import Open311Error
from open311.params import parse_datetime, parse_request_query

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
