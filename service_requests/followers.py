"""Followers: callers added to a request already reported, who get its updates like its requester.

Adding one counts as another report of the same problem: an event in the request's history.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import UserError
from core.i18n import N_
from core.states import RESPONSE_METHODS
from service_requests.models import RequestEvent, RequestFollower, ServiceRequest

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def is_email(value: str | None) -> bool:
    """Whether ``value`` reads as an e-mail address (name@example.org)."""
    return bool(value) and _EMAIL.fullmatch(value or "") is not None


class FollowerError(UserError):
    """The caller cannot be added as given; the message says what to change."""


def _clean(value: str | None, limit: int = 200) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def add_follower(
    session: Session,
    request: ServiceRequest,
    *,
    first_name: str | None,
    last_name: str | None,
    email: str | None,
    phone: str | None,
    response_method: str,
    channel: str,
    actor: str,
    note: str = N_("Reported again by another caller, who now follows this request."),
) -> RequestFollower:
    """Add a caller to ``request`` (they follow it) and record it as a report of the same problem; commits."""
    email, phone = _clean(email), _clean(phone)
    if response_method not in RESPONSE_METHODS or response_method == "mail":
        raise FollowerError("A follower is told by e-mail, by phone, or not at all.")
    if email is not None and not _EMAIL.fullmatch(email):
        raise FollowerError(f"{email!r} is not an e-mail address (name@example.org).")
    if response_method == "email" and email is None:
        raise FollowerError("To be told by e-mail, give the caller's e-mail.")
    if response_method == "phone" and phone is None:
        raise FollowerError("To be told by phone, give the caller's phone.")
    follower = RequestFollower(
        request_id=request.id,
        first_name=_clean(first_name),
        last_name=_clean(last_name),
        email=email,
        phone=phone,
        response_method=response_method,
        channel=channel,
        actor=actor,
    )
    session.add(follower)
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=actor,
            kind="reported_again",
            public=True,
            note=note,
            data={"channel": channel},
        )
    )
    session.commit()
    return follower


def add_me_too(session: Session, request: ServiceRequest, channel: str) -> RequestFollower:
    """A resident says "me too" on an open request's public page: another report of the same problem
    (a follower without contact, by ``channel``, the web form's), not a new request; commits."""
    if not request.is_open:
        raise FollowerError(N_("This request is closed: if the problem is back, report it again as a new request."))
    return add_follower(
        session,
        request,
        first_name=None,
        last_name=None,
        email=None,
        phone=None,
        response_method="none",
        channel=channel,
        actor="public",
        note=N_('Reported again by another resident ("me too").'),
    )


def followers_of(session: Session, request_id: int) -> list[RequestFollower]:
    """The callers following a request, first added first."""
    return list(
        session.scalars(
            select(RequestFollower).where(RequestFollower.request_id == request_id).order_by(RequestFollower.id)
        )
    )


def report_count(session: Session, request_id: int) -> int:
    """How many times the problem was reported: the request itself and each caller added to it."""
    followers = session.scalar(
        select(func.count()).select_from(RequestFollower).where(RequestFollower.request_id == request_id)
    )
    return 1 + int(followers or 0)
