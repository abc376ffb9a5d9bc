"""Staff users: creating and changing them, logging in (with lockout) and sessions.

Everything here takes a database session and commits nothing unless it says so, so the
admin page, the command line and the tests share it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accounts import audit, throttle
from accounts.models import StaffSession, StaffUser
from accounts.passwords import check_password_rule, hash_password, needs_rehash, verify_password
from accounts.roles import ROLES
from core.errors import UserError
from core.i18n import N_

#: A session ends after this long without use, and in any case after the second duration.
IDLE_TIMEOUT = timedelta(hours=2)
ABSOLUTE_TIMEOUT = timedelta(hours=12)

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class AccountError(UserError):
    """A user change that cannot be made as asked."""


class LoginRefused(UserError):
    """A login that failed; the message never says whether the username exists."""


@dataclass(frozen=True)
class UserFields:
    """What an admin sets on a user (the password is set separately)."""

    display_name: str
    role: str
    email: str | None = None
    department_code: str | None = None
    area_role: str | None = None
    area_key: str | None = None
    active: bool = True
    escalation_email: bool = False


def parse_area(text: str | None) -> tuple[str | None, str | None]:
    """A council account's area written ``wards:KEY`` or ``districts:KEY`` as (layer, key);
    (None, None) when empty. The fields check decides whether it is allowed."""
    layer, _, key = (text or "").strip().partition(":")
    return layer or None, key or None


def area_text(user: StaffUser) -> str | None:
    """The user's area as :func:`parse_area` reads it (None without one)."""
    return f"{user.area_role}:{user.area_key}" if user.area_key else None


def confirmed(password: str, repeat: str) -> str:
    """The password typed twice, or :class:`AccountError` when the two differ."""
    if password != repeat:
        raise AccountError("The two passwords differ.")
    return password


def normalize_username(username: str) -> str:
    """The stored form of a username (lower case), or :class:`AccountError`."""
    name = (username or "").strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            "A username has 2 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit."
        )
    return name


def _check_fields(session: Session, city: str, fields: UserFields) -> None:
    from service_requests.models import Department

    if fields.role not in ROLES:
        raise AccountError(f"Choose a role among: {', '.join(ROLES)}.")
    if not fields.display_name.strip():
        raise AccountError("Give the person's name.")
    scope = ROLES[fields.role].scope
    if scope == "department" and (
        not fields.department_code
        or session.scalar(
            select(Department.id).where(Department.city == city, Department.code == fields.department_code)
        )
        is None
    ):
        raise AccountError(
            f"A {ROLES[fields.role].label.lower()} belongs to a department: choose one of the catalogue's departments."
        )
    if scope == "area":
        from boundaries.queries import feature_names

        if fields.area_role not in ("wards", "districts") or not fields.area_key:
            raise AccountError("A council account needs its ward or district (layer and key).")
        if fields.area_key not in {key for key, _ in feature_names(session, city, fields.area_role)}:
            raise AccountError(f"There is no {fields.area_role[:-1]} {fields.area_key!r} in the current boundaries.")


def create_user(
    session: Session, city: str, username: str, password: str, fields: UserFields, actor: str, ip: str | None = None
) -> StaffUser:
    """Add a user; the password must follow the rule. The caller commits."""
    name = normalize_username(username)
    _check_fields(session, city, fields)
    check_password_rule(password, name)
    if session.scalar(select(StaffUser.id).where(StaffUser.city == city, StaffUser.username == name)) is not None:
        raise AccountError(f"There is already a user {name!r}.")
    user = StaffUser(city=city, username=name, password_hash=hash_password(password), **_columns(fields))
    session.add(user)
    session.flush()
    audit.record(session, city, actor, "user.create", name, ip, role=fields.role)
    return user


def update_user(session: Session, user: StaffUser, fields: UserFields, actor: str, ip: str | None = None) -> None:
    """Change a user's name, role, scope or whether it may log in; ending its sessions if it lost access."""
    _check_fields(session, user.city, fields)
    before = {"role": user.role, "active": user.active, "department": user.department_code, "area": user.area_key}
    for key, value in _columns(fields).items():
        setattr(user, key, value)
    after = {"role": user.role, "active": user.active, "department": user.department_code, "area": user.area_key}
    if before != after:
        end_sessions(session, user)  # new rights take effect at the next login
    audit.record(session, user.city, actor, "user.update", user.username, ip, before=before, after=after)


