"""Replies to residents: a text staff write (from a city's template) sent through the outbox.

The reply goes to the requester and each follower by the way each asked to be told; it is
recorded in the request's history as a public "reply" event, so the status page shows it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core.errors import UserError
from core.replies_file import MAX_REPLY, ReplyTemplate
from core.states import RESPONSE_METHOD_LABELS, STATE_LABELS
from core.text import normalise_newlines
from service_requests.lifecycle import requester_recipients
from service_requests.models import Notification, RequestContact, RequestEvent, ServiceRequest
from service_requests.subscriptions import announce


class ReplyError(UserError):
    """The reply cannot be sent as given; the message says why or what to change."""


def why_no_reply(session: Session, request: ServiceRequest) -> str | None:
    """Why nobody can be sent a reply to ``request`` (None when someone can)."""
    if requester_recipients(session, request):
        return None
    if session.get(RequestContact, request.id) is None:
        return "No contact is kept for this request, and nobody follows it: a reply would reach no one."
    if request.response_method == "none":
        return "The requester asked for no reply, and nobody follows the request: a reply would reach no one."
    method = RESPONSE_METHOD_LABELS.get(request.response_method, request.response_method)
    return f"The requester asked to be told by {method}, but left no way to do so: a reply would reach no one."


def template_values(request: ServiceRequest) -> dict[str, str]:
    """What a reply template's placeholders stand for on ``request``."""
    return {
        "reference": request.short_ref_shown,
        "service": request.service_name,
        "status": STATE_LABELS.get(request.status, request.status).lower(),
        "address": request.address or "the place you described",
    }


def templates_for(templates: tuple[ReplyTemplate, ...], request: ServiceRequest) -> list[tuple[ReplyTemplate, str]]:
    """The city's templates meant for ``request``'s service and status, each with its text filled in."""
    values: Mapping[str, str] = template_values(request)
    return [(t, t.fill(values)) for t in templates if t.fits(request.service_code, request.status)]


def send_reply(session: Session, request: ServiceRequest, text: str, actor: str) -> list[Notification]:
    """Queue ``text`` for the requester and followers, record a public "reply" event; commits.

    Raises :class:`ReplyError` (nothing queued) when the text is empty or too long, or when
    nobody can be reached.
    """
    text = normalise_newlines(text or "").strip()
    if not text:
        raise ReplyError("The reply is empty; write the text to send.")
    if len(text) > MAX_REPLY:
        raise ReplyError(
            f"The reply is {len(text):,} characters long; at most {MAX_REPLY:,} are sent. Please shorten it."
        )
    why = why_no_reply(session, request)
    if why is not None:
        raise ReplyError(why)
    subject = f"About your request {request.short_ref_shown} ({request.service_name})"
    queued = [
        Notification(request_id=request.id, method=method, recipient=recipient, subject=subject, body=text)
        for method, recipient in requester_recipients(session, request)
    ]
    session.add_all(queued)
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=actor,
            kind="reply",
            from_status=request.status,
            note=text,
            public=True,
            data={"methods": sorted({n.method for n in queued}), "recipients": len(queued)},
        )
    )
    announce(session, request, text, None)
    request.updated_at = datetime.now(UTC)
    session.commit()
    return queued
