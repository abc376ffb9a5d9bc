"""Escalation as the accounts see it: who gets the e-mails, and a run of it for a city.

The domain work is :mod:`service_requests.escalation`; this module adds the supervisors'
accounts (role ``supervisor`` of the department, active, with an e-mail address and
``escalation_email`` on) as recipients, so the CLI, cron and notebooks share one call.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import StaffUser
from service_requests.escalation import escalate_overdue


def supervisor_addresses(session: Session, city: str) -> dict[str, list[str]]:
    """Department code -> the e-mail addresses of its supervisors who want escalation e-mails."""
    rows = session.execute(
        select(StaffUser.department_code, StaffUser.email)
        .where(
            StaffUser.city == city,
            StaffUser.role == "supervisor",
            StaffUser.active,
            StaffUser.escalation_email,
            StaffUser.email.is_not(None),
            StaffUser.department_code.is_not(None),
        )
        .order_by(StaffUser.username)
    ).all()
    addresses: dict[str, list[str]] = defaultdict(list)
    for department, email in rows:
        if department and email:  # the query's filters: for the type checker
            addresses[department].append(email)
    return dict(addresses)


def escalate(session: Session, city: str, include_imported: bool = False, now: datetime | None = None) -> int:
    """Escalate ``city``'s newly overdue requests to its supervisors' accounts and the city file's addresses."""
    return escalate_overdue(
        session, city, now=now, supervisors=supervisor_addresses(session, city), include_imported=include_imported
    )
