"""Filing and following service requests: the resident and staff forms, the public status page."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask import session as browser_session
from sqlalchemy import select

from accounts.scope import may_read_details
from address_db.places import is_public_place
from app.web import db_session, runtime
from app.web.access import allowed, public, rate_limited, requires, staff_user
from boundaries.lookup import check_lon_lat
from core.errors import InvalidCoordinates
from core.states import STATE_LABELS
from service_requests.catalogue_db import active_services, get_service
from service_requests.intake import IntakeError, RequestInput, create_request, nearby_open_requests, new_idempotency_key
from service_requests.models import RequestEvent, ServiceRequest
from service_requests.references import normalize_reference

bp = Blueprint("requests", __name__)

_FORM_SCOPE = "form_scope"


def _form_scope() -> str:
    """This browser session's scope for form idempotency keys (made on first use, kept in the signed session).

    A key replayed from another session finds nothing of this one's, and files its own request:
    the resident who sent a form expects it filed, and nobody learns another's reference.
    """
    if not isinstance(browser_session.get(_FORM_SCOPE), str):
        browser_session[_FORM_SCOPE] = secrets.token_urlsafe(16)
    return f"web:{browser_session[_FORM_SCOPE]}"


def _input_from_form(service_code: str, channel: str, actor: str) -> RequestInput:
    form = request.form
    attributes: dict[str, Any] = {}
    for key in form:
        match = re.fullmatch(r"attribute\[([A-Za-z0-9_]{1,64})\](\[\])?", key)
        if match:
            values = [v for v in form.getlist(key) if v != ""]
            attributes[match.group(1)] = values if match.group(2) else (values[0] if values else "")
    return RequestInput(
        service_code=service_code,
        channel=channel,
        description=form.get("description", ""),
        attributes=attributes,
        address=form.get("address") or None,
        address_id=form.get("address_id") or None,
        lon=form.get("lon") or None,
        lat=form.get("lat") or None,
        location_note=form.get("location_note") or None,
        first_name=form.get("first_name") or None,
        last_name=form.get("last_name") or None,
        email=form.get("email") or None,
        phone=form.get("phone") or None,
        contact_notes=form.get("contact_notes") or None,
        response_method=form.get("response_method", "none"),
        idempotency_key=form.get("idempotency_key") or None,
        idempotency_scope=_form_scope(),
        actor=actor,
    )


def _form_page(service_code: str, staff: bool):
    s = runtime()
    session = db_session()
    service = get_service(session, s.city.key, service_code)
    if service is None:
        abort(404, f"There is no service {service_code!r}.")
    error = None
    _form_scope()  # the page's form posts back in this session
    if request.method == "POST":
        offered = s.city.channels.staff_intake
        channel = request.form.get("channel", offered[0]) if staff else s.city.channels.web_form
        if staff and channel not in offered:
            channel = offered[0]
        try:
            actor = staff_user().username if staff else "public"
            created = create_request(session, s.city, s.validator, _input_from_form(service.code, channel, actor))
        except IntakeError as exc:
            session.rollback()
            error = exc
        else:
            return redirect(url_for("requests.status", reference=created.request.public_ref, new=1), code=303)
    return render_template(
        "request_form.html",
        city=s.city,
        service=service,
        staff=staff,
        error=error,
        channels={c: s.city.channels.name(c) for c in s.city.channels.staff_intake},
        form=request.form,
        duplicate_radius=round(s.city.intake.radius(staff)),
        idempotency_key=request.form.get("idempotency_key") or new_idempotency_key(),
    ), (400 if error else 200)


def _catalogue_page(staff: bool):
    s = runtime()
    return render_template(
        "services.html", city=s.city, services=active_services(db_session(), s.city.key), staff=staff
    )


@bp.get("/report")
@public
def choose_service():
    """The catalogue, by group, for residents."""
    return _catalogue_page(staff=False)


@bp.route("/report/<service_code>", methods=["GET", "POST"])
@public
@rate_limited("public_forms", methods=("POST",))
def report(service_code: str):
    """The resident's form for one service."""
    return _form_page(service_code, staff=False)


