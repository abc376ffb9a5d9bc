"""Open311 errors: a list of ``{code, description}`` with the HTTP status the spec names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiError:
    """One entry of an Open311 error list; ``code`` is a string (the HTTP status, as the spec suggests)."""

    code: str
    description: str


class Open311Error(Exception):
    """A request the API refuses: 400 (bad or missing argument), 403 (api_key), 404 (no such thing),
    415 (a body that is not a form), 429 (rate limit)."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.status = status
        self.errors = [ApiError(str(status), d) for d in descriptions]


def bad_request(*descriptions: str) -> Open311Error:
    """400: an argument is missing or wrong; each description names the argument and the fix."""
    return Open311Error(400, *descriptions)


def not_found(description: str) -> Open311Error:
    """404: the service, request, token or jurisdiction does not exist."""
    return Open311Error(404, description)


def forbidden(description: str) -> Open311Error:
    """403: the api_key is missing, unknown or revoked."""
    return Open311Error(403, description)
