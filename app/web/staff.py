"""Staff pages: a request's full record and its actions, the catalogue admin (overdue: app/web/supervision.py).

Each view names its permission; a request outside the user's scope (another department's,
another ward's) answers 404 like a request that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from accounts import audit
from accounts.assignees import assignee_names, check_assignee, department_assignees
from accounts.scope import may_read_details
from app.web import db_session, runtime
from app.web.access import allowed, client_ip, current_user, requires, staff_user
from app.web.media import media_store, uploads
from app.web.tiles import basemap_config
from core.catalogue_file import DATATYPES, Priority, Service, ServiceLevel
from core.errors import UserError
from core.i18n import language_name
from core.replies_file import MAX_REPLY
from core.states import CLOSED_STATES, EVENT_KIND_LABELS, OPEN_STATES, RESPONSE_METHOD_LABELS, STATE_LABELS
from core.text import normalise_newlines
from service_requests.catalogue_db import save_service, to_service
from service_requests.duplicates import Candidate, candidate_duplicates, request_point
from service_requests.followers import followers_of, report_count
from service_requests.intake import nearby_open_requests
from service_requests.lifecycle import (
    add_note,
    change_status,
    mark_duplicate,
    reassign,
    reopen,
    set_details_public,
    set_priority,
)
from service_requests.lookup import find_by_reference
from service_requests.models import Department, RequestContact, RequestEvent, ServiceRecord, ServiceRequest
from service_requests.photos import add_photos, photos_of, service_shows_photos, set_hidden
from service_requests.replies import send_reply, templates_for, why_no_reply
from service_requests.selection import filter_choices
from service_requests.subscriptions import follower_count

bp = Blueprint("staff", __name__, url_prefix="/staff")


def _request_or_404(reference: str) -> ServiceRequest:
    found = _request_in_scope(reference)
    if found is None:
        abort(404, "No request has that reference.")
    return found


def _request_in_scope(reference: str) -> ServiceRequest | None:
    """The city's request with this reference (the long or the short one) if the user may view it, else None."""
    found = find_by_reference(db_session(), runtime().city.key, reference)
    if found is None or not allowed("requests.view", found):
        return None
    return found


def _priorities(found: ServiceRequest) -> tuple[Priority, ...]:
    """The priorities of the request's department, from the city file."""
    return runtime().city.catalogue.priorities.get(found.department_code or "", ())


#: What each action says on the page when it has been done.
DONE = {
    "status": "Status changed to {status}.",
    "reassign": "Reassignment saved.",
    "duplicate": "Marked as a duplicate of {original}.",
    "reopen": "Request reopened.",
    "note": "Note added.",
    "details": "Visibility of the description and location note changed.",
    "priority": "Priority saved.",
    "reply": "Reply sent: it is in the outbox for the resident.",
    "photo_add": "Photos added.",
    "photo_hide": "Photo hidden from the public.",
    "photo_show": "Photo shown again.",
}

#: The permission each action of the request page needs.
ACTIONS = {
    "status": "requests.update",
    "reassign": "requests.reassign",
    "priority": "requests.update",
    "duplicate": "requests.update",
    "reopen": "requests.update",
    "note": "requests.update",
    "details": "requests.update",
    "reply": "requests.update",
    "photo_add": "requests.update",
    "photo_hide": "requests.update",
    "photo_show": "requests.update",
}


