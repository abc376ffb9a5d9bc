"""The audit log: logins, and changes to requests, users and configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import AuditEntry


def record(
    session: Session,
    city: str,
    actor: str,
    action: str,
    target: str | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    """Add an entry (the caller commits with the change it describes). Never pass residents' personal data."""
    session.add(AuditEntry(city=city, actor=actor, action=action, target=target, ip=ip, detail=detail))


def recent(
    session: Session, city: str, limit: int = 200, action_prefix: str | None = None, actor: str | None = None
) -> list[AuditEntry]:
    """The newest entries first, optionally of one kind of action (``login``, ``request``...) or one actor."""
    query = select(AuditEntry).where(AuditEntry.city == city)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(min(limit, 1000))))
