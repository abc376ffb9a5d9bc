"""Finding a request by what a person typed: its long reference or its short one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service_requests.models import ServiceRequest
from service_requests.references import normalize_reference, normalize_short_reference


def is_reference(typed: str) -> bool:
    """Whether ``typed`` reads as a long or a short reference (case, dashes and O/I/L forgiven)."""
    return normalize_reference(typed) is not None or normalize_short_reference(typed) is not None


def find_by_reference(session: Session, city: str, typed: str) -> ServiceRequest | None:
    """The city's request with the long or short reference ``typed``, or None (also for text that is neither)."""
    long_ref = normalize_reference(typed)
    if long_ref is not None:
        return session.scalar(
            select(ServiceRequest).where(ServiceRequest.city == city, ServiceRequest.public_ref == long_ref)
        )
    short_ref = normalize_short_reference(typed)
    if short_ref is not None:
        return session.scalar(
            select(ServiceRequest).where(ServiceRequest.city == city, ServiceRequest.short_ref == short_ref)
        )
    return None
