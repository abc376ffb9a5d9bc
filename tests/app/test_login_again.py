"""Visiting /login while logged in: the page says who is logged in, and logging in as someone else works first time."""

from __future__ import annotations

import re

from tests.helpers.staff import PASSWORD, make_user


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def _login_with_page_token(client, username: str):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf_token": _form_token(page.get_data(as_text=True)), "username": username, "password": PASSWORD},
    )


def test_logging_in_as_another_user_works_the_first_time(app, session):
    first = make_user(session, "intake")
    second = make_user(session, "supervisor")
    client = app.test_client()
    assert _login_with_page_token(client, first).status_code == 303
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "You are logged in as" in html and first in html
    answer = client.post("/login", data={"csrf_token": _form_token(html), "username": second, "password": PASSWORD})
    assert answer.status_code in (200, 303), answer.get_data(as_text=True)[:800]
    again = client.get("/login").get_data(as_text=True)
    assert f"({second})" in again and f"({first})" not in again
    assert client.get("/staff/escalations").status_code == 200  # the supervisor's page, not a login redirect
