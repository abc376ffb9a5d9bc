"""Following and alerts for residents: follow a request by e-mail, "me too", alerts and Atom feeds for an area.

The domain is :mod:`service_requests.subscriptions` (confirmation, unsubscribing, matching)
and :func:`service_requests.followers.add_me_too`; these views parse, check and render.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask import session as browser_session
from flask_babel import format_date, gettext

from address_db.places import approximate_place
from app.i18n import current_language, error_words, place_text, service_name
from app.web import db_session, runtime
from app.web.access import csrf, public, rate_limited
from app.web.requests import ME_TOO_KEY, status_page
from boundaries.lookup import check_lon_lat
from core.errors import InvalidCoordinates
from core.i18n import N_
from service_requests.followers import FollowerError, add_me_too
from service_requests.lookup import find_by_reference
from service_requests.models import ServiceRequest
from service_requests.references import show_short_reference
from service_requests.selection import filter_choices
from service_requests.subscriptions import (
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    Area,
    AreaRequest,
    Links,
    SubscriptionError,
    area_requests,
    confirm,
    subscribe_to_area,
    subscribe_to_request,
    unsubscribe,
)

bp = Blueprint("alerts", __name__)

#: The radii offered on the alerts page, in metres.
RADII = (200, 500, 1000, 2000)
#: What a feed lists: the newest requests of the area within this many days, at most FEED_ENTRIES.
FEED_DAYS, FEED_ENTRIES = 90, 50
_SENT = N_("Check your e-mail: we sent a link to confirm. Nothing else is sent to you until you open it.")


def _links() -> Links:
    return Links(runtime().settings.public_url)


def _found(reference: str) -> ServiceRequest:
    found = find_by_reference(db_session(), runtime().city.key, reference)
    if found is None:
        abort(404, gettext("No request has that reference. Check it and try again."))
    return found


@bp.post("/status/<reference>/follow")
@public
@rate_limited("public_forms")
def follow_request(reference: str):
    """Follow a request by e-mail: sends the one confirmation e-mail."""
    found = _found(reference)
    email = request.form.get("email", "")[:200]
    session = db_session()
    try:
        subscribe_to_request(session, found, email, _links(), current_language())
    except SubscriptionError as exc:
        session.rollback()
        return status_page(found, 400, error=error_words(exc), email=email)
    flash(gettext(_SENT), "success")
    return redirect(url_for("requests.status", reference=found.public_ref) + "#follow", code=303)


@bp.post("/status/<reference>/me-too")
@public
@rate_limited("public_forms")
def me_too(reference: str):
    """ "Me too": the resident has the same problem; another report of it, not a new request (once a session)."""
    found = _found(reference)
    done: list[int] = list(browser_session.get(ME_TOO_KEY, []))
    if found.id in done:
        flash(gettext("You already said this problem affects you too: thank you."), "success")
    else:
        session = db_session()
        try:
            add_me_too(session, found, runtime().city.channels.web_form)
        except FollowerError as exc:
            session.rollback()
            return status_page(found, 400, me_too_error=error_words(exc))
        browser_session[ME_TOO_KEY] = [*done[-199:], found.id]
        flash(gettext("Thank you: your report was added to this request."), "success")
    return redirect(url_for("requests.status", reference=found.public_ref), code=303)


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
@public
@rate_limited("public_forms")
def confirm_subscription(token: str):
    """The confirmation link: a page with one button (link checkers that open links confirm nothing)."""
    error = done = None
    if request.method == "POST":
        session = db_session()
        try:
            done = confirm(session, token)
        except SubscriptionError as exc:
            session.rollback()
            error = error_words(exc)
    return render_template(
        "subscription_confirm.html", city=runtime().city, done=done, error=error, status_url=_status_url(done)
    ), (400 if error else 200)


@bp.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # the link in every e-mail, and mail clients' one-click POST (RFC 8058): no form, no session
@rate_limited("public_forms")
def unsubscribe_link(token: str):
    """The unsubscribe link: one click, no login."""
    ended = unsubscribe(db_session(), token)
    if ended is None:
        abort(
            404, gettext("This unsubscribe link is not known. If e-mails keep coming, use the link in the latest one.")
        )
    return render_template("subscription_ended.html", city=runtime().city, target=ended.target)


def _status_url(subscription: Any) -> str | None:
    if subscription is None or subscription.request_id is None:
        return None
    found = db_session().get(ServiceRequest, subscription.request_id)
    return url_for("requests.status", reference=found.public_ref) if found else None


def _ward_label() -> str:
    """What the city calls its wards ("Council District"): the ward layer's label."""
    layer = runtime().city.ward_layer
    return layer.label if layer else gettext("Ward")