@bp.route("/requests/<reference>", methods=["GET", "POST"])
@requires("requests.view")
def request_detail(reference: str):
    """Everything about a request, its history, and what staff can do with it."""
    session = db_session()
    found = _request_or_404(reference)
    error = None
    if request.method == "POST":
        form = request.form
        user = staff_user()
        actor = user.username
        action = form.get("action", "")
        if action not in ACTIONS:
            return _page(found, "That action is not known; reload the page and try again.", 400)
        if not allowed(ACTIONS[action], found) or (
            action in ("details", "reply") and not allowed("requests.contact", found)
        ):
            return _page(found, "Your role does not allow this action on this request.", 403)
        original = None
        closing = found  # the request an action changes: this one, or the candidate a duplicate action names
        if action == "duplicate":
            original = _request_in_scope(form.get("original", ""))
            if original is None:
                typed = form.get("original", "").strip() or "(empty)"
                return _page(found, f"No request you can see has the reference {typed}; check the reference.", 400)
            if form.get("target"):
                target = _request_in_scope(form["target"])
                if target is None or not allowed("requests.update", target):
                    typed = form["target"].strip()
                    return _page(found, f"You may not change the request {typed}; it stays as it is.", 403)
                closing = target
        # Added first, so that the action's own commit stores it with the change (or neither).
        audit.record(
            session,
            found.city,
            actor,
            f"request.{action}",
            closing.public_ref,
            client_ip(),
            from_status=found.status,
            to_status=form.get("status") or None,
            department=form.get("department") or None,
        )
        try:
            if action == "status":
                change_status(
                    session,
                    found,
                    form.get("status", ""),
                    actor,
                    form.get("note") or None,
                    public=form.get("public") == "1",
                )
            elif action == "reassign":
                department = form.get("department") or None
                assignee = check_assignee(
                    session,
                    found.city,
                    department or found.department_code,
                    form.get("assignee"),
                    runtime().city.catalogue.crews,
                )
                reassign(session, found, actor, form.get("reason", ""), department=department, assignee=assignee)
            elif action == "priority":
                set_priority(session, found, form.get("priority"), [p.name for p in _priorities(found)], actor)
            elif action == "duplicate":
                assert original is not None  # looked up above, before the audit record
                mark_duplicate(session, closing, original, actor, form.get("note") or None)
            elif action == "reopen":
                reopen(session, found, actor, form.get("reason", ""))
            elif action == "reply":
                send_reply(session, found, form.get("text", ""), actor)
            elif action == "details":
                set_details_public(session, found, actor, public=form.get("public") == "1")
            elif action == "photo_add":
                add_photos(session, media_store(), found, uploads("photos"), runtime().city.photos, actor)
            elif action in ("photo_hide", "photo_show"):
                photo_id = form.get("photo", "")
                if not photo_id.isdigit():
                    raise UserError("No photo was named; reload the page and try again.")
                set_hidden(session, found, int(photo_id), actor, hidden=action == "photo_hide")
            else:
                add_note(session, found, actor, form.get("note", ""), public=form.get("public") == "1")
        except UserError as exc:
            session.rollback()
            error = str(exc)
        else:
            status = STATE_LABELS.get(found.status, found.status)
            done = DONE[action].format(status=status, original=original.public_ref if original else "")
            if closing is not found and original is not None:
                done = f"Marked {closing.public_ref} as a duplicate of {original.public_ref}."
            if not allowed("requests.view", found):
                return _moved_page(found, done)
            flash(done, "success")
            return redirect(url_for("staff.request_detail", reference=found.public_ref), code=303)
    return _page(found, error, 400 if error else 200)


def _moved_page(found: ServiceRequest, done: str):
    """Where a request went once the user's own action took it out of their scope."""
    department = db_session().scalar(
        select(Department).where(Department.city == found.city, Department.code == found.department_code)
    )
    return render_template(
        "staff_request_moved.html",
        r=found,
        done=done,
        department=department.name if department else found.department_code,
    )


def _answers(found: ServiceRequest) -> list[tuple[str, str]]:
    """The request's attributes as the catalogue's question labels and answer names."""
    record = db_session().scalar(
        select(ServiceRecord).where(ServiceRecord.city == found.city, ServiceRecord.code == found.service_code)
    )
    questions = {a.code: a for a in to_service(record).attributes} if record else {}
    lines = []
    for code, answer in (found.attributes or {}).items():
        question = questions.get(code)
        names = {v.key: v.name for v in question.values} if question else {}
        values = answer if isinstance(answer, list) else [answer]
        lines.append((question.description if question else code, ", ".join(names.get(str(v), str(v)) for v in values)))
    return lines


@dataclass(frozen=True)
class _Shown:
    """A candidate duplicate as the page shows it: what may be done with it, and its link."""

    candidate: Candidate
    record: ServiceRequest
    may_close: bool  # the user may mark it a duplicate of the page's request
    url: str


def _neighbours(found: ServiceRequest) -> tuple[tuple[float, float] | None, list[_Shown], dict[str, Any]]:
    """The request's point, its candidate duplicates the user may see, and the data of the page's map."""
    session, city = db_session(), runtime().city
    point = request_point(session, found)
    if point is None:
        return None, [], {}
    settings = city.intake
    found_candidates = candidate_duplicates(session, found, settings.candidate_radius_m, settings.candidate_days)
    nearby = [
        n
        for n in nearby_open_requests(
            session,
            city.key,
            found.service_code,
            point[0],
            point[1],
            settings.radius(staff=True),
            settings.duplicate_days,
            exclude_id=found.id,
            limit=50,
        )
        if n.public_ref not in {c.public_ref for c in found_candidates} and n.lon is not None
    ]
    refs = [c.public_ref for c in found_candidates] + [n.public_ref for n in nearby]
    records = {
        r.public_ref: r
        for r in session.scalars(
            select(ServiceRequest).where(ServiceRequest.city == found.city, ServiceRequest.public_ref.in_(refs))
        )
        if allowed("requests.view", r)
    }
    shown = [
        _Shown(
            c,
            records[c.public_ref],
            c.is_open and allowed("requests.update", records[c.public_ref]),
            url_for("staff.request_detail", reference=c.public_ref),
        )
        for c in found_candidates
        if c.public_ref in records
    ]

    def marker(ref: str, lon: float, lat: float, status: str, distance: float) -> dict[str, Any]:
        return {
            "reference": ref,
            "url": url_for("staff.request_detail", reference=ref),
            "lon": lon,
            "lat": lat,
            "status": STATE_LABELS.get(status, status),
            "distance_m": round(distance),
        }

    data = {
        "basemap": basemap_config(),
        "point": {"reference": found.public_ref, "lon": point[0], "lat": point[1], "address": found.address or ""},
        "candidates": [
            marker(s.candidate.public_ref, s.candidate.lon, s.candidate.lat, s.candidate.status, s.candidate.distance_m)
            for s in shown
        ],
        "nearby": [
            marker(n.public_ref, n.lon, n.lat, n.status, n.distance_m)  # type: ignore[arg-type]
            for n in nearby
            if n.public_ref in records
        ],
    }
    return point, shown, data


