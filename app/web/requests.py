"""Filing and following service requests: the resident and staff forms, the public status page."""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask import session as browser_session
from flask_babel import gettext
from sqlalchemy import select

from accounts.scope import may_read_details
from address_db.places import approximate_place
from app.i18n import current_language, error_words, place_text, service_level_words, service_name
from app.web import db_session, runtime
from app.web.access import allowed, public, rate_limited, requires, staff_user
from app.web.media import media_store, uploads
from boundaries.lookup import check_lon_lat
from core.catalogue_file import Service, ServiceLevel
from core.errors import InvalidCoordinates
from core.states import EVENT_KIND_LABELS, STATE_LABELS
from service_requests.callers import caller_history
from service_requests.catalogue_db import active_services, get_service
from service_requests.catalogue_search import search_services
from service_requests.followers import FollowerError, add_follower, report_count
from service_requests.intake import IntakeError, RequestInput, create_request, nearby_open_requests, new_idempotency_key
from service_requests.lookup import find_by_reference, is_reference
from service_requests.models import RequestEvent, ServiceRequest
from service_requests.photos import public_photos
from service_requests.references import show_short_reference

bp = Blueprint("requests", __name__)

_FORM_SCOPE = "form_scope"
_SHIFT_CHANNEL = "shift_channel"
#: The requests this browser session said "me too" on (app/web/alerts.py): once per session each.
ME_TOO_KEY = "me_too"


def _shift_channel() -> str:
    """The channel this intake shift takes requests by: kept in the browser session, the phone's by default."""
    offered = runtime().city.channels.staff_intake
    chosen = browser_session.get(_SHIFT_CHANNEL)
    if chosen in offered:
        return str(chosen)
    return "phone" if "phone" in offered else offered[0]


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
        photos=uploads("photos"),
        idempotency_key=form.get("idempotency_key") or None,
        idempotency_scope=_form_scope(),
        actor=actor,
        language=current_language(),
    )


def _form_page(service_code: str, staff: bool):
    s = runtime()
    session = db_session()
    service = get_service(session, s.city.key, service_code)
    if service is None:
        abort(404, gettext("There is no service %(code)r.", code=service_code))
    service = service.in_language(current_language())  # its words as the page shows them; codes stay
    error = None
    _form_scope()  # the page's form posts back in this session
    if request.method == "POST" and staff and request.form.get("follow"):
        followed = _add_caller_to(request.form["follow"], _shift_channel())
        if isinstance(followed, ServiceRequest):
            return redirect(url_for("staff.request_detail", reference=followed.short_ref), code=303)
        error = followed
    elif request.method == "POST":
        channel = _shift_channel() if staff else s.city.channels.web_form
        try:
            actor = staff_user().username if staff else "public"
            created = create_request(
                session, s.city, s.validator, _input_from_form(service.code, channel, actor), media=media_store()
            )
        except IntakeError as exc:
            session.rollback()
            error = exc
        else:
            if staff and allowed("requests.view", created.request):
                flash(created.request.short_ref_shown, "call-saved")
                return redirect(url_for("staff.request_detail", reference=created.request.short_ref), code=303)
            return redirect(url_for("requests.status", reference=created.request.public_ref, new=1), code=303)
    return render_template(
        "request_form.html",
        city=s.city,
        service=service,
        staff=staff,
        error=error,
        error_text=_error_text(error, service) if error else None,
        shift_channel=s.city.channels.name(_shift_channel()) if staff else None,
        autofocus_address=True,
        form=request.form,
        duplicate_radius=round(s.city.intake.radius(staff)),
        photo_limits=s.city.photos,
        idempotency_key=_idempotency_key_for_page(error),
    ), (400 if error else 200)


def _error_text(error: IntakeError, service: Service) -> str:
    """What was refused, in the page's language, naming the service and its question as the form does."""
    questions = {f"attribute[{a.code}]": a.description for a in service.attributes}
    return error_words(error, service=service.name, question=questions.get(error.field, ""))


def _idempotency_key_for_page(error: IntakeError | None) -> str:
    """The key the page's form posts with: the one sent (a resend files nothing twice), a new one if it was refused.

    A refused key belongs to a request already filed for other answers; the answers kept on the page
    are then sent as a new request.
    """
    sent = request.form.get("idempotency_key")
    if sent and not (error is not None and error.field == "idempotency_key"):
        return sent
    return new_idempotency_key()


def _add_caller_to(reference: str, channel: str) -> ServiceRequest | IntakeError:
    """Add the caller of the staff form to the request ``reference`` (it follows it) instead of filing a new one."""
    session = db_session()
    found = find_by_reference(session, runtime().city.key, reference)
    if found is None or not found.is_open or not allowed("requests.view", found):
        return IntakeError("follow", "That request is not open any more (or not yours to see): file a new one.")
    form = request.form
    try:
        add_follower(
            session,
            found,
            first_name=form.get("first_name"),
            last_name=form.get("last_name"),
            email=form.get("email"),
            phone=form.get("phone"),
            response_method=form.get("response_method", "none"),
            channel=channel,
            actor=staff_user().username,
        )
    except FollowerError as exc:
        session.rollback()
        return IntakeError("contact", str(exc))
    flash(found.short_ref_shown, "call-saved")
    flash(f"Added to {found.short_ref_shown}: the caller follows it and gets its updates.", "success")
    return found


