"""Every page at phone width (390 x 844) in headless Chromium, in Spanish (its words run longer): no
sideways scrolling, touch targets of at least 44 px, no serious or critical WCAG 2.1 A/AA violation
(axe-core), a compact header whose menu opens, the map at full width, phone numbers as tel: links.

Public pages are opened anonymously, staff pages as an administrator (the list: tests/helpers/routes.py).
Touch targets: every visible link, button and form control in the header and in ``main`` is at least
44 px high, except links inside a sentence (in a paragraph, or with the words of their block around
them: WCAG 2.5.5's "inline" exception), chart bars (SVG links, the table beside each chart is their alternative) and the map
libraries' attribution line.
"""

from __future__ import annotations

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.axe import serious_violations
from tests.helpers.browser import chromium, live_server, log_in_page
from tests.helpers.routes import page_routes, sample_values
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "mobile"
PHONE = {"width": 390, "height": 844}
#: Pages shot at phone width (and looked at).
SHOT_PAGES = {"/", "/report", "/report/graffiti", "/status", "/reports/monthly", "/login", "/staff/queue"}

#: The controls under 44 px on the page: tag, text and size of each (see the module's docstring).
SMALL_TARGETS_JS = """
() => {
  const inSentence = (el) => {
    if (el.tagName !== "A") { return false; }
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith("inline")) { block = block.parentElement; }
    if (!block) { return false; }
    if (block.tagName === "P") { return true; }
    // Words of the block itself around the link (not another element's, nor separators): a sentence.
    const own = Array.from(block.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent);
    return own.join("").replace(/[\\s·|,;:()\u2013-]+/g, "").length > 0;
  };
  const small = [];
  const selector = "a[href], button, input, select, textarea, summary";
  for (const el of document.querySelectorAll(`header :is(${selector}), main :is(${selector})`)) {
    if (el.closest("svg, .leaflet-control-attribution") || el.type === "hidden") { continue; }
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || getComputedStyle(el).visibility === "hidden") { continue; }
    let height = box.height;
    if (el.type === "checkbox" || el.type === "radio") {  // the label is the target
      const label = el.closest("label");
      height = label ? Math.max(height, label.getBoundingClientRect().height) : height;
    }
    if (height < 43.5 && !inSentence(el)) {
      small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || "").trim().slice(0, 40)}" ${Math.round(box.width)}x${Math.round(height)}`);
    }
  }
  return small;
}
"""


def test_every_page_fits_a_phone(settings, bound_database, la, validator):
    app = create_app(settings, database=bound_database)
    with bound_database.session() as session:
        values = sample_values(session, la, validator)
        admin = make_user(session, "admin", city=la.key)
    routes = page_routes(app, values)
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with live_server(app) as base, chromium() as browser:
        # In Spanish, whose words run longer than English ones; axe is injected, which the CSP refuses.
        page = browser.new_page(viewport=PHONE, bypass_csp=True, extra_http_headers={"Accept-Language": "es"})
        logged_in = False
        for route in routes:
            if route.staff and not logged_in:
                log_in_page(page, base, admin)
                logged_in = True
            response = page.goto(base + route.url, wait_until="load")
            if response is None or response.status >= 400:
                problems.append(f"{route.url}: answered {response.status if response else 'nothing'}")
                continue
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                problems.append(f"{route.url}: {width} px wide, wider than the phone's {PHONE['width']}")
            small = page.evaluate(SMALL_TARGETS_JS)
            if small:
                problems.append(f"{route.url}: targets under 44 px: {'; '.join(small[:8])}")
            if page.locator("#site-header").count():
                header = page.locator("#site-header").bounding_box()
                if header and header["height"] > 64:
                    problems.append(f"{route.url}: the closed header is {header['height']:.0f} px high")
            if route.url in SHOT_PAGES:
                name = route.url.strip("/").replace("/", "-") or "index"
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            problems += serious_violations(
                page, f"{route.url} at {PHONE['width']} px, in Spanish"
            )  # WCAG at a phone's width
    assert not problems, "\n".join(problems)


def test_phone_header_map_and_contact_links(settings, bound_database, la, validator):
    app = create_app(settings, database=bound_database)
    with bound_database.session() as session:
        values = sample_values(session, la, validator)
        admin = make_user(session, "admin", city=la.key)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport=PHONE)
        page.goto(base + "/")
        # The menu folds behind its button and opens with it; its links are full-size targets.
        assert not page.locator("#site-menu").is_visible()
        page.click("#menu-button")
        assert page.get_attribute("#menu-button", "aria-expanded") == "true"
        link = page.locator("#site-menu nav a", has_text="Report a problem")
        assert link.is_visible() and (link.bounding_box() or {"height": 0})["height"] >= 44
        page.screenshot(path=str(SHOTS / "menu-open.png"), full_page=True)
        page.keyboard.press("Escape")
        assert not page.locator("#site-menu").is_visible()

        # The map spans the screen, and the layer control keeps clear of the zoom buttons.
        page.wait_for_selector(".leaflet-control-zoom")
        assert (page.locator("#map").bounding_box() or {"width": 0})["width"] >= PHONE["width"] - 1
        zoom = page.locator(".leaflet-control-zoom").bounding_box()
        layers = page.locator(".leaflet-control-layers").bounding_box()
        assert zoom and layers
        assert layers["x"] >= zoom["x"] + zoom["width"] or layers["y"] >= zoom["y"] + zoom["height"]

        # The city's phone in the footer, the requester's phone and e-mail on the staff record: links.
        assert page.locator(".site-footer a[href^='tel:']").count() >= 1
        log_in_page(page, base, admin, f"/staff/requests/{values['reference']}")
        assert page.get_attribute("a.tel:has-text('(213) 555-0188')", "href") == "tel:2135550188"
        assert page.get_attribute("a.mailto", "href") == "mailto:ana.quintero@example.org"
        page.screenshot(path=str(SHOTS / "staff-request.png"), full_page=True)
