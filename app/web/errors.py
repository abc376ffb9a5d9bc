"""Readable error pages for people, and JSON errors for API clients."""

from __future__ import annotations

import logging
from urllib.parse import unquote_to_bytes

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from core.errors import DatabaseUnavailable, UserError
from core.i18n import N_

log = logging.getLogger(__name__)

TITLES = {
    400: N_("That request could not be understood"),
    401: N_("Please log in"),
    403: N_("You may not see this page"),
    404: N_("There is no such page"),
    405: N_("That action is not allowed here"),
    413: N_("What you sent is too large"),
    429: N_("Too many requests"),
    500: N_("Something went wrong on our side"),
    503: N_("The service is unavailable for a moment"),
}

#: What a page says when the error came without a message of ours (Werkzeug's own, in English only).
DEFAULT_MESSAGES = {
    400: N_("The address or the form sent is not one this site understands. Go back and try again."),
    401: N_("Log in to see this page."),
    403: N_("Your account may not open this page. Ask an administrator if you need it."),
    404: N_("There is nothing at this address. Check it, or start again from the start page."),
    405: N_("This page cannot be used that way. Go back and use its links and buttons."),
    413: N_("What you sent is too large. Send less at a time."),
    429: N_("Too many requests came from you in a short time. Wait a minute and try again."),
}


def wants_json() -> bool:
    """API paths and clients that prefer JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str):
    if request.path.startswith("/open311/"):  # Open311 clients get the spec's error list, in their format
        from app.web.open311 import error_document

        return error_document(status, message)
    title = gettext(TITLES[status]) if status in TITLES else gettext("Error")
    if wants_json():
        return jsonify(error={"code": status, "title": title, "description": message}), status
    return render_template("error.html", status=status, title=title, message=message), status


def not_utf8(raw: bytes) -> str | None:
    """The name of the first argument of a query string or urlencoded body whose text is not UTF-8, or None."""
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return unquote_to_bytes(name).decode("utf-8", "replace")[:40] or "(an argument)"
    return None


def unavailable_message() -> str:
    """What everybody is told while the database is unavailable; the cause goes to the server log.

    The causes name folders, the server's log lines and how to rebuild the cluster: words
    for the operator, not for a visitor.
    """
    from app.web import runtime

    phone = runtime().city.contact.phone
    if phone:
        return gettext(
            "The service is temporarily unavailable; please try again in a few minutes, or call %(phone)s.", phone=phone
        )
    return gettext("The service is temporarily unavailable; please try again in a few minutes.")


def register(app: Flask) -> None:
    """Install the error handlers on ``app``, and refuse input no person types."""

    @app.before_request
    def refuse_text_that_is_not_utf8():
        # Werkzeug keeps an escaped non-UTF-8 byte (caf%E9) as the literal text and drops a
        # whole body holding a raw one (its fields then "missing"): refuse both, naming the field.
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            return error_response(
                413,
                gettext(
                    "What you sent is larger than the %(mb)s MB a request may be. Go back (your browser keeps "
                    "what you typed) and send smaller photos, or fewer at a time.",
                    mb=limit // (1024 * 1024),
                ),
            )
        wrong = not_utf8(request.query_string)
        if wrong is None and request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            wrong = not_utf8(request.get_data(cache=True))  # cached: the form is parsed from it next
        if wrong is None and request.method == "POST" and request.mimetype == "multipart/form-data":
            # multipart text is decoded with replacement characters: one means a byte was not UTF-8
            wrong = next((name for name, value in request.form.items(multi=True) if "\ufffd" in value), None)
        if wrong is not None:
            return error_response(400, f"{wrong}: the text is not UTF-8; send every field encoded as UTF-8.")
        return None

    @app.before_request
    def refuse_nul_characters():
        # No address, name or note contains a NUL; PostgreSQL cannot store one in text.
        values = [request.path, *(v for _, vs in request.values.lists() for v in vs)]
        if any("\x00" in value for value in values):
            return error_response(400, "The request contains a NUL character, which no field may hold.")
        return None

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if isinstance(exc, InternalServerError):
            return internal_error(exc)
        message = exc.description or ""
        if message == type(exc).description and exc.code in DEFAULT_MESSAGES:  # Werkzeug's default: say ours
            message = gettext(DEFAULT_MESSAGES[exc.code])
        response = make_response(error_response(exc.code or 500, message))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:  # RFC 9110: a 405 says what is allowed
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(UserError)
    def user_error(exc: UserError):
        if isinstance(exc, DatabaseUnavailable):
            log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
            return error_response(503, unavailable_message())
        return error_response(400, str(exc))

    @app.errorhandler(OperationalError)
    def database_down(exc: OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        return error_response(503, unavailable_message())

    @app.errorhandler(Exception)
    def internal_error(exc: BaseException):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500, gettext("The error has been logged. Please try again; if it persists, tell the system administrator.")
        )