def _catalogue_page(staff: bool):
    s = runtime()
    language = current_language()
    services = sorted(
        (service.in_language(language) for service in active_services(db_session(), s.city.key)),
        key=lambda service: (service.group, service.name),
    )
    query = request.args.get("q", "")[:200]
    shown = search_services(services, query) if query.strip() else services
    return render_template(
        "services.html",
        city=s.city,
        services=shown,
        staff=staff,
        query=query,
        shift_channel=s.city.channels.name(_shift_channel()) if staff else None,
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


@bp.route("/intake/channel", methods=["GET", "POST"])
@requires("requests.create")
def shift_channel():
    """Choose the channel of this shift's requests once (kept in the browser session), not on every call."""
    s = runtime()
    offered = s.city.channels.staff_intake
    error = None
    if request.method == "POST":
        chosen = request.form.get("channel", "")
        if chosen in offered:
            browser_session[_SHIFT_CHANNEL] = chosen
            flash(f"Requests of this shift are filed as taken by {s.city.channels.name(chosen)}.", "success")
            return redirect(url_for("requests.staff_choose_service"), code=303)
        error = f"Choose one of: {', '.join(s.city.channels.name(c) for c in offered)}."
    return render_template(
        "intake_channel.html",
        city=s.city,
        channels={c: s.city.channels.name(c) for c in offered},
        current=_shift_channel(),
        error=error,
    ), (400 if error else 200)


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
    digits = 5 if allowed("requests.view") else 3
    return jsonify(
        nearby=[
            {
                "reference": n.public_ref,
                "short_reference": show_short_reference(n.short_ref),
                "service": service_name(service_code, n.service_name),
                "status": gettext(STATE_LABELS[n.status]),
                "address": place_text(approximate_place(n.address)),
                "distance_m": n.distance_m,
                "requested": n.requested_at.astimezone(s.city.tz).date().isoformat(),
                # staff see the point; anyone else a point within about 100 m of it (as the public maps do)
                "lon": round(n.lon, digits) if n.lon is not None else None,
                "lat": round(n.lat, digits) if n.lat is not None else None,
                "url": url_for("staff.request_detail", reference=n.short_ref)
                if allowed("requests.view")
                else url_for("requests.status", reference=n.public_ref),
            }
            for n in found
        ]
    )


@bp.get("/api/callers/history")
@requires("requests.contact")
@rate_limited("public_api")
def caller_history_api():
    """Earlier requests of the phone or e-mail being typed on the intake form (staff with requests.contact)."""
    s = runtime()
    found = caller_history(
        db_session(), s.city.key, phone=request.args.get("phone", "")[:200], email=request.args.get("email", "")[:200]
    )
    return jsonify(
        requests=[
            {
                "reference": show_short_reference(e.short_ref),
                "service": e.service_name,
                "status": STATE_LABELS[e.status],
                "requested": e.requested_at.astimezone(s.city.tz).date().isoformat(),
                "url": url_for("staff.request_detail", reference=e.short_ref),
            }
            for e in found
        ]
    )


@bp.route("/status", methods=["GET", "POST"])
@public
@rate_limited("public_api")
def status_lookup():
    """Find a request by its reference."""
    s = runtime()
    typed = request.values.get("reference", "")
    if typed and is_reference(typed):
        found = find_by_reference(db_session(), s.city.key, typed)
        if found is not None:
            return redirect(url_for("requests.status", reference=found.public_ref), code=303)
        error = gettext("No request has that reference. Check it and try again.")
    else:
        error = (
            gettext("That is not a request reference: 10 characters (K7M3Q-X9TBA) or the long one.") if typed else None
        )
    return render_template("status_lookup.html", city=s.city, typed=typed, error=error), (400 if typed else 200)


@bp.get("/status/<reference>")
@public
@rate_limited("public_api")
def status(reference: str):
    """A request's public page: status, service, approximate place, dates, public notes; never contact data."""
    s = runtime()
    session = db_session()
    found = find_by_reference(session, s.city.key, reference)  # the long or the short reference
    if found is None:
        abort(404, gettext("No request has that reference. Check it and try again."))
    return status_page(found)


def _note_words(event: RequestEvent) -> str | None:
    """A public update's note in the page's language: the note of the request's creation is written
    again from its channel, another report's is the catalogue's (service_requests.followers writes its
    msgid); a note staff wrote stays in their words."""
    if event.kind == "reported_again" and event.note:
        return gettext(event.note)
    channel = (event.data or {}).get("channel") if event.kind == "created" else None
    if not channel:
        return event.note
    channels = runtime().city.channels
    name = channels.name(channel)
    return gettext("Request received by %(channel)s.", channel=name if channels.own else gettext(name).lower())


def status_page(found: ServiceRequest, code: int = 200, **follow: Any) -> tuple[str, int]:
    """The public status page of ``found``; ``follow`` carries the follow form's error and typed e-mail."""
    s = runtime()
    session = db_session()
    notes = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == found.id, RequestEvent.public).order_by(RequestEvent.at)
    ).all()
    original = session.get(ServiceRequest, found.duplicate_of) if found.duplicate_of else None
    level = ServiceLevel.from_description(found.service_level)
    return render_template(
        "status.html",
        city=s.city,
        r=found,
        notes=[(n, _note_words(n)) for n in notes],
        label=STATE_LABELS[found.status],
        service_level=service_level_words(level) if level else found.service_level,
        state_labels=STATE_LABELS,
        event_labels=EVENT_KIND_LABELS,
        place=approximate_place(found.address),
        original=original,
        details=may_read_details(None, found),  # what the public may read, whoever looks
        photos=public_photos(session, found),  # what the public may see, whoever looks
        new=request.args.get("new") == "1",
        report_count=report_count(session, found.id),
        me_too_done=found.id in browser_session.get(ME_TOO_KEY, []),
        follow=follow,
    ), code