def _page(found: ServiceRequest, error: str | None, code: int):
    """The request page, with the error of the action just tried (the form keeps what was typed)."""
    session = db_session()
    events = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == found.id).order_by(RequestEvent.id)
    ).all()
    departments = session.scalars(
        select(Department).where(Department.city == found.city).order_by(Department.name)
    ).all()
    point, candidates, map_data = _neighbours(found)
    return render_template(
        "staff_request.html",
        city=runtime().city,
        r=found,
        events=events,
        error=error,
        contact=session.get(RequestContact, found.id) if allowed("requests.contact", found) else None,
        details=may_read_details(current_user(), found),
        departments=departments,
        assignees=department_assignees(session, found.city, found.department_code, runtime().city.catalogue.crews),
        priorities=_priorities(found),
        assignee_name=assignee_names(session, found.city, [found.assignee], runtime().city.catalogue.crews).get(
            found.assignee or "", ""
        ),
        labels=STATE_LABELS,
        open_states=list(OPEN_STATES),
        closed_states=[s for s in CLOSED_STATES if s != "duplicate"],
        original=session.get(ServiceRequest, found.duplicate_of) if found.duplicate_of else None,
        kinds=EVENT_KIND_LABELS,
        reply_by=RESPONSE_METHOD_LABELS,
        typed=request.form if error else {},
        answers=_answers(found),
        duplicates=session.scalars(
            select(ServiceRequest).where(ServiceRequest.duplicate_of == found.id).order_by(ServiceRequest.requested_at)
        ).all(),
        areas=filter_choices(session, runtime().city),
        point=point,
        candidates=candidates,
        map_data=map_data,
        candidate_settings=runtime().city.intake,
        replies=templates_for(runtime().city.reply_templates, found),
        max_reply=MAX_REPLY,
        report_count=report_count(session, found.id),
        email_followers=follower_count(session, found.id),
        followers=followers_of(session, found.id) if allowed("requests.contact", found) else [],
        why_no_reply=why_no_reply(session, found) if allowed("requests.contact", found) else None,
        photos=photos_of(session, found),
        public_service=service_shows_photos(session, found),
        photo_limits=runtime().city.photos,
    ), code


@bp.get("/services")
@requires("catalogue.manage")
def services_admin():
    """The catalogue as stored, with links to edit each service or add one."""
    session = db_session()
    city = runtime().city
    records = session.scalars(
        select(ServiceRecord).where(ServiceRecord.city == city.key).order_by(ServiceRecord.group, ServiceRecord.name)
    ).all()
    return render_template("staff_services.html", city=city, records=records)


@bp.route("/services/new", methods=["GET", "POST"])
@bp.route("/services/<code>", methods=["GET", "POST"])
@requires("catalogue.manage")
def service_edit(code: str | None = None):
    """Edit one service (or add one): its terms, routing, rules and questions; new requests only."""
    session = db_session()
    city = runtime().city
    record = None
    if code is not None:
        record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == city.key, ServiceRecord.code == code))
        if record is None:
            abort(404, "There is no such service.")
    error, entry = None, None
    if request.method == "POST":
        entry = service_entry_from_form(request.form, code, city.languages[1:])
        if record is not None:  # the languages the city no longer lists keep their stored words
            kept = {k: v for k, v in (record.translations or {}).items() if k not in city.languages[1:]}
            entry["translations"] = {**kept, **entry["translations"]}
        try:
            actor = staff_user().username
            saved = save_service(session, city.key, entry, actor=actor, new=record is None)
            audit.record(
                session,
                city.key,
                actor,
                "service.create" if record is None else "service.update",
                saved.code,
                client_ip(),
                entry=entry,
            )
            session.commit()
        except UserError as exc:
            session.rollback()
            error = str(exc)
        else:
            return redirect(url_for("staff.service_edit", code=saved.code, saved=1), code=303)
    departments = session.scalars(select(Department).where(Department.city == city.key).order_by(Department.name)).all()
    return render_template(
        "staff_service_edit.html",
        city=city,
        record=record,
        entry=entry or _entry_of(record),
        error=error,
        departments=departments,
        datatypes=DATATYPES,
        translation_languages=[(language, language_name(language)) for language in city.languages[1:]],
        saved=request.args.get("saved") == "1",
    ), (400 if error else 200)


