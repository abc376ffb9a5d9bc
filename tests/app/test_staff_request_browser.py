"""The staff request page in headless Chromium, as department staff, on a desktop and a phone."""

from __future__ import annotations

import pytest

from core.settings import PROJECT_ROOT
from tests.app.test_staff_pages import make
from tests.helpers.browser import app_in_chromium, log_in_page, watch
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "request-page"


def test_staff_work_a_request_on_its_page(settings, bound_database, session, la, validator):
    original, copy = make(session, la, validator), make(session, la, validator)
    session.commit()
    with app_in_chromium(settings, bound_database) as (base, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        watched = watch(page)
        with bound_database.session() as users:
            log_in_page(page, base, make_user(users, "department"), f"/staff/requests/{copy.public_ref}")
        assert page.locator("#status").input_value() == "submitted"
        page.select_option("#status", "in_progress")
        page.click("form:has(#status) button[type=submit]")
        assert "Status changed to In progress." in page.locator(".flash-success").inner_text()
        assert page.locator("#status").input_value() == "in_progress"  # preset to the current status
        page.fill("#original", "LA-NOPE")
        page.click("form:has(#original) button[type=submit]")
        assert "No request you can see" in page.locator(".form-error").inner_text()
        assert page.locator("#original").input_value() == "LA-NOPE"
        page.screenshot(path=f"{SHOTS}/error-desktop.png", full_page=True)
        page.fill("#original", original.public_ref)
        page.click("form:has(#original) button[type=submit]")
        assert f"Marked as a duplicate of {original.public_ref}." in page.locator(".flash-success").inner_text()
        page.screenshot(path=f"{SHOTS}/duplicate-desktop.png", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/staff/requests/{original.public_ref}")
        page.screenshot(path=f"{SHOTS}/phone.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The mistyped reference answers 400 on purpose; Chromium logs that status, nothing else may fail.
    assert [e for e in watched.errors if "400 (BAD REQUEST)" not in e] == []
