"""The public map of reports in headless Chromium, on a desktop (1280 px) and a phone (390 px).

Clusters ring the legend's colours by their shares; a point's popup leads to the status page;
the "older" checkbox sends the form; at 390 px the map sits under the filter at full width and
nothing scrolls sideways; the list is the map's alternative. Nothing is loaded from outside.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, watch
from tests.service_requests.test_public_reports import BELLEVUE, file

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "public-map"


def _reports(session, la, validator) -> list:
    """Nine reports around Echo Park, three of them closed (one a long time ago)."""
    made = []
    for i in range(9):
        lon, lat = BELLEVUE[0] + (i % 3) * 0.0015, BELLEVUE[1] + (i // 3) * 0.0012
        made.append(file(session, la, validator, lon=lon, lat=lat))
    for request, days in ((made[0], 1), (made[4], 3), (made[8], 200)):
        session.execute(
            text(
                "UPDATE service_request SET status = 'fixed', closed_at = now() - make_interval(days => :d) WHERE id = :id"
            ),
            {"d": days, "id": request.id},
        )
    session.commit()
    return made


def _ready(page) -> None:
    page.wait_for_selector('#around-map[data-ready="true"]')


def test_the_public_map_on_a_desktop_and_a_phone(settings, bound_database, session, la, validator):
    made = _reports(session, la, validator)
    SHOTS.mkdir(parents=True, exist_ok=True)
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        watched = watch(page)
        page.goto(f"{base}/around")
        _ready(page)
        assert page.get_attribute("#around-map", "data-markers") == "8"  # the one closed 200 days ago is hidden
        assert page.get_attribute("#around-map", "data-open") == "6"
        assert "8 (6 open, 2 closed)" in page.inner_text("#around-summary")
        cluster = page.locator(".around-cluster").first
        cluster.wait_for()
        assert int(cluster.get_attribute("data-open")) >= int(cluster.get_attribute("data-closed"))
        background = cluster.evaluate("el => getComputedStyle(el).backgroundImage")
        assert "conic-gradient" in background and "rgb(217, 95, 2)" in background  # the legend's open colour
        page.screenshot(path=str(SHOTS / "map-desktop.png"), full_page=True)

        # Close in: single points, each with its popup and the link to its status page.
        page.evaluate(
            "([lat, lon]) => document.getElementById('around-map').geo311Map.setView([lat, lon], 18, {animate: false})",
            [BELLEVUE[1], BELLEVUE[0]],
        )
        # Each report is reachable by keyboard: a button in the tab order that Enter opens.
        point = page.locator("#around-map .around-dot-icon").first
        point.wait_for()
        assert point.get_attribute("tabindex") == "0" and point.get_attribute("role") == "button"
        assert point.text_content() in ("Graffiti Removal (open)", "Graffiti Removal (closed)")  # its name
        point.focus()
        page.keyboard.press("Enter")
        popup = page.locator(".around-popup")
        popup.wait_for()
        assert "Graffiti Removal" in popup.inner_text() and "Bob" not in popup.inner_text()
        href = popup.locator("a").get_attribute("href")
        assert href.startswith("/status/") and href.removeprefix("/status/") in {r.short_ref_shown for r in made}
        page.wait_for_timeout(400)  # the popup's fade-in
        page.screenshot(path=str(SHOTS / "map-popup-desktop.png"))

        # Older closed reports: the checkbox sends the form, and the map shows them.
        page.check("#around-older")
        page.wait_for_url("**/around?*older=1*")
        _ready(page)
        assert page.get_attribute("#around-map", "data-markers") == "9"

        phone = browser.new_page(viewport={"width": 390, "height": 844})
        watch(phone, watched)
        phone.goto(f"{base}/around?ward=13")
        _ready(phone)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        box = phone.locator("#around-map").bounding_box()
        assert box["width"] >= 380 and box["height"] >= 280  # full width, a usable height
        assert box["y"] < 600  # on the first screen, under the title and the legend; the filter follows it
        service = phone.locator("#around-service").bounding_box()
        assert service["height"] >= 44  # a touch target
        phone.screenshot(path=str(SHOTS / "map-phone.png"), full_page=True)
        phone.click("#around-list-link")
        phone.wait_for_selector("#around-reports")
        assert phone.locator(".around-report").count() == 8
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(SHOTS / "list-phone.png"), full_page=True)
    assert watched.errors == [] and watched.outside(base) == []


def test_the_public_maps_popup_in_spanish(settings, bound_database, session, la, validator):
    """The popup's words and dates are the page's language's: "Reportado el 3 dic 2026", not an ISO date."""
    made = _reports(session, la, validator)
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="es-US")
        watched = watch(page)
        page.goto(f"{base}/around")
        _ready(page)
        assert page.get_attribute("html", "lang") == "es"
        page.evaluate(
            "([lat, lon]) => document.getElementById('around-map').geo311Map.setView([lat, lon], 18, {animate: false})",
            [BELLEVUE[1], BELLEVUE[0]],
        )
        point = page.locator("#around-map .around-dot-icon").first
        point.wait_for()
        point.focus()
        page.keyboard.press("Enter")
        popup = page.locator(".around-popup")
        popup.wait_for()
        words = popup.inner_text()
        requested = made[0].requested_at.astimezone(la.tz).date()
        assert "Eliminación de grafiti" in words and "Reportado el " in words
        assert requested.isoformat() not in words and "Reported" not in words
        spanish_date = page.evaluate(
            "iso => window.geo311Date(iso)", requested.isoformat()
        )  # the browser's Spanish: "3 dic 2026"
        assert spanish_date != requested.isoformat() and str(requested.year) in spanish_date
        assert f"Reportado el {spanish_date}" in words
        month = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")[
            requested.month - 1
        ]
        assert month in spanish_date
        page.wait_for_timeout(400)  # the popup's fade-in
        page.screenshot(path=str(SHOTS / "map-popup-spanish.png"))
    assert watched.errors == [] and watched.outside(base) == []
