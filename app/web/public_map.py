"""The public map and list of reports ("Reports near you"): what others reported, for anyone.

Thin views over :mod:`service_requests.public_reports`: the map page (Leaflet, clustered points
coloured by the legend), its GeoJSON, and the text list (the map's alternative, which works
without script). All three read the same query string: ``service``, ``ward``, ``district``,
``status`` (all, open, closed), ``older`` (1: older closed reports too) and, for the GeoJSON,
``bbox``. A bad value is a 400 whose page keeps the form and says what to change.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext

from app.i18n import error_words, place_text, service_names
from app.web import filtering, read_session, runtime
from app.web.access import public, rate_limited
from app.web.tiles import basemap_config
from core.i18n import N_
from service_requests.public_reports import (
    PUBLIC_STATUSES,
    PublicQuery,
    PublicReport,
    as_geojson,
    parse_query,
    public_reports,
)
from service_requests.selection import FilterChoices, FilterError, parse_page

bp = Blueprint("public_map", __name__, url_prefix="/around")

#: Reports on a page of the list.
PAGE_SIZE = 50
#: The colours of the legend (the staff maps' status colours, geo.maps.STATUS_COLORS), by family.
LEGEND = (("open", N_("Open")), ("closed", N_("Closed")))
#: The reports of each public status, in words (whole phrases: languages agree the words with the noun).
_SELECTION = {"all": N_("Open and recently closed reports"), "open": N_("Open reports"), "closed": N_("Closed reports")}


def _read(choices: FilterChoices) -> tuple[PublicQuery, str | None]:
    """The query of the request's arguments, or the default query and the sentence saying what is wrong."""
    args = {name: request.args.getlist(name) for name in request.args}
    try:
        return parse_query(args, choices), None
    except FilterError as exc:
        return PublicQuery(), error_words(exc)  # its Sentence, in the page's language


def _args(query: PublicQuery, **extra: object) -> dict[str, list[str]]:
    """The query string of ``query`` (the default status and an empty box left out), with ``extra``."""
    args = {k: v for k, v in query.flt.args().items() if k in ("service", "ward", "district", "status")}
    if query.older:
        args["older"] = ["1"]
    args.update({k: [str(v)] for k, v in extra.items() if v is not None and v != ""})
    return args


def _url(endpoint: str, query: PublicQuery, **extra: object) -> str:
    encoded = urlencode(_args(query, **extra), doseq=True)
    return url_for(endpoint) + (f"?{encoded}" if encoded else "")


def _words(query: PublicQuery, choices: FilterChoices) -> str:
    """What the selection is, in words: "Open reports: Graffiti, in Council District 13"."""
    flt = query.flt
    names = service_names()
    services = ", ".join(names.get(s) or choices.services.get(s, s) for s in flt.services)
    words = gettext(_SELECTION[flt.status])
    if services:
        words = gettext("%(reports)s: %(services)s", reports=words, services=services)
    for key, named in ((flt.ward, choices.wards), (flt.district, choices.districts)):
        if key:
            words = gettext("%(reports)s, in %(area)s", reports=words, area=named.get(key, key))
    return words


def _context(query: PublicQuery, choices: FilterChoices, error: str | None) -> dict[str, Any]:
    city = runtime().city
    return {
        "city": city,
        "query": query,
        "choices": choices,
        "statuses": PUBLIC_STATUSES,
        "legend": LEGEND,
        "error": error,
        "settings": city.public_map,
        "words": _words(query, choices),
        "map_url": _url("public_map.map_page", query),
        "list_url": _url("public_map.list_page", query),
        "geojson_url": _url("public_map.reports_geojson", query),
    }


@bp.get("")
@public
@rate_limited("public_api")
def map_page():
    """The map of recent reports, clustered by the legend's colours, with the filter and the list's link."""
    choices = filtering.choices()
    query, error = _read(choices)
    city = runtime().city
    outline_url = url_for("api.boundary_layer", role="jurisdiction")
    if query.flt.ward and city.ward_layer:
        outline_url = url_for("api.boundary_layer", role="wards", key=query.flt.ward)
    elif query.flt.district and city.district_layer:
        outline_url = url_for("api.boundary_layer", role="districts", key=query.flt.district)
    page = render_template(
        "public_map.html", **_context(query, choices, error), outline_url=outline_url, basemap=basemap_config()
    )
    return page, (400 if error else 200)


@bp.get("/list")
@public
@rate_limited("public_api")
def list_page():
    """The same reports as a text list, newest first, a page at a time (the map's alternative)."""
    choices = filtering.choices()
    query, error = _read(choices)
    try:
        number = parse_page(request.args.get("page"))
    except FilterError as exc:
        number, error = 1, error or error_words(exc)
    found = None if error else public_reports(read_session(), runtime().city, query)
    reports = found.reports if found else ()
    pages = max(1, -(-len(reports) // PAGE_SIZE))
    number = min(number, pages)
    shown = reports[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    page = render_template(
        "public_list.html",
        **_context(query, choices, error),
        found=found,
        shown=shown,
        first=(number - 1) * PAGE_SIZE + 1,
        number=number,
        pages=pages,
        page_url=lambda n: _url("public_map.list_page", query, page=n if n > 1 else None),
        status_url=_status_url,
    )
    return page, (400 if error else 200)


@bp.get("/reports.geojson")
@public
@rate_limited("public_api")
def reports_geojson():
    """The reports of the query as a GeoJSON FeatureCollection (approximate points; no personal data)."""
    choices = filtering.choices()
    query, error = _read(choices)
    if error:
        response = jsonify(error=error)
        response.status_code = 400
        return response
    city = runtime().city
    collection = as_geojson(public_reports(read_session(), city, query), city, _status_url)
    names = service_names()
    for feature in collection["features"]:  # the words of the page's language (the codes stay)
        words = feature["properties"]
        words["service"] = names.get(words["service_code"], words["service"])
        words["status"] = gettext(words["status"])
        words["place"] = place_text(words["place"])
    response = jsonify(collection)
    response.mimetype = "application/geo+json"
    return response


def _status_url(report: PublicReport) -> str:
    return url_for("requests.status", reference=report.reference)
