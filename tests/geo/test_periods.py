"""Report periods as pure date arithmetic: no database (pytest -m unit)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo import reports
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
    assert reports._period_of(period, day, 7) == start


def test_an_unknown_period_is_refused_naming_the_periods():
    with pytest.raises(FilterError, match="The period must be one of .*month.*, not 'fortnight'"):
        reports._period_of("fortnight", date(2024, 1, 1), 7)


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
    assert reports.next_period_start(start, period) == following
    assert reports._period_of(period, following, 7) == following


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
