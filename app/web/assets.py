"""Third-party front-end files, served by the app from the npm-installed folder.

They are installed by ``npm ci`` at setup into ``node_modules/`` (git-ignored) and
served from ``/vendor/<package>/<file>``, so that no page needs the internet. Only the
packages listed here are reachable.
"""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory

from app.settings import PROJECT_ROOT
from app.web.access import public

bp = Blueprint("assets", __name__)

ASSETS_DIR = PROJECT_ROOT / "node_modules"
PACKAGES = {"leaflet": "dist"}


@bp.get("/vendor/<package>/<path:filename>")
@public
def vendor(package: str, filename: str):
    """A file of an allowed front-end package (cached by browsers for a day)."""
    if package not in PACKAGES:
        abort(404)
    return send_from_directory(ASSETS_DIR / package / PACKAGES[package], filename, max_age=86400)
