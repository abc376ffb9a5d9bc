"""Filing a request in headless Chromium, by keyboard, and seeing its status page."""

from __future__ import annotations

import pytest

from app.factory import create_app
from tests.app.test_browser import SCREENSHOTS
from tests.helpers.browser import chromium, live_server

pytestmark = pytest.mark.browser


def test_file_a_request_and_follow_it(settings, bound_database):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        page.focus("#address-input")
        page.keyboard.type("2111 w bel", delay=30)
        page.wait_for_selector("#address-suggestions:not([hidden]) [role=option]")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_selector('#address-result[data-status="valid"]')
        page.select_option("#surface", "wall")
        page.fill("#description", "Fresh tags on the garage")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "request-form.png"), full_page=True)
        page.click("#request-form button[type=submit]")
        page.wait_for_selector("h1:has-text('Request ')")
        assert "your request was received" in page.inner_text("main")
        assert "2100 block of W BELLEVUE AVE" in page.inner_text("main")
        page.screenshot(path=str(SCREENSHOTS / "request-status.png"), full_page=True)
    assert all(url.startswith(base) for url in requests)
