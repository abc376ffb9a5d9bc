"""Creating a service request: the one path for staff, residents and Open311 clients.

:func:`create_request` enforces the service's rules on the server (contact data asked,
required or never collected; location required, optional or not asked; its attributes),
validates the location through the address database and the boundaries (an address that
another agency serves is refused, naming that agency), routes the request to its
department, gives it the due date of the service level, records its history, queues the
acknowledgement, and commits. Anything wrong raises :class:`IntakeError` naming the field,
and nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_date, format_time
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from address_db.places import public_place
from address_db.validation import ValidationResult, Validator
from boundaries.lookup import check_lon_lat, outside_reason
from core.catalogue_file import Attribute, Service
from core.city import CityConfig
from core.errors import InvalidCoordinates, UserError
from core.i18n import N_, Sentence, translations
from core.states import MAX_DESCRIPTION, RESPONSE_METHODS
from core.text import normalise_newlines
from service_requests.catalogue_db import get_service
from service_requests.models import Notification, RequestContact, RequestEvent, RequestPhoto, ServiceRequest
from service_requests.photo_store import MediaStore
from service_requests.photos import PhotoError, Upload, clean_photos, discard_files, store_photos
from service_requests.references import new_reference, new_short_reference
from service_requests.service_levels import due_at

_EMAIL = re.compile(r"^[^@\s<>\x00]+@[^@\s<>\x00]+\.[A-Za-z]{2,}$")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")


class IntakeError(UserError):
    """A request that cannot be accepted as given; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class RequestInput:
    """What a caller, a resident or an app gives for a new request."""

    service_code: str
    channel: str
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    address_id: str | None = None
    lon: Any = None
    lat: Any = None
    location_note: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    contact_notes: str | None = None
    response_method: str = "none"
    media_url: str | None = None
    photos: tuple[Upload, ...] = ()  # files sent with the request (checked and re-encoded by service_requests.photos)
    idempotency_key: str | None = None
    # Whose key it is: "web:<session scope>", "open311:<client id>", or "direct" for callers in this
    # process (command line, tests); the same key in another scope is another request.
    idempotency_scope: str = "direct"
    actor: str = "public"
    client: str | None = None  # the application that filed it (e.g. an Open311 API client), kept in the history
    requested_at: datetime | None = None
    language: str | None = None  # the language it is filed in (one of the city's): the requester's e-mails use it


@dataclass(frozen=True)
class NearbyRequest:
    """An open request near a new one: perhaps the same problem."""

    public_ref: str
    service_name: str
    status: str
    address: str | None
    requested_at: datetime
    distance_m: float
    short_ref: str = ""
    lon: float | None = None
    lat: float | None = None


@dataclass
class CreatedRequest:
    request: ServiceRequest
    nearby: list[NearbyRequest]
    created: bool = True  # False when an idempotency key found the request already made


@dataclass
class _Location:
    quality: str
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    note: str | None = None
    ward: str | None = None
    district: str | None = None
    typed_address: str | None = None  # private: the address typed when a point was picked instead


def _channel_words(city: CityConfig, code: str) -> str:
    """The channel in the public note: the city's name for it, or (the nine of old) the code in words."""
    return city.channels.name(code) if city.channels.own else code.replace("_", " ")


_SHORT_REF_ATTEMPTS = 5


def _insert(session: Session, request: ServiceRequest) -> IntegrityError | None:
    """Insert ``request`` in a savepoint; a short reference already taken draws again (one in 2**50 per request).

    Returns the refusal of any other unique index (the idempotency key's), None once stored.
    """
    for attempt in range(_SHORT_REF_ATTEMPTS):
        try:
            with session.begin_nested():
                session.add(request)
                session.flush()
            return None
        except IntegrityError as exc:
            if "service_request_short_ref" not in str(exc.orig) or attempt + 1 == _SHORT_REF_ATTEMPTS:
                return exc
            request.short_ref = new_short_reference()
    raise AssertionError("unreachable")


