"""The resident form in headless Chromium: an error keeps the validated address on the map, and
"Use my location" takes the browser's position (granted, refused, outside the city). Issue 20."""

from __future__ import annotations

import dataclasses

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, log_in_page, watch
from tests.helpers.staff import make_user

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


def place(bound_database, validator, text: str) -> tuple[float, float]:
    """Where the address database puts ``text`` (its match, in the city or not)."""
    with bound_database.session() as session:
        match = validator.validate(session, text).match
    return match.lon, match.lat


def page_errors(watched) -> list[str]:
    """Script errors, not the 400 status of a form sent back with an error (Chromium logs it too)."""
    return [e for e in watched.errors if "status of 400" not in e]


def test_use_my_location_lands_on_the_nearest_address(settings, bound_database, validator):
    app = create_app(settings, database=bound_database)
    lon, lat = place(bound_database, validator, "2111 W Bellevue Ave")
    out_lon, out_lat = place(bound_database, validator, "La Cienega Blvd & Blackwelder St")  # Culver City
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        context.grant_permissions(["geolocation"])
        context.set_geolocation({"latitude": lat + 0.00005, "longitude": lon + 0.00004, "accuracy": 12})
        page = context.new_page()
        watched = watch(page)
        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        assert page.is_visible("#address-locate")
        page.click("#address-locate")
        page.wait_for_selector('#address-result[data-status="picked"]')
        assert "NEAREST ADDRESS: 2111 W BELLEVUE" in page.inner_text("#address-result").upper()
        assert "2111" in page.input_value("#address-input") and page.input_value("#address-id")
        assert page.get_attribute("#address-locate-status", "data-status") == "found"
        assert "within about 12 m" in page.inner_text("#address-locate-status")
        state = map_state(page)
        assert state["markers"] == 1 and state["inView"]
        assert abs(state["lat"] - (lat + 0.00005)) < 1e-6 and abs(state["lon"] - (lon + 0.00004)) < 1e-6
        page.screenshot(path=str(SHOTS / "use-my-location-390.png"), full_page=True)

        # outside the city: as a point picked there, the redirect screen of whose it is
        context.set_geolocation({"latitude": out_lat, "longitude": out_lon})
        page.click("#address-locate")
        page.wait_for_selector("#redirect-dialog[open]")
        assert "Culver City" in page.inner_text("#redirect-dialog")
        assert page.input_value("#address-lon") == "" and page.input_value("#address-id") == ""
        page.screenshot(path=str(SHOTS / "use-my-location-outside-390.png"), full_page=True)
        page.click("#redirect-close")
        assert not page_errors(watched), watched.errors
        context.close()


def test_use_my_location_refused(settings, bound_database):
    app = create_app(settings, database=bound_database)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(viewport=PHONE)  # no geolocation permission
        page = context.new_page()
        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        page.click("#address-locate")
        page.wait_for_selector('#address-locate-status[data-status="denied"]', timeout=20_000)
        message = page.inner_text("#address-locate-status")
        assert "did not let this page know your location" in message and "click the map" in message
        assert page.input_value("#address-lon") == ""
        # the message sits next to the button
        box = page.locator("#address-locate-status").bounding_box()
        button = page.locator("#address-locate").bounding_box()
        assert 0 <= box["y"] - (button["y"] + button["height"]) < 40
        page.screenshot(path=str(SHOTS / "use-my-location-denied-390.png"), full_page=True)
        context.close()


def test_use_my_location_on_the_staff_maps(settings, bound_database, validator):
    app = create_app(settings, database=bound_database)
    lon, lat = place(bound_database, validator, "2111 W Bellevue Ave")
    with bound_database.session() as session:
        username = make_user(session, "intake")
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(viewport=DESKTOP)
        context.grant_permissions(["geolocation"])
        context.set_geolocation({"latitude": lat, "longitude": lon})
        page = context.new_page()
        log_in_page(page, base, username, "/intake/address")
        for path in ("/intake/address", "/intake/new/graffiti"):
            page.goto(base + path)
            page.wait_for_selector('#intake-map[data-ready="true"]')
            page.click("#address-locate")
            page.wait_for_selector('#address-result[data-status="picked"]')
            assert "2111" in page.input_value("#address-input"), path
        page.screenshot(path=str(SHOTS / "use-my-location-staff-1280.png"), full_page=True)
        context.close()


def test_no_button_without_geolocation(settings, bound_database):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        # a browser with no geolocation at all: the button stays hidden
        page.add_init_script("delete Navigator.prototype.geolocation;")
        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        assert page.evaluate("'geolocation' in navigator") is False
        assert not page.is_visible("#address-locate")


def test_use_my_location_in_a_fixture_city(settings, bound_database):
    app = create_app(dataclasses.replace(settings, city="gardena"), database=bound_database)
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        context.grant_permissions(["geolocation"])
        context.set_geolocation({"latitude": 33.8880, "longitude": -118.3090})  # in Gardena
        page = context.new_page()
        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        page.click("#address-locate")
        page.wait_for_selector('#address-result[data-status="picked"]')
        assert page.input_value("#address-lon") == "-118.309" and page.input_value("#address-lat") == "33.888"
        page.screenshot(path=str(SHOTS / "use-my-location-gardena-390.png"), full_page=True)
        context.close()
