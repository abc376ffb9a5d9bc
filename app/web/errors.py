"""Readable error pages for people, and JSON errors for API clients."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from core.errors import DatabaseUnavailable, UserError

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be understood",
    401: "Please log in",
    403: "You may not see this page",
    404: "There is no such page",
    405: "That action is not allowed here",
    413: "What you sent is too large",
    429: "Too many requests",
    500: "Something went wrong on our side",
    503: "The service is unavailable for a moment",
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
    title = TITLES.get(status, "Error")
    if wants_json():
        return jsonify(error={"code": status, "title": title, "description": message}), status
    return render_template("error.html", status=status, title=title, message=message), status


def unavailable_message() -> str:
    """What everybody is told while the database is unavailable; the cause goes to the server log.

    The causes name folders, the server's log lines and how to rebuild the cluster: words
    for the operator, not for a visitor.
    """
    sentence = "The service is temporarily unavailable; please try again in a few minutes"
    from app.web import runtime

    phone = runtime().city.contact.phone
    return f"{sentence}, or call {phone}." if phone else f"{sentence}."


def register(app: Flask) -> None:
    """Install the error handlers on ``app``, and refuse input no person types."""

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
        response = make_response(error_response(exc.code or 500, exc.description or ""))
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
            500, "The error has been logged. Please try again; if it persists, tell the system administrator."
        )
