"""The issue's typed addresses in the resident form, in headless Chromium (issue 15).

A neighbour's address typed with its city is redirected (the dialog names the agency and its
phone, judged by the place name); N is not offered S; a number between close known numbers is
shown where it would be and can be filed there; nothing loads from outside.
"""

from __future__ import annotations

import pytest

from app.factory import create_app
from tests.app.test_browser import SCREENSHOTS
from tests.helpers.browser import chromium, live_server, watch

pytestmark = pytest.mark.browser


def check(page, typed: str, status: str) -> str:
    page.fill("#address-input", typed)
    page.click("#address-check")
    page.wait_for_selector(f'#address-result[data-status="{status}"]')
    return page.inner_text("#address-result")


def test_the_issues_addresses_in_the_resident_form(settings, bound_database):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        watched = watch(page)
        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

        for typed, agency, phone in [
            ("9770 Culver Blvd, Culver City", "City of Culver City", "(310) 253-6000"),
            ("8300 Santa Monica Blvd, West Hollywood, CA 90069", "City of West Hollywood", "(323) 848-6400"),
        ]:
            check(page, typed, "outside")
            page.wait_for_selector("#redirect-dialog[open]")
            page.wait_for_selector('#redirect-map[data-ready="true"]')
            dialog = page.inner_text("#redirect-dialog")
            assert agency in dialog and phone in dialog and "place name" in dialog, dialog
            assert typed in dialog
            page.screenshot(path=str(SCREENSHOTS / f"why-{agency.split()[-1].lower()}.png"))
            page.click("#redirect-close")

        shown = check(page, "800 N Alameda St", "not_found")
        assert "800 S ALAMEDA ST" not in shown or "not N ALAMEDA ST" in shown
        assert "N ALAMEDA ST" in shown and "click the map" in shown

        shown = check(page, "315 S Main St", "approximate")
        assert "between 303 and 327 S MAIN ST" in shown
        assert page.input_value("#address-lon") and page.input_value("#address-lat")
        page.screenshot(path=str(SCREENSHOTS / "why-approximate.png"), full_page=True)
        page.click("#address-confirm")
        page.select_option("#surface", "wall")
        page.fill("#description", "Tags on the shutter")
        page.click("#request-form button[type=submit]")
        page.wait_for_selector("h1:has-text('Request ')")
        main = page.inner_text("main")
        assert "300 block of S MAIN ST" in main, main
        page.screenshot(path=str(SCREENSHOTS / "why-approximate-filed.png"), full_page=True)
    assert watched.outside(base) == [] and watched.errors == []
