"""Administration: staff users and roles, and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select

from accounts import audit, throttle
from accounts.roles import ROLES
from accounts.users import (
    UserFields,
    confirmed,
    create_user,
    find_user,
    list_users,
    parse_area,
    set_password,
    update_user,
)
from app.web import db_session, runtime
from app.web.access import client_ip, requires, staff_user
from boundaries.queries import feature_names
from core.errors import UserError
from service_requests.models import Department

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _fields_from_form() -> UserFields:
    form = request.form
    area_role, area_key = parse_area(form.get("area"))
    return UserFields(
        display_name=form.get("display_name", ""),
        role=form.get("role", ""),
        email=form.get("email") or None,
        department_code=form.get("department_code") or None,
        area_role=area_role or None,
        area_key=area_key,
        active=form.get("active", "1") == "1",
        escalation_email=form.get("escalation_email") == "1",
    )


def _choices() -> dict:
    session = db_session()
    city = runtime().city
    departments = session.scalars(select(Department).where(Department.city == city.key).order_by(Department.name)).all()
    areas = [
        (f"{role}:{key}", name)
        for role in ("wards", "districts")
        for key, name in feature_names(session, city.key, role)
    ]
    return {"roles": ROLES, "departments": departments, "areas": areas}


@bp.route("/users", methods=["GET", "POST"])
@requires("users.manage")
def users():
    """Every staff user, and the form to add one."""
    session = db_session()
    city = runtime().city
    error = None
    if request.method == "POST":
        actor = staff_user()
        try:
            password = confirmed(request.form.get("password", ""), request.form.get("repeat", ""))
            create_user(
                session,
                city.key,
                request.form.get("username", ""),
                password,
                _fields_from_form(),
                actor=actor.username,
                ip=client_ip(),
            )
            session.commit()
        except UserError as exc:
            session.rollback()
            error = str(exc)
        else:
            return redirect(url_for("admin.users"), code=303)
    return render_template(
        "admin_users.html",
        city=city,
        users=list_users(session, city.key),
        error=error,
        locked=throttle.locked_user_ids(session, city.key),
        form=request.form,
        **_choices(),
    ), (400 if error else 200)


@bp.route("/users/<username>", methods=["GET", "POST"])
@requires("users.manage")
def user_edit(username: str):
    """Change a user's role, scope or access, set a new password, or lift the user's login locks."""
    session = db_session()
    city = runtime().city
    user = find_user(session, city.key, username)
    if user is None:
        abort(404, "There is no such user.")
    error = None
    if request.method == "POST":
        actor = staff_user()
        try:
            if request.form.get("action") == "password":
                password = confirmed(request.form.get("password", ""), request.form.get("repeat", ""))
                set_password(session, user, password, actor=actor.username, ip=client_ip())
            elif request.form.get("action") == "unlock":
                throttle.unlock(session, user, actor=actor.username, ip=client_ip())
            else:
                fields = _fields_from_form()
                if user.id == actor.id and (fields.role != "admin" or not fields.active):
                    raise UserError("You cannot take away your own administrator access; ask another administrator.")
                update_user(session, user, fields, actor=actor.username, ip=client_ip())
            session.commit()
        except UserError as exc:
            session.rollback()
            error = str(exc)
        else:
            return redirect(url_for("admin.user_edit", username=user.username, saved=1), code=303)
    return render_template(
        "admin_user_edit.html",
        city=city,
        user=user,
        error=error,
        locks=throttle.active_locks(session, user),
        saved=request.args.get("saved") == "1",
        **_choices(),
    ), (400 if error else 200)


@bp.get("/audit")
@requires("audit.view")
def audit_log():
    """The newest audit entries, filtered by kind of action or actor."""
    kind = request.args.get("kind") or None
    if kind not in (None, "login", "logout", "user", "request", "service", "config"):
        abort(400, "Choose a kind among login, logout, user, request, service, config.")
    actor = (request.args.get("actor") or "").strip()[:64] or None
    entries = audit.recent(db_session(), runtime().city.key, action_prefix=kind, actor=actor)
    return render_template("admin_audit.html", city=runtime().city, entries=entries, kind=kind, actor=actor or "")
