"""API clients: issuing keys (shown once, stored hashed), listing, revoking, checking; rate limits.

Rate limits count hits in fixed one-minute windows in PostgreSQL (one upsert per call), so
every WSGI worker and every server share the same counters.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.errors import UserError
from core.ratelimit import Limit, hit
from open311.errors import forbidden
from open311.models import DEFAULT_PER_MINUTE, ApiClient

MAX_PER_MINUTE = 100_000_000


def hash_key(key: str) -> str:
    """The SHA-256 of a key, as stored."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def issue_client(
    session: Session,
    city: str,
    name: str,
    contact: str | None = None,
    per_minute: int = DEFAULT_PER_MINUTE,
    may_change_status: bool = False,
) -> tuple[ApiClient, str]:
    """Store a new client and return it with its key (the only time the key is seen); commits.

    ``may_change_status``: its servicerequestupdates may change a request's status (a
    partner that does the work, such as a contractor's system); otherwise they are comments.
    """
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise UserError("Give the client a name of 1 to 200 characters (the application or organisation).")
    if contact is not None and len(contact) > 500:
        raise UserError("The contact is too long (at most 500 characters).")
    if not isinstance(per_minute, int) or not 0 < per_minute <= MAX_PER_MINUTE:
        raise UserError(f"The rate limit must be a whole number of requests per minute from 1 to {MAX_PER_MINUTE:,}.")
    key = secrets.token_urlsafe(32)
    client = ApiClient(
        city=city,
        name=name,
        contact=(contact or "").strip() or None,
        key_hash=hash_key(key),
        key_prefix=key[:6],
        per_minute=per_minute,
        may_change_status=may_change_status,
    )
    session.add(client)
    session.commit()
    return client, key


def list_clients(session: Session, city: str) -> list[ApiClient]:
    """Every client of ``city``, revoked ones included, oldest first."""
    return list(session.scalars(select(ApiClient).where(ApiClient.city == city).order_by(ApiClient.id)))


def revoke_client(session: Session, city: str, client_id: int) -> ApiClient:
    """Revoke the client ``client_id`` (its key stops working at once); commits."""
    client = session.get(ApiClient, client_id)
    if client is None or client.city != city:
        raise UserError(f"There is no API client {client_id} in {city}; `flask open311 clients list` shows them.")
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
        session.commit()
    return client


@dataclass(frozen=True)
class Caller:
    """The live API client a request comes from (what the hot path needs of :class:`ApiClient`)."""

    id: int
    name: str
    per_minute: int
    may_change_status: bool = False


def authenticate(session: Session, city: str, key: str) -> Caller:
    """The live client holding ``key``; raises a 403 :class:`~open311.errors.Open311Error` if there is none."""
    if not key or len(key) > 200:
        raise forbidden("Invalid api_key: it is not a key this city issued.")
    wanted = hash_key(key)
    row = session.execute(
        text(
            "SELECT id, name, per_minute, may_change_status, key_hash, revoked_at FROM open311_client"
            " WHERE key_hash = :hash AND city = :city"
        ),
        {"hash": wanted, "city": city},
    ).first()
    if row is None or not hmac.compare_digest(row.key_hash, wanted):
        raise forbidden("Invalid api_key: it is not a key this city issued.")
    if row.revoked_at is not None:
        raise forbidden("This api_key was revoked; ask the city for a new one.")
    return Caller(row.id, row.name, row.per_minute, row.may_change_status)


@dataclass(frozen=True)
class RateCount:
    """The state of a bucket after one more hit."""

    limit: int
    hits: int
    reset_in_s: int

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.hits)


def count_hit(session: Session, bucket: str, limit: int) -> RateCount:
    """Count one hit of ``bucket`` in the current minute (the app's shared counters) and commit."""
    verdict = hit(session, Limit("open311", limit, 60), bucket)
    return RateCount(limit=limit, hits=verdict.hits, reset_in_s=verdict.retry_after)
