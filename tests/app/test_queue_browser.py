"""The work queue in headless Chromium: department staff sort, filter "mine", see the map markers,
and the page fits a 390 px phone without sideways scrolling."""

from __future__ import annotations

import pytest

from core.settings import PROJECT_ROOT
from service_requests.intake import RequestInput, create_request
from tests.helpers.browser import app_in_chromium, log_in_page
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "queue"


def test_department_staff_work_their_queue(settings, bound_database, la, validator):
    with bound_database.session() as session:
        username = make_user(session, "department", department_code="OCB")
        made = [
            create_request(
                session,
                la,
                validator,
                RequestInput(service_code="graffiti", channel="phone", address=address, attributes={"surface": "wall"}),
            ).request
            for address in ("2111 W Bellevue Ave", "2111 W Bellevue Ave", "2111 W Bellevue Ave")
        ]
        made[0].assignee = f"user:{username}"
        chief = make_user(session, "supervisor", department_code="OCB")
        session.commit()
        mine = made[0].public_ref
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_in_chromium(settings, bound_database) as (base, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in_page(page, base, username, "/staff/queue")
        page.wait_for_selector('#queue-map[data-ready="true"]')
        assert int(page.get_attribute("#queue-map", "data-markers") or "0") >= 1
        page.click("a[data-sort=age]")
        page.wait_for_selector("th[aria-sort=ascending] a[data-sort=age]")
        page.click("a[data-sort=age]")
        page.wait_for_selector("th[aria-sort=descending] a[data-sort=age]")
        page.check("input[name=mine]")
        page.click("#queue-filters button[type=submit]")
        page.wait_for_url("**mine=1**")
        page.wait_for_selector('#queue-map[data-ready="true"]')
        rows = page.locator("#queue-table tbody tr[data-reference]")
        assert [rows.nth(i).get_attribute("data-reference") for i in range(rows.count())] == [mine]
        assert page.get_attribute("#queue-map", "data-markers") == "1"
        page.click("#queue-map path.leaflet-interactive")
        shown = page.inner_text("#queue-table tbody tr[data-reference] a.reference")  # the short reference
        assert shown and shown != mine
        page.wait_for_selector(f".leaflet-popup-content:has-text('{shown}')")
        page.screenshot(path=str(SHOTS / "queue-mine.png"), full_page=True)
        page.fill(".queue-save input[name=name]", "My oldest")
        page.click(".queue-save button[type=submit]")
        page.wait_for_selector(".flash-success")
        page.goto(base + "/staff/queue")
        page.click(".queue-saved a:has-text('My oldest')")
        page.wait_for_url("**mine=1**")
        assert page.get_attribute("th[aria-sort=descending] a", "data-sort") == "age"
        page.screenshot(path=str(SHOTS / "queue-saved-view.png"), full_page=True)

        # Bulk assignment needs requests.reassign: a supervisor of the department, with one confirmation.
        boss = browser.new_page(viewport={"width": 1280, "height": 900})
        log_in_page(boss, base, chief, "/staff/queue")
        for request in made[1:]:
            boss.check(f"input[name=ref][value='{request.public_ref}']")
        boss.select_option("#bulk-action", "assign")
        boss.select_option("#bulk-assignee", f"user:{username}")
        boss.click("#queue-bulk button[type=submit]")
        boss.wait_for_selector("#bulk-confirm")
        assert "Confirm: 2 request(s)" in boss.inner_text("main")
        boss.screenshot(path=str(SHOTS / "queue-bulk-confirm.png"), full_page=True)
        boss.click("#bulk-confirm")
        boss.wait_for_selector(".flash-success")
        assert "2 assigned" in boss.inner_text(".flash-success")
        boss.wait_for_selector('#queue-map[data-ready="true"]')
        assert int(boss.get_attribute("#queue-map", "data-markers") or 0) >= 2
        boss.screenshot(path=str(SHOTS / "queue-bulk-done.png"), full_page=True)

        phone = browser.new_page(viewport={"width": 390, "height": 844})
        log_in_page(phone, base, username, "/staff/queue")
        phone.wait_for_selector('#queue-map[data-ready="true"]')
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(SHOTS / "queue-phone.png"), full_page=True)
