"""The staff request page's map, candidate duplicates and replies in headless Chromium, as department staff."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.settings import PROJECT_ROOT
from tests.app.test_staff_pages import make
from tests.helpers.browser import app_in_chromium, log_in_page, watch
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "request-tools"


def test_the_map_shows_the_point_and_candidates_and_one_click_closes_a_duplicate(
    settings, bound_database, session, la, validator
):
    request = make(session, la, validator, response_method="email")
    candidate, nearby = make(session, la, validator), make(session, la, validator)
    # The nearby one is 600 m east: outside the candidates' 200 m, inside the staff's 1000 m.
    session.execute(
        text(
            "UPDATE service_request SET geom = ST_Project(geom::geography, 600, radians(90))::geometry WHERE id = :id"
        ),
        {"id": nearby.id},
    )
    session.commit()
    with app_in_chromium(settings, bound_database) as (base, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        watched = watch(page)
        with bound_database.session() as users:
            log_in_page(page, base, make_user(users, "department"), f"/staff/requests/{request.public_ref}")
        page.wait_for_selector('#request-map[data-ready="true"]')
        assert page.get_attribute("#request-map", "data-candidates") == "1"
        assert page.get_attribute("#request-map", "data-nearby") == "1"
        assert page.locator("#request-map .marker-here").count() == 1
        assert page.locator("#request-map .marker-candidate").count() == 1
        page.locator("#request-map .leaflet-tile-pane canvas, #request-map .leaflet-tile-pane img").first.wait_for()
        page.wait_for_timeout(1000)  # the base layer's tiles draw
        page.screenshot(path=f"{SHOTS}/map-and-candidates.png", full_page=True)

        item = page.locator(f'li.candidate[data-reference="{candidate.public_ref}"]')
        item.locator("button.mark-it").click()
        message = page.locator(".flash-success").inner_text()
        assert f"Marked {candidate.public_ref} as a duplicate of {request.public_ref}." in message
        assert page.locator("dd.duplicates a", has_text=candidate.public_ref).count() == 1
        page.wait_for_selector('#request-map[data-ready="true"]')
        assert page.get_attribute("#request-map", "data-candidates") == "0"  # it is a duplicate now
        assert page.get_attribute("#request-map", "data-nearby") == "1"
        page.screenshot(path=f"{SHOTS}/reverse-duplicate.png", full_page=True)

        # A templated reply: the request is fixed, the graffiti template fits; pick it, edit, send.
        page.select_option("#status", "fixed")
        page.click("form:has(#status) button[type=submit]")
        assert "Status changed to Fixed." in page.locator(".flash-success").inner_text()
        page.wait_for_load_state("load")  # request-reply.js has run
        page.select_option("#reply-template", "Graffiti removed")
        filled = page.locator("#reply-text").input_value()
        assert filled.startswith("The graffiti at") and request.short_ref_shown in filled and "{" not in filled
        page.fill("#reply-text", filled + " We painted the wall on Tuesday.")
        page.screenshot(path=f"{SHOTS}/reply-form.png", full_page=True)
        page.click("form.reply-form button[type=submit]")
        assert "Reply sent" in page.locator(".flash-success").inner_text()
        assert page.locator("td", has_text="We painted the wall on Tuesday.").count() == 1
        page.wait_for_selector('#request-map[data-ready="true"]')
        page.screenshot(path=f"{SHOTS}/reply-sent.png", full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/staff/requests/{nearby.public_ref}")
        page.wait_for_selector('#request-map[data-ready="true"]')
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=f"{SHOTS}/phone.png", full_page=True)
    assert watched.errors == [] and watched.outside(base) == []
