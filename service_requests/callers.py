"""Caller history: the earlier requests of the phone or e-mail a caller gives (for staff with requests.contact)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service_requests.models import RequestContact, ServiceRequest

#: Fewer digits than this are not a phone number yet (the caller is still typing).
MIN_PHONE_DIGITS = 7


def phone_digits(phone: str | None) -> str | None:
    """The digits of a phone number, the form it is matched by (``(213) 555-0100`` -> ``2135550100``), or None."""
    digits = re.sub(r"\D", "", phone or "")
    return digits if len(digits) >= MIN_PHONE_DIGITS else None


def email_key(email: str | None) -> str | None:
    """A lowercased, trimmed e-mail, the form it is matched by, or None when it is not one."""
    email = (email or "").strip().lower()
    return email if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) else None


@dataclass(frozen=True)
class EarlierRequest:
    """A request the same caller made before."""

    public_ref: str
    short_ref: str
    service_name: str
    status: str
    requested_at: datetime


def caller_history(
    session: Session, city: str, phone: str | None = None, email: str | None = None, limit: int = 20
) -> list[EarlierRequest]:
    """The city's requests whose contact has the same phone digits or e-mail, newest first.

    The caller must not learn about other people: call it only for staff allowed contact data.
    """
    digits, mail = phone_digits(phone), email_key(email)
    matches = []
    if digits:
        matches.append(  # the partial expression index request_contact_phone_digits answers it
            and_(
                RequestContact.phone.is_not(None),
                func.regexp_replace(RequestContact.phone, "[^0-9]", "", "g") == digits,
            )
        )
    if mail:
        matches.append(and_(RequestContact.email.is_not(None), func.lower(RequestContact.email) == mail))
    if not matches:
        return []
    rows = session.execute(
        select(
            ServiceRequest.public_ref,
            ServiceRequest.short_ref,
            ServiceRequest.service_name,
            ServiceRequest.status,
            ServiceRequest.requested_at,
        )
        .join(RequestContact, RequestContact.request_id == ServiceRequest.id)
        .where(ServiceRequest.city == city, or_(*matches))
        .order_by(ServiceRequest.requested_at.desc())
        .limit(limit)
    )
    return [EarlierRequest(*row) for row in rows]
