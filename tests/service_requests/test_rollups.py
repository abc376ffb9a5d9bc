"""The request rollup: reports read from it equal reports counted from the requests, before and after changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import text

from geo import reports
from geo.cache import RESULTS
from service_requests import rollups
from service_requests.rollups import SETS, THRESHOLDS, Plan, columns_read
from service_requests.selection import RequestFilter

FILTERS = [
    RequestFilter(scope="city"),
    RequestFilter(scope="city", services=("graffiti", "bulky-items")),
    RequestFilter(scope="city", ward="13", date_from=date(2017, 12, 30), date_to=date(2020, 1, 3)),
    RequestFilter(scope="city", channels=("phone",), status="closed"),
    RequestFilter(scope="city", department="BOS", district="29"),
    RequestFilter(scope="all", states=("cancelled", "fixed")),
]
BREAKOUTS = (
    "department",
    "service",
    "group",
    "ward",
    "district",
    "state",
    "channel",
    "family",
    "week",
    "month",
    "year",
)


def figures(session, la) -> list:
    RESULTS.clear()
    found = []
    for flt in FILTERS:
        found.append(reports.summary(session, la, flt))
        found.append(reports.summary(session, la, flt, distinct=True))
        found += [reports.breakout(session, la, flt, by) for by in BREAKOUTS]
        found += [reports.top_services(session, la, flt, n=3), reports.top_services(session, la, flt, per="ward", n=3)]
    return found


def assert_same(counted: list, rolled: list) -> None:
    """Equal figures; the days open so far may differ by the minute between the two reports (their "now")."""
    for a, b in zip(counted, rolled, strict=True):
        if "mean_days_open" not in a:  # top services: counts and shares only
            pd.testing.assert_frame_equal(a, b, rtol=1e-9)
            continue
        if isinstance(a, pd.Series):
            pd.testing.assert_series_equal(
                a.drop("mean_days_open").astype(float), b.drop("mean_days_open").astype(float), rtol=1e-9
            )
        else:
            pd.testing.assert_frame_equal(
                a.drop(columns="mean_days_open"), b.drop(columns="mean_days_open"), rtol=1e-9, check_dtype=False
            )
        days_open = (a["mean_days_open"], b["mean_days_open"])
        assert (
            pd.Series(days_open[0])
            .astype(float)
            .sub(pd.Series(days_open[1]).astype(float).values)
            .abs()
            .fillna(0)
            .max()
            < 0.01
        )


def rolled_sets(session) -> int:
    return session.execute(text("SELECT count(*) FROM request_rollup WHERE city = 'la'")).scalar()


def test_reports_from_the_rollup_equal_reports_from_the_requests(session, la):
    session.execute(text("DELETE FROM request_rollup_state WHERE city = 'la'"))
    counted = figures(session, la)
    report = rollups.build(session, la)
    assert report.months >= 1 and report.cells == rolled_sets(session) > 0
    plan = rollups.plan(session, la, {"service_code", "requested_at", "city"}, "month", None, None)
    assert plan is not None and plan.rollup_set.columns == ("service_code",)
    assert_same(counted, figures(session, la))


def test_changed_requests_are_read_live_until_counted_again(session, la):
    rollups.build(session, la)
    # Close one open request, reopen a closed one, move one: all after the count.
    opened = session.execute(text("SELECT id FROM service_request WHERE city = 'la' AND is_open LIMIT 1")).scalar()
    closed = session.execute(
        text("SELECT id FROM service_request WHERE city = 'la' AND status = 'fixed' ORDER BY requested_at LIMIT 1")
    ).scalar()
    session.execute(
        text(
            "UPDATE service_request SET status = 'fixed', closed_at = requested_at + interval '3 days' WHERE id = :id"
        ),
        {"id": opened},
    )
    session.execute(
        text("UPDATE service_request SET status = 'in_progress', closed_at = NULL WHERE id = :id"), {"id": closed}
    )
    gone = session.execute(
        text(
            "SELECT id FROM service_request WHERE city = 'la' AND status = 'fixed' AND id <> :id "
            "ORDER BY requested_at DESC LIMIT 1"
        ),
        {"id": opened},
    ).scalar()
    # (requests are never deleted: their history is append-only) moved to another month and year
    session.execute(
        text(
            "UPDATE service_request SET requested_at = requested_at - interval '400 days', "
            "closed_at = closed_at - interval '399 days' WHERE id = :id"
        ),
        {"id": gone},
    )
    stale = session.execute(text("SELECT count(*) FROM request_rollup_stale WHERE city = 'la'")).scalar()
    assert stale >= 2
    rolled = figures(session, la)
    session.execute(text("DELETE FROM request_rollup_state WHERE city = 'la'"))
    counted = figures(session, la)
    assert_same(counted, rolled)
    rollups.build(session, la)  # then counted again: the same
    session.execute(text("UPDATE service_request SET description = description WHERE id = :id"), {"id": closed})
    assert rollups.refresh(session, la).months == 1
    assert session.execute(text("SELECT count(*) FROM request_rollup_stale WHERE city = 'la'")).scalar() == 0
    assert_same(counted, figures(session, la))


def test_a_report_counts_stale_days_again_once_they_wait(database, la):
    """Days marked stale longer than REFRESH_AFTER_S ago are counted again, committed, by the next report."""
    with database.engine.begin() as connection:
        state = connection.execute(text("SELECT first_day FROM request_rollup_state WHERE city = 'la'")).scalar()
        assert state is not None  # the test database's import counted it (tidy_after_import)
        connection.execute(
            text(
                "INSERT INTO request_rollup_stale (city, day, marked_at) VALUES ('la', :day, now() - interval '1 hour')"
            ),
            {"day": state},
        )
    with database.engine.connect() as connection:
        assert rollups.refresh_if_due(connection, la) is True
        assert rollups.refresh_if_due(connection, la) is False  # nothing left
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM request_rollup_stale WHERE city = 'la'")).scalar() == 0


def test_questions_the_rollup_cannot_answer_are_counted_from_the_requests(session, la):
    rollups.build(session, la)
    for flt in (RequestFilter(scope="mapped"), RequestFilter(scope="city", overdue=True)):
        where, _ = flt.sql(la, "r", datetime.now(UTC))
        assert rollups.plan(session, la, columns_read(where), "month", None, None) is None
    # As of a given time: counted from the requests, as they were asked.
    now = datetime.now(UTC) - timedelta(days=1)
    assert reports.summary(session, la, RequestFilter(scope="city"), now=now)["requests"] > 0


@pytest.mark.unit
def test_the_plan_reads_live_what_the_rollup_does_not_hold():
    tz = UTC
    start, end = datetime(2024, 1, 1, tzinfo=tz), datetime(2024, 3, 1, tzinfo=tz)
    plan = Plan(SETS[0], [datetime(2024, 2, 1, tzinfo=tz)], [(start, datetime(2024, 2, 1, tzinfo=tz)), (end, None)])
    sql, params = plan.live_sql("r")
    assert (
        sql
        == "(r.is_open OR (r.requested_at >= :live_from_0 AND r.requested_at < :live_to_0) OR (r.requested_at >= :live_from_1))"
    )
    assert params == {"live_from_0": start, "live_to_0": datetime(2024, 2, 1, tzinfo=tz), "live_from_1": end}
    assert columns_read("r.city = :c AND r.ward_key = :w AND s.group_name = 'x'") == {"city", "ward_key"}
    assert list(THRESHOLDS) == sorted(set(THRESHOLDS))  # increasing, no bound twice
    assert {s.id for s in SETS} == set(range(1, len(SETS) + 1))
