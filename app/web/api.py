"""JSON endpoints behind the maps: boundary layers and point lookups."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, jsonify, request

from app.i18n import page_words
from app.web import db_session, runtime
from app.web.access import public, rate_limited
from boundaries.queries import layer_geojson
from core.city import LAYER_ROLES

bp = Blueprint("api", __name__, url_prefix="/api")

#: Outline simplification for display (degrees, about 5 m): lighter pages, same shapes.
DISPLAY_TOLERANCE = 0.00005


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object (``{...}``); 400 with a sentence otherwise.

    The one reader of JSON bodies: Flask's ``get_json(silent=True)`` lets a deeply nested body (``[[[[...``)
    through as a RecursionError.
    """
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        abort(
            400,
            "The body is not valid JSON (UTF-8, nested at most a few hundred levels); send an object "
            'such as {"q": "200 N Spring St"}.',
        )
    if not isinstance(body, dict):
        abort(400, f'The JSON body must be an object such as {{"q": "200 N Spring St"}}, not {_json_kind(body)}.')
    return body


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


@bp.get("/boundaries/<role>.geojson")
@bp.get("/boundaries/<role>/<key>.geojson")
@public
def boundary_layer(role: str, key: str | None = None):
    """The current ``role`` layer of the city (or one feature of it) as GeoJSON, simplified for display."""
    if role not in LAYER_ROLES:
        abort(404, f"There is no boundary layer {role!r}; the layers are {', '.join(LAYER_ROLES)}.")
    collection = layer_geojson(db_session(), runtime().city.key, role, DISPLAY_TOLERANCE, key=key)
    if key is not None and not collection["features"]:
        abort(404, f"The {role} layer has no feature {key!r}.")
    response = jsonify(collection)
    response.mimetype = "application/geo+json"
    return response


@bp.get("/locate")
@public
@rate_limited("public_api")
def locate():
    """Where is ``lon``, ``lat``: inside the city (ward, district), or whose is it?"""
    lon, lat = request.args.get("lon"), request.args.get("lat")
    if lon is None or lat is None:
        abort(400, "Give the point as ?lon=...&lat=... in decimal degrees (WGS 84).")
    s = runtime()
    location = s.boundary_index.get(db_session(), s.city.key).locate(lon, lat)
    return jsonify(page_words(location.as_dict()))
