"""The web's breakout maps and the report tabs are derived from geo/dimensions.py and geo/periods.py. No database."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterator
from types import ModuleType

import jinja2
import pytest

from app.web import reports as web_reports
from core.settings import PROJECT_ROOT
from geo.dimensions import DIMENSIONS, Dimension
from geo.periods import PERIODS

TEMPLATES = PROJECT_ROOT / "app" / "templates"


def tab_links(tabs: list[tuple[str, str]], active: str = "summary") -> list[str]:
    """The breakout links of the report tabs (``_reports.html``), rendered with a stand-in ``url_for``."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.globals["url_for"] = lambda endpoint, **values: f"/{endpoint}/{values.get('by', '')}"
    macro = env.get_template("_reports.html").module.tabs  # type: ignore[attr-defined]
    html = str(macro(active, "?q=1", tabs))
    return [line.strip() for line in html.splitlines() if "breakout_page" in line]


def test_the_tabs_are_every_dimension_then_the_tabbed_periods():
    assert web_reports.TABS == [
        ("department", "Department"),
        ("service", "Service"),
        ("group", "Service group"),
        ("ward", "Ward"),
        ("district", "District"),
        ("state", "State"),
        ("channel", "Channel"),
        ("family", "Channel family"),
        ("month", "Month"),
        ("fiscal_year", "Fiscal year"),
    ]
    links = tab_links(web_reports.TABS, active="ward")
    assert links[0] == '<a href="/reports.breakout_page/department?q=1" >By department</a>'
    assert links[3] == '<a href="/reports.breakout_page/ward?q=1" aria-current="page">By ward</a>'
    assert links[-1] == '<a href="/reports.breakout_page/fiscal_year?q=1" >By fiscal year</a>'


def test_the_breakouts_and_the_tables_that_take_them():
    assert list(web_reports.BREAKOUTS) == [*DIMENSIONS, "week", "month", "quarter", "fiscal_year", "year"]
    assert {
        "summary": (),
        "breakout": tuple(web_reports.BREAKOUTS),
        "top": ("department", "service", "ward", "district", "state", "channel", "family"),
        "backlog": tuple(DIMENSIONS),
        "compliance": tuple(DIMENSIONS),
        "compliance-service": ("service", "department", "group", "ward", "district", "state", "channel", "family"),
    } == web_reports.TABLE_BREAKOUTS


@pytest.fixture
def with_agency(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """app.web.reports as imported with one more dimension in geo/dimensions.py (and as before afterwards)."""
    agency = Dimension("agency", "Agency", "r.agency_key", lambda _, city: {}, "department")
    monkeypatch.setitem(DIMENSIONS, "agency", agency)
    yield importlib.reload(web_reports)
    monkeypatch.undo()
    importlib.reload(web_reports)


def test_a_dimension_added_to_the_definition_is_a_tab_a_breakout_and_a_table_by(with_agency):
    assert with_agency.BREAKOUTS["agency"] == "Agency"
    assert ("agency", "Agency") in with_agency.TABS
    for table in ("breakout", "top", "backlog", "compliance", "compliance-service"):
        assert "agency" in with_agency.TABLE_BREAKOUTS[table], table
    assert '<a href="/reports.breakout_page/agency?q=1" >By agency</a>' in tab_links(with_agency.TABS)


def test_a_period_with_a_tab_is_a_tab(monkeypatch):
    monkeypatch.setitem(PERIODS, "quarter", dataclasses.replace(PERIODS["quarter"], tab=True))
    reloaded = importlib.reload(web_reports)
    try:
        assert [k for k, _ in reloaded.TABS][-3:] == ["month", "quarter", "fiscal_year"]
    finally:
        monkeypatch.undo()
        importlib.reload(web_reports)
