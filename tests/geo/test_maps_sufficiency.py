"""Maps say what the data can carry: thresholds, sparse-window warnings, fitted slices and
windows, the legend's colours, on the real (sparse) demo history and on generated cases."""

from __future__ import annotations

import html
import re
from datetime import date

import numpy as np
import pytest
from sqlalchemy import text

from geo import maps
from geo.emerging import emerging_hot_spots, fit_window
from geo.grid import density_points
from geo.hotspots import NOT_COMPUTED, HotspotParams, hot_spots, p_text
from geo.listing import request_points
from geo.sufficiency import MIN_NONEMPTY_CELLS, MIN_REQUESTS, MIN_SLICE_REQUESTS, shortfall
from service_requests.selection import RequestFilter
from tests.helpers.maps_synthetic import cluster_points, insert, only_synthetic, random_points

DOWNTOWN = (-118.2437, 34.0522)


# --- the real demo history: 2017-12-27..31 and 2020-01-01..03 ----------------------------------


def test_hot_spots_on_the_demo_history_warn_that_most_months_are_empty(session, la):
    result = hot_spots(session, la, RequestFilter(), cache=False)
    assert result.skipped is None and result.hot + result.cold > 0
    warning = " ".join(result.notices)
    assert "only 2 of the 26 months from 2017-12 to 2020-01 hold requests (2017-12, 2020-01)" in warning
    assert result.parameters()["warnings"] == result.notices


def test_one_day_of_one_service_is_too_few_for_gi_star(session, la):
    """A day's requests of a small service (as the Bulky Items of the issue): a few dozen at most."""
    (code,) = session.execute(
        text(
            "SELECT service_code FROM service_request WHERE city = 'la' AND requested_at::date = '2020-01-01' "
            "GROUP BY 1 HAVING count(*) BETWEEN 3 AND 100 ORDER BY count(*) DESC LIMIT 1"
        )
    ).one()
    flt = RequestFilter(date_from=date(2020, 1, 1), date_to=date(2020, 1, 1), services=(code,))
    result = hot_spots(session, la, flt, cache=False)
    assert result.points < MIN_REQUESTS
    assert result.skipped.startswith("Hot spots were not computed") and f"at least {MIN_REQUESTS}" in result.skipped
    assert result.hot == result.cold == 0 and (result.cells["label"] != NOT_COMPUTED).sum() == result.edge_cells
    assert result.skipped in result.method()


def test_the_default_emerging_window_is_where_the_requests_are(session, la):
    result = emerging_hot_spots(session, la, RequestFilter(), cache=False)
    # the last 12 months that hold requests: December 2017 and January 2020, not the calendar year
    assert result.filter.date_from == date(2017, 12, 1) and result.filter.date_to == date(2020, 1, 3)
    assert len(result.slices) == 26 and result.points > 15_000
    assert any("last 12 months that hold requests (2 found)" in n for n in result.notices)
    assert any("24 of the 26 monthly slices hold fewer than" in n for n in result.notices)
    assert "only 2 of the 26 monthly slices" in result.skipped
    assert set(result.cells["pattern"]) <= {NOT_COMPUTED, "Not tested: mostly outside the city"}


def test_weekly_slices_over_a_long_range_become_monthly(session, la):
    flt = RequestFilter(date_from=date(2017, 12, 1), date_to=date(2020, 1, 31))
    fitted, slice_by, notices = fit_window(session, la, flt, "week", 12)
    assert slice_by == "month" and fitted == flt
    assert "makes 114 weekly slices" in notices[0] and "shown by month (26 slices)" in notices[0]
    fitted, slice_by, notices = fit_window(
        session, la, RequestFilter(date_from=date(1990, 1, 1), date_to=date(2020, 1, 31)), "week", 12
    )
    assert slice_by == "quarter" and fitted.date_from == date(2005, 4, 1) and "last 60 quarters" in notices[0]
    fitted, slice_by, notices = fit_window(
        session, la, RequestFilter(date_from=date(2020, 1, 1), date_to=date(2020, 1, 3)), "quarter", 12
    )
    assert slice_by == "week" and fitted.date_from == date(2019, 12, 9) and "shorter than 4 weeks" in notices[0]
    _, _, notices = fit_window(session, la, flt, "month", 2)
    assert notices[0].startswith("Emerging hot spots use 4 to 60 slices, not 2: shown with 4.")


# --- generated cases for the thresholds ----------------------------------------------------------


