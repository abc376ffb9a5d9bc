"""Saved views of the work queue: a user's named filters and sort, to open again with one click.

A view is stored as the queue's query string (without its page), so that opening it is
following a link; the queue checks the arguments again when it is opened.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import SavedView, StaffUser
from core.errors import UserError

#: The most views one user keeps.
MAX_VIEWS = 50


class SavedViewError(UserError):
    """A view that cannot be saved; the message says why."""


def list_views(session: Session, user: StaffUser) -> list[SavedView]:
    """The user's saved views, by name."""
    return list(session.scalars(select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)))


def save_view(session: Session, user: StaffUser, name: str, query: str) -> SavedView:
    """Save ``query`` (a query string, with or without ``?``; its page is dropped) under ``name``;
    a view of the same name is replaced. Commits."""
    name = " ".join((name or "").split())
    if not name:
        raise SavedViewError("Give the view a name.")
    if len(name) > 80:
        raise SavedViewError("A view's name is at most 80 characters.")
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False) if k != "page"]
    stored = urlencode(pairs)[:2000]
    found = session.scalar(select(SavedView).where(SavedView.user_id == user.id, SavedView.name == name))
    if found is None:
        if len(list_views(session, user)) >= MAX_VIEWS:
            raise SavedViewError(f"You have {MAX_VIEWS} saved views already; delete one first.")
        found = SavedView(user_id=user.id, name=name, query=stored)
        session.add(found)
    else:
        found.query = stored
    session.commit()
    return found


#: The largest id of a saved view (its column is a PostgreSQL integer).
_MAX_ID = 2**31 - 1


def delete_view(session: Session, user: StaffUser, view_id: int) -> None:
    """Delete the user's view ``view_id``; raises :class:`SavedViewError` if the user has no such view. Commits."""
    # An id beyond the column's integer range names no view (and must not reach the database: out of range).
    found = session.get(SavedView, view_id) if 0 < view_id <= _MAX_ID else None
    if found is None or found.user_id != user.id:
        raise SavedViewError("You have no such saved view.")
    session.delete(found)
    session.commit()
