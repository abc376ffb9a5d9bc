"""The language switch: remember the visitor's choice of language and go back to the page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request
from flask_babel import gettext

from app.i18n import COOKIE, COOKIE_MAX_AGE, languages
from app.web.access import public, safe_next
from app.web.errors import error_response

bp = Blueprint("language", __name__)


def _back(path: str) -> str:
    """``path``, with the query string it had when the switch was used on it (the Referer, sent within the site):
    the link names the page by its path only, so that a page never repeats its query in its header."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path == path.split("?")[0] and referrer.query:
        return safe_next(f"{referrer.path}?{referrer.query}")
    return path


@bp.get("/language/<code>")
@public
def choose(code: str):
    """Remember ``code`` as the visitor's language (a cookie) and return to ``next`` (a path of this site)."""
    offered = languages()
    if code not in offered:
        return error_response(
            404,
            gettext("This site is not offered in %(language)r; choose one of: %(languages)s.")
            % {"language": code[:20], "languages": ", ".join(offered)},
        )
    response = redirect(_back(safe_next(request.args.get("next"))))
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True, secure=request.is_secure)
    return response
