"""Address validation: the JSON endpoints and the intake widget's page."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request

from app.i18n import page_words
from app.web import db_session, runtime
from app.web.access import csrf, public, rate_limited, requires
from app.web.api import json_object

bp = Blueprint("addresses", __name__)


def _query() -> str:
    """The address text from ?q= or a JSON/form body's ``q`` / ``address``."""
    value = request.args.get("q")
    body = {} if value is not None else json_object() if request.is_json else request.form
    if value is None and body:
        value = body.get("q", body.get("address"))
    if value is None:
        abort(400, "Give the address to check as ?q=... (or q in a JSON or form body).")
    if not isinstance(value, str):
        abort(400, "The address must be text.")
    return value


@bp.route("/api/addresses/validate", methods=["GET", "POST"])
@csrf.exempt  # a read-only JSON lookup that API clients also POST to
@public
@rate_limited("public_api")
def validate():
    """Validate one address: valid, ambiguous, not_found, outside or invalid (always HTTP 200)."""
    s = runtime()
    return jsonify(page_words(s.validator.validate(db_session(), _query()).as_dict()))


@bp.get("/api/addresses/suggest")
@public
@rate_limited("public_api")
def suggest():
    """Completions for what has been typed so far (addresses, intersections, streets)."""
    try:
        limit = int(request.args.get("limit", 8))
    except ValueError:
        abort(400, "limit must be a whole number.")
    suggestions = runtime().validator.suggest(db_session(), request.args.get("q", ""), limit=limit)
    return jsonify(suggestions=page_words([c.as_dict() for c in suggestions]))


@bp.get("/api/addresses/reverse")
@public
@rate_limited("public_api")
def reverse():
    """The nearest address to a point picked on the map, and whose the point is."""
    lon, lat = request.args.get("lon"), request.args.get("lat")
    if lon is None or lat is None:
        abort(400, "Give the point as ?lon=...&lat=... in decimal degrees (WGS 84).")
    return jsonify(page_words(runtime().validator.reverse(db_session(), lon, lat).as_dict()))


@bp.get("/intake/address")
@requires("requests.create")
def intake_address():
    """The address widget on its own: type, get suggestions, validate, confirm on the map."""
    s = runtime()
    return render_template("intake_address.html", city=s.city, autofocus_address=True)
