"""Bulk actions: each request on its own, through the page's checks, with a result per request."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.bulk_actions import run_bulk, summary
from accounts.models import AuditEntry
from accounts.users import find_user
from core.errors import UserError
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import change_status
from tests.helpers.staff import make_user


def make(session, la, validator, service="graffiti"):
    attributes = {"surface": "wall"} if service == "graffiti" else {}
    return create_request(
        session,
        la,
        validator,
        RequestInput(service_code=service, channel="phone", address="2111 W Bellevue Ave", attributes=attributes),
    ).request


def test_bulk_assign_reports_each_refusal_and_keeps_the_rest(session, la, validator):
    chief = find_user(session, "la", make_user(session, "supervisor", department_code="OCB"))
    worker = make_user(session, "department", department_code="OCB")
    a, b, closed = make(session, la, validator), make(session, la, validator), make(session, la, validator)
    change_status(session, closed, "fixed", "test", "done")
    results = run_bulk(
        session, chief, "assign", [a.public_ref, closed.public_ref, b.public_ref, "NOPE"], assignee=f"user:{worker}"
    )
    assert [(r.reference, r.done) for r in results] == [
        (a.public_ref, True),
        (closed.public_ref, False),
        (b.public_ref, True),
        ("NOPE", False),
    ]
    assert summary("assign", results).startswith(f"2 assigned; 2 refused: {closed.public_ref}: it is closed")
    session.refresh(a)
    session.refresh(b)
    assert a.assignee == b.assignee == f"user:{worker}"
    audited = session.scalars(select(AuditEntry.target).where(AuditEntry.action == "request.bulk_assign")).all()
    assert a.public_ref in audited and closed.public_ref not in audited


def test_bulk_refuses_what_the_page_would(session, la, validator):
    staff = find_user(session, "la", make_user(session, "department", department_code="OCB"))
    other = make_user(session, "department", department_code="BSS")
    request = make(session, la, validator)
    refused = run_bulk(session, staff, "assign", [request.public_ref], assignee=f"user:{other}")
    assert not refused[0].done and "role does not allow" in refused[0].reason  # department staff do not reassign
    chief = find_user(session, "la", make_user(session, "supervisor", department_code="OCB"))
    wrong = run_bulk(session, chief, "assign", [request.public_ref], assignee=f"user:{other}")
    assert not wrong[0].done and "not staff of department OCB" in wrong[0].reason
    cancelled = run_bulk(session, staff, "status", [request.public_ref], status="cancelled")
    assert not cancelled[0].done and "note" in cancelled[0].reason
    assert run_bulk(session, staff, "status", [request.public_ref], status="in_progress", note="Crew sent")[0].done


def test_bulk_duplicates_of_one_original(session, la, validator):
    staff = find_user(session, "la", make_user(session, "department", department_code="OCB"))
    original, copy = make(session, la, validator), make(session, la, validator)
    results = run_bulk(
        session, staff, "duplicate", [copy.public_ref, original.public_ref], original=original.public_ref
    )
    assert [r.done for r in results] == [True, False] and "itself" in results[1].reason
    with pytest.raises(UserError, match="no request"):
        run_bulk(session, staff, "duplicate", [copy.public_ref], original="XXXX")
    with pytest.raises(UserError, match="Choose a bulk action"):
        run_bulk(session, staff, "delete", [copy.public_ref])
