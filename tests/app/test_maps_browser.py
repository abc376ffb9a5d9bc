"""The map pages in headless Chromium: they draw, and load nothing from outside the app."""

from __future__ import annotations

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, log_in_page, watch
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"


def test_ward_page_and_hot_spot_map(settings, bound_database):
    app = create_app(settings, database=bound_database)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        watched = watch(page)

        with bound_database.session() as session:
            log_in_page(page, base, make_user(session, "planner"), "/maps/wards")
        page.goto(base + "/maps/wards/13?color=service")
        frame = page.frame_locator("iframe.maps-frame")
        frame.locator(".marker-cluster").first.wait_for(timeout=60_000)
        assert "Requests by service" in frame.locator(".geo311-box").inner_text()
        assert page.locator("#top-services tbody tr").count() >= 5
        page.screenshot(path=str(SCREENSHOTS / "maps-ward.png"), full_page=True)

        page.goto(base + "/maps/hotspots")
        frame = page.frame_locator("iframe.maps-frame")
        frame.locator(".geo311-box").first.wait_for(timeout=60_000)
        legend = frame.locator(".geo311-box", has_text="Getis-Ord Gi* hot spots").inner_text()
        assert "Hot spot, 99 % confidence" in legend and "Cold spot, 90 % confidence" in legend
        frame.locator("details summary").click()
        assert "false discovery rate" in frame.locator("details").inner_text()
        assert page.locator("#hot-wards tbody tr").count() >= 1
        page.screenshot(path=str(SCREENSHOTS / "maps-hotspots.png"), full_page=True)

        page.goto(base + "/maps/wards")
        frame = page.frame_locator("iframe.maps-frame")
        frame.locator(".geo311-box", has_text="Quantile classes").wait_for(timeout=60_000)
        frame.locator("canvas").first.wait_for(timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "maps-wards.png"), full_page=True)

    assert watched.requests and watched.outside(base) == []
    assert watched.errors == []


def test_hot_spot_emerging_and_heat_pages_say_what_the_data_can_carry(settings, bound_database):
    """On the sparse demo history: the warnings, the legends and the heat scale are on the
    pages and the maps, and a ward's clusters are pies of the legend's colours."""
    app = create_app(settings, database=bound_database)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        watched = watch(page)
        with bound_database.session() as session:
            log_in_page(page, base, make_user(session, "planner"), "/maps/hotspots")

        page.goto(base + "/maps/hotspots")
        assert "only 2 of the 26 months" in page.locator(".maps-warning").first.inner_text()
        frame = page.frame_locator("iframe.maps-frame")
        legend = frame.locator(".geo311-box", has_text="Getis-Ord Gi* hot spots")
        legend.wait_for(timeout=60_000)
        assert "Sparse window" in legend.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "maps-hotspots-sparse.png"), full_page=True)

        page.goto(base + "/maps/emerging")
        assert "Emerging hot spots were not computed" in page.locator("#not-computed").inner_text()
        assert "last 12 months that hold requests" in page.locator("main").inner_text()
        frame = page.frame_locator("iframe.maps-frame")
        legend = frame.locator(".geo311-box", has_text="Emerging hot spots")
        legend.wait_for(timeout=60_000)
        assert "not computed" in legend.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "maps-emerging-sparse.png"), full_page=True)

        page.goto(base + "/maps/emerging?slice=week&from=2017-12-01&to=2020-01-31")
        assert "shown by month (26 slices)" in page.locator("main").inner_text()

        page.goto(base + "/maps/heat")
        frame = page.frame_locator("iframe.maps-frame")
        scale = frame.locator(".geo311-box", has_text="Requests per 150 m cell")
        scale.wait_for(timeout=60_000)
        ramp = frame.locator(".geo311-ramp").evaluate("e => getComputedStyle(e).backgroundImage")
        assert "linear-gradient" in ramp and "rgb(68, 1, 84)" in ramp and "rgb(253, 231, 37)" in ramp
        assert scale.locator(".geo311-ramp").bounding_box()["width"] > 100
        frame.locator("canvas.leaflet-heatmap-layer").wait_for(timeout=60_000)
        page.screenshot(path=str(SCREENSHOTS / "maps-heat-scale.png"), full_page=True)

        page.goto(base + "/maps/wards/13")
        frame = page.frame_locator("iframe.maps-frame")
        cluster = frame.locator(".geo311-cluster div").first
        cluster.wait_for(timeout=60_000)
        colours = set(cluster.get_attribute("data-colors").split())
        assert colours and colours <= {"#d95f02", "#1b9e77"}
        assert "conic-gradient" in cluster.evaluate("e => getComputedStyle(e).backgroundImage")
        assert frame.locator(".marker-cluster-small, .marker-cluster-medium, .marker-cluster-large").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "maps-ward-clusters.png"), full_page=True)

    assert watched.requests and watched.outside(base) == []
    assert watched.errors == []