#: The most questions one service can have on the admin form.
MAX_ATTRIBUTES = 40


def service_entry_from_form(
    form: Mapping[str, str], code: str | None, languages: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The admin form as a service in the city file's shape (checked by :func:`save_service`).

    ``languages``: the city's languages besides its default, whose translations the form edits.
    """
    amount, unit = form.get("sla_amount", "").strip(), form.get("sla_unit", "")
    level = {unit: int(amount)} if amount.isdigit() and unit in ("hours", "business_days") else {}
    attributes: list[dict[str, Any]] = []
    count = form.get("attribute_count", "0")
    for i in range(min(int(count) if count.isdigit() else 0, MAX_ATTRIBUTES)):
        field = lambda name: form.get(f"attribute-{i}-{name}", "").strip()  # noqa: E731, B023 (used in this pass only)
        if form.get(f"attribute-{i}-delete") == "1" or not (field("code") or field("description")):
            continue
        values = []
        for line in field("values").splitlines():
            key, _, name = line.partition("=")
            if key.strip():
                values.append({"key": key.strip(), "name": name.strip() or key.strip()})
        order = field("order")
        attributes.append(
            {
                "code": field("code"),
                "description": field("description") or field("code"),
                "datatype": field("datatype"),
                "required": form.get(f"attribute-{i}-required") == "1",
                "order": int(order) if order.isdigit() else len(attributes) + 1,
                "values": values,
            }
        )
    return {
        "code": code or form.get("code", "").strip(),
        "name": form.get("name", "").strip()[:200],
        "description": normalise_newlines(form.get("description", "")).strip()[:4000],
        "group": form.get("group", "").strip()[:200],
        "keywords": [k.strip() for k in form.get("keywords", "").split(",") if k.strip()][:50],
        "department": form.get("department", ""),
        "default_assignee": form.get("default_assignee", "").strip()[:200] or None,
        "service_level": level,
        "contact": form.get("contact", ""),
        "location": form.get("location", ""),
        "public_photos": form.get("public_photos") == "1",
        "active": form.get("active") == "1",
        "attributes": sorted(attributes, key=lambda a: a["order"]),
        "translations": _translations_from_form(form, languages, [a["code"] for a in attributes]),
    }


def _value_lines(text: str) -> dict[str, str]:
    """``key = Name`` lines (the form's lists of answers) as a mapping; lines without a name are left out."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, _, name = line.partition("=")
        if key.strip() and name.strip():
            values[key.strip()] = name.strip()
    return values


def _translations_from_form(form: Mapping[str, str], languages: tuple[str, ...], codes: list[str]) -> dict[str, Any]:
    """The form's translation fields (``tr-<lang>-...``) in the city file's shape; empty fields are left out."""
    translations: dict[str, Any] = {}
    for language in languages:
        field = lambda name: form.get(f"tr-{language}-{name}", "").strip()  # noqa: E731, B023 (used in this pass only)
        words: dict[str, Any] = {}
        for key, limit in (("name", 200), ("group", 200), ("description", 4000)):
            if field(key):
                words[key] = normalise_newlines(field(key))[:limit]
        keywords = [k.strip() for k in field("keywords").split(",") if k.strip()][:50]
        if keywords:
            words["keywords"] = keywords
        questions: dict[str, Any] = {}
        for code in codes:  # a question removed in this edit loses its translation with it
            question: dict[str, Any] = {}
            if field(f"attribute-{code}-description"):
                question["description"] = field(f"attribute-{code}-description")[:500]
            values = _value_lines(field(f"attribute-{code}-values"))
            if values:
                question["values"] = values
            if question:
                questions[code] = question
        if questions:
            words["attributes"] = questions
        if words:
            translations[language] = words
    return translations


#: What the form of a new service starts from.
_NEW_SERVICE = Service(code="", name="", department="", service_level=ServiceLevel(hours=72))


def _entry_of(record: ServiceRecord | None) -> dict[str, Any]:
    """The form's values: the stored service in the city file's shape (a new one's defaults), and whether it is active."""
    if record is None:
        return {**_NEW_SERVICE.as_entry(), "active": True}
    return {**to_service(record).as_entry(), "active": record.active}
