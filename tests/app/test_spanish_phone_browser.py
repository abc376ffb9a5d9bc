"""A resident whose phone asks for Spanish (390 x 844) files a graffiti request with a photo and follows it:
every step in Spanish, the scripts' sentences too (the address widget's, the photo check's)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from app.factory import create_app
from core.settings import PROJECT_ROOT
from service_requests.models import RequestPhoto, ServiceRequest, Subscription
from tests.app.test_photo_pages import show_photos_publicly
from tests.helpers.browser import chromium, live_server, watch
from tests.service_requests.test_photo_processing import jpeg_with_gps

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "spanish"
PHONE = {"width": 390, "height": 844}


def test_a_resident_in_spanish_files_a_request_with_a_photo_and_follows_it(settings, bound_database, session, tmp_path):
    show_photos_publicly(session)
    photo = tmp_path / "IMG_2041.jpg"
    photo.write_bytes(jpeg_with_gps((3000, 4000)))
    too_big = tmp_path / "grande.jpg"
    too_big.write_bytes(b"\xff\xd8" + bytes(11_000_000))
    app = create_app(dataclasses.replace(settings, media_dir=tmp_path / "media"), database=bound_database)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-US")
        watched = watch(page)
        page.goto(f"{base}/report/graffiti")
        assert page.get_attribute("html", "lang") == "es"
        assert page.inner_text("h1") == "Eliminación de grafiti"
        assert page.inner_text("label[for=address-input]") == "Dirección del servicio"
        page.wait_for_selector('#intake-map[data-ready="true"]')
        page.fill("#address-input", "2111 W Bellevue Ave")
        page.click("#address-check")
        page.wait_for_selector('#address-result[data-status="valid"]')
        result = page.inner_text("#address-result")
        assert "Dirección válida" in result and "Confirmar esta ubicación" in result  # the widget's script
        page.select_option("#surface", "wall")
        page.fill("#description", "Grafiti en la puerta del garaje")
        page.set_input_files("#photos", str(too_big))  # the photo check's script, in Spanish
        assert "grande.jpg pesa 11.0 MB; se aceptan fotos de" in page.inner_text("#photos-check")
        page.set_input_files("#photos", str(photo))
        assert page.locator("#photos-check").is_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(SHOTS / "form-phone.png"), full_page=True)
        page.click("#request-form button[type=submit]")

        page.wait_for_selector("h1:has-text('Solicitud ')")
        reference = page.url.rsplit("/", 1)[-1].split("?")[0]
        main = page.inner_text("main")
        assert "Gracias: recibimos su solicitud" in main and "Recibida" in main
        assert "cuadra 2100 de W BELLEVUE AVE" in main  # the public place, its street as named
        image = page.locator(".request-photos img")
        image.wait_for()
        assert page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 1200
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(SHOTS / "status-phone.png"), full_page=True)

        page.fill("#follow-email", "ana@example.org")
        page.click("#follow-submit")
        page.wait_for_selector("text=Revise su correo electrónico")
        page.screenshot(path=str(SHOTS / "follow-sent-phone.png"), full_page=True)
    assert watched.errors == []
    assert all(url.startswith(base) for url in watched.requests)
    with bound_database.session() as check:
        filed = check.scalars(select(ServiceRequest).where(ServiceRequest.public_ref == reference)).one()
        assert filed.language == "es"  # the requester's e-mails are written in Spanish
        assert len(check.scalars(select(RequestPhoto).where(RequestPhoto.request_id == filed.id)).all()) == 1
        followers = check.scalars(select(Subscription.email).where(Subscription.request_id == filed.id)).all()
        assert followers == ["ana@example.org"]
