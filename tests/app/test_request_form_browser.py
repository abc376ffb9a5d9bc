"""The resident form in headless Chromium: an error keeps the validated address on the map. Issue 20."""

from __future__ import annotations

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, watch

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "var" / "screenshots" / "form"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def map_state(page) -> dict:
    """The marker's place, the map's centre and whether the marker is inside the map's view."""
    return page.evaluate(
        """() => {
          const map = document.getElementById("intake-map").geo311Map;
          const markers = [];
          map.eachLayer((layer) => { if (layer instanceof L.Marker) { markers.push(layer.getLatLng()); } });
          const m = markers[0];
          return { markers: markers.length, lat: m && m.lat, lon: m && m.lng,
                   inView: Boolean(m) && map.getBounds().contains(m), zoom: map.getZoom() };
        }"""
    )


def page_errors(watched) -> list[str]:
    """Script errors, not the 400 status of a form sent back with an error (Chromium logs it too)."""
    return [e for e in watched.errors if "status of 400" not in e]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_an_error_keeps_the_validated_address_on_the_map(settings, bound_database, viewport):
    app = create_app(settings, database=bound_database)
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = viewport["width"]
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport=viewport)
        watched = watch(page)
        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        page.focus("#address-input")
        page.keyboard.type("2111 w bel", delay=30)
        page.wait_for_selector("#address-suggestions:not([hidden]) [role=option]")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_selector('#address-result[data-status="valid"]')
        page.click("#address-confirm")
        chosen = {name: page.input_value(f"#address-{name}") for name in ("id", "lon", "lat", "input")}
        page.select_option("#offensive", "yes")
        page.fill("#description", "Fresh tags on the garage")
        page.fill("#first_name", "Ana")
        page.fill("#email", "ana at example")  # two errors: the missing surface is reported first
        sent_at = len(watched.requests)
        with page.expect_navigation():
            page.click("#request-form button[type=submit]")

        page.wait_for_selector("#error-summary")
        page.wait_for_selector('#address-result[data-status="valid"]')
        assert page.evaluate("document.activeElement.id") == "error-summary"  # focus on the summary
        for name, sent in chosen.items():
            assert page.input_value(f"#address-{name}") == sent, name
        assert "BELLEVUE" in page.inner_text("#address-result").upper()
        assert page.inner_text("#address-confirm") == "Location confirmed"
        assert page.input_value("#description") == "Fresh tags on the garage"
        assert page.input_value("#email") == "ana at example" and page.input_value("#first_name") == "Ana"
        assert page.eval_on_selector("#offensive", "e => e.value") == "yes"
        page.wait_for_selector('#intake-map[data-ready="true"]')
        state = map_state(page)
        assert state["markers"] == 1 and state["inView"] and state["zoom"] >= 15, state
        assert abs(state["lon"] - float(chosen["lon"])) < 1e-6 and abs(state["lat"] - float(chosen["lat"])) < 1e-6
        page.screenshot(path=str(SHOTS / f"error-kept-{width}.png"), full_page=True)
        # shown again without checking the address a second time
        assert not [u for u in watched.requests[sent_at:] if "/api/addresses/" in u]

        page.click("#error-summary a")  # the summary's link puts the cursor in the field to correct
        assert page.evaluate("document.activeElement.id") == "surface"
        page.select_option("#surface", "wall")
        with page.expect_navigation():  # the page before it has an error summary too
            page.click("#request-form button[type=submit]")
        page.wait_for_selector("#error-summary")
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert "ana at example" in page.inner_text("#error-summary")
        assert page.get_attribute("#email", "aria-invalid") == "true"
        page.wait_for_selector('#address-result[data-status="valid"]')
        assert map_state(page)["markers"] == 1
        page.fill("#email", "ana@example.org")
        page.click("#request-form button[type=submit]")
        page.wait_for_selector("h1:has-text('Request ')")
        assert "2100 block of W BELLEVUE AVE" in page.inner_text("main")  # filed at the kept address
        assert not page_errors(watched), watched.errors
        assert not watched.outside(base)
