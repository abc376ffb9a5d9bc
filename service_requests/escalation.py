"""Escalation of overdue requests: to the department's supervisors, listed in the app, acknowledged.

:func:`escalate_overdue` marks each newly overdue request escalated, records an
``escalated`` event and queues one e-mail (a :class:`Notification` in the outbox) per
recipient: the supervisors' addresses the caller passes (accounts that asked for them, see
:func:`accounts.escalations.escalate`) and the city file's ``supervisor_email`` when set.
Imported history is escalated only when asked (``include_imported``). :func:`escalations`
is the supervisors' list; :func:`acknowledge` records, once, that someone took it in hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.states import STATE_LABELS
from core.text import normalise_newlines
from service_requests.lifecycle import MAX_NOTE, LifecycleError, _record
from service_requests.models import Department, Notification, ServiceRequest

#: The most requests one run escalates, and the most rows the list shows.
LIMIT = 5000


def escalate_overdue(
    session: Session,
    city: str,
    now: datetime | None = None,
    limit: int = LIMIT,
    supervisors: Mapping[str, Sequence[str]] | None = None,
    include_imported: bool = False,
) -> int:
    """Escalate each newly overdue request of ``city``; returns how many. Commits.

    ``supervisors`` maps a department code to the e-mail addresses of its supervisors'
    accounts that want escalations; the department's ``supervisor_email`` from the city
    file is added when set (each address once). Imported history (``source = 'import'``)
    describes the past and is skipped unless ``include_imported``.
    """
    now = now or datetime.now(UTC)
    file_addresses = dict(
        session.execute(select(Department.code, Department.supervisor_email).where(Department.city == city)).all()
    )
    query = select(ServiceRequest).where(
        ServiceRequest.city == city,
        ServiceRequest.is_open,
        ServiceRequest.due_at < now,
        ServiceRequest.escalated_at.is_(None),
    )
    if not include_imported:
        query = query.where(ServiceRequest.source != "import")
    count = 0
    for request in session.scalars(query.order_by(ServiceRequest.due_at).limit(limit)):
        recipients = _recipients(request.department_code, supervisors or {}, file_addresses)
        _record(
            session,
            request,
            "escalation",
            "escalated",
            f"Past its due date ({request.service_level}).",
            data={"recipients": recipients},
        )
        request.escalated_at = now
        for address in recipients:
            session.add(_notice(request, address))
        count += 1
    session.commit()
    return count


def _recipients(
    department: str | None, supervisors: Mapping[str, Sequence[str]], file_addresses: Mapping[str, str | None]
) -> list[str]:
    if not department:
        return []
    addresses = [*supervisors.get(department, ()), file_addresses.get(department) or ""]
    seen: dict[str, str] = {}
    for address in addresses:
        if address.strip() and address.strip().lower() not in seen:
            seen[address.strip().lower()] = address.strip()
    return list(seen.values())


def _notice(request: ServiceRequest, address: str) -> Notification:
    due_at = request.due_at
    assert due_at is not None  # selected by due_at < now
    return Notification(
        request_id=request.id,
        method="email",
        recipient=address,
        subject=f"Overdue: {request.service_name} {request.short_ref_shown}",
        body=(
            f"Request {request.public_ref} ({request.service_name}, {request.address or 'no address'}) "
            f"was due {due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC and is still "
            f"{STATE_LABELS[request.status]}.\n"
        ),
    )


@dataclass(frozen=True)
class EscalationRow:
    """One line of the supervisors' list: an open request that is escalated or past due."""

    request: ServiceRequest
    now: datetime

    @property
    def days_late(self) -> int:
        """Whole days past the due time (0 on the day it fell due, or when it has no due time)."""
        due = self.request.due_at
        return max((self.now - due).days, 0) if due is not None else 0

    @property
    def acknowledged(self) -> bool:
        """Whether someone acknowledged its escalation."""
        return self.request.escalation_ack_at is not None


def escalations(
    session: Session, city: str, department: str | None = None, now: datetime | None = None, limit: int = LIMIT
) -> list[EscalationRow]:
    """Open requests that are escalated or past due (of one department), the most overdue first.

    Unacknowledged escalations come before acknowledged ones.
    """
    now = now or datetime.now(UTC)
    query = select(ServiceRequest).where(
        ServiceRequest.city == city,
        ServiceRequest.is_open,
        or_(ServiceRequest.escalated_at.is_not(None), ServiceRequest.due_at < now),
    )
    if department:
        query = query.where(ServiceRequest.department_code == department)
    query = query.order_by(
        ServiceRequest.escalation_ack_at.is_not(None), ServiceRequest.due_at.nulls_last(), ServiceRequest.id
    )
    return [EscalationRow(request, now) for request in session.scalars(query.limit(limit))]


def acknowledge(session: Session, request: ServiceRequest, actor: str, note: str | None = None) -> None:
    """Record that ``actor`` took the request's escalation in hand (an ``escalation_ack`` event). Commits.

    Raises :class:`LifecycleError` if it is not escalated or already acknowledged.
    """
    session.refresh(request, with_for_update=True)  # two supervisors clicking at once: the second is told
    text = normalise_newlines(note or "").strip()
    if len(text) > MAX_NOTE:
        raise LifecycleError(f"The note is {len(text):,} characters; the most is {MAX_NOTE:,}.")
    if request.escalated_at is None:
        raise LifecycleError(f"Request {request.short_ref_shown} is not escalated, so there is nothing to acknowledge.")
    if request.escalation_ack_at is not None:
        raise LifecycleError(
            f"Request {request.short_ref_shown}'s escalation was already acknowledged by {request.escalation_ack_by}."
        )
    _record(session, request, actor, "escalation_ack", text or "Escalation acknowledged.", to_status=None)
    request.escalation_ack_at = datetime.now(UTC)
    request.escalation_ack_by = actor
    session.commit()
