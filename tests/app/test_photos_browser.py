"""A resident on a phone files a request with a photo; staff see it on the request page and hide it."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from app.factory import create_app
from core.settings import PROJECT_ROOT
from service_requests.models import RequestPhoto
from tests.app.test_photo_pages import show_photos_publicly
from tests.helpers.browser import chromium, live_server, log_in_page, watch
from tests.helpers.staff import make_user
from tests.service_requests.test_photo_processing import jpeg_with_gps

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "photos"
PHONE = {"width": 390, "height": 844}


def test_a_resident_files_a_request_with_a_photo_on_a_phone(settings, bound_database, session, tmp_path):
    show_photos_publicly(session)
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_with_gps((3000, 4000)))
    app = create_app(dataclasses.replace(settings, media_dir=tmp_path / "media"), database=bound_database)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        resident = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        watched = watch(resident)
        resident.goto(f"{base}/report/graffiti")
        resident.wait_for_selector('#intake-map[data-ready="true"]')
        resident.focus("#address-input")
        resident.keyboard.type("2111 w bel", delay=30)
        resident.wait_for_selector("#address-suggestions:not([hidden]) [role=option]")
        resident.keyboard.press("ArrowDown")
        resident.keyboard.press("Enter")
        resident.wait_for_selector('#address-result[data-status="valid"]')
        resident.select_option("#surface", "wall")
        resident.fill("#description", "Tags on the garage door")
        too_big = tmp_path / "huge.jpg"
        too_big.write_bytes(b"\xff\xd8" + bytes(11_000_000))
        resident.set_input_files("#photos", str(too_big))  # said at once, and the form is not sent with it
        assert "huge.jpg is 11.0 MB" in resident.locator("#photos-check").inner_text()
        resident.click("#request-form button[type=submit]")
        assert "/report/graffiti" in resident.url and resident.locator("#description").input_value()
        resident.set_input_files("#photos", str(photo))
        assert resident.locator("#photos-check").is_hidden()
        resident.locator("#photos").scroll_into_view_if_needed()
        resident.screenshot(path=str(SHOTS / "form-phone.png"), full_page=True)
        resident.click("#request-form button[type=submit]")
        resident.wait_for_selector("h1:has-text('Request ')")
        assert "your request was received" in resident.inner_text("main")
        image = resident.locator(".request-photos img")
        image.wait_for()
        assert resident.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 1200
        assert resident.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        resident.screenshot(path=str(SHOTS / "status-phone.png"), full_page=True)
        reference = resident.url.rsplit("/", 1)[-1].split("?")[0]

        staff = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        watch(staff, watched)
        with bound_database.session() as users:
            log_in_page(staff, base, make_user(users, "department"), f"/staff/requests/{reference}")
        shown = staff.locator(".request-photos img")
        shown.wait_for()
        assert staff.evaluate("(img) => img.complete && img.naturalWidth", shown.element_handle()) == 1200
        staff.locator(".request-photos").scroll_into_view_if_needed()
        staff.screenshot(path=str(SHOTS / "staff-phone.png"), full_page=True)
        staff.click(".request-photos button:has-text('Hide from the public')")
        staff.wait_for_selector(".request-photos button:has-text('Show it again')")
        assert "Photo hidden from the public." in staff.locator(".flash-success").inner_text()
        staff.locator(".request-photos img").scroll_into_view_if_needed()  # loaded lazily: bring it in view
        hidden_image = staff.locator(".request-photos img").element_handle()
        for _ in range(50):  # (wait_for_function evaluates a string, which the page's CSP forbids)
            if staff.evaluate("(img) => img.complete && img.naturalWidth", hidden_image):
                break
            staff.wait_for_timeout(100)
        staff.screenshot(path=str(SHOTS / "staff-hidden-phone.png"), full_page=True)
        assert staff.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        resident.reload()
        assert resident.locator(".request-photos img").count() == 0  # hidden: off the public page
    assert watched.errors == []
    assert all(url.startswith(base) for url in watched.requests)
    with bound_database.session() as check:
        assert check.scalar(select(RequestPhoto.hidden)) is True
