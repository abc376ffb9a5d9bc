"""Blueprints: thin views over the domain packages."""

from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.factory import Runtime
from core.database import ReplicaState
from core.errors import DatabaseUnavailable


def runtime() -> Runtime:
    """The application's :class:`~app.factory.Runtime`: its settings, city, database and indexes."""
    return current_app.extensions["geo311"]


def db_session() -> Session:
    """The request's database session (closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = runtime().database.session()
    return g.db_session


def read_session() -> Session:
    """The request's session for figures it only reads (reports, maps, exports, the public lists).

    The replica's (``DATABASE_REPLICA_URL``) when one is configured and usable; else the
    primary's :func:`db_session`, and when a replica is configured the page says why
    (:func:`replica_note`). Never written through: a write goes to :func:`db_session`.
    """
    if "read_session" in g:
        return g.read_session
    replica = runtime().replica
    session: Session | None = None
    if replica is not None:
        state = replica.state()
        if state.usable:
            candidate = replica.session()
            try:
                candidate.connection()  # down since the last check: fall back now, not fail mid-page
                session = candidate
            except (SQLAlchemyError, DatabaseUnavailable) as exc:
                candidate.close()
                state = replica.mark_unreachable(exc)
        if session is None:
            g.replica_fallback = state
    g.read_session = session if session is not None else db_session()
    return g.read_session


def close_read_session(failed: bool) -> None:
    """Close the request's replica session, if it had one (the primary's is closed with :func:`db_session`'s)."""
    session = g.pop("read_session", None)
    if session is not None and session is not g.get("db_session"):
        if failed:
            session.rollback()
        session.close()


def replica_note() -> str | None:
    """The notice of a page that read from the primary because the replica was behind or down, else None."""
    state: ReplicaState | None = g.get("replica_fallback")
    if state is None:
        return None
    if state.problem == "behind" and state.lag_seconds is not None:
        return _(
            "Figures read from the primary: the replica is %(seconds)s s behind.", seconds=f"{state.lag_seconds:.0f}"
        )
    if state.problem == "behind":
        return _("Figures read from the primary: the replica is behind.")
    if state.problem == "not_standby":
        return _("Figures read from the primary: the replica is not a standby.")
    return _("Figures read from the primary: the replica is unreachable.")
