"""Test helpers for staff accounts: users of each role, logged-in clients, CSRF tokens."""

from __future__ import annotations

import itertools
from typing import Any

import flask
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from accounts.users import UserFields, create_user

PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)

#: The scope each role's test user gets.
SCOPES: dict[str, dict[str, Any]] = {
    "department": {"department_code": "OCB"},
    "supervisor": {"department_code": "OCB"},
    "council": {"area_role": "wards", "area_key": "13"},
}


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token with its form posts, as the pages' forms do."""

    auto_csrf = True

    def csrf_token(self) -> str:
        """A token valid for this client's session (stored in it as the app would)."""
        with self.application.test_request_context():
            with self.session_transaction() as stored:
                if "csrf_token" in stored:
                    flask.session["csrf_token"] = stored["csrf_token"]
            token = generate_csrf()
            raw = flask.session["csrf_token"]
        with self.session_transaction() as stored:
            stored["csrf_token"] = raw
        return token

    def post(self, *args: Any, **kwargs: Any) -> Any:
        data = kwargs.get("data")
        if self.auto_csrf and (data is None or isinstance(data, dict)) and "json" not in kwargs:
            if isinstance(data, MultiDict):  # repeated keys stay repeated
                data = data.copy()
                data.setdefault("csrf_token", self.csrf_token())
                kwargs["data"] = data
            else:
                kwargs["data"] = {"csrf_token": self.csrf_token(), **(data or {})}
        return super().post(*args, **kwargs)


def make_user(session: Session, role: str, username: str | None = None, city: str = "la", **scope: Any) -> str:
    """Create a user of ``role`` in ``city`` (with the role's test scope unless given); returns the username."""
    username = username or f"{role}{next(_serial)}"
    fields = UserFields(display_name=f"Test {role}", role=role, **(scope or SCOPES.get(role, {})))
    create_user(session, city, username, PASSWORD, fields, actor="test")
    session.commit()
    return username


def log_in(client: FlaskClient, username: str, password: str = PASSWORD) -> None:
    """Log ``client`` in through the login form, as a person would."""
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
