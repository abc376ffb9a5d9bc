"""Subscriptions by e-mail: following one request, or alerts for an area (a ward, or a radius around a point).

An address is asked once, by a confirmation e-mail with a single-use link that expires
(:data:`CONFIRM_FOR`); nothing else is sent to it until that link is used. The token is
random and only its SHA-256 is stored. A confirmed follower of a request gets each public
change of it through the outbox (:func:`announce`); a confirmed area subscriber gets the new
requests of the area once, from :func:`queue_area_alerts` (the ``flask alerts send`` job).
Every message carries the subscription's unsubscribe link, which works without a login.

Each message is written in the subscription's language (``Subscription.language``: the page's
language when the resident subscribed), its services' names and states too; a subscription of no
language (made before migration 0027) gets the city's first language where the caller knows the
city (the alerts job: ``default_language``), else the source language (a followed request's updates,
queued by the lifecycle, which knows no city file: as its requester's e-mails do).

The e-mail address is personal data: no page shows it publicly; staff see counts
(:func:`follower_count`).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel.support import NullTranslations
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from address_db.places import place_words
from core.errors import UserError
from core.i18n import N_, SOURCE_LANGUAGE, Sentence, translations
from core.ratelimit import Limit, hit
from core.states import STATE_LABELS
from service_requests import rules
from service_requests.followers import is_email
from service_requests.models import Notification, RequestEvent, ServiceRecord, ServiceRequest, Subscription
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


def words(language: str | None, default_language: str | None = None) -> NullTranslations:
    """The catalogue a subscriber's e-mails are written with: ``language``'s, else ``default_language``'s
    (the city's first), else the source language's."""
    return translations(language or default_language or SOURCE_LANGUAGE)


def service_names(session: Session, city: str, language: str | None) -> dict[str, str]:
    """The names of ``city``'s services in ``language``, by code, where the catalogue translates them."""
    if not language or language == SOURCE_LANGUAGE:
        return {}
    rows = session.execute(select(ServiceRecord.code, ServiceRecord.translations).where(ServiceRecord.city == city))
    return {code: str(found[language]["name"]) for code, found in rows if (found or {}).get(language, {}).get("name")}


def subscribe_to_request(
    session: Session, request: ServiceRequest, email: str, links: Links, language: str | None = None
) -> Subscription:
    """Ask ``email`` to confirm following ``request``: queues the one confirmation e-mail, in ``language``
    (the page's), in which its updates will be written too; commits."""
    _ = words(language).gettext
    service = service_names(session, request.city, language).get(request.service_code, request.service_name)
    return _subscribe(
        session,
        Subscription(
            city=request.city,
            kind="request",
            target=_("request %(reference)s (%(service)s)")
            % {"reference": request.short_ref_shown, "service": service},
            request_id=request.id,
            language=language,
        ),
        email,
        links,
    )


def subscribe_to_area(
    session: Session, city: str, area: Area, email: str, links: Links, updates: bool, language: str | None = None
) -> Subscription:
    """Ask ``email`` to confirm alerts of new requests in ``area`` (and their updates if ``updates``), the
    e-mails written in ``language`` (the page's: ``area.label`` is in it too); commits."""
    subscription = Subscription(city=city, kind=area.kind, target=area.label, updates=updates, language=language)
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
    _ = words(subscription.language).gettext
    values = {"target": subscription.target, "hours": int(CONFIRM_FOR.total_seconds() // 3600)}
    session.add(
        Notification(
            request_id=subscription.request_id,
            subscription_id=subscription.id,
            method="email",
            recipient=email,
            subject=_("Confirm: updates about %(target)s") % values,
            body=(
                _("Someone (we hope you) asked for e-mails about %(target)s.") % values
                + "\n\n"
                + _("To confirm, open this link within %(hours)s hours:") % values
                + f"\n{links.confirm(token)}\n\n"
                + _("If it was not you, ignore this message: nothing more will be sent to you.")
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
    """Queue a public change of ``request`` for its confirmed followers, each in its language (does not
    commit); how many. A follower of no language (made before migration 0027) gets the source language, as
    the requester of a request of no language does (:mod:`service_requests.lifecycle` knows no city file)."""
    state = to_status or request.status
    followers = session.scalars(
        select(Subscription).where(Subscription.request_id == request.id, *_active()).order_by(Subscription.id)
    ).all()
    names: dict[str | None, dict[str, str]] = {}
    for follower in followers:
        language = follower.language
        _ = words(language).gettext
        if language not in names:
            names[language] = service_names(session, request.city, language)
        values = {
            "reference": request.short_ref_shown,
            "service": names[language].get(request.service_code, request.service_name),
            "status": _(STATE_LABELS.get(state, state)),
        }
        session.add(
            Notification(
                request_id=request.id,
                subscription_id=follower.id,
                method="email",
                recipient=follower.email,
                subject=_("Update on request %(reference)s: %(status)s") % values,
                body=_("Request %(reference)s (%(service)s) is now: %(status)s.") % values
                + (f"\n\n{note}" if note else ""),
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
    session: Session,
    city: str,
    links: Links,
    place: PlaceWords | None = None,
    now: datetime | None = None,
    default_language: str | None = None,
) -> AlertReport:
    """Queue, for each confirmed area subscriber of ``city``, one e-mail of the area's requests filed since its
    last alert (and their public updates if it asked for them): each request and update is sent once; commits.

    ``place`` turns a stored address into the public words for it (the web layer's approximation). Each
    e-mail is in its subscriber's language, else ``default_language`` (the city's first).
    """
    now = now or datetime.now(UTC)
    describe = place or (lambda address: None)
    up_to_request = int(
        session.scalar(select(func.coalesce(func.max(ServiceRequest.id), 0)).where(ServiceRequest.city == city)) or 0
    )
    up_to_event = int(session.scalar(select(func.coalesce(func.max(RequestEvent.id), 0))) or 0)
    queued = listed = 0
    names: dict[str | None, dict[str, str]] = {}  # the services' names in each language
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
        updates = (
            _area_updates(session, city, subscriber, up_to_event, subscriber.language or default_language)
            if subscriber.updates
            else []
        )
        subscriber.last_request_id = max(subscriber.last_request_id, up_to_request)
        subscriber.last_event_id = max(subscriber.last_event_id, up_to_event)
        if not new and not updates:
            continue
        language = subscriber.language or default_language
        catalogue = words(language)
        _ = catalogue.gettext
        if language not in names:
            names[language] = service_names(session, city, language)
        area = {"area": subscriber.target}
        lines = [_("New requests in %(area)s:") % area] if new else []
        for r in sorted(new, key=lambda r: r.id)[:ALERT_LIST_LIMIT]:
            where = describe(r.address)
            lines.append(
                f"- {names[language].get(r.service_code, r.service_name)}, {_(r.status_label)}, {r.requested_at:%Y-%m-%d}"
                + (f", {place_words(where, _)}" if where else "")
                + f": {links.status(r.public_ref)}"
            )
        if len(new) > ALERT_LIST_LIMIT:
            lines.append(_("... and %(count)s more.") % {"count": len(new) - ALERT_LIST_LIMIT})
        if updates:
            lines.append("" if new else _("Updates in %(area)s:") % area)
            lines.extend(f"- {line}" for line in updates[:ALERT_LIST_LIMIT])
        session.add(
            Notification(
                subscription_id=subscriber.id,
                method="email",
                recipient=subscriber.email,
                subject=catalogue.ngettext(
                    "311 alert: %(count)s new request in %(area)s",
                    "311 alert: %(count)s new requests in %(area)s",
                    len(new),
                )
                % {**area, "count": len(new)}
                if new
                else _("311 alert: updates in %(area)s") % area,
                body="\n".join(lines),
            )
        )
        queued += 1
        listed += len(new) + len(updates)
    session.commit()
    return AlertReport(queued, listed)


def _area_updates(
    session: Session, city: str, subscriber: Subscription, up_to_event: int, language: str | None
) -> list[str]:
    """The public changes of the area's requests since the subscriber's last alert, a line each, in ``language``."""
    condition, params = _area_condition(subscriber)
    quiet = ", ".join(f"'{k}'" for k in _QUIET_EVENTS)
    rows = session.execute(
        text(
            f"""
            SELECT r.short_ref, r.service_code, r.service_name, e.to_status, e.kind, e.at
            FROM request_event e JOIN service_request r ON r.id = e.request_id
            WHERE r.city = :city AND {rules.mapped("r")} AND {condition}
              AND e.public AND e.kind NOT IN ({quiet}) AND e.kind <> 'created'
              AND e.id > :after AND e.id <= :up_to
            ORDER BY e.id
            """
        ),
        {**params, "city": city, "after": subscriber.last_event_id, "up_to": up_to_event},
    ).all()
    _ = words(language).gettext
    names = service_names(session, city, language)
    return [
        _("%(service)s %(reference)s: %(status)s on %(date)s")
        % {
            "service": names.get(row.service_code, row.service_name),
            "reference": show_short_reference(row.short_ref),
            "status": _(STATE_LABELS.get(row.to_status, row.to_status)) if row.to_status else _("updated"),
            "date": f"{row.at:%Y-%m-%d}",
        }
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
    "service_names",
    "unsubscribe",
    "words",
)
