"""Subscriptions by e-mail: following one request, or alerts for an area (a ward, or a radius around a point).

An address is asked once, by a confirmation e-mail with a single-use link that expires
(:data:`CONFIRM_FOR`); nothing else is sent to it until that link is used. The token is
random and only its SHA-256 is stored. A confirmed follower of a request gets each public
change of it through the outbox (:func:`announce`); a confirmed area subscriber gets the new
requests of the area once, from :func:`queue_area_alerts` (the ``flask alerts send`` job).
Every message carries the subscription's unsubscribe link, which works without a login.

The e-mail address is personal data: no page shows it publicly; staff see counts
(:func:`follower_count`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.errors import UserError
from core.i18n import N_, Sentence
from core.ratelimit import Limit, hit
from core.states import STATE_LABELS
from service_requests import rules
from service_requests.followers import is_email
from service_requests.models import Notification, RequestEvent, ServiceRequest, Subscription
from service_requests.references import show_short_reference

#: How long a confirmation link works.
CONFIRM_FOR = timedelta(hours=48)
#: Confirmation e-mails one address may be sent (whoever asks for them): no mail bombing through the form.
PER_ADDRESS = Limit("subscribe_address", 3, 3600)
#: The radius an area alert may have, in metres.
MIN_RADIUS_M, MAX_RADIUS_M = 50, 3000
#: The most requests listed in one alert e-mail (the rest are counted, the feed lists them).
ALERT_LIST_LIMIT = 25
#: Public events that are not news for a follower.
_QUIET_EVENTS = ("reported_again", "details_public", "details_private")


#: An address to the public words for it ("2100 block of W BELLEVUE AVE"), or None.
PlaceWords = Callable[[str | None], str | None]


class SubscriptionError(UserError):
    """A subscription that cannot be made or confirmed as asked; the message says what to do."""


@dataclass(frozen=True)
class Area:
    """An area alert's target: a ward (``kind='ward'``) or a circle around a point (``kind='near'``)."""

    kind: str
    label: str
    ward_key: str | None = None
    lon: float | None = None
    lat: float | None = None
    radius_m: int | None = None

    @classmethod
    def near(cls, lon: float, lat: float, radius_m: int, label: str) -> Area:
        """A circle of ``radius_m`` metres around (lon, lat); the radius is checked."""
        if not MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M:
            raise SubscriptionError(
                Sentence(
                    N_("Choose a radius from %(least)s to %(most)s metres, not %(radius)s."),
                    least=MIN_RADIUS_M,
                    most=MAX_RADIUS_M,
                    radius=radius_m,
                )
            )
        return cls("near", label, lon=lon, lat=lat, radius_m=radius_m)


@dataclass(frozen=True)
class Links:
    """Where the e-mails' links point: the site's public address (``GEO311_PUBLIC_URL``)."""

    base_url: str

    def confirm(self, token: str) -> str:
        return f"{self.base_url}/subscriptions/confirm/{token}"

    def unsubscribe(self, token: str) -> str:
        return f"{self.base_url}/subscriptions/unsubscribe/{token}"

    def status(self, public_ref: str) -> str:
        return f"{self.base_url}/status/{public_ref}"


