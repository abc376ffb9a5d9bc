"""Logging in and out, and changing one's own password."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from app.accounts.users import LoginRefused, authenticate, confirmed, end_session, set_password, start_session
from app.accounts.passwords import verify_password
from app.errors import UserError
from app.web import db_session, services
from app.web.access import SESSION_KEY, check_rate, client_ip, current_user, logged_in, public, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The staff login form; repeated failures lock the account for a while."""
    s = services()
    error = None
    if request.method == "POST":
        check_rate("login")
        database = db_session()
        try:
            user = authenticate(database, s.city.key, request.form.get("username", ""),
                                request.form.get("password", ""), ip=client_ip())
        except LoginRefused as exc:
            error = str(exc)
        else:
            session.clear()  # a fresh session (and CSRF token) at each login
            session[SESSION_KEY] = start_session(database, user, ip=client_ip())
            session.permanent = True
            database.commit()
            return redirect(safe_next(request.args.get("next")), code=303)
    return render_template("login.html", city=s.city, error=error,
                           username=request.form.get("username", "")[:64]), (400 if error else 200)


@bp.post("/logout")
@public
def logout():
    """End this session (a POST with the form's CSRF token, so no other site can log anyone out)."""
    token = session.pop(SESSION_KEY, None)
    user = current_user()
    database = db_session()
    end_session(database, token)
    if user is not None:
        from app.accounts import audit

        audit.record(database, user.city, user.username, "logout", user.username, client_ip())
    database.commit()
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@logged_in
def change_password():
    """Change one's own password (the current one is asked again)."""
    user = current_user()
    assert user is not None
    error = None
    if request.method == "POST":
        database = db_session()
        try:
            if not verify_password(user.password_hash, request.form.get("current", "")):
                raise UserError("The current password is not right.")
            password = confirmed(request.form.get("new", ""), request.form.get("repeat", ""))
            set_password(database, user, password, actor=user.username, ip=client_ip())
            session[SESSION_KEY] = start_session(database, user, ip=client_ip())
            database.commit()
        except UserError as exc:
            database.rollback()
            error = str(exc)
        else:
            return redirect(url_for("pages.index"), code=303)
    return render_template("account_password.html", city=services().city, error=error), (400 if error else 200)
