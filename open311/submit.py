"""POST requests: an Open311 form becomes a :class:`RequestInput` for the one intake path.

Everything the web intake checks is checked here by the same code
(:func:`~service_requests.intake.create_request`): the service's rules, the address
validation against the city's own address database, the boundaries (a location another
agency serves is refused with an error naming that agency), routing, the due date and the
duplicate hints. This module only maps the spec's arguments and errors.

- ``lat`` + ``long``, ``address_string`` or ``address_id`` give the location;
  ``attribute[code]=value`` answers a question, ``attribute[code][]=value`` (repeated)
  a multivaluelist; the contact fields go to the contact record, never to a GET response.
- ``device_id`` and ``account_id`` are checked but not stored (they identify a person's
  phone or account and nobody here needs them); ``account_id`` is echoed in the response.
- An e-mail address given makes the acknowledgement and the closing notice go there.
- ``media``, a file of a multipart form (the mySociety extension), is a photo: checked, cleaned and
  stored like the web form's (:mod:`service_requests.photos`); a refused one is a 400 naming ``media``.
- An ``Idempotency-Key`` header (or ``idempotency_key`` argument) makes a retried POST
  return the request it already made; keys are scoped to the API client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from address_db.validation import Validator
from core.city import CityConfig
from core.states import MAX_DESCRIPTION
from core.text import normalise_newlines
from open311.clients import Caller
from open311.errors import Open311Error, bad_request, not_found
from open311.params import SERVICE_CODE_PATTERN, Args
from service_requests.intake import IntakeError, RequestInput, create_request
from service_requests.photo_store import MediaStore
from service_requests.photos import Upload

_ATTRIBUTE = re.compile(r"attribute\[([A-Za-z0-9_]{1,64})\](\[\])?")
#: The single-valued arguments and their longest accepted length (the OpenAPI document says the same).
MAX_LENGTHS = {
    "service_code": 64,
    "lat": 40,
    "long": 40,
    "address_string": 200,
    "address_id": 64,
    "email": 200,
    "device_id": 200,
    "account_id": 200,
    "first_name": 200,
    "last_name": 200,
    "phone": 200,
    "description": MAX_DESCRIPTION,
    "media_url": 2000,
    "idempotency_key": 150,
}
IDEMPOTENCY_PATTERN = r"[\x21-\x7e]{1,150}"
NUMBER_PATTERN = r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,3})?"


@dataclass(frozen=True)
class Submitted:
    """What POST answers: the id at once (every service is realtime)."""

    service_request_id: str
    service_notice: str | None
    account_id: str | None
    created: bool


def submit(
    session: Session,
    city: CityConfig,
    validator: Validator,
    client: Caller,
    form: Args,
    idempotency_key: str | None = None,
    photos: tuple[Upload, ...] = (),
    media: MediaStore | None = None,
    language: str | None = None,
) -> Submitted:
    """File the request an Open311 client POSTed; raise :class:`Open311Error` (nothing stored) if it cannot be.

    ``photos`` are the ``media`` files of a multipart form, stored in ``media``; ``language``: the one
    the client asked for (``locale``, ``Accept-Language``), the requester's e-mails'.
    """
    values, attributes = _read(form)
    code = values.get("service_code")
    if not code:
        raise bad_request("service_code was not provided: choose one from services.xml or services.json.")
    if not re.fullmatch(SERVICE_CODE_PATTERN, code):
        raise bad_request(
            f"service_code {code[:64]!r} is not a service code (lower-case letters, digits and -; "
            "see services.xml or services.json)."
        )
    if (values.get("lat") is None) != (values.get("long") is None):
        raise bad_request("lat and long must be sent together (WGS 84 decimal degrees).")
    for name in ("lat", "long"):
        given = values.get(name)
        if given is not None and not re.fullmatch(NUMBER_PATTERN, given):
            raise bad_request(f"{name} {given[:40]!r} is not a number of decimal degrees (WGS 84).")
    key = idempotency_key or values.get("idempotency_key")
    if key is not None and not re.fullmatch(IDEMPOTENCY_PATTERN, key):
        raise bad_request("The idempotency key must be 1 to 150 printable ASCII characters without spaces.")
    data = RequestInput(
        service_code=code,
        channel=city.channels.open311,
        description=values.get("description") or "",
        attributes=attributes,
        address=values.get("address_string"),
        address_id=values.get("address_id"),
        lon=values.get("long"),
        lat=values.get("lat"),
        first_name=values.get("first_name"),
        last_name=values.get("last_name"),
        email=values.get("email"),
        phone=values.get("phone"),
        response_method="email" if values.get("email") else "none",
        media_url=values.get("media_url"),
        photos=photos,
        idempotency_key=key or None,
        idempotency_scope=f"open311:{client.id}",
        actor="public",
        client=f"open311:{client.id}",
        language=language,
    )
    try:
        created = create_request(session, city, validator, data, media=media)
    except IntakeError as exc:
        session.rollback()
        raise _as_open311(exc, code) from None
    request = created.request
    notice = []
    if request.due_at is not None:
        expected = request.due_at.astimezone(city.tz).strftime("%A %d %B %Y, %H:%M")
        notice.append(f"Expected by {expected} (service level: {request.service_level}).")
    if created.nearby:
        refs = ", ".join(n.public_ref for n in created.nearby[:5])
        notice.append(f"{len(created.nearby)} open request(s) of this service were already reported nearby: {refs}.")
    return Submitted(request.public_ref, " ".join(notice) or None, values.get("account_id"), created.created)


def _read(form: Args) -> tuple[dict[str, str | None], dict[str, Any]]:
    """The spec's single-valued arguments (empty = not sent) and the attributes."""
    values: dict[str, str | None] = {}
    for name, longest in MAX_LENGTHS.items():
        given = [normalise_newlines(v) for v in form.getlist(name) if v != ""]  # a CRLF is one character
        if len(set(given)) > 1:
            raise bad_request(f"{name} was given {len(given)} times; give it once.")
        if given and len(given[0]) > longest:
            raise bad_request(f"{name} is {len(given[0]):,} characters long; at most {longest:,} are accepted.")
        values[name] = given[0] if given else None
    attributes: dict[str, Any] = {}
    for key in _keys(form):
        if not key.startswith("attribute"):
            continue
        match = _ATTRIBUTE.fullmatch(key)
        if match is None:
            raise bad_request(
                f"{key[:80]!r} is not an attribute argument: write attribute[code]=value, or "
                "attribute[code][]=value for each value of a multivaluelist."
            )
        code, many = match.group(1), bool(match.group(2))
        given = [v for v in form.getlist(key) if v != ""]
        if code in attributes:
            raise bad_request(f"attribute[{code}] was given both with and without []; use one form.")
        attributes[code] = given if (many or len(given) > 1) else (given[0] if given else "")
    return values, attributes


def _keys(form: Args) -> list[str]:
    keys = getattr(form, "keys", None)
    return list(keys()) if callable(keys) else []


def _as_open311(exc: IntakeError, code: str) -> Open311Error:
    """An intake error as the spec's error: 404 for a service that does not exist, else 400 naming the argument."""
    if exc.field == "service_code":
        return not_found(f"service_code {code[:64]!r} was not found: choose one from services.xml or services.json.")
    name = {
        "address": "address_string",
        "contact": "email or phone",
        "idempotency_key": "Idempotency-Key",
        "photos": "media",
    }.get(exc.field, exc.field)
    return bad_request(f"{name}: {exc}")