def _wards() -> dict[str, str]:
    return filter_choices(db_session(), runtime().city).wards


def _ward_name(name: str) -> str:
    """A ward's name with the layer's label in front, unless the name has it already: "Council District 13"."""
    label = _ward_label()
    return name if name.lower().startswith(label.lower()) else f"{label} {name}"


def _chosen_area(values: Any) -> Area | str | None:
    """The area the form names (a ward, or a radius around an address), an error to show, or None (nothing chosen)."""
    s = runtime()
    label = _ward_label()
    if values.get("ward"):
        wards = _wards()
        key = values["ward"]
        if key not in wards:
            return gettext("Choose a %(area)s of the list.", area=label.lower())
        return Area("ward", _ward_name(wards[key]), ward_key=key)
    address = (values.get("address") or "").strip()[:200]
    if not address:
        return gettext("Choose an area: a ward, or an address and a radius.") if values.get("kind") else None
    try:
        radius = int(values.get("radius", "500"))
    except ValueError:
        return gettext("Choose a radius from %(least)s to %(most)s metres.", least=MIN_RADIUS_M, most=MAX_RADIUS_M)
    result = s.validator.validate(db_session(), address)
    if result.status == "valid" and result.match is not None and result.match.lon is not None:
        place = approximate_place(result.match.text) or result.match.text
        try:
            label = gettext("%(metres)s m around %(place)s", metres=radius, place=place_text(place))
            return Area.near(result.match.lon, result.match.lat or 0.0, radius, label)
        except SubscriptionError as exc:
            return error_words(exc)
    if result.status == "outside":
        return gettext(
            "%(address)s is not in the %(city)s: alerts cover the city's requests only.",
            address=address,
            city=s.city.name,
        )
    if result.status == "ambiguous" and result.candidates:
        choices = "; ".join(c.text for c in result.candidates[:5])
        return gettext("Several addresses match; type one of them: %(choices)s.", choices=choices)
    if result.suggestions:
        choices = "; ".join(c.text for c in result.suggestions[:5])
        return gettext("%(address)s was not found. Did you mean %(choices)s?", address=address, choices=choices)
    return gettext(
        "%(address)s was not found in the %(city)s's addresses: check the number and the street.",
        address=address,
        city=s.city.name,
    )


def _feed_url(area: Area) -> str:
    if area.kind == "ward":
        return url_for("alerts.ward_feed", key=area.ward_key)
    return url_for("alerts.near_feed", lat=f"{area.lat:.5f}", lon=f"{area.lon:.5f}", radius=area.radius_m)


