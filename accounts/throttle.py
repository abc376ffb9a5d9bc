"""Password attempts counted per account and client, so that a lock an attacker triggers stays his own.

Design: the failures of an account are counted per *client*: the browser's signed device
cookie (``device:<id>``, set by a successful login) when it has one for this account, else
the address (``ip:<address>``). :data:`MAX_FAILURES` failures of one client within
:data:`WINDOW` lock that client out of that account for :data:`LOCK_DURATION`; the other
clients are not affected, so whoever guesses the administrator's password from one address
locks out only that address, and the administrator's own browser (its device cookie) gets in
even from the same address. A slower throttle counts every client without a device cookie
together (``unknown-clients``): :data:`MAX_UNKNOWN_FAILURES` within :data:`WINDOW` close the
account to new clients for :data:`LOCK_DURATION`, so spreading guesses over many addresses
does not help either; known devices still pass.

An attempt is counted *before* the password is checked, in its own committed transaction
under a row lock (``SELECT ... FOR UPDATE``): ten concurrent guesses cannot all be checked
before the lock holds; at most the limit are, the rest are refused as locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from accounts import audit
from accounts.models import LoginThrottle, StaffUser

#: Failures of one client within WINDOW that lock it out of an account, and for how long.
MAX_FAILURES = 5
#: Failures of all clients without a device cookie together within WINDOW that close the account to them.
MAX_UNKNOWN_FAILURES = 50
WINDOW = timedelta(hours=1)
LOCK_DURATION = timedelta(minutes=15)

UNKNOWN_CLIENTS = "unknown-clients"


@dataclass(frozen=True)
class Attempt:
    """One counted attempt: the buckets it was counted in, and whether it may be checked at all."""

    user_id: int
    buckets: tuple[str, ...]
    counts: tuple[int, ...]  # attempts in each bucket, this one included
    allowed: bool


def client_key(ip: str | None, device: str | None) -> str:
    """The bucket of one client: its device when the browser has a device cookie for the account, else its address."""
    return f"device:{device}" if device else f"ip:{ip or 'unknown'}"


def begin_attempt(session: Session, user: StaffUser, client: str, ip: str | None = None) -> Attempt:
    """Count one password attempt of ``client`` on ``user`` and say whether it may be checked; commits.

    Refused attempts are recorded in the audit log as ``login.refused_locked``.
    """
    buckets = (client,) if client.startswith("device:") else (client, UNKNOWN_CLIENTS)
    now = datetime.now(UTC)
    allowed = True
    counts = []
    for bucket in buckets:  # always in this order, so that concurrent attempts cannot deadlock
        if not allowed:
            break  # refused by the client's own lock: not counted against the others
        row = _locked_row(session, user.id, bucket)
        expired = row.locked_until <= now if row.locked_until is not None else row.first_at < now - WINDOW
        if expired:  # a lock that ran out, or failures older than the window: start counting afresh
            if row.locked_until is not None:
                audit.record(
                    session,
                    user.city,
                    "system",
                    "login.unlocked",
                    user.username,
                    ip,
                    client=_kind(bucket),
                    reason="lock expired",
                )
            row.attempts, row.first_at, row.locked_until = 0, now, None
        if row.locked_until is None:
            row.attempts += 1
            if row.attempts > _limit(bucket):  # the limit's worth of attempts are already being checked
                _lock(session, user, row, now, ip)
        allowed = row.locked_until is None
        counts.append(row.attempts)
    if not allowed:
        audit.record(session, user.city, user.username, "login.refused_locked", user.username, ip, client=_kind(client))
    session.commit()
    return Attempt(user.id, buckets[: len(counts)], tuple(counts), allowed)


def end_attempt(session: Session, user: StaffUser, attempt: Attempt, succeeded: bool, ip: str | None = None) -> None:
    """Record the outcome of a checked attempt: a success clears the client's count, a failure may lock.

    The caller commits (with its audit entry).
    """
    now = datetime.now(UTC)
    for bucket, count in zip(attempt.buckets, attempt.counts):
        if not succeeded and count < _limit(bucket):
            continue  # counted already; nothing to lock yet
        row = _locked_row(session, user.id, bucket)
        if succeeded:
            if bucket == UNKNOWN_CLIENTS:
                row.attempts = max(0, row.attempts - 1)  # a success is not a failure; the others' count stays
            else:
                session.delete(row)
        elif row.locked_until is None and row.attempts >= _limit(bucket):
            _lock(session, user, row, now, ip)


def unlock(session: Session, user: StaffUser, actor: str, ip: str | None = None) -> int:
    """Lift every lock of ``user`` and forget its failures (an administrator's action); returns the locks lifted.

    The caller commits.
    """
    now = datetime.now(UTC)
    lifted = len(active_locks(session, user, now))
    session.execute(delete(LoginThrottle).where(LoginThrottle.user_id == user.id))
    if lifted:
        audit.record(
            session,
            user.city,
            actor,
            "login.unlocked",
            user.username,
            ip,
            locks=lifted,
            reason="unlocked by an administrator" if actor != user.username else "password changed",
        )
    return lifted


def active_locks(session: Session, user: StaffUser, now: datetime | None = None) -> list[LoginThrottle]:
    """The buckets of ``user`` that are locked now (for the admin pages)."""
    now = now or datetime.now(UTC)
    return list(
        session.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.user_id == user.id, LoginThrottle.locked_until > now)
            .order_by(LoginThrottle.client)
        )
    )


def locked_user_ids(session: Session, city: str) -> set[int]:
    """Users of ``city`` with at least one client locked out now."""
    return set(
        session.scalars(
            select(LoginThrottle.user_id)
            .join(StaffUser, StaffUser.id == LoginThrottle.user_id)
            .where(StaffUser.city == city, LoginThrottle.locked_until > datetime.now(UTC))
        )
    )


def _locked_row(session: Session, user_id: int, bucket: str) -> LoginThrottle:
    session.execute(
        insert(LoginThrottle)
        .values(user_id=user_id, client=bucket, attempts=0)
        .on_conflict_do_nothing(index_elements=["user_id", "client"])
    )
    return session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.user_id == user_id, LoginThrottle.client == bucket)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _lock(session: Session, user: StaffUser, row: LoginThrottle, now: datetime, ip: str | None) -> None:
    row.locked_until = now + LOCK_DURATION
    audit.record(
        session,
        user.city,
        "system",
        "login.locked",
        user.username,
        ip,
        client=_kind(row.client),
        failures=min(row.attempts, _limit(row.client)),
        minutes=int(LOCK_DURATION.total_seconds() // 60),
    )


def _limit(bucket: str) -> int:
    return MAX_UNKNOWN_FAILURES if bucket == UNKNOWN_CLIENTS else MAX_FAILURES


def _kind(bucket: str) -> str:
    """What the audit log says about a bucket: the address is in the entry's ip already; a device id is not shown."""
    if bucket == UNKNOWN_CLIENTS:
        return "all unknown clients"
    return "known device" if bucket.startswith("device:") else "address"
