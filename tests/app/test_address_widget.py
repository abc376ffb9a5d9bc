"""The intake address widget in headless Chromium, used by keyboard as intake staff do."""

from __future__ import annotations

import dataclasses

import pytest

from app.factory import create_app
from tests.app.test_browser import SCREENSHOTS
from tests.helpers.browser import chromium, live_server, log_in_page
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser


def open_widget(browser, base: str, database, city: str = "la"):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    with database.session() as session:
        username = make_user(session, "intake", city=city)
    log_in_page(page, base, username, "/intake/address")
    page.wait_for_selector('#intake-map[data-ready="true"]')
    return page, requests


def test_keyboard_only_intake(settings, bound_database):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page, requests = open_widget(browser, base, bound_database)
        assert page.evaluate("document.activeElement.id") == "address-input"  # ready to type on arrival

        page.keyboard.type("2111 w bel", delay=40)
        page.wait_for_selector("#address-suggestions:not([hidden]) [role=option]")
        assert page.get_attribute("#address-input", "aria-expanded") == "true"
        page.keyboard.press("ArrowDown")
        assert page.get_attribute("#address-option-0", "aria-selected") == "true"
        page.keyboard.press("Enter")
        page.wait_for_selector('#address-result[data-status="valid"]')
        assert "Council District 13" in page.inner_text("#address-result")
        assert page.input_value("#address-id")

        page.fill("#address-input", "326 Bonnie Brae St")
        page.keyboard.press("Enter")
        page.wait_for_selector('#address-result[data-status="ambiguous"]')
        assert page.evaluate("document.activeElement.className") == "suggestion-button"  # focus on the first choice
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # the second candidate, by keyboard
        page.wait_for_selector('#address-result[data-status="valid"]')

        page.fill("#address-input", "La Cienega Blvd & Blackwelder St")
        page.keyboard.press("Enter")
        page.wait_for_selector("#redirect-dialog[open]")
        assert "City of Culver City" in page.inner_text("#redirect-dialog")
        page.keyboard.press("Escape")
        page.wait_for_selector("#redirect-dialog", state="hidden")
        assert page.evaluate("document.activeElement.id") == "address-input"
    assert all(url.startswith(base) for url in requests)


def test_the_gardena_redirect_screen(settings, bound_database):
    app = create_app(dataclasses.replace(settings, city="gardena"), database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page, requests = open_widget(browser, base, bound_database, city="gardena")
        page.fill("#address-input", "16117 S Menlo Ave, Gardena CA 90247")
        page.press("#address-input", "Enter")
        page.wait_for_selector("#redirect-dialog[open]")
        page.wait_for_selector('#redirect-map[data-ready="true"]')
        text = page.inner_text("#redirect-dialog")
        assert "is not in the City of Gardena" in text
        assert "It lies within the boundaries of City of Los Angeles." in text
        assert "Contact them at 311" in text
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "gardena-redirect.png"))
    assert all(url.startswith(base) for url in requests)


def test_the_suggestion_list_never_covers_the_buttons(settings, bound_database):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page, _ = open_widget(browser, base, bound_database)
        page.keyboard.type("2111 w bellevue ave", delay=30)
        page.wait_for_selector("#address-suggestions:not([hidden]) [role=option]")
        page.click("#address-check")  # with the list open, by mouse
        page.wait_for_selector('#address-result[data-status="valid"]')
