"""Blueprints: thin views over the domain packages."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from app.factory import Runtime


def runtime() -> Runtime:
    """The application's :class:`~app.factory.Runtime`: its settings, city, database and indexes."""
    return current_app.extensions["geo311"]


def db_session() -> Session:
    """The request's database session (closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = runtime().database.session()
    return g.db_session
