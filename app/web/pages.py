"""Pages for people."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext

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
    roles = {
        "jurisdiction": gettext("City limits"),
        "agencies": gettext("Neighboring agencies"),
        **{role: layer.label for role, layer in s.city.areas.items()},  # the city's own names for its areas
    }
    return render_template(
        "index.html",
        city=s.city,
        versions=versions,
        role_labels=roles,
    )
