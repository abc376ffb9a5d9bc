"""A call taken with the keyboard only, in headless Chromium: how many keys besides the typed text.

Before issue 19 the same call (Bulky Items, an address, a name and a phone) took 105 keystrokes,
42 of them Tab. The count is printed and must stay at most 40.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.settings import PROJECT_ROOT
from service_requests.models import RequestContact, ServiceRequest
from tests.helpers.browser import app_in_chromium
from tests.helpers.staff import PASSWORD, make_user

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "var" / "screenshots" / "call-taker"
MAX_KEYS = 40


def test_a_call_by_keyboard_takes_at_most_40_keys(settings, bound_database, session):
    username = make_user(session, "intake")
    SHOTS.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    with app_in_chromium(settings, bound_database) as (base, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def press(key: str) -> None:  # a keystroke that is not the typed text itself
            keys.append(key)
            page.keyboard.press(key)

        def type_text(text: str) -> None:
            page.keyboard.type(text, delay=20)

        page.goto(base + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url(lambda url: "/login" not in url)

        page.goto(base + "/intake/new")  # the call starts here: the cursor is in the search
        assert page.evaluate("document.activeElement.id") == "service-search"
        type_text("couch")
        page.wait_for_selector("#service-lists li.active")
        assert "Bulky Items" in page.inner_text("#service-lists li.active")
        page.screenshot(path=str(SHOTS / "search-couch.png"), full_page=True)
        press("Enter")
        page.wait_for_url("**/intake/new/bulky-items")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        assert page.evaluate("document.activeElement.id") == "address-input"

        type_text("2111 w bel")
        page.wait_for_selector("#address-suggestions:not([hidden]) [role=option]")
        press("ArrowDown")
        press("Enter")
        page.wait_for_selector('#address-result[data-status="valid"]')

        # the service's required answer (which items), then the caller's name and phone
        while page.evaluate("document.activeElement.name") != "attribute[items][]":
            press("Tab")
        press("Space")
        while page.evaluate("document.activeElement.id") != "first_name":
            press("Tab")
            assert len(keys) < 100, keys
        type_text("Ana")
        while page.evaluate("document.activeElement.id") != "phone":
            press("Tab")
        type_text("213 555 0100")
        page.screenshot(path=str(SHOTS / "intake-form-filled.png"), full_page=True)
        press("Enter")  # submits the form
        page.wait_for_selector("#call-reference")
        shown = page.inner_text("#call-reference")
        page.screenshot(path=str(SHOTS / "call-saved.png"), full_page=True)
        assert page.evaluate("document.activeElement.id") == "next-call"
        press("Enter")  # Next call: back to the search, cursor in it
        page.wait_for_url("**/intake/new")
        assert page.evaluate("document.activeElement.id") == "service-search"

    print(f"\nkeystrokes besides the typed text: {len(keys)} ({keys.count('Tab')} Tab): {' '.join(keys)}")
    assert len(keys) <= MAX_KEYS, keys
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.short_ref == shown.replace("-", "")))
    assert request is not None and request.service_code == "bulky-items" and request.channel == "phone"
    assert session.get(RequestContact, request.id).phone == "213 555 0100"


def test_add_this_caller_from_the_map_hints_and_see_the_callers_history(settings, bound_database, session):
    username = make_user(session, "intake")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_in_chromium(settings, bound_database) as (base, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url(lambda url: "/login" not in url)

        def file_at_bellevue(phone: str) -> None:
            page.goto(base + "/intake/new/graffiti")
            page.wait_for_selector('#intake-map[data-ready="true"]')
            page.keyboard.type("2111 w bel", delay=20)
            page.wait_for_selector("#address-suggestions:not([hidden]) [role=option]")
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
            page.wait_for_selector('#address-result[data-status="valid"]')
            page.select_option("#surface", "wall")
            page.fill("#phone", phone)
            page.dispatch_event("#phone", "change")

        file_at_bellevue("213 555 0111")
        page.click("#request-form button[type=submit]")
        page.wait_for_selector("#call-reference")
        first = page.inner_text("#call-reference")

        file_at_bellevue("(213) 555-0111")  # the same caller again, typed otherwise
        page.wait_for_selector("#caller-history li")
        assert first in page.inner_text("#caller-history")
        page.wait_for_selector("#nearby-requests button.follow")
        assert page.locator("#intake-map .leaflet-interactive").count() >= 1  # the hints on the map
        page.screenshot(path=str(SHOTS / "nearby-and-history.png"), full_page=True)
        page.click(f"#nearby-requests li:has-text('{first}') button.follow")
        page.wait_for_selector("#call-reference")
        assert f"Added to {first}" in page.inner_text("main")
        page.screenshot(path=str(SHOTS / "caller-added.png"), full_page=True)
