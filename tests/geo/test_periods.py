"""Calendar periods (geo/periods.py) as pure date arithmetic and SQL text: no database (pytest -m unit)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo import emerging, reports
from geo.periods import BREAKOUT_PERIODS, PERIODS, period
from service_requests.selection import FilterError


@pytest.mark.parametrize(
    ("period", "day", "start"),
    [
        ("day", date(2024, 2, 29), date(2024, 2, 29)),
        ("week", date(2024, 2, 1), date(2024, 1, 29)),  # a Thursday: the week from Monday
        ("month", date(2024, 2, 29), date(2024, 2, 1)),
        ("quarter", date(2024, 6, 30), date(2024, 4, 1)),
        ("year", date(2024, 12, 31), date(2024, 1, 1)),
        ("fiscal_year", date(2024, 6, 30), date(2023, 7, 1)),  # fiscal years from July
        ("fiscal_year", date(2024, 7, 1), date(2024, 7, 1)),
    ],
)
def test_a_day_falls_in_the_period_that_starts_on_or_before_it(period, day, start):
    assert PERIODS[period].start(day, 7) == start


def test_an_unknown_period_is_refused_naming_the_periods():
    with pytest.raises(FilterError, match="The period must be one of .*month.*, not 'fortnight'"):
        period("fortnight")
    with pytest.raises(FilterError, match="one of week, month, quarter, not 'year'"):
        period("year", ("week", "month", "quarter"))


@pytest.mark.parametrize(
    ("period", "start", "following"),
    [
        ("day", date(2024, 12, 31), date(2025, 1, 1)),
        ("week", date(2024, 12, 30), date(2025, 1, 6)),
        ("month", date(2024, 12, 1), date(2025, 1, 1)),
        ("quarter", date(2024, 10, 1), date(2025, 1, 1)),
        ("year", date(2024, 1, 1), date(2025, 1, 1)),
        ("fiscal_year", date(2024, 7, 1), date(2025, 7, 1)),
    ],
)
def test_the_next_period_starts_where_this_one_ends(period, start, following):
    assert reports.next_period_start(start, period) == following == PERIODS[period].next_start(start)
    assert PERIODS[period].start(following, 7) == following
    assert PERIODS[period].starts(start, following, 7) == [start, following]


@pytest.mark.parametrize(
    ("period", "start", "fiscal_start", "label"),
    [
        ("day", date(2024, 2, 29), 7, "2024-02-29"),
        ("week", date(2024, 1, 29), 7, "Week 5 of 2024 (from 29 Jan)"),
        ("month", date(2024, 1, 1), 7, "January 2024"),
        ("quarter", date(2024, 4, 1), 7, "2024 quarter 2"),
        ("year", date(2024, 1, 1), 7, "2024"),
        ("fiscal_year", date(2023, 7, 1), 7, "Fiscal year 2023–24"),
        ("fiscal_year", date(2024, 1, 1), 1, "Fiscal year 2024"),
    ],
)
def test_periods_are_labelled_for_people(period, start, fiscal_start, label):
    assert reports.period_label(start, period, fiscal_start) == label


def test_the_year_before_is_the_same_month_and_unknown_before_the_first():
    frame = pd.DataFrame({"key": [date(2023, 1, 1), date(2024, 1, 1), date(2024, 2, 1)], "requests": [10, 15, 4]})
    months = reports.with_year_before(frame, "month")
    assert months["requests_year_before"].iloc[1] == 10 and months["change"].iloc[1] == pytest.approx(0.5)
    assert pd.isna(months["requests_year_before"].iloc[0])  # before the first period: unknown, not zero
    assert months["requests_year_before"].iloc[2] == 0 and pd.isna(months["change"].iloc[2])  # no base


@pytest.mark.parametrize(
    ("period", "fiscal_start", "sql"),
    [
        ("day", 7, "(r.requested_at AT TIME ZONE :tz)::date"),
        ("week", 7, "date_trunc('week', r.requested_at AT TIME ZONE :tz)::date"),
        ("month", 7, "date_trunc('month', r.requested_at AT TIME ZONE :tz)::date"),
        ("quarter", 7, "date_trunc('quarter', r.requested_at AT TIME ZONE :tz)::date"),
        ("year", 7, "date_trunc('year', r.requested_at AT TIME ZONE :tz)::date"),
        (
            "fiscal_year",
            7,
            "(date_trunc('year', r.requested_at AT TIME ZONE :tz - interval '6 months') + interval '6 months')::date",
        ),
        ("fiscal_year", 1, "date_trunc('year', r.requested_at AT TIME ZONE :tz)::date"),
    ],
)
def test_each_period_truncates_a_timestamp_in_sql_to_its_local_start(period, fiscal_start, sql):
    assert PERIODS[period].sql("r.requested_at", fiscal_start) == sql


@pytest.mark.parametrize("fiscal_start", [1, 4, 7, 10])
def test_a_fiscal_year_starts_in_its_month_and_lasts_twelve(fiscal_start):
    fiscal = PERIODS["fiscal_year"]
    for month in range(1, 13):
        start = fiscal.start(date(2024, month, 15), fiscal_start)
        assert start.month == fiscal_start and start <= date(2024, month, 15) < fiscal.next_start(start)


def test_the_breakouts_offer_every_period_but_the_day():
    assert list(BREAKOUT_PERIODS) == ["week", "month", "quarter", "fiscal_year", "year"]
    assert reports.PERIODS == BREAKOUT_PERIODS and BREAKOUT_PERIODS["fiscal_year"] == "Fiscal year"


def test_emerging_hot_spot_slices_are_the_periods():
    assert set(emerging.SLICES) <= set(PERIODS)
    for slice_by in emerging.SLICES:
        starts = emerging.slice_starts(date(2023, 11, 20), date(2024, 2, 10), slice_by)
        assert starts == PERIODS[slice_by].starts(date(2023, 11, 20), date(2024, 2, 10))
        assert starts[0] <= date(2023, 11, 20) and emerging._slice_end(starts[-1], slice_by) >= date(2024, 2, 10)
    assert emerging.slice_starts(date(2024, 2, 1), date(2024, 5, 1), "quarter") == [date(2024, 1, 1), date(2024, 4, 1)]
