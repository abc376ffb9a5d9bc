"""Supervisors in headless Chromium: the escalations list and an acknowledgement, the Overdue picker
(no inline script), ward lists in number order, and logging in as someone else from /login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.escalations import escalate
from core.settings import PROJECT_ROOT
from service_requests.intake import RequestInput, create_request
from service_requests.selection import natural_key
from tests.helpers.browser import app_in_chromium, log_in_page
from tests.helpers.staff import PASSWORD, make_user

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "supervision"


def test_a_supervisor_acknowledges_an_escalation(settings, bound_database, la, validator):
    with bound_database.session() as session:
        chief = make_user(session, "supervisor", department_code="OCB")
        admin = make_user(session, "admin")
        late = create_request(
            session,
            la,
            validator,
            RequestInput(
                service_code="graffiti",
                channel="phone",
                address="2111 W Bellevue Ave",
                attributes={"surface": "wall"},
                requested_at=datetime.now(UTC) - timedelta(days=6),
            ),
        ).request
        escalate(session, "la")
        ref = late.short_ref_shown
    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_in_chromium(settings, bound_database) as (base, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        log_in_page(page, base, chief, "/staff/escalations")
        row = page.locator(f"#escalations tr[data-ref='{ref}']")
        assert "days late" in row.inner_text() and "Acknowledge" in row.inner_text()
        page.screenshot(path=str(SHOTS / "escalations.png"), full_page=True)
        row.locator("input[name=note]").fill("Crew booked for Monday")
        row.locator("button[type=submit]").click()
        page.wait_for_selector(".flash-success")
        assert f"Escalation of {ref} acknowledged." in page.inner_text(".flash-success")
        assert f"Yes: {chief}" in page.locator(f"#escalations tr[data-ref='{ref}']").inner_text()
        page.screenshot(path=str(SHOTS / "escalations-acknowledged.png"), full_page=True)

        # The Overdue picker, as a city-wide user: choosing submits (a served script), and Show is visible.
        page.goto(f"{base}/login")
        assert "You are logged in as" in page.inner_text("#logged-in-as")
        page.screenshot(path=str(SHOTS / "login-while-logged-in.png"), full_page=True)
        page.fill("input[name=username]", admin)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/login")
        assert f"({admin})" in page.inner_text("#logged-in-as")  # the first attempt worked
        page.goto(f"{base}/staff/overdue")
        assert page.is_visible(".supervision-picker button[type=submit]")
        page.select_option("#department", "OCB")
        page.wait_for_url("**department=OCB**")
        assert "in OCB" in page.inner_text("#overdue-summary")
        page.screenshot(path=str(SHOTS / "overdue-ocb.png"), full_page=True)
        page.select_option("#department", "")
        page.click(".supervision-picker button[type=submit]")
        page.wait_for_url("**department=**")
        assert "in OCB" not in page.inner_text("#overdue-summary")

        # Ward lists in number order (the queue's ward filter).
        page.goto(f"{base}/staff/queue")
        names = [n.strip() for n in page.locator("select[name=ward] option").all_inner_texts() if n.strip()]
        names = [n for n in names if not n.lower().startswith("any") and not n.lower().startswith("all")]
        assert len(names) > 2 and names == sorted(names, key=natural_key)
        assert not [e for e in errors if "Content Security Policy" in e]
