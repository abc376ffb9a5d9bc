"""Switching to Spanish in headless Chromium: the home page's switch, the catalogue in Spanish, remembered."""

from __future__ import annotations

import pytest

from app.factory import create_app
from tests.app.test_browser import SCREENSHOTS as ALL_SCREENSHOTS
from tests.helpers.browser import chromium, live_server

pytestmark = pytest.mark.browser

SCREENSHOTS = ALL_SCREENSHOTS / "i18n"


def test_switch_to_spanish_and_the_choice_is_remembered(settings, bound_database):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(base + "/")
        assert page.get_attribute("html", "lang") == "en"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "home-english.png"))
        page.click(".language-switch a[lang=es]")
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == "es"
        assert "Capas de límites" in page.inner_text("main")
        assert page.inner_text(".language-switch [aria-current]") == "Español"
        page.screenshot(path=str(SCREENSHOTS / "home-spanish.png"))

        page.goto(base + "/report")  # the next page: still Spanish, though the browser asks for English
        assert page.get_attribute("html", "lang") == "es"
        main = page.inner_text("main")
        assert "Eliminación de grafiti" in main and "Artículos voluminosos" in main and "Graffiti Removal" not in main
        assert "Reporte un problema" in page.inner_text("h1")
        page.fill("#service-search", "sofá")
        page.wait_for_selector("#service-search-empty:has-text('coincide')")
        page.screenshot(path=str(SCREENSHOTS / "services-spanish.png"), full_page=True)

        page.goto(base + "/report?q=graf")
        page.click(".language-switch a[lang=en]")
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == "en" and "Graffiti Removal" in page.inner_text("main")
        assert page.url == base + "/report?q=graf"  # back on the page where the switch was used, as it was
    assert all(url.startswith(base) for url in requests)
