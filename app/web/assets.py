"""Third-party front-end files, served by the app from the npm-installed folder.

They are installed by ``npm ci`` at setup into ``node_modules/`` (git-ignored) and
served from ``/vendor/<name>/<file>``, so that no page needs the internet. Only the
folders listed in :data:`geo.assets.VENDOR_DIRS` are reachable (Leaflet, and what the
folium maps use).
"""

from __future__ import annotations

from flask import Blueprint, abort, send_file

from app.web.access import public
from geo.assets import vendor_path

bp = Blueprint("assets", __name__)


@bp.get("/vendor/<package>/<path:filename>")
@public
def vendor(package: str, filename: str):
    """A file of an allowed front-end package (cached by browsers for a day)."""
    path = vendor_path(package, filename)
    if path is None:
        abort(404)
    return send_file(path, max_age=86400)
