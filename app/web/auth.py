"""Logging in and out, and changing one's own password."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext
from itsdangerous import BadSignature, URLSafeTimedSerializer

from accounts.models import StaffUser
from accounts.users import (
    LoginRefused,
    authenticate,
    check_current_password,
    confirmed,
    end_session,
    set_escalation_email,
    set_password,
    start_session,
)
from app.web import db_session, runtime
from app.web.access import SESSION_KEY, check_rate, client_ip, current_user, logged_in, public, safe_next
from core.errors import UserError

bp = Blueprint("auth", __name__)

#: The device cookie: which accounts logged in from this browser before (accounts/throttle.py).
DEVICE_COOKIE = "geo311_device"
DEVICE_MAX_AGE = 365 * 86400
_MAX_ACCOUNTS_PER_DEVICE = 20


def _device_signer() -> URLSafeTimedSerializer:
    key = current_app.secret_key
    if not key:  # app.factory.create_app always sets one
        raise RuntimeError("The application has no SECRET_KEY; build it with app.factory.create_app.")
    return URLSafeTimedSerializer(key, salt="geo311-device")


def known_devices() -> dict[int, str]:
    """The accounts this browser logged in to before, as user id -> device id (empty if the cookie is absent or forged)."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value or len(value) > 4000:
        return {}
    try:
        stored = _device_signer().loads(value, max_age=DEVICE_MAX_AGE)
    except BadSignature:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {
        int(k): v
        for k, v in stored.items()
        if isinstance(k, str) and k.isascii() and k.isdigit() and isinstance(v, str)
    }


def _remember_device(response: Response, user: StaffUser) -> None:
    """Add ``user`` to this browser's device cookie, so that locks other clients trigger do not reach it."""
    devices = {str(k): v for k, v in known_devices().items() if k != user.id}
    devices = dict(list(devices.items())[-(_MAX_ACCOUNTS_PER_DEVICE - 1) :])
    devices[str(user.id)] = known_devices().get(user.id) or secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        _device_signer().dumps(devices),
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The staff login form; repeated failures lock this client out of the account for a while."""
    s = runtime()
    error = None
    if request.method == "POST":
        check_rate("login")
        database = db_session()
        try:
            user = authenticate(
                database,
                s.city.key,
                request.form.get("username", ""),
                request.form.get("password", ""),
                ip=client_ip(),
                devices=known_devices(),
            )
        except LoginRefused as exc:
            error = gettext(str(exc))  # its one message is a msgid (N_)
        else:
            previous = current_user()
            if previous is not None:  # logging in as someone else on a shared computer ends the first login
                end_session(database, session.get(SESSION_KEY))
                if previous.id != user.id:
                    from accounts import audit

                    audit.record(database, previous.city, previous.username, "logout", previous.username, client_ip())
            session.clear()  # a fresh session (and CSRF token) at each login
            session[SESSION_KEY] = start_session(database, user, ip=client_ip())
            session.permanent = True
            database.commit()
            response = redirect(safe_next(request.args.get("next")), code=303)
            _remember_device(response, user)
            return response
    return render_template(
        "login.html",
        city=s.city,
        error=error,
        username=request.form.get("username", "")[:64],
        next_path=safe_next(request.args.get("next")),
    ), (400 if error else 200)


@bp.post("/logout")
@public
def logout():
    """End this session (a POST with the form's CSRF token, so no other site can log anyone out)."""
    token = session.pop(SESSION_KEY, None)
    user = current_user()
    database = db_session()
    end_session(database, token)
    if user is not None:
        from accounts import audit

        audit.record(database, user.city, user.username, "logout", user.username, client_ip())
    database.commit()
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@logged_in
def change_password():
    """Change one's own password (the current one is asked again, with the login's limits)."""
    user = current_user()
    assert user is not None
    error = None
    if request.method == "POST":
        check_rate("login")
        database = db_session()
        try:
            check_current_password(
                database, user, request.form.get("current", ""), ip=client_ip(), devices=known_devices()
            )
            password = confirmed(request.form.get("new", ""), request.form.get("repeat", ""))
            set_password(database, user, password, actor=user.username, ip=client_ip())
            session[SESSION_KEY] = start_session(database, user, ip=client_ip())
            database.commit()
        except UserError as exc:
            database.rollback()
            error = str(exc)
        else:
            return redirect(url_for("pages.index"), code=303)
    return render_template("account_password.html", city=runtime().city, error=error), (400 if error else 200)


@bp.post("/account/escalation-email")
@logged_in
def escalation_email():
    """A supervisor's own choice of escalation e-mails (shown on the account page)."""
    user = current_user()
    assert user is not None
    database = db_session()
    try:
        set_escalation_email(
            database, user, request.form.get("escalation_email") == "1", actor=user.username, ip=client_ip()
        )
        database.commit()
    except UserError as exc:
        database.rollback()
        return render_template("account_password.html", city=runtime().city, mail_error=str(exc)), 400
    return render_template("account_password.html", city=runtime().city, mail_saved=True)
