"""Pages for people."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.web import db_session, runtime
from app.web.access import public
from boundaries.queries import layer_versions

bp = Blueprint("pages", __name__)


@bp.get("/")
@public
def index():
    """The landing page: the city limit, wards and districts on a map."""
    s = runtime()
    versions = layer_versions(db_session(), s.city.key, current_only=True)
    return render_template(
        "index.html",
        city=s.city,
        versions=versions,
    )
