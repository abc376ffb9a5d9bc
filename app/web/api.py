"""JSON endpoints behind the maps: boundary layers and point lookups."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from app.city import LAYER_ROLES
from app.web import db_session, services
from app.web.access import public, rate_limited
from boundaries.queries import layer_geojson

bp = Blueprint("api", __name__, url_prefix="/api")

#: Outline simplification for display (degrees, about 5 m): lighter pages, same shapes.
DISPLAY_TOLERANCE = 0.00005


@bp.get("/boundaries/<role>.geojson")
@bp.get("/boundaries/<role>/<key>.geojson")
@public
def boundary_layer(role: str, key: str | None = None):
    """The current ``role`` layer of the city (or one feature of it) as GeoJSON, simplified for display."""
    if role not in LAYER_ROLES:
        abort(404, f"There is no boundary layer {role!r}; the layers are {', '.join(LAYER_ROLES)}.")
    collection = layer_geojson(db_session(), services().city.key, role, DISPLAY_TOLERANCE, key=key)
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
    s = services()
    location = s.boundary_index.get(db_session(), s.city.key).locate(lon, lat)
    return jsonify(location.as_dict())