@bp.route("/alerts", methods=["GET", "POST"])
@public
@rate_limited("public_forms", methods=("POST",))
def alerts_page():
    """Choose an area (a ward, or a radius around an address), then subscribe by e-mail or take its feed."""
    s = runtime()
    values = request.form if request.method == "POST" else request.args
    chosen = _chosen_area(values)
    area = chosen if isinstance(chosen, Area) else None
    error = chosen if isinstance(chosen, str) else None
    if request.method == "POST" and area is not None:
        session = db_session()
        try:
            subscribe_to_area(
                session,
                s.city.key,
                area,
                request.form.get("email", ""),
                _links(),
                bool(request.form.get("updates")),
                current_language(),
            )
        except SubscriptionError as exc:
            session.rollback()
            error = error_words(exc)
        else:
            flash(gettext(_SENT), "success")
            return redirect(url_for("alerts.alerts_page", **_query(values)), code=303)
    return render_template(
        "alerts.html",
        city=s.city,
        wards=_wards(),
        ward_label=_ward_label(),
        radii=RADII,
        values=values,
        area=area,
        feed_url=_feed_url(area) if area else None,
        recent=area_requests(db_session(), s.city.key, area, limit=10) if area else [],
        place=approximate_place,
        error=error,
    ), (400 if error and (request.method == "POST" or values.get("kind")) else 200)


def _query(values: Any) -> dict[str, str]:
    if values.get("ward"):
        return {"ward": values["ward"]}
    return {"address": values.get("address", ""), "radius": values.get("radius", "500")}


@bp.get("/alerts/ward/<key>.atom")
@public
@rate_limited("public_api")
def ward_feed(key: str):
    """The Atom feed of a ward's newest requests."""
    wards = _wards()
    if key not in wards:
        abort(404, f"There is no ward {key[:40]!r}; the alerts page lists them.")
    return _feed(Area("ward", _ward_name(wards[key]), ward_key=key))


@bp.get("/alerts/near.atom")
@public
@rate_limited("public_api")
def near_feed():
    """The Atom feed of the newest requests within ``radius`` metres of ``lat``, ``lon``."""
    try:
        lon, lat = check_lon_lat(request.args.get("lon"), request.args.get("lat"))
    except InvalidCoordinates as exc:
        abort(400, f"{exc} Give ?lat=..&lon=..&radius=.. (metres).")
    try:
        area = Area.near(lon, lat, int(request.args.get("radius", "500")), "")
    except (ValueError, SubscriptionError):
        abort(400, f"Give the radius in whole metres, from {MIN_RADIUS_M} to {MAX_RADIUS_M}.")
    point = f"{lat:.4f}, {lon:.4f}"
    label = gettext("%(metres)s m around %(place)s", metres=area.radius_m, place=point)
    return _feed(Area("near", label, lon=lon, lat=lat, radius_m=area.radius_m))


def _feed(area: Area) -> Response:
    s = runtime()
    since = datetime.now(UTC) - timedelta(days=FEED_DAYS)
    found = area_requests(db_session(), s.city.key, area, since=since, limit=FEED_ENTRIES)
    feed = FeedGenerator()
    feed.id(request.url)
    feed.title(gettext("%(city)s 311: requests in %(area)s", city=s.city.name, area=area.label))
    feed.link(href=request.url, rel="self")
    feed.link(href=url_for("alerts.alerts_page", _external=True), rel="alternate")
    feed.language(current_language())
    feed.updated(max((r.updated_at for r in found), default=since))
    for r in reversed(found):  # feedgen puts the last added first: newest first
        _entry(feed, r)
    return Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")


def _entry(feed: FeedGenerator, r: AreaRequest) -> None:
    link = url_for("requests.status", reference=r.public_ref, _external=True)
    place = place_text(approximate_place(r.address)) or gettext("place not published")
    service, status = service_name(r.service_code, r.service_name), gettext(r.status_label)
    entry = feed.add_entry()
    entry.id(link)
    entry.title(f"{service}: {status}")
    entry.link(href=link)
    entry.published(r.requested_at)
    entry.updated(r.updated_at)
    tz = runtime().city.tz
    entry.summary(
        gettext(
            "%(service)s, %(place)s. Status: %(status)s. Reported %(date)s. Reference %(reference)s.",
            service=service,
            place=place,
            status=status,
            date=format_date(r.requested_at.astimezone(tz).date(), "medium"),
            reference=show_short_reference(r.short_ref),
        )
    )
