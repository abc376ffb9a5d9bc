"""The lifecycle of a request after intake: status changes, reassignment, duplicates,
reopening, notes, and the list of what is overdue (escalation is :mod:`service_requests.escalation`).

Every change appends an event (time, actor, note) to the request's history, which the
database keeps append-only; each function commits. Closing a request queues the
notification its requester asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import UserError
from core.i18n import translations
from core.states import CLOSED_STATES, OPEN_STATES, STATE_LABELS
from core.text import normalise_newlines
from service_requests.models import (
    Department,
    Notification,
    RequestContact,
    RequestEvent,
    RequestFollower,
    ServiceRequest,
)
from service_requests.subscriptions import announce, is_news

#: The longest note a staff member may add (line breaks count as one character), as the page's field says.
MAX_NOTE = 4000


class LifecycleError(UserError):
    """A change that the request's state does not allow; the message says why."""


def _record(
    session: Session,
    request: ServiceRequest,
    actor: str,
    kind: str,
    note: str | None = None,
    public: bool = False,
    to_status: str | None = None,
    data: dict | None = None,
) -> None:
    session.add(
        RequestEvent(
            request_id=request.id,
            actor=actor,
            kind=kind,
            from_status=request.status,
            to_status=to_status,
            note=note,
            public=public,
            data=data or {},
        )
    )
    if public and is_news(kind):
        announce(session, request, note, to_status)


def change_status(
    session: Session,
    request: ServiceRequest,
    to_status: str,
    actor: str,
    note: str | None = None,
    public: bool = True,
    data: dict | None = None,
) -> ServiceRequest:
    """Move an open request to another open state, or close it (with its reason as the state).

    ``data`` is kept with the event (e.g. which API client's update it was)."""
    if to_status not in OPEN_STATES + CLOSED_STATES:
        raise LifecycleError(f"{to_status!r} is not a state; use one of {', '.join(OPEN_STATES + CLOSED_STATES)}.")
    if request.status in CLOSED_STATES:
        raise LifecycleError(f"The request is closed ({STATE_LABELS[request.status]}); reopen it first.")
    if to_status == "duplicate":
        raise LifecycleError("Mark a duplicate with the request it duplicates (mark_duplicate).")
    if to_status in CLOSED_STATES and to_status != "fixed" and not note:
        raise LifecycleError("Closing without a fix needs a note saying why.")
    now = datetime.now(UTC)
    _record(session, request, actor, "status", note, public, to_status, data)
    request.status = to_status
    request.updated_at = now
    if to_status in CLOSED_STATES:
        request.closed_at = now
        _ = translations(request.language).gettext
        _notify_requester(
            session,
            request,
            _("Your request %(reference)s is closed: %(status)s.")
            % {"reference": request.public_ref, "status": _(STATE_LABELS[to_status])}
            + (f"\n{note}" if note and public else ""),
        )
    session.commit()
    return request


def reassign(
    session: Session,
    request: ServiceRequest,
    actor: str,
    reason: str,
    department: str | None = None,
    assignee: str | None = None,
) -> ServiceRequest:
    """Give the request to another department and/or person; who, when and why are kept."""
    if not reason or not reason.strip():
        raise LifecycleError("A reassignment needs a reason.")
    if (
        department is not None
        and session.scalar(select(Department.id).where(Department.city == request.city, Department.code == department))
        is None
    ):
        raise LifecycleError(f"There is no department {department!r}.")
    data = {
        "from_department": request.department_code,
        "from_assignee": request.assignee,
        "to_department": department or request.department_code,
        "to_assignee": assignee,
    }
    _record(session, request, actor, "assigned", reason.strip(), False, data=data)
    if department is not None:
        request.department_code = department
    request.assignee = assignee
    request.updated_at = datetime.now(UTC)
    session.commit()
    return request


def set_priority(
    session: Session, request: ServiceRequest, priority: str | None, allowed: Sequence[str], actor: str
) -> ServiceRequest:
    """Set the request's priority to one of ``allowed`` (its department's priorities), or none;
    the change is kept in the history as a ``priority`` event."""
    priority = (priority or "").strip() or None
    if priority is not None and priority not in allowed:
        known = ", ".join(allowed) or "none (the city file lists no priorities for this department)"
        raise LifecycleError(f"There is no priority {priority[:60]!r} for this department; its priorities: {known}.")
    if priority == request.priority:
        raise LifecycleError(f"The request's priority is already {priority or 'unset'}.")
    _record(
        session,
        request,
        actor,
        "priority",
        f"Priority: {priority or 'none'} (was {request.priority or 'none'})",
        data={"from_priority": request.priority, "to_priority": priority},
    )
    request.priority = priority
    request.updated_at = datetime.now(UTC)
    session.commit()
    return request


