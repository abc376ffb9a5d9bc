"""The Flask layer of geo311, and the service-request lifecycle it serves.

``create_app`` is imported lazily so that domain modules (``app.settings``,
``app.city``, ``app.database``) can be used without loading the web layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(*args: Any, **kwargs: Any) -> "Flask":
    """Build the Flask application for a server or the ``flask`` command.

    A wrong setting stops the process with its one-sentence explanation rather than a
    traceback; :func:`app.factory.create_app` raises it instead.
    """
    from app.errors import UserError
    from app.factory import create_app as factory

    try:
        return factory(*args, **kwargs)
    except UserError as exc:
        raise SystemExit(f"Error: {exc}") from exc
