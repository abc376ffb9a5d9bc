"""The synthetic history of the benchmarks (bench/history.py): shaped like the real one, over seven years."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from bench import history
from bench.history import day_weights, real_profile, synthetic_requests, write_years
from service_requests.importer import import_history

END = pd.Timestamp("2026-01-01")


@pytest.fixture(scope="module")
def profile(la):
    return real_profile(la)


def test_the_profile_is_measured_from_the_real_history(profile):
    assert "Bulky Items" in profile.services and "Graffiti Removal" in profile.services
    assert profile.shares.sum() == pytest.approx(1) and profile.shares[profile.services.index("Bulky Items")] > 0.3
    assert profile.hours.sum() == pytest.approx(1)
    assert profile.hours[10] > 5 * profile.hours[3]  # mid-morning, not the small hours
    bulky = profile.close_days["Bulky Items"]
    assert len(bulky) > 1000 and (bulky >= 0).all() and 1 < np.median(bulky) < 15


def test_seven_years_with_seasons_weekdays_and_growth(profile):
    rng = np.random.default_rng(1)
    made = synthetic_requests(rng, profile, 400_000, END, years=7)
    created = pd.DatetimeIndex(made["created"])
    assert created.min() >= END - pd.DateOffset(years=7) and created.max() < END
    per_day = created.normalize().value_counts()
    by_month = per_day.groupby(per_day.index.month).mean()
    assert by_month[7] > 1.1 * by_month[12]  # summer above the holidays
    by_weekday = per_day.groupby(per_day.index.day_of_week).mean()
    assert by_weekday[0] > 1.3 * by_weekday[6]  # Monday above Sunday
    by_year = created.year.value_counts().sort_index()
    assert by_year[2025] > 1.2 * by_year[2019]  # seven years of growth
    still_open = made["status"].isin(["Open", "Pending"])
    assert 0 < still_open.mean() < 0.05
    assert pd.DatetimeIndex(made.loc[still_open, "created"]).min() > END - pd.DateOffset(years=2)
    cancelled = (made["status"] == "Cancelled").mean()
    assert 0.015 < cancelled < 0.035
    assert made["service"].value_counts(normalize=True)["Bulky Items"] == pytest.approx(
        profile.shares[profile.services.index("Bulky Items")], abs=0.01
    )


def test_the_day_weights_follow_the_stated_curves():
    days = pd.date_range("2024-01-01", "2024-12-31")
    weights = day_weights(days)
    assert weights.sum() == pytest.approx(1)
    monday_july = weights[days.get_loc(pd.Timestamp("2024-07-01"))]
    sunday_december = weights[days.get_loc(pd.Timestamp("2024-12-01"))]
    expected = (history.MONTHS[6] * history.WEEKDAYS[0]) / (history.MONTHS[11] * history.WEEKDAYS[6])
    assert monday_july / sunday_december == pytest.approx(expected * history.YEARLY_GROWTH ** (-153 / 365.25), rel=1e-6)


def test_a_file_written_in_chunks_imports_whole(session, la, profile, tmp_path, monkeypatch):
    monkeypatch.setattr(history, "CHUNK_ROWS", 1_000)
    path = write_years(session, tmp_path / "history.csv", profile, 2_500, END, years=7, seed=5, prefix="T7-")
    assert not path.with_suffix(".part").exists()
    frame = pd.read_csv(path)
    assert len(frame) == 2_500 and frame["SRNumber"].is_unique and frame["SRNumber"].str.startswith("T7-").all()
    report = import_history(session, la, dataclasses.replace(la.requests, paths=(path,)), report_dir=tmp_path)
    assert report.rows_read == 2_500 and not report.rejected, report.summary()
    years = session.execute(
        text("SELECT count(DISTINCT extract(year FROM requested_at)) FROM service_request WHERE source_id LIKE 'T7-%'")
    ).scalar_one()
    assert years >= 7


def test_the_storage_figures_name_the_table_and_each_index(session):
    from bench.common import table_storage

    figures = table_storage(session, "service_request")
    assert figures["table_bytes"] > 0 and "service_request_pkey" in figures["indexes"]
    assert figures["indexes_bytes"] == sum(figures["indexes"].values())
    assert figures["total_bytes"] >= figures["table_bytes"] + figures["indexes_bytes"]