@bp.get("/intake/new")
@requires("requests.create")
def staff_choose_service():
    """The catalogue, by group, for intake staff."""
    return _catalogue_page(staff=True)


@bp.route("/intake/new/<service_code>", methods=["GET", "POST"])
@requires("requests.create")
def staff_intake(service_code: str):
    """The intake form for staff taking a call or a walk-in."""
    return _form_page(service_code, staff=True)


@bp.get("/api/requests/nearby")
@public
@rate_limited("public_api")
def nearby():
    """Open requests of a service near a point: perhaps the problem is already reported."""
    s = runtime()
    try:
        lon, lat = check_lon_lat(request.args.get("lon"), request.args.get("lat"))
    except InvalidCoordinates as exc:
        abort(400, str(exc))
    service_code = request.args.get("service", "")
    if not re.fullmatch(r"[a-z0-9-]{1,64}", service_code):
        abort(400, "Name the service by its code, e.g. ?service=graffiti.")
    # The wider staff radius (?staff=1, sent by the staff intake form) only for staff who may file requests;
    # anyone else gets the public radius: the flag is ignored rather than refused, the answer stays useful.
    radius = s.city.intake.radius(staff=bool(request.args.get("staff")) and allowed("requests.create"))
    found = nearby_open_requests(
        db_session(), s.city.key, service_code, lon, lat, radius, days=s.city.intake.duplicate_days
    )
    return jsonify(
        nearby=[
            {
                "reference": n.public_ref,
                "service": n.service_name,
                "status": STATE_LABELS[n.status],
                "address": _approximate(n.address),
                "distance_m": n.distance_m,
                "url": url_for("requests.status", reference=n.public_ref),
            }
            for n in found
        ]
    )


@bp.route("/status", methods=["GET", "POST"])
@public
@rate_limited("public_api")
def status_lookup():
    """Find a request by its reference."""
    s = runtime()
    typed = request.values.get("reference", "")
    if typed:
        reference = normalize_reference(typed)
        if reference:
            return redirect(url_for("requests.status", reference=reference), code=303)
    return render_template(
        "status_lookup.html", city=s.city, typed=typed, error="That is not a request reference." if typed else None
    ), (400 if typed else 200)


@bp.get("/status/<reference>")
@public
@rate_limited("public_api")
def status(reference: str):
    """A request's public page: status, service, approximate place, dates, public notes; never contact data."""
    s = runtime()
    canonical = normalize_reference(reference)
    session = db_session()
    found = (
        session.scalar(
            select(ServiceRequest).where(ServiceRequest.city == s.city.key, ServiceRequest.public_ref == canonical)
        )
        if canonical
        else None
    )
    if found is None:
        abort(404, "No request has that reference. Check it and try again.")
    notes = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == found.id, RequestEvent.public).order_by(RequestEvent.at)
    ).all()
    original = session.get(ServiceRequest, found.duplicate_of) if found.duplicate_of else None
    return render_template(
        "status.html",
        city=s.city,
        r=found,
        notes=notes,
        label=STATE_LABELS[found.status],
        place=_approximate(found.address),
        original=original,
        details=may_read_details(None, found),  # what the public may read, whoever looks
        new=request.args.get("new") == "1",
    )


def _approximate(address: str | None) -> str | None:
    """``2111 W BELLEVUE AVE, 90026`` -> ``2100 block of W BELLEVUE AVE``: where, not whose door.

    A point picked on the map already has its public place ("near the 200 block of N SPRING ST").
    """
    if not address:
        return None
    if is_public_place(address):
        return address
    match = re.match(r"^(?:near )?(\d+)(?:\s+\d/\d|[A-Z])?\s+([A-Z0-9 ]+?)(?:,.*)?$", address, flags=re.I)
    if not match:
        if re.fullmatch(r"[A-Z0-9 ]+ AT [A-Z0-9 ]+(, \d{5})?", address):  # an intersection is public already
            return address.split(",")[0]
        return None  # free text typed by a person: not shown publicly
    block = int(match.group(1)) // 100 * 100
    return f"{block} block of {match.group(2).upper()}"
