"""Bulk actions of the work queue: one action on several requests, each on its own.

Each request goes through the same permission check (:func:`accounts.scope.may`), audit
entry and lifecycle function as the request page's action of the same name, and is its own
commit: one refusal (a closed request, one outside the user's scope) undoes nothing else.
:func:`run_bulk` returns a result per request, and :func:`summary` says them in a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.assignees import Crews, check_assignee
from accounts.models import StaffUser
from accounts.scope import may
from core.errors import UserError
from service_requests.lifecycle import change_status, mark_duplicate, reassign
from service_requests.models import ServiceRequest
from service_requests.references import normalize_reference

#: The bulk actions: name -> (the permission, the words of the summary).
BULK_ACTIONS = {
    "assign": ("requests.reassign", "assigned"),
    "status": ("requests.update", "changed"),
    "duplicate": ("requests.update", "marked as duplicates"),
}
#: The most requests one bulk action takes.
MAX_BULK = 200


@dataclass(frozen=True)
class BulkResult:
    """What happened to one request: done, or refused with the reason."""

    reference: str
    done: bool
    reason: str = ""


def _find(session: Session, city: str, reference: str) -> ServiceRequest | None:
    canonical = normalize_reference(reference)
    if not canonical:
        return None
    return session.scalar(
        select(ServiceRequest).where(ServiceRequest.city == city, ServiceRequest.public_ref == canonical)
    )


def run_bulk(
    session: Session,
    user: StaffUser,
    action: str,
    references: Sequence[str],
    *,
    assignee: str | None = None,
    crews: Crews | None = None,
    status: str | None = None,
    note: str | None = None,
    original: str | None = None,
    ip: str | None = None,
) -> list[BulkResult]:
    """Apply ``action`` (a key of :data:`BULK_ACTIONS`) to each request of ``references``, each in
    its own commit; returns a result per reference. Raises :class:`UserError` for a bad action as a
    whole (unknown, too many requests, no original)."""
    if action not in BULK_ACTIONS:
        raise UserError(f"Choose a bulk action: {', '.join(BULK_ACTIONS)}.")
    references = list(dict.fromkeys(r.strip() for r in references if r and r.strip()))
    if not references:
        raise UserError("Check at least one request.")
    if len(references) > MAX_BULK:
        raise UserError(f"A bulk action takes at most {MAX_BULK} requests at a time.")
    permission = BULK_ACTIONS[action][0]
    first: ServiceRequest | None = None
    if action == "duplicate":
        first = _find(session, user.city, original or "")
        if first is None or not may(user, "requests.view", first):
            raise UserError(f"There is no request {(original or '')[:60]!r} to mark these as duplicates of.")
    results = []
    for reference in references:
        found = _find(session, user.city, reference)
        if found is None or not may(user, "requests.view", found):
            results.append(BulkResult(reference[:60], False, "no such request in your scope"))
            continue
        if not may(user, permission, found):
            results.append(BulkResult(found.public_ref, False, "your role does not allow this action on it"))
            continue
        try:
            if not found.is_open:
                raise UserError("it is closed")
            audit.record(
                session,
                found.city,
                user.username,
                f"request.bulk_{action}",
                found.public_ref,
                ip,
                from_status=found.status,
            )
            if action == "assign":
                checked = check_assignee(session, found.city, found.department_code, assignee, crews)
                reassign(session, found, user.username, note or "Assigned from the work queue", assignee=checked)
            elif action == "status":
                change_status(session, found, status or "", user.username, note or None, public=False)
            else:
                assert first is not None
                mark_duplicate(session, found, first, user.username, note or None)
        except UserError as exc:
            session.rollback()
            results.append(BulkResult(found.public_ref, False, str(exc).rstrip(".")))
        else:
            results.append(BulkResult(found.public_ref, True))
    return results


def summary(action: str, results: Sequence[BulkResult]) -> str:
    """E.g. "12 assigned; 1 refused: XXXX is closed"."""
    done = sum(r.done for r in results)
    refused = [r for r in results if not r.done]
    words = f"{done} {BULK_ACTIONS[action][1]}" if action in BULK_ACTIONS else f"{done} done"
    if refused:
        words += f"; {len(refused)} refused: " + "; ".join(f"{r.reference}: {r.reason}" for r in refused)
    return words
