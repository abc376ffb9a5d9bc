"""servicerequestupdates: mySociety's extension of GeoReport v2, as FixMyStreet's Open311 client uses it.

GET lists the public entries of the requests' histories in a window of ``updated_datetime``
(a status change, a reopening, a note, a reply: everything but the ``created`` event, which
is the request itself), oldest first, paged like GET requests. ``update_id`` is the history
event's id, the same id POST answers, so that a client can tell its own updates apart when it
polls. Only public events of requests in the city's jurisdiction, and only the event's public
note: never an actor, a name, an e-mail or a private note.

POST records a client's comment or status change through the lifecycle functions staff use
(:mod:`service_requests.lifecycle`), with the client's name as actor. Statuses are FixMyStreet's
extended ones, mapped to and from the city's states (:mod:`core.states`) in
:data:`STATE_OF_STATUS` and :data:`STATUS_OF_STATE`. What a status means on a request:

- the request's own status (e.g. OPEN or REOPEN on an open request, CLOSED on a closed one,
  IN_PROGRESS on one in progress): a comment, which every client may post;
- another state: a status change, only for a client issued with ``--may-change-status``
  (else 403: the key may post comments only). OPEN or REOPEN on a closed request reopens it;
  CLOSED on an open one closes it as cancelled (NO_FURTHER_ACTION too); a closed request
  asked for another state is reopened, then moved to it. DUPLICATE is refused (400): staff
  mark duplicates, with the request duplicated.

Updates are public only where the city file sets ``[open311] client_updates_public = true``
(else staff see them in the history; GET does not list them). The client's ``update_id`` makes
a retry idempotent per client: the same update again answers the first answer; other contents
under the same ``update_id`` are a 409 saying so. The client's ``updated_datetime`` is checked
and kept with the event; the history's time is when the update arrived (it is append-only).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.city import CityConfig
from core.states import CLOSED_STATES, STATES
from core.text import normalise_newlines
from open311 import fields
from open311.clients import Caller
from open311.errors import Open311Error, bad_request, forbidden, not_found
from open311.fields import W3C_FORMAT, Field, nullable
from open311.models import ClientUpdate
from open311.params import Args, UpdateQuery, parse_datetime
from open311.queries import second_after, second_at_or_after  # windows read on the published times
from open311.submit import IDEMPOTENCY_PATTERN
from service_requests import rules
from service_requests.lifecycle import MAX_NOTE, LifecycleError, add_note, change_status, reopen
from service_requests.models import ServiceRequest
from service_requests.references import normalize_reference

#: The status published for each of the city's states (FixMyStreet's extended statuses).
STATUS_OF_STATE = {
    "submitted": "OPEN",
    "acknowledged": "INVESTIGATING",
    "in_progress": "IN_PROGRESS",
    "scheduled": "ACTION_SCHEDULED",
    "fixed": "FIXED",
    "duplicate": "DUPLICATE",
    "not_our_responsibility": "NOT_COUNCILS_RESPONSIBILITY",
    "referred_out": "INTERNAL_REFERRAL",
    "cancelled": "CANCELLED",
}
#: The state a status a client sends asks for; None: "open" (OPEN, REOPEN) or "closed" (CLOSED), whichever.
STATE_OF_STATUS: dict[str, str | None] = {
    **{status: state for state, status in STATUS_OF_STATE.items() if status != "OPEN"},
    "OPEN": None,
    "REOPEN": None,
    "CLOSED": None,
    "NO_FURTHER_ACTION": "cancelled",
}
#: Every status POST takes (and GET may answer, REOPEN for a reopening), in a stable order.
STATUSES = (
    "OPEN",
    "CLOSED",
    "FIXED",
    "IN_PROGRESS",
    "ACTION_SCHEDULED",
    "INVESTIGATING",
    "DUPLICATE",
    "NOT_COUNCILS_RESPONSIBILITY",
    "NO_FURTHER_ACTION",
    "INTERNAL_REFERRAL",
    "CANCELLED",
    "REOPEN",
)
assert set(STATUS_OF_STATE) == set(STATES) and set(STATE_OF_STATUS) == set(STATUSES)

#: The XML root of the answers, as FixMyStreet spells it (its items, ``<request_update>``, are in serialize.ITEMS).
ROOT = "service_requests_updates"

_STATE_AT_EVENT = "coalesce(e.to_status, e.from_status, r.status)"
_STATUS_SQL = (
    "CASE WHEN e.kind = 'reopened' THEN 'REOPEN' "
    + " ".join(f"WHEN {_STATE_AT_EVENT} = '{state}' THEN '{status}'" for state, status in STATUS_OF_STATE.items())
    + " END"
)
_STRING = {"type": "string"}

#: The fields of an update, in the extension's order: the SQL over ``request_event e`` and its ``service_request r``.
UPDATE_FIELDS: tuple[Field, ...] = (
    Field("update_id", "e.id::text", {**_STRING, "description": "The history entry's id (POST answers the same)."}),
    Field("service_request_id", "r.public_ref", _STRING),
    Field("status", _STATUS_SQL, {"type": "string", "enum": list(STATUSES)}),
    Field("updated_datetime", f"to_char(e.at, {W3C_FORMAT})", {"type": "string", "format": "date-time"}),
    Field("description", "e.note", nullable("string", description="The entry's public note.")),
    Field("media_url", "e.data->>'media_url'", nullable("string")),
    Field(
        "external_status_code",
        _STATE_AT_EVENT,
        {"type": "string", "enum": list(STATES), "description": "The city's own state after the update."},
    ),
)

#: The POST arguments read, and their longest accepted length (others, such as FixMyStreet's extras, are ignored).
MAX_LENGTHS = {
    "service_request_id": 64,
    "update_id": 150,
    "updated_datetime": 40,
    "status": 40,
    "description": MAX_NOTE,
    "media_url": 2000,
    "first_name": 200,
    "last_name": 200,
    "email": 200,
}
REQUIRED = ("service_request_id", "update_id", "updated_datetime", "status", "description")
_URL = re.compile(r"https?://[^\s]{1,1990}", re.IGNORECASE)


def schema(field_list: Sequence[Field] = UPDATE_FIELDS) -> tuple[list[str], dict[str, Any]]:
    """The JSON schema of an update (required names and properties), for the OpenAPI document."""
    return fields.schema(field_list)


def find_updates(session: Session, city: CityConfig, query: UpdateQuery) -> list[dict[str, Any]]:
    """GET servicerequestupdates: the public updates in the window, oldest first, one page of them."""
    session.execute(text("SELECT set_config('TimeZone', :tz, true)"), {"tz": city.timezone})
    rows = session.execute(
        text(
            f"SELECT {fields.select_list(UPDATE_FIELDS)} FROM request_event e "
            "JOIN service_request r ON r.id = e.request_id "
            f"WHERE r.city = :city AND {rules.in_city('r')} AND e.public AND e.kind <> 'created' "
            # A bound equal to an update's published (whole-second) time takes it in.
            "AND e.at >= :start AND e.at < :end "
            "ORDER BY e.at, e.id LIMIT :limit OFFSET :offset"
        ),
        {
            "city": city.key,
            "start": second_at_or_after(query.start),
            "end": second_after(query.end),
            "limit": query.page_size,
            "offset": (query.page - 1) * query.page_size,
        },
    ).all()
    return [fields.record(row, UPDATE_FIELDS) for row in rows]


@dataclass(frozen=True)
class Posted:
    """What POST answers: the server's id of the update; ``created`` is False for a retry."""

    update_id: str
    created: bool


