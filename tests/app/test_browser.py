"""The landing map in headless Chromium: it draws, answers clicks, and loads nothing from outside."""

from __future__ import annotations

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, watch

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"


def click_map_at(page, lon: float, lat: float) -> None:
    """A real mouse click on the map where the point is."""
    point = page.evaluate(
        "([lat, lon]) => { const p = document.getElementById('map').geo311Map.latLngToContainerPoint([lat, lon]);"
        " return {x: p.x, y: p.y}; }",
        [lat, lon],
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def test_landing_map(settings, bound_database):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        watched = watch(page)

        page.goto(base + "/")
        page.wait_for_selector('#map[data-ready="true"]', timeout=30_000)
        assert page.locator("#map").get_attribute("data-wards-count") == "15"
        assert page.locator("#map").get_attribute("data-districts-count") == "99"
        assert page.locator(".leaflet-control-layers-overlays label").count() == 3

        page.locator("#map").scroll_into_view_if_needed()
        click_map_at(page, -118.4004, 34.0736)  # Beverly Hills: an enclave
        page.wait_for_selector('#locate-result[data-status="outside"]')
        text = page.locator("#locate-result").inner_text()
        assert "City of Beverly Hills" in text and "(310) 285-1000" in text

        click_map_at(page, -118.2668, 34.0732)  # Echo Park
        page.wait_for_selector('#locate-result[data-status="inside"]')
        assert "Council District 13" in page.locator("#locate-result").inner_text()

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "landing.png"))

    assert watched.requests and watched.outside(base) == []
    assert watched.errors == []