def mark_duplicate(
    session: Session, request: ServiceRequest, original: ServiceRequest, actor: str, note: str | None = None
) -> ServiceRequest:
    """Close ``request`` as a duplicate of ``original`` (or of what ``original`` duplicates)."""
    while original.duplicate_of is not None:  # point at the request that stands for the problem
        original = session.get(ServiceRequest, original.duplicate_of)  # type: ignore[assignment]
    if original.id == request.id:
        raise LifecycleError("A request cannot duplicate itself.")
    if original.city != request.city:
        raise LifecycleError("A request can only duplicate a request of the same city.")
    if request.status in CLOSED_STATES:
        raise LifecycleError(f"The request is closed ({STATE_LABELS[request.status]}); reopen it first.")
    now = datetime.now(UTC)
    _record(
        session,
        request,
        actor,
        "status",
        note or f"Duplicate of {original.public_ref}.",
        True,
        "duplicate",
        {"duplicate_of": original.public_ref},
    )
    request.status = "duplicate"
    request.duplicate_of = original.id
    request.closed_at = now
    request.updated_at = now
    _ = translations(request.language).gettext
    _notify_requester(
        session,
        request,
        _("Your request %(reference)s concerns a problem already reported (%(original)s); follow that one.")
        % {"reference": request.public_ref, "original": original.public_ref},
    )
    session.commit()
    return request


def reopen(
    session: Session,
    request: ServiceRequest,
    actor: str,
    reason: str,
    public: bool = True,
    data: dict | None = None,
) -> ServiceRequest:
    """Open a closed request again (it becomes ``submitted``); ``data`` is kept with the event."""
    if request.status not in CLOSED_STATES:
        raise LifecycleError("The request is open already.")
    if not reason or not reason.strip():
        raise LifecycleError("Reopening needs a reason.")
    _record(session, request, actor, "reopened", reason.strip(), public, "submitted", data)
    request.status = "submitted"
    request.closed_at = None
    request.duplicate_of = None  # escalated_at stays: a reopened late request is not escalated twice
    request.updated_at = datetime.now(UTC)
    session.commit()
    return request


def add_note(
    session: Session, request: ServiceRequest, actor: str, note: str, public: bool = False, data: dict | None = None
) -> None:
    """A note in the history; public notes show on the status page. ``data`` is kept with the event."""
    note = normalise_newlines(note or "").strip()
    if not note:
        raise LifecycleError("The note is empty.")
    if len(note) > MAX_NOTE:
        raise LifecycleError(
            f"The note is {len(note):,} characters long; at most {MAX_NOTE:,} are kept. Please shorten it."
        )
    _record(session, request, actor, "note", note, public, data=data)
    request.updated_at = datetime.now(UTC)
    session.commit()


def set_details_public(session: Session, request: ServiceRequest, actor: str, public: bool) -> None:
    """Mark the request's description and location note fit for every role and the public (or private again).

    Only staff who may read them (requests.contact) should decide; the views check that.
    """
    if request.details_public == public:
        return
    request.details_public = public
    _record(
        session,
        request,
        actor,
        "details_public" if public else "details_private",
        "Description and location note made public." if public else "Description and location note made private.",
    )
    request.updated_at = datetime.now(UTC)
    session.commit()


def overdue(
    session: Session, city: str, department: str | None = None, now: datetime | None = None
) -> list[ServiceRequest]:
    """Open requests past their due date, most overdue first."""
    query = select(ServiceRequest).where(
        ServiceRequest.city == city, ServiceRequest.is_open, ServiceRequest.due_at < (now or datetime.now(UTC))
    )
    if department:
        query = query.where(ServiceRequest.department_code == department)
    return list(session.scalars(query.order_by(ServiceRequest.due_at).limit(5000)))


def _notify_requester(session: Session, request: ServiceRequest, message: str) -> None:
    """Queue the message for the requester and each follower, by the method each chose (nothing for 'none')."""
    _ = translations(request.language).gettext  # the language the request was filed in
    subject = _("Request %(reference)s: %(status)s") % {
        "reference": request.short_ref_shown,
        "status": _(STATE_LABELS[request.status]),
    }
    for method, recipient in requester_recipients(session, request):
        session.add(
            Notification(request_id=request.id, method=method, recipient=recipient, subject=subject, body=message)
        )


def requester_recipients(session: Session, request: ServiceRequest) -> list[tuple[str, str]]:
    """(method, address) of the requester and each follower who asked to be told and left a way to reach them."""
    recipients: list[tuple[str, str | None]] = []
    contact = session.get(RequestContact, request.id)
    if contact is not None and request.response_method != "none":
        recipients.append(
            (
                request.response_method,
                {"email": contact.email, "phone": contact.phone, "mail": contact.notes}.get(request.response_method),
            )
        )
    for follower in session.scalars(
        select(RequestFollower).where(RequestFollower.request_id == request.id).order_by(RequestFollower.id)
    ):
        recipients.append(
            (follower.response_method, {"email": follower.email, "phone": follower.phone}.get(follower.response_method))
        )
    return [(method, recipient) for method, recipient in recipients if recipient]