#: What a submission asks for: the same idempotency key with any of these different is another request.
_FINGERPRINTED = (
    "service_code",
    "channel",
    "description",
    "attributes",
    "address",
    "address_id",
    "lon",
    "lat",
    "location_note",
    "first_name",
    "last_name",
    "email",
    "phone",
    "contact_notes",
    "response_method",
    "media_url",
)


def submission_fingerprint(data: RequestInput) -> str:
    """A SHA-256 (hex) of what ``data`` asks for, as it was sent (a retry sends the same)."""
    asked = {name: getattr(data, name) for name in _FINGERPRINTED}
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()


def _same_submission(existing: ServiceRequest, data: RequestInput, fingerprint: str) -> bool:
    if existing.idempotency_fingerprint is not None:
        return existing.idempotency_fingerprint == fingerprint
    # Filed before fingerprints were kept (migration 0024): the service and the words.
    return (existing.service_code, existing.description) == (data.service_code, _description(data.description))


def _replayed(existing: ServiceRequest, data: RequestInput, fingerprint: str) -> CreatedRequest:
    """The request an idempotency key already made, if this is the same submission; refused otherwise."""
    if not _same_submission(existing, data, fingerprint):
        raise IntakeError(
            "idempotency_key",
            "This was already sent, under the same idempotency key, as a different request (another "
            "service, text, answer, place or contact): to file a new one, reload the form or send a new key.",
        )
    return CreatedRequest(existing, [], created=False)


def create_request(
    session: Session, city: CityConfig, validator: Validator, data: RequestInput, media: MediaStore | None = None
) -> CreatedRequest:
    """Check, store and commit a new request; raise :class:`IntakeError` (nothing stored) if it cannot be.

    Photos (``data.photos``) need the media folder ``media``: their files are written before the commit.
    """
    if data.idempotency_key is not None and not (
        isinstance(data.idempotency_key, str) and _IDEMPOTENCY_KEY.fullmatch(data.idempotency_key)
    ):
        raise IntakeError("idempotency_key", "An idempotency key is 1 to 200 printable characters.")
    fingerprint = submission_fingerprint(data)
    if data.idempotency_key:
        existing = _by_idempotency_key(session, city.key, data.idempotency_scope, data.idempotency_key)
        if existing is not None:
            return _replayed(existing, data, fingerprint)
    service = get_service(session, city.key, data.service_code) if isinstance(data.service_code, str) else None
    if service is None:
        raise IntakeError(
            "service_code", f"There is no service {str(data.service_code)[:64]!r}; choose one from the catalogue."
        )
    if not isinstance(data.channel, str) or data.channel not in city.channels:
        raise IntakeError("channel", f"The channel must be one of {', '.join(city.channels.codes)}.")
    description = _description(data.description)
    attributes = check_attributes(service, data.attributes)
    contact, response_method = _contact(service, data)
    location = _location(session, city, validator, service, data)
    if data.photos and media is None:
        raise IntakeError("photos", N_("Photos cannot be taken here; send the request without them."))
    try:
        photos = clean_photos(data.photos, city.photos)
    except PhotoError as exc:
        raise IntakeError("photos", exc.args[0]) from None  # its Sentence: shown in the page's language

    now = datetime.now(UTC)
    requested_at = data.requested_at or now
    request = ServiceRequest(
        city=city.key,
        public_ref=new_reference(),
        short_ref=new_short_reference(),
        service_code=service.code,
        service_name=service.name,
        department_code=service.department,
        assignee=service.default_assignee,
        status="submitted",
        channel=data.channel,
        response_method=response_method,
        language=data.language if data.language in city.languages else city.languages[0],
        description=description,
        attributes=attributes,
        address=location.address,
        address_id=location.address_id,
        zipcode=location.zipcode,
        location_note=location.note,
        location_quality=location.quality,
        typed_address=location.typed_address,
        geom=from_shape(Point(location.lon, location.lat), srid=4326) if location.lon is not None else None,
        in_jurisdiction=True if location.lon is not None else None,
        ward_key=location.ward,
        district_key=location.district,
        requested_at=requested_at,
        updated_at=now,
        due_at=due_at(requested_at, service.service_level, city.tz),
        service_level=service.service_level.describe(),
        due_source="catalogue",
        media_url=_media_url(data.media_url),
        source="intake",
        idempotency_key=data.idempotency_key,
        idempotency_scope=data.idempotency_scope if data.idempotency_key else None,
        idempotency_fingerprint=fingerprint if data.idempotency_key else None,
    )
    refused = _insert(session, request)
    if refused is not None:
        existing = (
            _by_idempotency_key(session, city.key, data.idempotency_scope, data.idempotency_key)
            if data.idempotency_key
            else None
        )
        if existing is None:
            raise refused
        return _replayed(existing, data, fingerprint)  # sent twice at the same moment

    if contact is not None:
        session.add(RequestContact(request_id=request.id, **contact))
    session.add_all(
        [
            RequestEvent(
                request_id=request.id,
                actor=data.actor,
                kind="created",
                to_status="submitted",
                public=True,
                note=f"Request received by {_channel_words(city, data.channel)}.",
                data={"channel": data.channel, **({"client": data.client} if data.client else {})},
            ),
            RequestEvent(
                request_id=request.id,
                actor="routing",
                kind="assigned",
                public=False,
                note=f"Routed to {service.department}"
                + (f", {service.default_assignee}" if service.default_assignee else ""),
                data={"department": service.department, "assignee": service.default_assignee},
            ),
        ]
    )
    if response_method == "email" and contact and contact.get("email"):
        session.add(_received_notification(city, service, request, contact["email"]))
    radius = city.intake.radius(staff=data.actor != "public")
    nearby = (
        nearby_open_requests(
            session,
            city.key,
            service.code,
            location.lon,
            location.lat,
            radius,
            days=city.intake.duplicate_days,
            exclude_id=request.id,
        )
        if location.lon is not None and location.lat is not None
        else []
    )
    stored: list[RequestPhoto] = []
    try:
        if photos and media is not None:
            stored = store_photos(session, media, request, photos, data.actor, _photo_origin(data))
        session.commit()
    except BaseException:
        session.rollback()
        if media is not None:
            discard_files(media, stored)
        raise
    return CreatedRequest(request, nearby)


