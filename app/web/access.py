"""Who may open what: logins, roles, CSRF, rate limits and security headers, for every route.

Every view says who may use it, with :func:`public` or :func:`requires`; a view that says
nothing is refused (deny by default), so a new route cannot be left open by mistake.
Scope (a department's queue, a council member's ward) is checked by the views with
:func:`accounts.scope.may`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from accounts.models import StaffUser
from accounts.roles import PERMISSIONS
from accounts.scope import may
from accounts.users import session_user
from app.web import db_session, runtime
from app.web.errors import error_response, wants_json
from core.ratelimit import Limit, hit

F = TypeVar("F", bound=Callable[..., Any])

csrf = CSRFProtect()

SESSION_KEY = "staff_token"


def public(view: F) -> F:
    """Mark a view open to everyone (residents, apps, the health check)."""
    view._access = None  # type: ignore[attr-defined]
    return view


def requires(permission: str) -> Callable[[F], F]:
    """Mark a view as needing a logged-in user whose role has ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def mark(view: F) -> F:
        view._access = permission  # type: ignore[attr-defined]
        return view

    return mark


def logged_in(view: F) -> F:
    """Mark a view as open to any logged-in staff user, whatever the role."""
    view._access = _ANY_ROLE  # type: ignore[attr-defined]
    return view


_ANY_ROLE = "*"


def rate_limited(kind: str, methods: tuple[str, ...] = ("GET", "POST")) -> Callable[[F], F]:
    """Count the view's hits per client address against the ``rate_<kind>`` setting; 429 beyond it."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method in methods:
                check_rate(kind)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def check_rate(kind: str, client: str | None = None) -> None:
    """Count one hit of this client on the ``rate_<kind>`` limit; abort with 429 when over it."""
    limit = Limit.parse(kind, getattr(runtime().settings, f"rate_{kind}"))
    with runtime().database.session() as counter_session:
        verdict = hit(counter_session, limit, client or client_ip())
    if not verdict.allowed:
        g.retry_after = verdict.retry_after
        abort(429, f"Too many requests from this address; try again in {verdict.retry_after} seconds.")


def current_user() -> StaffUser | None:
    """The logged-in staff user of this request, or None."""
    return g.get("user")


def staff_user() -> StaffUser:
    """The logged-in staff user, in a view that ``requires`` a permission (so there is one)."""
    user = current_user()
    if user is None:
        raise RuntimeError("staff_user() called in a view open to the public; mark the view with @requires")
    return user


def client_ip() -> str:
    """The client's address (behind GEO311_TRUSTED_PROXIES proxies, the one they report)."""
    return request.remote_addr or "unknown"


def allowed(permission: str, record: Any = None) -> bool:
    """Whether the current user has ``permission`` (on ``record``, within scope)."""
    return may(current_user(), permission, record)


def install(app: Flask) -> None:
    """Wire login loading, access checks, CSRF and security headers into ``app``."""
    csrf.init_app(app)
    app.before_request(_load_user)
    app.before_request(_check_access)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_failed)

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"current_user": current_user(), "allowed": allowed}


def _load_user() -> None:
    token = session.get(SESSION_KEY)
    g.user = session_user(db_session(), token) if token else None
    if token and g.user is None:
        session.pop(SESSION_KEY, None)


def _check_access() -> Any:
    if request.endpoint is None:  # no such route: the 404 handler answers
        return None
    view = current_app.view_functions.get(request.endpoint)
    if request.endpoint == "static":
        return None
    if view is None or not hasattr(view, "_access"):
        current_app.logger.error("route %s declares no access rule; refused", request.endpoint)
        abort(403, "This page is not open to anyone yet.")
    permission = view._access
    if permission is None:
        return None
    user = current_user()
    if user is None:
        if wants_json():
            return error_response(401, "Log in first.")
        return redirect(url_for("auth.login", next=_local_path(request.full_path)))
    if permission != _ANY_ROLE and not may(user, permission):
        abort(403, "Your role does not allow this page. Ask an administrator if you need it.")
    return None


def _local_path(path: str) -> str:
    """``path`` if it stays on this site (no scheme, no host), else the home page."""
    # Browsers drop tabs and line breaks from a URL ("/\r//evil" is "//evil", another site) and read "\\" as "/".
    if any(c < " " or c == "\x7f" for c in path):
        return "/"
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path.rstrip("?")


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site, never another site."""
    return _local_path(target or "/")


def _csrf_failed(error: CSRFError) -> Any:
    return error_response(
        400, "The form expired or did not come from this site. Go back, reload the page and submit again."
    )


def inline_scripts_allowed(view: F) -> F:
    """Mark a view whose documents run inline scripts and styles (folium's map documents).

    Only these documents get ``'unsafe-inline'``; they hold no user-typed text as markup,
    and are framed by the app's own pages.
    """
    view._csp = {"script-src": "'self' 'unsafe-inline'", "style-src": "'self' 'unsafe-inline'"}  # type: ignore[attr-defined]
    return view


def content_security_policy(endpoint: str | None) -> str:
    """The policy of a response: only this site's scripts, styles, images and frames."""
    tiles = runtime().settings.tile_url
    tile_origin = ""
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "a"))
        tile_origin = f" {parts.scheme}://{parts.netloc}".replace("://a.", "://*.")
    policy = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": f"'self' data: blob:{tile_origin}",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'self'",
    }
    view = current_app.view_functions.get(endpoint or "")
    policy.update(getattr(view, "_csp", {}))
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def _security_headers(response: Any) -> Any:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(request.endpoint))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if runtime().settings.env == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if current_user() is not None or request.path.startswith(("/staff", "/admin", "/intake")):
        headers["Cache-Control"] = "no-store"  # staff pages hold personal data
    if response.status_code == 429 and g.get("retry_after"):
        headers["Retry-After"] = str(g.retry_after)
    return response