def token_hash(token: str) -> str:
    """The stored form of a confirmation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def subscribe_to_request(session: Session, request: ServiceRequest, email: str, links: Links) -> Subscription:
    """Ask ``email`` to confirm following ``request``: queues the one confirmation e-mail; commits."""
    return _subscribe(
        session,
        Subscription(
            city=request.city,
            kind="request",
            target=f"request {request.short_ref_shown} ({request.service_name})",
            request_id=request.id,
        ),
        email,
        links,
    )


def subscribe_to_area(session: Session, city: str, area: Area, email: str, links: Links, updates: bool) -> Subscription:
    """Ask ``email`` to confirm alerts of new requests in ``area`` (and their updates if ``updates``); commits."""
    subscription = Subscription(city=city, kind=area.kind, target=area.label, updates=updates)
    if area.kind == "ward":
        subscription.ward_key = area.ward_key
    else:
        subscription.geom = f"SRID=4326;POINT({area.lon} {area.lat})"
        subscription.radius_m = area.radius_m
    return _subscribe(session, subscription, email, links)


def _subscribe(session: Session, subscription: Subscription, email: str, links: Links) -> Subscription:
    email = (email or "").strip()[:200]
    if not is_email(email):
        raise SubscriptionError(N_("Type an e-mail address (name@example.org) to receive the updates."))
    if not hit(session, PER_ADDRESS, email.lower()).allowed:
        raise SubscriptionError(
            N_(
                "Several confirmation e-mails were sent to that address within the hour; "
                "use the link in one of them, or try again later."
            )
        )
    same = session.scalars(
        select(Subscription).where(
            Subscription.city == subscription.city,
            Subscription.kind == subscription.kind,
            func.lower(Subscription.email) == email.lower(),
            Subscription.unsubscribed_at.is_(None),
            Subscription.request_id == subscription.request_id
            if subscription.request_id is not None
            else Subscription.request_id.is_(None),
        )
    ).all()
    for existing in same:
        if existing.confirmed_at is not None and _same_target(existing, subscription):
            session.commit()
            return existing  # already following: nothing more is sent (and the page says the same as ever)
    subscription.email = email
    subscription.unsubscribe_token = secrets.token_urlsafe(24)
    token = secrets.token_urlsafe(24)
    subscription.confirm_hash = token_hash(token)
    session.add(subscription)
    session.flush()
    session.add(
        Notification(
            request_id=subscription.request_id,
            subscription_id=subscription.id,
            method="email",
            recipient=email,
            subject=f"Confirm: updates about {subscription.target}",
            body=(
                f"Someone (we hope you) asked for e-mails about {subscription.target}.\n\n"
                f"To confirm, open this link within {int(CONFIRM_FOR.total_seconds() // 3600)} hours:\n"
                f"{links.confirm(token)}\n\n"
                "If it was not you, ignore this message: nothing more will be sent to you."
            ),
        )
    )
    session.commit()
    return subscription


def _same_target(a: Subscription, b: Subscription) -> bool:
    if a.kind == "request":
        return a.request_id == b.request_id
    if a.kind == "ward":
        return a.ward_key == b.ward_key
    return a.target == b.target and a.radius_m == b.radius_m


def confirm(session: Session, token: str, now: datetime | None = None) -> Subscription:
    """Confirm the subscription of a confirmation link (once, before it expires); commits."""
    now = now or datetime.now(UTC)
    subscription = session.scalar(
        select(Subscription).where(Subscription.confirm_hash == token_hash(token or "")).with_for_update()
    )
    if subscription is None or subscription.unsubscribed_at is not None:
        raise SubscriptionError(
            N_(
                "This confirmation link is not known or was used already. "
                "If you are not receiving updates, subscribe again from the request's page or the alerts page."
            )
        )
    if subscription.created_at + CONFIRM_FOR < now:
        raise SubscriptionError(
            Sentence(
                N_(
                    "This confirmation link expired (links work for %(hours)s hours); subscribe again to get a new one."
                ),
                hours=int(CONFIRM_FOR.total_seconds() // 3600),
            )
        )
    subscription.confirm_hash = None  # single use
    subscription.confirmed_at = now
    if subscription.kind != "request":  # alerts start from now: nothing already filed is news
        subscription.last_request_id = int(
            session.scalar(
                select(func.coalesce(func.max(ServiceRequest.id), 0)).where(ServiceRequest.city == subscription.city)
            )
            or 0
        )
        subscription.last_event_id = int(session.scalar(select(func.coalesce(func.max(RequestEvent.id), 0))) or 0)
    session.commit()
    return subscription


def unsubscribe(session: Session, token: str, now: datetime | None = None) -> Subscription | None:
    """End the subscription of an unsubscribe link (again is harmless); None for an unknown link; commits."""
    subscription = session.scalar(select(Subscription).where(Subscription.unsubscribe_token == (token or "")[:64]))
    if subscription is None:
        return None
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = now or datetime.now(UTC)
        subscription.confirm_hash = None
    session.commit()
    return subscription


def _active() -> list:
    return [Subscription.confirmed_at.is_not(None), Subscription.unsubscribed_at.is_(None)]


def follower_count(session: Session, request_id: int) -> int:
    """How many confirmed e-mail followers a request has (what staff see; never who)."""
    return int(
        session.scalar(
            select(func.count()).select_from(Subscription).where(Subscription.request_id == request_id, *_active())
        )
        or 0
    )


def announce(session: Session, request: ServiceRequest, note: str | None, to_status: str | None) -> int:
    """Queue a public change of ``request`` for its confirmed followers (does not commit); how many."""
    status = STATE_LABELS.get(to_status or request.status, to_status or request.status)
    body = f"Request {request.short_ref_shown} ({request.service_name}) is {status}." + (f"\n\n{note}" if note else "")
    followers = session.scalars(
        select(Subscription).where(Subscription.request_id == request.id, *_active()).order_by(Subscription.id)
    ).all()
    for follower in followers:
        session.add(
            Notification(
                request_id=request.id,
                subscription_id=follower.id,
                method="email",
                recipient=follower.email,
                subject=f"Update on request {request.short_ref_shown}: {status}",
                body=body,
            )
        )
    return len(followers)


def is_news(kind: str) -> bool:
    """Whether a public event of this kind is told to followers."""
    return kind not in _QUIET_EVENTS


@dataclass(frozen=True)
class AreaRequest:
    """A request as an alert or a feed shows it: nothing but what the public may see."""

    id: int
    public_ref: str
    short_ref: str
    service_name: str
    status: str
    address: str | None
    requested_at: datetime
    updated_at: datetime
    distance_m: float | None
    service_code: str = ""

    @property
    def status_label(self) -> str:
        return STATE_LABELS.get(self.status, self.status)


def _area_condition(area: Area | Subscription) -> tuple[str, dict]:
    if area.kind == "ward":
        return "r.ward_key = :ward", {"ward": area.ward_key}
    if isinstance(area, Subscription):
        point = "(SELECT geom FROM subscription WHERE id = :subscription)::geography"
        return f"ST_DWithin(r.geom::geography, {point}, :radius)", {"subscription": area.id, "radius": area.radius_m}
    return (
        "ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius)",
        {"lon": area.lon, "lat": area.lat, "radius": area.radius_m},
    )


def _distance(area: Area | Subscription) -> str:
    if area.kind == "ward":
        return "NULL::float8"
    if isinstance(area, Subscription):
        return "ST_Distance(r.geom::geography, (SELECT geom FROM subscription WHERE id = :subscription)::geography)"
    return "ST_Distance(r.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)"


def area_requests(
    session: Session,
    city: str,
    area: Area | Subscription,
    *,
    since: datetime | None = None,
    after_id: int = 0,
    up_to_id: int | None = None,
    limit: int = 50,
) -> list[AreaRequest]:
    """The requests of ``city`` in ``area`` that a map may show (a real point in the city, never a placeholder),
    newest first; only public fields."""
    condition, params = _area_condition(area)
    rows = session.execute(
        text(
            f"""
            SELECT r.id, r.public_ref, r.short_ref, r.service_name, r.status, r.address, r.requested_at, r.updated_at,
                   {_distance(area)} AS distance_m, r.service_code
            FROM service_request r
            WHERE r.city = :city AND {rules.mapped("r")} AND {condition}
              AND r.id > :after_id AND (CAST(:up_to_id AS bigint) IS NULL OR r.id <= :up_to_id)
              AND (CAST(:since AS timestamptz) IS NULL OR r.requested_at >= :since)
            ORDER BY r.requested_at DESC, r.id DESC
            LIMIT :limit
            """
        ),
        {**params, "city": city, "since": since, "after_id": after_id, "up_to_id": up_to_id, "limit": limit},
    ).all()
    return [AreaRequest(*row) for row in rows]


@dataclass(frozen=True)
class AlertReport:
    subscribers: int
    requests: int

    def summary(self) -> str:
        return f"{self.subscribers} alert e-mail(s) queued, listing {self.requests} request(s) or update(s)"


def queue_area_alerts(
    session: Session, city: str, links: Links, place: PlaceWords | None = None, now: datetime | None = None
) -> AlertReport:
    """Queue, for each confirmed area subscriber of ``city``, one e-mail of the area's requests filed since its
    last alert (and their public updates if it asked for them): each request and update is sent once; commits.

    ``place`` turns a stored address into the public words for it (the web layer's approximation).
    """
    now = now or datetime.now(UTC)
    describe = place or (lambda address: None)
    up_to_request = int(
        session.scalar(select(func.coalesce(func.max(ServiceRequest.id), 0)).where(ServiceRequest.city == city)) or 0
    )
    up_to_event = int(session.scalar(select(func.coalesce(func.max(RequestEvent.id), 0))) or 0)
    queued = listed = 0
    subscribers = session.scalars(
        select(Subscription)
        .where(Subscription.city == city, Subscription.kind.in_(("ward", "near")), *_active())
        .order_by(Subscription.id)
        .with_for_update(skip_locked=True)
    ).all()
    for subscriber in subscribers:
        new = area_requests(
            session,
            city,
            subscriber,
            since=subscriber.confirmed_at,
            after_id=subscriber.last_request_id,
            up_to_id=up_to_request,
            limit=10_000,
        )
        updates = _area_updates(session, city, subscriber, up_to_event) if subscriber.updates else []
        subscriber.last_request_id = max(subscriber.last_request_id, up_to_request)
        subscriber.last_event_id = max(subscriber.last_event_id, up_to_event)
        if not new and not updates:
            continue
        lines = [f"New requests in {subscriber.target}:"] if new else []
        for r in sorted(new, key=lambda r: r.id)[:ALERT_LIST_LIMIT]:
            where = describe(r.address)
            lines.append(
                f"- {r.service_name}, {r.status_label}, {r.requested_at:%Y-%m-%d}"
                + (f", {where}" if where else "")
                + f": {links.status(r.public_ref)}"
            )
        if len(new) > ALERT_LIST_LIMIT:
            lines.append(f"... and {len(new) - ALERT_LIST_LIMIT} more.")
        if updates:
            lines.append("" if new else f"Updates in {subscriber.target}:")
            lines.extend(f"- {line}" for line in updates[:ALERT_LIST_LIMIT])
        session.add(
            Notification(
                subscription_id=subscriber.id,
                method="email",
                recipient=subscriber.email,
                subject=f"311 alert: {len(new)} new request(s) in {subscriber.target}"
                if new
                else f"311 alert: updates in {subscriber.target}",
                body="\n".join(lines),
            )
        )
        queued += 1
        listed += len(new) + len(updates)
    session.commit()
    return AlertReport(queued, listed)


def _area_updates(session: Session, city: str, subscriber: Subscription, up_to_event: int) -> list[str]:
    condition, params = _area_condition(subscriber)
    quiet = ", ".join(f"'{k}'" for k in _QUIET_EVENTS)
    rows = session.execute(
        text(
            f"""
            SELECT r.short_ref, r.service_name, e.to_status, e.kind, e.at
            FROM request_event e JOIN service_request r ON r.id = e.request_id
            WHERE r.city = :city AND {rules.mapped("r")} AND {condition}
              AND e.public AND e.kind NOT IN ({quiet}) AND e.kind <> 'created'
              AND e.id > :after AND e.id <= :up_to
            ORDER BY e.id
            """
        ),
        {**params, "city": city, "after": subscriber.last_event_id, "up_to": up_to_event},
    ).all()
    return [
        f"{row.service_name} {show_short_reference(row.short_ref)}: "
        + (STATE_LABELS.get(row.to_status, row.to_status) if row.to_status else "updated")
        + f" on {row.at:%Y-%m-%d}"
        for row in rows
    ]


__all__: Sequence[str] = (
    "CONFIRM_FOR",
    "Area",
    "AreaRequest",
    "Links",
    "SubscriptionError",
    "announce",
    "area_requests",
    "confirm",
    "follower_count",
    "queue_area_alerts",
    "subscribe_to_area",
    "subscribe_to_request",
    "unsubscribe",
)