def _photo_origin(data: RequestInput) -> str:
    """Who sent the photos: an Open311 client, a resident on the form, or staff."""
    if data.client and data.client.startswith("open311:"):
        return "open311"
    return "resident" if data.actor == "public" else "staff"


def _received_notification(city: CityConfig, service: Service, request: ServiceRequest, email: str) -> Notification:
    """The e-mail that tells the requester the request was received, in the language it was filed in."""
    language = request.language or city.languages[0]
    words = translations(language)
    _ = words.gettext
    expected = _("soon")
    if request.due_at:
        due = request.due_at.astimezone(city.tz)
        expected = f"{format_date(due, 'full', locale=language)}, {format_time(due, 'short', locale=language)}"
    values = {
        "city": city.name,
        "service": service.in_language(language).name,
        "reference": request.short_ref_shown,
        "long_reference": request.public_ref,
        "level": service.service_level.describe_in(words.ngettext),
        "expected": expected,
    }
    return Notification(
        request_id=request.id,
        method="email",
        recipient=email,
        subject=_("%(city)s: your request %(reference)s was received") % values,
        body=(
            _(
                "We received your request (%(service)s). Its reference is %(reference)s (long reference %(long_reference)s)."
            )
            % values
            + "\n"
            + _("The service level is %(level)s: expected by %(expected)s.") % values
            + "\n"
        ),
    )