def test_thresholds_on_generated_requests(session, la):
    rng = np.random.default_rng(16)
    van_nuys = (-118.45, 34.20)
    insert(session, la, cluster_points(la, van_nuys, 5000, MIN_REQUESTS - 1, rng), "few")
    few = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=500.0), cache=False)
    tested = few.points - few.edge_points
    assert tested <= MIN_REQUESTS - 1 and f"the cells tested hold {tested} mapped requests" in few.skipped
    assert few.nonempty_cells >= MIN_NONEMPTY_CELLS and few.cells["z"].isna().all()
    insert(session, la, np.array([van_nuys] * (MIN_REQUESTS - tested)), "more")
    enough = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=500.0), cache=False)
    assert enough.points - enough.edge_points == MIN_REQUESTS
    assert enough.skipped is None and enough.cells["z"].notna().any() and enough.hot > 0
    assert shortfall(MIN_REQUESTS, MIN_NONEMPTY_CELLS - 1).startswith(
        f"Hot spots were not computed: the requests fall in only {MIN_NONEMPTY_CELLS - 1} cells"
    )
    assert shortfall(MIN_REQUESTS, MIN_NONEMPTY_CELLS) is None


def test_generated_piles_in_few_cells_are_not_tested(session, la):
    rng = np.random.default_rng(7)
    insert(session, la, cluster_points(la, DOWNTOWN, 300, MIN_REQUESTS * 2, rng), "pile")
    result = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=1000.0), cache=False)
    assert result.nonempty_cells < MIN_NONEMPTY_CELLS and "fall in only" in result.skipped


def test_thin_slices_are_not_tested_and_a_day_makes_no_new_hot_spot(session, la):
    """Five busy months, then a last month of a few requests in one place: once that made
    'new hot spot'; now the last slice is too thin to test."""
    rng = np.random.default_rng(3)
    busy = random_points(session, la, 3000, rng)
    insert(session, la, busy, "bg", days=rng.uniform(0, 150, len(busy)))
    last = cluster_points(la, DOWNTOWN, 400, MIN_SLICE_REQUESTS - 1, rng)
    insert(session, la, last, "late", days=np.full(len(last), 160.0))
    result = emerging_hot_spots(
        session,
        la,
        only_synthetic(date_from=date(2024, 1, 1), date_to=date(2024, 6, 30)),
        HotspotParams(cell_m=2000.0),
        cache=False,
    )
    assert result.skipped is None and result.thin_slices == [date(2024, 6, 1)]
    assert not result.cells["pattern"].str.startswith("new").any()
    assert "1 here" in result.method()


# --- what the maps draw ----------------------------------------------------------------------------


def test_p_values_are_written_below_a_thousandth():
    assert p_text(0.0) == "< 0.001" and p_text(0.00099) == "< 0.001" and p_text(0.0123) == "0.012"
    assert p_text(float("nan")) == ""


def test_the_hot_spot_map_writes_p_and_the_warnings(session, la):
    result = hot_spots(session, la, RequestFilter(), cache=False)
    body = maps.render(maps.hotspot_map(session, la, result, maps.MapOptions()))
    assert re.search(r'"p_text": "(\\u003c|<) 0.001"', body)
    assert "p (two-sided)" in body and '"p": 0' not in body
    assert "Sparse window: only 2 of the 26 months" in html.unescape(body)


def test_clusters_are_coloured_by_the_legend_categories(session, la):
    points, total = request_points(session, la, RequestFilter(ward="13"))
    body = maps.render(maps.area_map(session, la, "wards", "13", points, total, "status", maps.MapOptions()))
    assert "conic-gradient" in body and "geo311-cluster" in body and "marker-cluster-small" not in body
    assert maps.STATUS_COLORS["open"] in body and maps.STATUS_COLORS["closed"] in body


def test_the_heat_map_has_a_viridis_ramp_and_its_scale(session, la):
    points = density_points(session, la, RequestFilter())
    body = html.unescape(maps.render(maps.heat_map(session, la, points, maps.MapOptions())))
    options = re.search(r'"?gradient"?:\s*\{([^}]*)\}', body)
    assert options, "the heat layer is given its own gradient, not leaflet.heat's rainbow"
    assert re.findall(r"#[0-9a-f]{6}", options.group(1)) == list(maps.HEAT_GRADIENT.values())
    ramp = re.search(r'class=\\?"geo311-ramp\\?" style=\\?"background: linear-gradient\(to right, ([^)]*)\)', body)
    assert ramp and re.findall(r"#[0-9a-f]{6}", ramp.group(1)) == list(maps.HEAT_GRADIENT.values())
    assert "Requests per 150 m cell" in body and "or more" in body


# --- the pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, sentences",
    [
        ("/maps/hotspots", ["only 2 of the 26 months", "Left out:"]),
        ("/maps/emerging", ["last 12 months that hold requests", "Emerging hot spots were not computed", "Left out:"]),
        ("/maps/emerging?slice=week&from=2017-12-01&to=2020-01-31", ["shown by month (26 slices)"]),
        ("/maps/emerging?slices=2", ["not 2: shown with 4"]),
        ("/maps/emerging?slices=-5000000000", ["shown with 4"]),
        ("/maps/heat", ["only 2 of the 26 months", "Left out:"]),
        ("/maps/hotspots?from=2020-01-01&to=2020-01-01&department=nope", ["no department"]),
    ],
)
def test_pages_say_what_the_data_can_carry(admin_client, url, sentences):
    response = admin_client.get(url)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code in (200, 400) and response.status_code != 500
    for sentence in sentences:
        assert sentence in body, sentence
