"""Blueprints: thin views over the domain packages."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from app.factory import Services


def services() -> Services:
    """The application's :class:`~app.factory.Services`."""
    return current_app.extensions["geo311"]


def db_session() -> Session:
    """The request's database session (closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = services().database.session()
    return g.db_session