def nearby_open_requests(
    session: Session,
    city: str,
    service_code: str,
    lon: float,
    lat: float,
    radius_m: float,
    days: int = 30,
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[NearbyRequest]:
    """Open requests of the same service within ``radius_m`` metres made in the last ``days`` days."""
    rows = session.execute(
        text(
            """
            SELECT public_ref, short_ref, service_name, status, address, requested_at,
                   ST_X(geom) AS lon, ST_Y(geom) AS lat,
                   ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS distance
            FROM service_request
            WHERE city = :city AND is_open AND service_code = :service AND duplicate_of IS NULL
              AND requested_at >= now() - make_interval(days => :days)
              AND (CAST(:exclude AS bigint) IS NULL OR id <> :exclude)
              -- the box lets the GiST index on geom answer; the geography test is exact
              AND geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :dx, :dy)
              AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :radius)
            ORDER BY distance LIMIT :limit
            """
        ),
        {
            "city": city,
            "service": service_code,
            "lon": lon,
            "lat": lat,
            "radius": radius_m,
            "days": days,
            "exclude": exclude_id,
            "limit": limit,
            "dy": radius_m / 110_000,
            "dx": radius_m / (110_000 * max(0.01, math.cos(math.radians(lat)))),
        },
    )
    return [
        NearbyRequest(
            r.public_ref,
            r.service_name,
            r.status,
            r.address,
            r.requested_at,
            round(r.distance, 1),
            short_ref=r.short_ref,
            lon=r.lon,
            lat=r.lat,
        )
        for r in rows
    ]


def check_attributes(service: Service, given: dict[str, Any] | None) -> dict[str, Any]:
    """The service's attributes from ``given``, checked against their definitions."""
    given = given or {}
    if not isinstance(given, dict):
        raise IntakeError("attributes", "Attributes must be given as code: value pairs.")
    known = {a.code: a for a in service.attributes}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise IntakeError(f"attribute[{unknown[0]}]", f"{service.name} has no question {unknown[0]!r}.")
    values: dict[str, Any] = {}
    for attribute in service.attributes:
        value = given.get(attribute.code)
        if value in (None, "", []):
            if attribute.required:
                raise IntakeError(
                    f"attribute[{attribute.code}]",
                    Sentence(N_("Please answer: %(question)s"), question=attribute.description),
                )
            continue
        values[attribute.code] = _attribute_value(attribute, value)
    return values


def _attribute_value(attribute: Attribute, value: Any) -> Any:
    name = f"attribute[{attribute.code}]"
    keys = {v.key for v in attribute.values}
    if attribute.datatype == "singlevaluelist":
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str) or value not in keys:
            raise IntakeError(
                name,
                f"{attribute.description}: {str(value)[:50]!r} is not one of the choices ({', '.join(sorted(keys))}).",
            )
        return value
    if attribute.datatype == "multivaluelist":
        chosen = value if isinstance(value, list) else [value]
        wrong = [v for v in chosen if not isinstance(v, str) or v not in keys]
        if wrong:
            raise IntakeError(
                name,
                f"{attribute.description}: {str(wrong[0])[:50]!r} is not one of the choices "
                f"({', '.join(sorted(keys))}).",
            )
        return sorted(set(chosen))
    if attribute.datatype == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise IntakeError(
                name, Sentence(N_("%(question)s: give a number."), question=attribute.description)
            ) from None
        if not math.isfinite(number) or abs(number) > 1e12:
            raise IntakeError(name, Sentence(N_("%(question)s: give a number."), question=attribute.description))
        return int(number) if number.is_integer() else number
    if attribute.datatype == "datetime":
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise IntakeError(
                name, f"{attribute.description}: give a date and time such as 2026-11-23T14:30."
            ) from None
        return moment.isoformat()
    text_value = normalise_newlines(str(value).replace("\x00", ""))
    limit = 1000 if attribute.datatype == "string" else MAX_DESCRIPTION
    if len(text_value) > limit:
        raise IntakeError(
            name,
            Sentence(N_("%(question)s: at most %(limit)s characters."), question=attribute.description, limit=limit),
        )
    return text_value


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise IntakeError("description", "The description must be text.")
    value = normalise_newlines(value.replace("\x00", "")).strip()
    if len(value) > MAX_DESCRIPTION:
        raise IntakeError(
            "description",
            Sentence(
                N_("The description is %(length)s characters long; at most %(most)s are kept. Please shorten it."),
                length=f"{len(value):,}",
                most=f"{MAX_DESCRIPTION:,}",
            ),
        )
    return value


