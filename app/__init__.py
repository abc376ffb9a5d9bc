"""The Flask layer of geo311: the application factory, the pages and APIs, and the commands.

It sits on top of every other package (see the Layout table in the README; an
import-linter contract in ``pyproject.toml`` keeps it so). ``create_app`` is imported
lazily so that ``import app`` costs nothing until an application is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(*args: Any, **kwargs: Any) -> Flask:
    """Build the Flask application for a server or the ``flask`` command.

    A wrong setting stops the process with its one-sentence explanation rather than a
    traceback; :func:`app.factory.create_app` raises it instead.
    """
    from app.factory import create_app as factory
    from core.errors import UserError

    try:
        return factory(*args, **kwargs)
    except UserError as exc:
        raise SystemExit(f"Error: {exc}") from exc
