"""axe-core (node_modules/axe-core, from npm) on every page in headless Chromium: no serious or critical
violation of WCAG 2.1 A/AA anywhere; plus a visible skip link and focus ring, checked by hand.

Public pages are checked anonymously, staff pages as an administrator (the list: tests/helpers/routes.py),
with one browser and one page for the whole run.
"""

from __future__ import annotations

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, log_in_page
from tests.helpers.routes import page_routes, sample_values
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = PROJECT_ROOT / "var" / "screenshots" / "accessibility"
#: The rules of WCAG 2.0 and 2.1, levels A and AA, that axe checks.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING = {"serious", "critical"}

RUN_AXE_JS = """
async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}
"""


@pytest.mark.parametrize(
    ("width", "height", "language"),
    [
        pytest.param(1280, 900, "en", id="desktop"),
        # a phone's width (the folded menu, the map under the form), with the Spanish pages
        pytest.param(390, 844, "es", id="phone-es"),
    ],
)
def test_no_page_has_a_serious_accessibility_violation(
    settings, bound_database, la, validator, width, height, language
):
    app = create_app(settings, database=bound_database)
    with bound_database.session() as session:
        values = sample_values(session, la, validator)
        admin = make_user(session, "admin", city=la.key)
    routes = page_routes(app, values)
    problems: list[str] = []
    with live_server(app) as base, chromium() as browser:
        # axe is injected as an inline script, which the pages' CSP (rightly) refuses: the test lifts it.
        page = browser.new_page(
            viewport={"width": width, "height": height},
            bypass_csp=True,
            extra_http_headers={"Accept-Language": language},
        )
        logged_in = False
        for route in routes:
            if route.staff and not logged_in:
                log_in_page(page, base, admin)
                logged_in = True
            page.goto(base + route.url, wait_until="load")
            page.add_script_tag(path=str(AXE))
            for violation in page.evaluate(RUN_AXE_JS, TAGS):
                if violation["impact"] in FAILING:
                    problems.append(
                        f"{route.url} ({width} px, {language}): {violation['id']} ({violation['impact']}): {violation['help']}"
                        f" at {', '.join(violation['targets'])}"
                    )
    assert not problems, "\n".join(problems)


def test_skip_link_and_focus_are_visible(settings, bound_database):
    app = create_app(settings, database=bound_database)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/report")
        assert not page.locator("#menu-button").is_visible()  # a wide screen shows the whole menu
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        box = page.locator(".skip-link").bounding_box()
        assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 50  # on screen while focused
        page.screenshot(path=str(SHOTS / "skip-link.png"))
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")  # the first link of the page's content
        ring = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert ring[0] != "none" and ring[1] >= 3
        page.screenshot(path=str(SHOTS / "focus-ring.png"))