def _contact(service: Service, data: RequestInput) -> tuple[dict[str, Any] | None, str]:
    """The contact to store (None for sensitive services) and the response method."""
    if data.response_method not in RESPONSE_METHODS:
        raise IntakeError("response_method", f"The response method must be one of {', '.join(RESPONSE_METHODS)}.")
    if service.sensitive:  # nobody may learn who reported: nothing is kept, even if sent
        return None, "none"
    contact = {
        "first_name": _short(data.first_name, "first_name"),
        "last_name": _short(data.last_name, "last_name"),
        "email": _short(data.email, "email"),
        "phone": _short(data.phone, "phone"),
        "notes": _short(data.contact_notes, "contact_notes", 1000),
    }
    if contact["email"] and not _EMAIL.match(contact["email"]):
        raise IntakeError("email", Sentence(N_("%(email)s is not an e-mail address."), email=repr(contact["email"])))
    if contact["phone"] and len(re.sub(r"\D", "", contact["phone"])) < 7:
        raise IntakeError("phone", N_("The phone number needs at least 7 digits."))
    if service.contact == "require" and not (contact["email"] or contact["phone"]):
        raise IntakeError(
            "contact",
            Sentence(
                N_("%(service)s needs a way to reach you: an e-mail address or a phone number."), service=service.name
            ),
        )
    method = data.response_method
    if method == "email" and not contact["email"]:
        raise IntakeError("email", N_("To be answered by e-mail, give an e-mail address."))
    if method == "phone" and not contact["phone"]:
        raise IntakeError("phone", N_("To be called back, give a phone number."))
    if method == "mail" and not contact["notes"]:
        raise IntakeError("contact_notes", N_("To be answered by mail, give the mailing address in the contact notes."))
    return (contact if any(contact.values()) else None), method


def _short(value: Any, name: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise IntakeError(name, f"{name.replace('_', ' ').capitalize()} must be text.")
    value = normalise_newlines(value.replace("\x00", "")).strip()
    if len(value) > limit:
        raise IntakeError(name, f"{name.replace('_', ' ').capitalize()} is too long (at most {limit} characters).")
    return value or None


def _media_url(value: Any) -> str | None:
    if not value:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s<>\"\x00-\x1f]{1,2000}", value):
        raise IntakeError("media_url", "The media URL must be an http(s) address.")
    return value


