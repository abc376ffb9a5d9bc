"""``flask users``: staff accounts from the command line (the first admin starts here)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from accounts.roles import ROLES
from accounts.users import (
    AccountError,
    UserFields,
    area_text,
    create_user,
    find_user,
    list_users,
    parse_area,
    set_password,
    update_user,
)
from app.cli.common import actor, runtime, user_errors

users_cli = AppGroup("users", help="Staff accounts and roles.")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _fields(
    name: str, role: str, email: str | None, department: str | None, area: str | None, active: bool = True
) -> UserFields:
    area_role, area_key = parse_area(area)
    return UserFields(
        display_name=name,
        role=role,
        email=email,
        department_code=department,
        area_role=area_role,
        area_key=area_key,
        active=active,
    )


@users_cli.command("create-admin")
@click.argument("username")
@click.option("--name", help="The person's name (default: the username).")
@click.option("--email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@user_errors
def create_admin(username: str, name: str | None, email: str | None, password_stdin: bool) -> None:
    """Create an administrator (the first one, or another)."""
    s = runtime()
    password = _password(password_stdin)
    with s.database.session() as session:
        user = create_user(
            session,
            s.city.key,
            username,
            password,
            _fields(name or username, "admin", email, None, None),
            actor=actor(),
        )
        session.commit()
        click.echo(f"Administrator {user.username} created; log in at /login.")


@users_cli.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--name", required=True, help="The person's name.")
@click.option("--email")
@click.option("--department", help="Department code (department staff and supervisors).")
@click.option("--area", help="Ward or district of a council account, as wards:KEY or districts:KEY.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@user_errors
def add_user(
    username: str,
    role: str,
    name: str,
    email: str | None,
    department: str | None,
    area: str | None,
    password_stdin: bool,
) -> None:
    """Add a staff user with a role (and its department or ward)."""
    s = runtime()
    password = _password(password_stdin)
    with s.database.session() as session:
        user = create_user(
            session, s.city.key, username, password, _fields(name, role, email, department, area), actor=actor()
        )
        session.commit()
        click.echo(f"{ROLES[role].label} {user.username} created.")


@users_cli.command("list")
@user_errors
def list_command() -> None:
    """Every user with role, scope and access."""
    s = runtime()
    with s.database.session() as session:
        for u in list_users(session, s.city.key):
            scope = u.department_code or area_text(u) or "city"
            state = "active" if u.active else "disabled"
            click.echo(f"{u.username:<20} {u.role:<11} {scope:<16} {state:<9} {u.display_name}")


@users_cli.command("set-role")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--department")
@click.option("--area", help="wards:KEY or districts:KEY for a council account.")
@user_errors
def set_role(username: str, role: str, department: str | None, area: str | None) -> None:
    """Give a user another role (their sessions end)."""
    s = runtime()
    with s.database.session() as session:
        user = _existing(session, s.city.key, username)
        update_user(
            session, user, _fields(user.display_name, role, user.email, department, area, user.active), actor=actor()
        )
        session.commit()
        click.echo(f"{user.username} is now {ROLES[role].label.lower()}.")


@users_cli.command("disable")
@click.argument("username")
@user_errors
def disable(username: str) -> None:
    """Stop a user from logging in (their sessions end); the history keeps their name."""
    _set_active(username, False)


@users_cli.command("enable")
@click.argument("username")
@user_errors
def enable(username: str) -> None:
    """Let a disabled user log in again."""
    _set_active(username, True)


@users_cli.command("reset-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@user_errors
def reset_password(username: str, password_stdin: bool) -> None:
    """Set a new password (unlocks the account, ends its sessions)."""
    s = runtime()
    password = _password(password_stdin)
    with s.database.session() as session:
        user = _existing(session, s.city.key, username)
        set_password(session, user, password, actor=actor())
        session.commit()
        click.echo(f"New password set for {user.username}.")


def _set_active(username: str, active: bool) -> None:
    s = runtime()
    with s.database.session() as session:
        user = _existing(session, s.city.key, username)
        update_user(
            session,
            user,
            _fields(user.display_name, user.role, user.email, user.department_code, area_text(user), active),
            actor=actor(),
        )
        session.commit()
        click.echo(f"{user.username} {'may log in' if active else 'is disabled'}.")


def _existing(session, city: str, username: str):  # noqa: ANN001, ANN202
    user = find_user(session, city, username)
    if user is None:
        raise AccountError(f"There is no user {username!r}; `flask users list` shows them.")
    return user