def set_password(session: Session, user: StaffUser, password: str, actor: str, ip: str | None = None) -> None:
    """Give ``user`` a new password, unlock it and end its sessions."""
    check_password_rule(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = func.now()
    throttle.unlock(session, user, actor, ip)
    end_sessions(session, user)
    audit.record(session, user.city, actor, "user.password", user.username, ip)


def _columns(fields: UserFields) -> dict[str, object]:
    scope = ROLES[fields.role].scope
    return {
        "display_name": fields.display_name.strip()[:200],
        "role": fields.role,
        "email": (fields.email or "").strip()[:200] or None,
        "department_code": fields.department_code if scope == "department" else None,
        "area_role": fields.area_role if scope == "area" else None,
        "area_key": fields.area_key if scope == "area" else None,
        "active": fields.active,
        "escalation_email": fields.escalation_email,
    }


def set_escalation_email(session: Session, user: StaffUser, wanted: bool, actor: str, ip: str | None = None) -> None:
    """Whether ``user`` gets each escalation of their department by e-mail (their own choice); the caller commits."""
    if wanted and not user.email:
        raise AccountError("Escalation e-mails need an e-mail address on the account: ask an administrator to add one.")
    user.escalation_email = wanted
    audit.record(session, user.city, actor, "user.escalation_email", user.username, ip, wanted=wanted)


def find_user(session: Session, city: str, username: str) -> StaffUser | None:
    """The user called ``username`` (any case), or None."""
    return session.scalar(
        select(StaffUser).where(StaffUser.city == city, StaffUser.username == (username or "").strip().lower()[:64])
    )


def authenticate(
    session: Session,
    city: str,
    username: str,
    password: str,
    ip: str | None = None,
    devices: Mapping[int, str] | None = None,
) -> StaffUser:
    """The user if the password is right and the account may log in; commits the outcome either way.

    Attempts are counted per account and client (:mod:`accounts.throttle`): ``devices``
    maps user ids to the device ids of the browser's verified device cookie, else the
    client is ``ip``. The password hash is checked in every case (against a dummy hash for an
    unknown name, and for a locked client too, the outcome then ignored), and the message is
    the same, so that neither the answer nor its time tells a guesser which case it was.
    """
    name = (username or "").strip().lower()[:64]
    user = find_user(session, city, name) if name else None
    password = (password if isinstance(password, str) else "")[:1024]
    if user is None:
        verify_password(None, password)
        audit.record(session, city, name or "-", "login.failure", name or None, ip, reason="unknown user")
        session.commit()
        raise _refused()
    attempt = throttle.begin_attempt(session, user, throttle.client_key(ip, (devices or {}).get(user.id)), ip)
    right = verify_password(user.password_hash, password)  # also when refused: the same time
    if not attempt.allowed:
        raise _refused()
    if not right or not user.active:
        throttle.end_attempt(session, user, attempt, succeeded=False, ip=ip)
        audit.record(
            session,
            city,
            user.username,
            "login.failure",
            user.username,
            ip,
            reason="wrong password" if not right else "inactive",
        )
        session.commit()
        raise _refused()
    throttle.end_attempt(session, user, attempt, succeeded=True, ip=ip)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    audit.record(session, city, user.username, "login.success", user.username, ip)
    return user


def check_current_password(
    session: Session, user: StaffUser, password: str, ip: str | None = None, devices: Mapping[int, str] | None = None
) -> None:
    """Raise :class:`AccountError` unless ``password`` is ``user``'s; limited like logins (the same counts); commits."""
    password = (password if isinstance(password, str) else "")[:1024]
    attempt = throttle.begin_attempt(session, user, throttle.client_key(ip, (devices or {}).get(user.id)), ip)
    right = verify_password(user.password_hash, password)
    if not attempt.allowed:
        raise AccountError(
            "Too many wrong passwords: the password cannot be checked from here for "
            f"{int(throttle.LOCK_DURATION.total_seconds() // 60)} minutes. Try again later."
        )
    throttle.end_attempt(session, user, attempt, succeeded=right, ip=ip)
    if not right:
        audit.record(
            session, user.city, user.username, "login.failure", user.username, ip, reason="wrong current password"
        )
    session.commit()
    if not right:
        raise AccountError("The current password is not right.")


def _refused() -> LoginRefused:
    return LoginRefused(
        N_(
            "The username or password is not right, or the account is locked for a while. "
            "Ask an administrator if you cannot log in."
        )
    )


def start_session(session: Session, user: StaffUser, ip: str | None = None) -> str:
    """A new session for ``user``: returns the token for the cookie (stored only as its hash)."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_digest(token), user_id=user.id, ip=ip))
    return token


def session_user(session: Session, token: str | None) -> StaffUser | None:
    """The active user of a live session token, or None; refreshes the session's last use."""
    if not token or not isinstance(token, str) or len(token) > 100:
        return None
    now = datetime.now(UTC)
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == _digest(token), StaffSession.ended_at.is_(None), StaffUser.active)
    ).first()
    if row is None:
        return None
    staff_session, user = row
    if now - staff_session.last_seen_at > IDLE_TIMEOUT or now - staff_session.created_at > ABSOLUTE_TIMEOUT:
        staff_session.ended_at = now
        session.commit()
        return None
    if now - staff_session.last_seen_at > timedelta(minutes=1):
        staff_session.last_seen_at = now
        session.commit()
    return user


def end_session(session: Session, token: str | None) -> None:
    """End the session of ``token`` (logout)."""
    if token and isinstance(token, str):
        session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _digest(token), StaffSession.ended_at.is_(None))
            .values(ended_at=func.now())
        )


def end_sessions(session: Session, user: StaffUser) -> None:
    """End every session of ``user`` (password change, role change, deactivation)."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=func.now())
    )


def list_users(session: Session, city: str) -> list[StaffUser]:
    """The city's users by username."""
    return list(session.scalars(select(StaffUser).where(StaffUser.city == city).order_by(StaffUser.username)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