def _location(
    session: Session, city: CityConfig, validator: Validator, service: Service, data: RequestInput
) -> _Location:
    if service.location == "none":
        given = [
            name
            for name, value in (
                ("an address", data.address),
                ("an address id", data.address_id),
                ("a point", data.lon if data.lon not in (None, "") else data.lat),
            )
            if value not in (None, "") and str(value).strip()
        ]
        if given:  # refused, not dropped: the sender believes the place was recorded
            raise IntakeError(
                "location",
                f"{service.name} takes no location, but {' and '.join(given)} was sent: "
                "send the request without it (or choose a service that takes a place).",
            )
        return _Location("none")
    note = _short(data.location_note, "location_note", 500)
    if data.address_id:
        row = session.execute(
            text(
                "SELECT standardized, zipcode, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address_point "
                "WHERE city = :city AND address_id = :id"
            ),
            {"city": city.key, "id": str(data.address_id)[:64]},
        ).first()
        if row is None:
            raise IntakeError(
                "address_id", f"There is no address {str(data.address_id)[:64]!r} in the address database."
            )
        return _at_point(
            session,
            city,
            validator,
            "address",
            row.lon,
            row.lat,
            row.standardized,
            str(data.address_id),
            row.zipcode,
            note,
        )
    picked = data.lon not in (None, "") or data.lat not in (None, "")
    if data.address and str(data.address).strip():
        result = validator.validate(session, data.address)
        match = result.match
        if result.status == "valid" and match is not None and match.lon is not None and match.lat is not None:
            return _at_point(
                session,
                city,
                validator,
                "address",
                match.lon,
                match.lat,
                match.text,
                match.address_id,
                _zip(result),
                note,
            )
        if result.status == "outside":
            raise IntakeError("address", _outside_message(city, result.reason, result.agency))
        if not picked:  # staff may override with a point picked on the map
            raise IntakeError("address", _unresolved_message(result))
    if picked:
        try:
            lon, lat = check_lon_lat(data.lon, data.lat)
        except InvalidCoordinates as exc:
            raise IntakeError("location", str(exc)) from None
        typed = _short(data.address, "address", 200)  # did not match: kept for staff, never published
        return _at_point(session, city, validator, "point", lon, lat, None, None, None, note, typed_address=typed)
    if note and service.location == "optional":
        return _Location("general", note=note)
    if service.location == "required":
        raise IntakeError(
            "location", f"{service.name} needs a location: an address, cross streets or a point on the map."
        )
    return _Location("none", note=note)


def _at_point(
    session: Session,
    city: CityConfig,
    validator: Validator,
    quality: str,
    lon: float,
    lat: float,
    address: str | None,
    address_id: str | None,
    zipcode: str | None,
    note: str | None,
    typed_address: str | None = None,
) -> _Location:
    location = validator.boundaries.get(session, city.key).locate(lon, lat)
    if not location.in_jurisdiction:
        raise IntakeError("location", _outside_message(city, outside_reason(location), location.agency))
    if quality == "point":  # the public place comes from the point, never from what was typed
        address = public_place(session, city.key, lon, lat)
    return _Location(
        quality,
        lon,
        lat,
        address,
        address_id,
        zipcode,
        note,
        location.ward.key if location.ward else None,
        location.district.key if location.district else None,
        typed_address,
    )


def _outside_message(city: CityConfig, reason: str | None, agency: Any) -> str:
    """ "Not in the city", then whose the place is (``reason``) and how to reach them.

    The city's fallback contact (a place in no layer) is not "them": ``reason`` already
    says whom to ask for help.
    """
    if agency is not None and getattr(agency, "phone", None) and not getattr(agency, "fallback", False):
        return Sentence(
            N_("This location is not in the %(city)s. %(reason)s Contact them at %(phone)s."),
            city=city.name,
            reason=reason or "",
            phone=agency.phone,
        )
    return Sentence(N_("This location is not in the %(city)s. %(reason)s"), city=city.name, reason=reason or "")


def _unresolved_message(result: ValidationResult) -> str:
    if result.status == "ambiguous":
        choices = "; ".join(c.text for c in result.candidates[:4])
        return Sentence(N_("%(reason)s Candidates: %(choices)s."), reason=result.reason or "", choices=choices)
    if result.status == "not_found" and result.suggestions:
        nearby = "; ".join(c.text for c in result.suggestions[:3])
        return Sentence(N_("%(reason)s Nearby: %(nearby)s."), reason=result.reason or "", nearby=nearby)
    return result.reason or Sentence(N_("The address could not be checked."))


def _zip(result: ValidationResult) -> str | None:
    match = re.search(r", (\d{5})$", result.match.text if result.match else "")
    return match.group(1) if match else None


def new_idempotency_key() -> str:
    """A key for one form: 128 random bits, so that nobody can guess another's."""
    return secrets.token_urlsafe(16)


def _by_idempotency_key(session: Session, city: str, scope: str | None, key: str) -> ServiceRequest | None:
    return session.scalar(
        select(ServiceRequest).where(
            ServiceRequest.city == city,
            ServiceRequest.idempotency_scope == scope,
            ServiceRequest.idempotency_key == key,
        )
    )