@dataclass(frozen=True)
class _Update:
    """A POSTed update, checked."""

    reference: str
    client_update_id: str
    status: str
    description: str
    client_time: str
    media_url: str | None
    author: str | None

    def fingerprint(self) -> str:
        body = json.dumps([self.reference, self.status, self.description, self.client_time, self.media_url])
        return hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()


def post_update(session: Session, city: CityConfig, client: Caller, form: Args) -> Posted:
    """Record the update an Open311 client POSTed; raise :class:`Open311Error` (nothing stored) if it cannot be."""
    update = _read(form, city)
    found = _answer_of(session, client, update)
    if found is not None:
        return found
    request = session.scalar(
        select(ServiceRequest).where(ServiceRequest.city == city.key, ServiceRequest.public_ref == update.reference)
    )
    if request is None:
        raise not_found(f"service_request_id {update.reference!r} was not found.")
    steps = _steps(request, update.status)
    if any(kind != "note" for kind, _ in steps) and not client.may_change_status:
        raise forbidden(
            f"This api_key may post comments only, and {update.status} would change the request's status "
            f"(it is {STATUS_OF_STATE[request.status]}). Send its current status to comment, or ask the city "
            "to allow status changes for this key."
        )
    row = ClientUpdate(
        client_id=client.id,
        update_id=update.client_update_id,
        fingerprint=update.fingerprint(),
        request_id=request.id,
        author=update.author,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same update_id arrived at the same moment: answer as a retry
        session.rollback()
        retried = _answer_of(session, client, update)
        if retried is None:
            raise
        return retried
    data: dict[str, Any] = {
        "client": f"open311:{client.id}",
        "open311_update": row.id,
        "update_id": update.client_update_id,
        "client_datetime": update.client_time,
        **({"media_url": update.media_url} if update.media_url else {}),
    }
    actor = f"{client.name} (Open311 client {client.id})"
    public = city.open311.client_updates_public
    try:
        for kind, state in steps:  # each function commits: the first one commits the idempotency row with it
            if kind == "reopen":
                reopen(session, request, actor, update.description, public=public, data=data)
            elif kind == "status" and state is not None:
                change_status(session, request, state, actor, update.description, public=public, data=data)
            else:
                add_note(session, request, actor, update.description, public=public, data=data)
    except LifecycleError as exc:
        session.rollback()
        raise bad_request(f"status {update.status}: {exc}") from None
    event_id = _event_of(session, row.id)
    row.event_id = event_id
    session.commit()
    return Posted(str(event_id), True)


def _steps(request: ServiceRequest, status: str) -> list[tuple[str, str | None]]:
    """What ``status`` asks of ``request``: ("note", None), or a reopening and/or a change of state."""
    current, closed = request.status, request.status in CLOSED_STATES
    wanted = STATE_OF_STATUS[status]
    if wanted is None:  # OPEN, REOPEN: open, whichever state; CLOSED: closed, whichever reason
        if status == "CLOSED":
            return [("note", None)] if closed else [("status", "cancelled")]
        return [("reopen", None)] if closed else [("note", None)]
    if wanted == current:
        return [("note", None)]
    if wanted == "duplicate":
        raise bad_request(
            "status DUPLICATE cannot be set through the API: the city's staff mark a duplicate together "
            "with the request it duplicates. Send the request's current status to comment."
        )
    return [*([("reopen", None)] if closed else []), ("status", wanted)]


def _answer_of(session: Session, client: Caller, update: _Update) -> Posted | None:
    """The first answer to this client's ``update_id``, if it was posted before; 409 if with other contents."""
    row = session.scalar(
        select(ClientUpdate).where(
            ClientUpdate.client_id == client.id, ClientUpdate.update_id == update.client_update_id
        )
    )
    if row is None:
        return None
    if row.fingerprint != update.fingerprint():
        raise Open311Error(
            409,
            f"update_id {update.client_update_id!r} was already used by this client for another update "
            f"(server update_id {row.event_id or _event_of(session, row.id)}); give each update its own update_id.",
        )
    return Posted(str(row.event_id or _event_of(session, row.id)), False)


def _event_of(session: Session, update_row_id: int) -> int:
    """The (last) history event recorded for the client update ``update_row_id``."""
    return int(
        session.execute(
            text(
                "SELECT e.id FROM request_event e JOIN open311_update u ON u.request_id = e.request_id "
                "WHERE u.id = :id AND e.data->>'open311_update' = CAST(:id AS text) ORDER BY e.id DESC LIMIT 1"
            ),
            {"id": update_row_id},
        ).scalar_one()
    )


def _read(form: Args, city: CityConfig) -> _Update:
    """The POSTed arguments, checked; every problem reported at once (400)."""
    values: dict[str, str | None] = {}
    problems: list[str] = []
    for name, longest in MAX_LENGTHS.items():
        given = [normalise_newlines(v) for v in form.getlist(name) if v.strip() != ""]
        if len(set(given)) > 1:
            problems.append(f"{name} was given {len(given)} times; give it once.")
        elif given and len(given[0]) > longest:
            problems.append(f"{name} is {len(given[0]):,} characters long; at most {longest:,} are accepted.")
        values[name] = given[0].strip() if given and len(set(given)) == 1 else None
    for name in REQUIRED:
        if values[name] is None and not any(p.startswith(name) for p in problems):
            problems.append(f"{name} was not provided.")
    reference = None
    if values["service_request_id"] is not None:
        reference = normalize_reference(values["service_request_id"])
        if reference is None:
            problems.append(
                f"service_request_id {values['service_request_id'][:64]!r} is not a service request id "
                "(26 letters and digits, as POST requests answered)."
            )
    if values["update_id"] is not None and not re.fullmatch(IDEMPOTENCY_PATTERN, values["update_id"]):
        problems.append("update_id must be 1 to 150 printable ASCII characters without spaces (your own update's id).")
    status = (values["status"] or "").upper()
    if values["status"] is not None and status not in STATUSES:
        problems.append(f"status {values['status'][:40]!r} must be one of {', '.join(STATUSES)}.")
    if values["updated_datetime"] is not None:
        try:
            parse_datetime(values["updated_datetime"], city.tz)
        except ValueError:
            problems.append(
                f"updated_datetime {values['updated_datetime'][:40]!r} must be a date and time with its offset, "
                "e.g. 2026-11-23T14:30:00-08:00."
            )
    if values["media_url"] is not None and not _URL.fullmatch(values["media_url"]):
        problems.append("media_url must be an http:// or https:// URL.")
    if values["email"] is not None and "@" not in values["email"]:
        problems.append(f"email {values['email'][:60]!r} is not an e-mail address.")
    if problems:
        raise bad_request(*problems)
    author = " ".join(filter(None, (values["first_name"], values["last_name"])))
    if values["email"]:
        author = f"{author} <{values['email']}>".strip()
    return _Update(
        reference=reference or "",
        client_update_id=values["update_id"] or "",
        status=status,
        description=values["description"] or "",
        client_time=values["updated_datetime"] or "",
        media_url=values["media_url"],
        author=author or None,
    )
