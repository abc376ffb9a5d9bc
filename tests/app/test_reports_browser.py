"""The report pages in headless Chromium: charts draw, and the monthly report prints on A4."""

from __future__ import annotations

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, log_in_page, watch
from tests.helpers.staff import make_user

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
A4_WIDTH_PX = 794  # 210 mm at 96 px per inch


def _bars(page) -> list[dict]:  # noqa: ANN001
    """Every chart bar's drawn box on the page (width and height in CSS pixels)."""
    return page.eval_on_selector_all(
        ".chart-svg .chart-bar",
        "els => els.map(e => e.getBoundingClientRect()).map(r => ({width: r.width, height: r.height}))",
    )


def test_report_charts_draw_and_the_monthly_report_prints(settings, bound_database):
    app = create_app(settings, database=bound_database)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        watched = watch(page)
        with bound_database.session() as session:
            log_in_page(page, base, make_user(session, "analyst"), "/reports/")

        page.goto(base + "/reports/?scope=city")
        assert page.locator("#summary-figures").is_visible()
        assert page.get_by_role("heading", name="This fiscal year so far").is_visible()  # LA: July
        bars = _bars(page)
        assert len(bars) >= 12 and any(b["height"] > 10 for b in bars)
        page.screenshot(path=str(SCREENSHOTS / "reports-summary.png"), full_page=True)

        page.goto(base + "/reports/by/month")
        assert page.locator("table tbody tr").count() >= 12
        assert any(b["height"] > 10 for b in _bars(page))
        page.goto(base + "/reports/backlog")
        assert any(b["width"] > 10 for b in _bars(page))  # the age bands, drawn across
        page.screenshot(path=str(SCREENSHOTS / "reports-backlog.png"), full_page=True)

        # The public monthly report, as printed: no site header or filters, nothing wider than A4.
        printed = browser.new_page(viewport={"width": A4_WIDTH_PX, "height": 1123})
        watch(printed, watched)
        printed.goto(base + "/reports/monthly")
        printed.emulate_media(media="print")
        assert not printed.locator(".site-header").is_visible()
        assert not printed.locator(".report-month-form").is_visible()
        assert printed.get_by_role("heading", name="What is counted").count() == 1
        assert len(_bars(printed)) >= 6
        assert printed.evaluate("document.documentElement.scrollWidth") <= A4_WIDTH_PX
        pdf = printed.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
        (SCREENSHOTS / "reports-monthly.pdf").write_bytes(pdf)

    assert watched.requests and watched.outside(base) == []
    assert watched.errors == []
