"""The map pages in headless Chromium: they draw, and load nothing from outside the app."""

from __future__ import annotations

import pytest

from app.factory import create_app
from app.settings import PROJECT_ROOT
from tests.accounts import make_user
from tests.browser import chromium, live_server, log_in_page, watch

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
