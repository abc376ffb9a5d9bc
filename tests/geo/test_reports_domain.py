"""Report figures computed in SQL equal an independent pandas computation on the real LA history.

The rows are read with a plain SELECT and every figure is recomputed in pandas with the
definitions stated on the report (geo/reports.py): out-of-area requests excluded,
cancelled counted apart, duplicates, local-time periods.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from geo import reports
from geo.periods import PERIODS
from service_requests.selection import FilterError, RequestFilter, filter_choices

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


@pytest.fixture
def rows(session, la) -> pd.DataFrame:
    """Every LA request, plainly, with the service group."""
    frame = pd.read_sql_query(
        text(
            """
        SELECT r.id, r.status, r.is_open, r.requested_at, r.closed_at, r.due_at, r.duplicate_of,
               r.in_jurisdiction, r.department_code, r.service_code, r.ward_key, r.district_key, r.channel,
               s.group_name
        FROM service_request r LEFT JOIN service s ON s.city = r.city AND s.code = r.service_code
        WHERE r.city = 'la'
        """
        ),
        session.connection(),
    )
    for column in ("requested_at", "closed_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def expected(frame: pd.DataFrame) -> dict[str, float]:
    """The summary of ``frame`` (already restricted), by the stated definitions, in pandas."""
    frame = frame[frame["in_jurisdiction"] != False]  # noqa: E712 (None: location unknown, counted)
    n = len(frame)
    closed = frame[~frame["is_open"] & (frame["status"] != "cancelled")]
    days = (closed["closed_at"] - closed["requested_at"]).dt.total_seconds() / 86400
    open_ = frame[frame["is_open"]]
    with_due = closed[closed["due_at"].notna() & closed["closed_at"].notna()]
    return {
        "requests": n,
        "distinct_problems": int((frame["duplicate_of"].isna() & (frame["status"] != "duplicate")).sum()),
        "open": len(open_),
        "closed": len(closed),
        "cancelled": int((frame["status"] == "cancelled").sum()),
        "open_share": len(open_) / n if n else np.nan,
        "cancelled_share": (frame["status"] == "cancelled").sum() / n if n else np.nan,
        "mean_days_to_close": days.mean(),
        "median_days_to_close": days.median(),
        "mean_days_open": ((NOW - open_["requested_at"]).dt.total_seconds() / 86400).mean(),
        "within_service_level_share": (
            (with_due["closed_at"] <= with_due["due_at"]).sum() / len(with_due) if len(with_due) else np.nan
        ),
        "overdue": int((open_["due_at"] < NOW).sum()),
    }


def assert_close(got, want) -> None:
    for key, value in want.items():
        if pd.isna(value):
            assert pd.isna(got[key]), key
        else:
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_the_data_has_what_the_rules_are_about(rows):
    assert len(rows) > 5000
    assert rows["is_open"].any() and (~rows["is_open"]).any()


def test_citywide_summary_equals_pandas(session, la, rows):
    got = reports.summary(session, la, RequestFilter(), now=NOW)
    assert_close(got, expected(rows))
    assert got["open"] + got["closed"] + got["cancelled"] == got["requests"]


def test_out_of_area_requests_are_excluded(session, la, rows):
    before = reports.summary(session, la, RequestFilter(), now=NOW)["requests"]
    session.execute(
        text(
            "UPDATE service_request SET in_jurisdiction = false WHERE id IN "
            "(SELECT id FROM service_request WHERE city = 'la' AND in_jurisdiction IS NOT FALSE "
            "ORDER BY id LIMIT 40)"
        )
    )
    got = reports.summary(session, la, RequestFilter(), now=NOW)
    assert got["requests"] == before - 40 == int((rows["in_jurisdiction"] != False).sum()) - 40  # noqa: E712


def test_cancelled_and_duplicates(session, la, rows):
    ids = rows["id"].sort_values().tolist()
    session.execute(
        text("UPDATE service_request SET status = 'cancelled', closed_at = requested_at WHERE id = ANY(:ids)"),
        {"ids": ids[:30]},
    )
    session.execute(
        text(
            "UPDATE service_request SET status = 'duplicate', duplicate_of = :first, "
            "closed_at = requested_at WHERE id = ANY(:ids)"
        ),
        {"ids": ids[30:55], "first": ids[0]},
    )
    changed = pd.read_sql_query(
        text(
            "SELECT id, status, is_open, requested_at, closed_at, duplicate_of FROM service_request WHERE city = 'la'"
        ),
        session.connection(),
    )
    merged = rows.drop(columns=["status", "is_open", "closed_at", "duplicate_of"]).merge(
        changed[["id", "status", "is_open", "closed_at", "duplicate_of"]], on="id"
    )
    merged["closed_at"] = pd.to_datetime(merged["closed_at"], utc=True)
    got = reports.summary(session, la, RequestFilter(), now=NOW)
    assert_close(got, expected(merged))
    assert got["cancelled"] >= 30
    assert got["distinct_problems"] <= got["requests"] - 25
    distinct = reports.summary(session, la, RequestFilter(), distinct=True, now=NOW)
    assert distinct["requests"] == got["distinct_problems"]


@pytest.mark.parametrize(
    "by, column",
    [
        ("department", "department_code"),
        ("service", "service_code"),
        ("ward", "ward_key"),
        ("district", "district_key"),
        ("state", "status"),
        ("channel", "channel"),
        ("group", "group_name"),
    ],
)
def test_every_breakout_equals_pandas(session, la, rows, by, column):
    table = reports.breakout(session, la, RequestFilter(), by, now=NOW)
    inside = rows[rows["in_jurisdiction"] != False]  # noqa: E712
    assert table["requests"].sum() == len(inside)
    for row in table.itertuples():  # every row: the medians are joined to the counts by key
        part = rows[rows[column].isna()] if pd.isna(row.key) else rows[rows[column] == row.key]
        assert_close(table.loc[row.Index], expected(part))


@pytest.mark.parametrize(
    "period, rule",
    [("month", "month"), ("quarter", "quarter"), ("year", "year"), ("week", "week"), ("fiscal_year", "fiscal")],
)
def test_periods_are_local_dates(session, la, rows, period, rule):
    table = reports.breakout(session, la, RequestFilter(), period, now=NOW)
    inside = rows[rows["in_jurisdiction"] != False].copy()  # noqa: E712
    local = inside["requested_at"].dt.tz_convert(la.timezone).dt.tz_localize(None)
    if rule == "fiscal":
        start = la.reports.fiscal_year_start_month
        year = local.dt.year - (local.dt.month < start)
        keys = pd.to_datetime(dict(year=year, month=start, day=1)).dt.date
    elif rule == "week":
        keys = (local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.date
    else:
        keys = local.dt.to_period({"month": "M", "quarter": "Q", "year": "Y"}[rule]).dt.start_time.dt.date
    counts = keys.value_counts()
    got = table.set_index("key")["requests"]
    assert got[got > 0].sort_index().to_dict() == counts.sort_index().to_dict()


def test_a_late_evening_request_belongs_to_its_local_day(session, la):
    # 1 March 2024 07:30 UTC is 29 February 23:30 in Los Angeles: February, Q1, fiscal year 2023-24.
    session.execute(
        text(
            "UPDATE service_request SET requested_at = '2024-03-01 07:30+00', in_jurisdiction = true "
            "WHERE id = (SELECT min(id) FROM service_request WHERE city = 'la')"
        )
    )
    flt = RequestFilter(date_from=date(2024, 2, 29), date_to=date(2024, 2, 29))
    months = reports.breakout(session, la, flt, "month", now=NOW)
    assert months["key"].tolist() == [date(2024, 2, 1)]
    assert reports.breakout(session, la, flt, "fiscal_year", now=NOW)["label"].tolist() == ["Fiscal year 2023–24"]


def test_fiscal_year_start_is_configurable(session, la):
    import dataclasses

    from core.city import ReportSettings

    january = dataclasses.replace(la, reports=ReportSettings(fiscal_year_start_month=1))
    years = reports.breakout(session, la, RequestFilter(), "year", now=NOW)
    fiscal = reports.breakout(session, january, RequestFilter(), "fiscal_year", now=NOW)
    assert fiscal["requests"].tolist() == years["requests"].tolist()


def test_year_over_year_and_year_to_date(session, la, rows):
    table = reports.year_over_year(session, la, RequestFilter(), "month", now=NOW)
    by_key = dict(zip(table["key"], table["requests"]))
    for row in table.itertuples():
        before = date(row.key.year - 1, row.key.month, 1)
        if before in by_key:
            assert row.requests_year_before == by_key[before]
    last = max(rows["requested_at"]).tz_convert(la.timezone).date()
    ytd = reports.year_to_date(session, la, RequestFilter(), today=last, now=NOW)
    local = rows["requested_at"].dt.tz_convert(la.timezone).dt.date
    inside = rows["in_jurisdiction"] != False  # noqa: E712
    assert ytd.current["requests"] == int(((local >= date(last.year, 1, 1)) & (local <= last) & inside).sum())


def test_top_services_overall_and_per_ward(session, la, rows):
    choices = filter_choices(session, la)
    top = reports.top_services(session, la, RequestFilter(), choices=choices)
    inside = rows[rows["in_jurisdiction"] != False]  # noqa: E712
    counts = inside.groupby("service_code").size().sort_values(ascending=False)
    assert len(top) == 10 and top["requests"].tolist() == counts.head(10).tolist()
    per_ward = reports.top_services(session, la, RequestFilter(), per="ward", choices=choices)
    ward = per_ward["area"].dropna().iloc[0]
    in_ward = inside[inside["ward_key"] == ward].groupby("service_code").size().sort_values(ascending=False)
    assert per_ward[per_ward["area"] == ward]["requests"].tolist() == in_ward.head(10).tolist()


def test_backlog_aging_and_compliance(session, la, rows):
    aging = reports.backlog_aging(session, la, RequestFilter(), now=NOW)
    open_ = rows[rows["is_open"] & (rows["in_jurisdiction"] != False)]  # noqa: E712
    assert aging["open"].sum() == len(open_)
    age = np.floor((NOW - open_["requested_at"]).dt.total_seconds() / 86400)
    assert aging["over a year"].sum() == int((age >= 366).sum())
    assert aging["0–7 days"].sum() == int((age <= 7).sum())
    comp = reports.compliance(session, la, RequestFilter(), "service", now=NOW)
    assert comp["closed_with_due"].sum() >= comp["closed_on_time"].sum()
    for row in comp.itertuples():
        want = expected(rows[rows["service_code"] == row.key])
        assert_close(
            comp.loc[row.Index],
            {k: want[k] for k in ("within_service_level_share", "open", "overdue", "mean_days_to_close")},
        )


def test_group_filter_and_bad_values(session, la, rows):
    choices = filter_choices(session, la)
    group = next(iter(choices.groups))
    got = reports.summary(session, la, RequestFilter(group=group), now=NOW)
    assert_close(got, expected(rows[rows["group_name"] == group]))
    with pytest.raises(FilterError, match="Break out by"):
        reports.breakout(session, la, RequestFilter(), "colour")


def test_requests_behind_a_figure(session, la):
    frame = reports.requests_behind(session, la, RequestFilter(status="open"), limit=50)
    assert 0 < len(frame) <= 50 and frame["is_open"].all()
    assert "description" not in frame.columns


def test_figures_are_kept_until_the_data_changes(session, la):
    from geo.cache import RESULTS

    RESULTS.clear()
    first = reports.summary(session, la, RequestFilter(), now=NOW)
    hits = RESULTS.hits
    again = reports.summary(session, la, RequestFilter(), now=NOW)
    assert RESULTS.hits == hits + 1 and again.equals(first)
    again["requests"] = -1  # a caller changing its copy changes nothing kept
    assert reports.summary(session, la, RequestFilter(), now=NOW)["requests"] == first["requests"]

    # A session with writes of its own sees its own rows: it is never answered from the cache.
    session.execute(
        text(
            "UPDATE service_request SET status = 'cancelled', closed_at = :now "
            "WHERE id = (SELECT min(id) FROM service_request WHERE city = 'la' AND is_open)"
        ),
        {"now": NOW},
    )
    changed = reports.summary(session, la, RequestFilter(), now=NOW)
    assert changed["cancelled"] == first["cancelled"] + 1 and changed["open"] == first["open"] - 1


@pytest.mark.parametrize("fiscal_start", [1, 7, 10])
def test_each_periods_sql_truncation_agrees_with_its_python_start(session, la, fiscal_start):
    """PostgreSQL's start of every period (geo/periods.py's SQL) is the Python one, in local time."""
    instants = [datetime(2023, 12, 31, 23, 30, tzinfo=UTC), datetime(2024, 3, 10, 10, 0, tzinfo=UTC)]
    instants += [datetime(2024, m, 1, 7, 59, tzinfo=UTC) for m in range(1, 13)]  # the evening before, in LA
    for period in PERIODS.values():
        got = session.execute(
            text(f"SELECT {period.sql('t', fiscal_start)} FROM unnest(CAST(:ts AS timestamptz[])) t"),
            {"ts": instants, "tz": la.timezone},
        ).scalars()
        want = [period.start(t.astimezone(la.tz).date(), fiscal_start) for t in instants]
        assert list(got) == want, period.key
