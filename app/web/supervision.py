"""Supervisors' pages: the escalations of their department (to acknowledge) and the overdue list.

Department supervisors see their own department; administrators and other city-wide roles
pick one or see all. The lists are :mod:`service_requests.escalation` and
:func:`service_requests.lifecycle.overdue`; a request outside the user's scope is left out.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from accounts import audit
from accounts.assignees import assignee_names
from accounts.scope import in_scope, within_scope
from app.web import db_session, runtime
from app.web.access import client_ip, current_user, requires, staff_user
from core.errors import UserError
from core.states import STATE_LABELS
from service_requests.escalation import acknowledge, escalations
from service_requests.lifecycle import overdue
from service_requests.lookup import find_by_reference
from service_requests.models import Department
from service_requests.selection import RequestFilter

bp = Blueprint("supervision", __name__, url_prefix="/staff")


def _department() -> str | None:
    """The department asked for in the query string, narrowed to the user's scope."""
    user = staff_user()
    return within_scope(user, RequestFilter(department=request.args.get("department") or None)).department


def _departments() -> list[Department]:
    city = runtime().city
    return list(db_session().scalars(select(Department).where(Department.city == city.key).order_by(Department.name)))


@bp.get("/overdue")
@requires("requests.overdue")
def overdue_view():
    """Open requests past their due date, by department (department staff see their own)."""
    user = current_user()
    department = _department()
    session = db_session()
    city = runtime().city
    now = datetime.now(UTC)
    rows = [r for r in overdue(session, city.key, department=department, now=now) if in_scope(user, r)]
    return render_template(
        "staff_overdue.html",
        city=city,
        now=now,
        rows=rows,
        departments=_departments(),
        department=department,
        labels=STATE_LABELS,
    )


@bp.get("/escalations")
@requires("requests.reassign")
def escalations_view():
    """The escalated and overdue open requests of the supervisor's department, to acknowledge."""
    return _escalations_page()


def _escalations_page(error: str | None = None, failed: str | None = None, note: str = ""):
    user = staff_user()
    department = _department()
    session = db_session()
    city = runtime().city
    rows = [row for row in escalations(session, city.key, department=department) if in_scope(user, row.request)]
    names = assignee_names(session, city.key, [row.request.assignee for row in rows])
    waiting = sum(1 for row in rows if row.request.escalated_at and not row.acknowledged)
    return render_template(
        "staff_escalations.html",
        city=city,
        rows=rows,
        names=names,
        waiting=waiting,
        departments=_departments(),
        department=department,
        labels=STATE_LABELS,
        error=error,
        failed=failed,
        note=note,
    ), (400 if error else 200)


@bp.post("/escalations/<reference>/acknowledge")
@requires("requests.reassign")
def acknowledge_view(reference: str):
    """Acknowledge one escalation with an optional note; errors come back on the list."""
    user = staff_user()
    session = db_session()
    found = find_by_reference(session, runtime().city.key, reference)
    note = request.form.get("note", "")
    if found is None or not in_scope(user, found):
        return _escalations_page(error=f"No request {reference[:40]!r} in your escalations.", failed=reference)
    try:
        acknowledge(session, found, user.username, note)
    except UserError as exc:
        session.rollback()
        return _escalations_page(error=str(exc), failed=reference, note=note)
    audit.record(session, found.city, user.username, "request.escalation_ack", found.public_ref, client_ip())
    session.commit()
    flash(f"Escalation of {found.short_ref_shown} acknowledged.", "success")
    return redirect(url_for("supervision.escalations_view", department=request.args.get("department") or None), 303)
