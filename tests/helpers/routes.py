"""Every page of the app a person opens in a browser, from its URL map: for the phone-width and the
accessibility tests, which visit each one.

:func:`page_routes` takes each GET route of the URL map and fills its path variables with real values
(a request reference, a ward key, a service code, a username); public routes are visited anonymously,
the others as an administrator. A route that is not a page (JSON, tiles, files, downloads) is named in
:data:`NOT_PAGES` with the reason, so that a new page cannot be forgotten: a GET route neither visited
nor skipped fails :func:`page_routes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from core.city import CityConfig

#: GET routes the browser tests do not open as pages, and why.
NOT_PAGES: dict[str, str] = {
    "static": "files (CSS, scripts, images), not pages",
    "assets.vendor": "front-end files from node_modules, not pages",
    "health.health": "a JSON health check for the load balancer",
    "tiles.streets": "vector tiles for the maps' scripts",
    "tiles.basemap": "base-map tiles for the maps' scripts",
    "api.boundary_layer": "GeoJSON for the maps' scripts",
    "api.locate": "JSON for the landing map's script",
    "addresses.validate": "JSON for the address widget's script",
    "addresses.suggest": "JSON for the address widget's script",
    "addresses.reverse": "JSON for the address widget's script",
    "requests.nearby": "JSON for the request form's script",
    "requests.caller_history_api": "JSON for the call-taker's script",
    "queue.points": "GeoJSON for the queue map's script",
    "queue.export": "a CSV download",
    "maps.export": "GeoJSON / CSV downloads",
    "reports.export_table": "CSV / spreadsheet downloads",
    "reports.export_requests": "CSV / spreadsheet downloads",
    "requests.shift_channel": "a form post's target; its GET only redirects to the staff intake",
    "language.choose": "sets the language and redirects back",
    "media.photo": "a photo file",
    "public_map.reports_geojson": "GeoJSON for the public map's script",
    "alerts.ward_feed": "an Atom feed",
    "alerts.near_feed": "an Atom feed",
    "alerts.confirm_subscription": "reached from an e-mail's link with its token (test_follow_browser, at 390 px)",
    "alerts.unsubscribe_link": "reached from an e-mail's link with its token (test_follow_browser, at 390 px)",
    **{
        f"open311.{name}": "the Open311 API's JSON and XML, not a page"
        for name in (
            "discovery",
            "service_list",
            "service_definition",
            "create_request",
            "request_list",
            "request_detail",
            "token",
            "openapi",
            "list_updates",
            "post_updates",
        )
    },
}


@dataclass(frozen=True)
class PageRoute:
    """One page to open: its endpoint, a URL with real values, and whether it needs a staff login."""

    endpoint: str
    url: str
    staff: bool


def page_routes(app: Flask, values: dict[str, str]) -> list[PageRoute]:
    """Each GET page of ``app`` (public ones first), its path variables filled from ``values``.

    Raises ``KeyError`` naming the route when a variable has no value: give one, or add the route
    to :data:`NOT_PAGES` with the reason.
    """
    pages: dict[str, PageRoute] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or set()) or rule.endpoint in NOT_PAGES:
            continue
        missing = [name for name in rule.arguments if name not in values]
        if missing:
            raise KeyError(f"{rule.rule} ({rule.endpoint}) needs a value for {missing} or an entry in NOT_PAGES")
        url = _fill(rule.rule, values)
        if url in pages:
            continue
        public = getattr(app.view_functions[rule.endpoint], "_access", "") is None
        pages[url] = PageRoute(rule.endpoint, url, staff=not public)
    return sorted(pages.values(), key=lambda page: (page.staff, page.url))


def _fill(rule: str, values: dict[str, str]) -> str:
    """``rule`` with each ``<converter:name>`` replaced by ``values[name]``."""
    return re.sub(r"<(?:[^<>:]+(?:\([^<>]*\))?:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


def sample_values(session: Session, city: CityConfig, validator: Any) -> dict[str, str]:
    """Real values for every path variable of the pages: a new request of ``city`` with a phone and an
    e-mail (so contact links show), a user to edit, a service code, a ward key and a breakout."""
    from service_requests.intake import RequestInput, create_request
    from tests.helpers.staff import make_user

    made = create_request(
        session,
        city,
        validator,
        RequestInput(
            service_code="graffiti",
            channel="phone",
            address="2111 W Bellevue Ave",
            attributes={"surface": "wall"},
            description="Tagging on the wall",
            first_name="Ana",
            email="ana.quintero@example.org",
            phone="(213) 555-0188",
            response_method="email",
        ),
    ).request
    session.commit()
    return {
        "reference": made.public_ref,
        "service_code": "graffiti",
        "code": "graffiti",
        "username": make_user(session, "analyst", city=city.key),
        "layer": "wards",
        "key": made.ward_key or "1",
        "by": "ward",
    }
