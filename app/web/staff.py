"""Staff pages: a request's full record and its actions, the overdue view, the catalogue admin.

(Access control by role comes with staff accounts; these views only call the domain.)
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from app.errors import UserError
from app.service_requests.lifecycle import add_note, change_status, mark_duplicate, overdue, reassign, reopen
from app.service_requests.models import Department, RequestContact, RequestEvent, ServiceRecord, ServiceRequest
from app.service_requests.references import normalize_reference
from app.service_requests.states import CLOSED_STATES, OPEN_STATES, STATE_LABELS
from app.web import db_session, services

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _request_or_404(reference: str) -> ServiceRequest:
    canonical = normalize_reference(reference)
    found = db_session().scalar(select(ServiceRequest).where(
        ServiceRequest.city == services().city.key, ServiceRequest.public_ref == canonical)) if canonical else None
    if found is None:
        abort(404, "No request has that reference.")
    return found


@bp.route("/requests/<reference>", methods=["GET", "POST"])
def request_detail(reference: str):
    """Everything about a request, its history, and what staff can do with it."""
    session = db_session()
    found = _request_or_404(reference)
    error = None
    if request.method == "POST":
        form = request.form
        actor = "staff"
        try:
            action = form.get("action")
            if action == "status":
                change_status(session, found, form.get("status", ""), actor, form.get("note") or None,
                              public=form.get("public") == "1")
            elif action == "reassign":
                reassign(session, found, actor, form.get("reason", ""), department=form.get("department") or None,
                         assignee=form.get("assignee") or None)
            elif action == "duplicate":
                original = _request_or_404(form.get("original", ""))
                mark_duplicate(session, found, original, actor, form.get("note") or None)
            elif action == "reopen":
                reopen(session, found, actor, form.get("reason", ""))
            elif action == "note":
                add_note(session, found, actor, form.get("note", ""), public=form.get("public") == "1")
            else:
                abort(400, "Unknown action.")
        except UserError as exc:
            session.rollback()
            error = str(exc)
        else:
            return redirect(url_for("staff.request_detail", reference=found.public_ref), code=303)
    events = session.scalars(select(RequestEvent).where(RequestEvent.request_id == found.id).order_by(RequestEvent.id)).all()
    departments = session.scalars(select(Department).where(Department.city == found.city).order_by(Department.name)).all()
    return render_template(
        "staff_request.html", city=services().city, r=found, events=events, error=error,
        contact=session.get(RequestContact, found.id), departments=departments, labels=STATE_LABELS,
        open_states=list(OPEN_STATES), closed_states=[s for s in CLOSED_STATES if s != "duplicate"],
        original=session.get(ServiceRequest, found.duplicate_of) if found.duplicate_of else None,
    ), (400 if error else 200)


@bp.get("/overdue")
def overdue_view():
    """Open requests past their due date, by department."""
    department = request.args.get("department") or None
    session = db_session()
    city = services().city
    rows = overdue(session, city.key, department=department)
    departments = session.scalars(select(Department).where(Department.city == city.key).order_by(Department.name)).all()
    return render_template("staff_overdue.html", city=city, rows=rows, departments=departments,
                           department=department, labels=STATE_LABELS)


@bp.route("/services", methods=["GET", "POST"])
def services_admin():
    """The catalogue as stored: service levels, routing, rules; changes apply to new requests only."""
    session = db_session()
    city = services().city
    error = None
    if request.method == "POST":
        record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == city.key,
                                                            ServiceRecord.code == request.form.get("code", "")))
        if record is None:
            abort(404, "There is no such service.")
        try:
            _update_service(session, record, request.form)
            session.commit()
        except UserError as exc:
            session.rollback()
            error = f"{record.name}: {exc}"
        else:
            return redirect(url_for("staff.services_admin"), code=303)
    records = session.scalars(select(ServiceRecord).where(ServiceRecord.city == city.key)
                              .order_by(ServiceRecord.group_name, ServiceRecord.name)).all()
    departments = session.scalars(select(Department).where(Department.city == city.key).order_by(Department.name)).all()
    return render_template("staff_services.html", city=city, records=records, departments=departments,
                           error=error), (400 if error else 200)


def _update_service(session, record: ServiceRecord, form) -> None:  # noqa: ANN001
    amount, unit = form.get("sla_amount", ""), form.get("sla_unit", "")
    if not amount.isdigit() or not 0 < int(amount) <= 10_000 or unit not in ("hours", "business_days"):
        raise UserError("the service level must be a whole number of hours or business days.")
    department = form.get("department_code", "")
    if session.scalar(select(Department.id).where(Department.city == record.city, Department.code == department)) is None:
        raise UserError(f"there is no department {department!r}.")
    if form.get("contact_policy") not in ("ask", "require", "never"):
        raise UserError("contact must be ask, require or never.")
    if form.get("location_policy") not in ("required", "optional", "none"):
        raise UserError("location must be required, optional or none.")
    record.sla_hours = int(amount) if unit == "hours" else None
    record.sla_business_days = int(amount) if unit == "business_days" else None
    record.department_code = department
    record.default_assignee = (form.get("default_assignee") or "").strip()[:200] or None
    record.contact_policy = form["contact_policy"]
    record.location_policy = form["location_policy"]
    record.active = form.get("active") == "1"
