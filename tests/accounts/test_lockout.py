"""Login lockout: the same time for every refusal, an atomic count, and locks that stay the attacker's own."""

from __future__ import annotations

import statistics
import threading
import time
import uuid

import pytest
from sqlalchemy import delete, select, text

from accounts import throttle
from accounts.models import AuditEntry, StaffUser
from accounts.users import LoginRefused, UserFields, authenticate, create_user
from tests.helpers.staff import PASSWORD, CsrfClient, make_user

WRONG = "guess-guess-guess"
ATTACKER = "203.0.113.66"
OFFICE = "198.51.100.10"


def _post_login(client, username: str, password: str, ip: str):
    return client.post("/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": ip})


def _actions(session, username: str) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).where(AuditEntry.target == username).order_by(AuditEntry.id)))


def _timed(call) -> float:
    started = time.perf_counter()
    with pytest.raises(LoginRefused):
        call()
    return time.perf_counter() - started


def test_unknown_locked_and_wrong_password_take_the_same_time(session):
    username = make_user(session, "intake")
    for _ in range(throttle.MAX_FAILURES):  # lock the account for one address
        with pytest.raises(LoginRefused):
            authenticate(session, "la", username, WRONG, ip=ATTACKER)
    times: dict[str, list[float]] = {"wrong": [], "locked": [], "unknown": []}
    for i in range(9):  # interleaved, so that the machine's load falls on all three alike
        # each wrong guess from its own address, so that these do not lock anything
        times["wrong"].append(_timed(lambda: authenticate(session, "la", username, WRONG, ip=f"192.0.2.{i + 1}")))  # noqa: B023 (called at once)
        times["locked"].append(_timed(lambda: authenticate(session, "la", username, PASSWORD, ip=ATTACKER)))
        times["unknown"].append(_timed(lambda: authenticate(session, "la", f"nobody{i}", WRONG, ip=ATTACKER)))  # noqa: B023 (called at once)
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    for kind in ("locked", "unknown"):
        assert abs(medians[kind] - medians["wrong"]) <= 0.3 * medians["wrong"], medians
    assert "login.refused_locked" in _actions(session, username)


def test_concurrent_guesses_cannot_outrun_the_lock(database):
    """Ten guesses at once, each on its own connection: at most the limit are checked, the rest refused as locked."""
    username = f"race{uuid.uuid4().hex[:8]}"
    with database.session() as setup:
        create_user(setup, "la", username, PASSWORD, UserFields(display_name="Race", role="intake"), actor="test")
        setup.commit()
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def guess() -> None:
        with database.session() as own:
            barrier.wait()
            try:
                authenticate(own, "la", username, WRONG, ip=ATTACKER)
            except LoginRefused:
                outcomes.append("refused")

    threads = [threading.Thread(target=guess) for _ in range(10)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        with database.session() as check:
            actions = _actions(check, username)
        assert outcomes == ["refused"] * 10
        assert actions.count("login.failure") <= throttle.MAX_FAILURES, actions  # checked against the hash
        assert actions.count("login.refused_locked") >= 10 - throttle.MAX_FAILURES, actions
        assert actions.count("login.failure") + actions.count("login.refused_locked") == 10
        assert "login.locked" in actions
    finally:
        with database.session() as cleanup:
            cleanup.execute(delete(StaffUser).where(StaffUser.city == "la", StaffUser.username == username))
            cleanup.commit()


def test_an_attackers_lock_does_not_shut_out_the_administrator(app, session):
    admin = make_user(session, "admin")
    own_browser = CsrfClient(app, app.response_class, use_cookies=True)
    assert (
        _post_login(own_browser, admin, PASSWORD, OFFICE).status_code == 303
    )  # the admin's browser, known from now on
    own_browser.post("/logout", environ_base={"REMOTE_ADDR": OFFICE})

    attacker = CsrfClient(app, app.response_class, use_cookies=True)
    for _ in range(throttle.MAX_FAILURES):
        assert _post_login(attacker, admin, WRONG, ATTACKER).status_code == 400
    assert _post_login(attacker, admin, PASSWORD, ATTACKER).status_code == 400  # locked: even the right password

    # The administrator still gets in from another address, and from the attacker's address with a known browser.
    elsewhere = CsrfClient(app, app.response_class, use_cookies=True)
    assert _post_login(elsewhere, admin, PASSWORD, "192.0.2.200").status_code == 303
    assert _post_login(own_browser, admin, PASSWORD, ATTACKER).status_code == 303
    # The attacker's guesses stay refused, and a forged device cookie does not help.
    attacker.set_cookie("geo311_device", "eyIxIjoiYWJjIn0.forged.signature")
    assert _post_login(attacker, admin, PASSWORD, ATTACKER).status_code == 400
    actions = _actions(session, admin)
    assert actions.count("login.success") == 3 and "login.locked" in actions


def test_guesses_spread_over_many_addresses_close_the_account_to_unknown_clients_only(app, session, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_UNKNOWN_FAILURES", 4)
    username = make_user(session, "supervisor")
    known = CsrfClient(app, app.response_class, use_cookies=True)
    assert _post_login(known, username, PASSWORD, OFFICE).status_code == 303
    for i in range(4):
        with pytest.raises(LoginRefused):
            authenticate(session, "la", username, WRONG, ip=f"192.0.2.{i + 1}")
    fresh = CsrfClient(app, app.response_class, use_cookies=True)
    assert _post_login(fresh, username, PASSWORD, "192.0.2.99").status_code == 400  # a new client waits
    assert _post_login(known, username, PASSWORD, "192.0.2.99").status_code == 303  # the known browser does not


def test_the_current_password_check_is_limited_like_logins(client_as, session):
    browser = client_as("analyst")
    for _ in range(throttle.MAX_FAILURES):
        wrong = browser.post(
            "/account/password",
            data={"current": WRONG, "new": "a new long passphrase 1", "repeat": "a new long passphrase 1"},
        )
        assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    right = browser.post(
        "/account/password",
        data={"current": PASSWORD, "new": "a new long passphrase 1", "repeat": "a new long passphrase 1"},
    )
    assert right.status_code == 400 and "Too many wrong passwords" in right.get_data(as_text=True)


def test_administrators_see_lock_events_in_the_audit_log(app, admin_client, session):
    victim = make_user(session, "planner")
    attacker = CsrfClient(app, app.response_class, use_cookies=True)
    for _ in range(throttle.MAX_FAILURES + 1):
        _post_login(attacker, victim, WRONG, ATTACKER)
    page = admin_client.get("/admin/audit?kind=login").get_data(as_text=True)
    assert "login.locked" in page and "login.refused_locked" in page
    edit = admin_client.get(f"/admin/users/{victim}").get_data(as_text=True)
    assert "Lift the locks" in edit and ATTACKER in edit
    assert admin_client.post(f"/admin/users/{victim}", data={"action": "unlock"}).status_code == 303
    assert "login.unlocked" in admin_client.get("/admin/audit?kind=login").get_data(as_text=True)
    assert _post_login(attacker, victim, PASSWORD, ATTACKER).status_code == 303  # the lock is lifted


def test_a_lock_runs_out_and_says_so(session):
    username = make_user(session, "intake")
    for _ in range(throttle.MAX_FAILURES + 1):
        with pytest.raises(LoginRefused):
            authenticate(session, "la", username, WRONG, ip=ATTACKER)
    with pytest.raises(LoginRefused):
        authenticate(session, "la", username, PASSWORD, ip=ATTACKER)
    session.execute(
        text(
            "UPDATE login_throttle SET locked_until = now() - interval '1 second' WHERE user_id = "
            "(SELECT id FROM staff_user WHERE city = 'la' AND username = :u) AND locked_until IS NOT NULL"
        ),
        {"u": username},
    )
    assert authenticate(session, "la", username, PASSWORD, ip=ATTACKER).username == username
    assert "login.unlocked" in _actions(session, username)


def test_refused_guesses_do_not_count_against_other_clients(session, monkeypatch):
    """Hammering on from a locked address is refused without counting: it cannot close the account to others."""
    monkeypatch.setattr(throttle, "MAX_UNKNOWN_FAILURES", throttle.MAX_FAILURES + 2)
    username = make_user(session, "intake")
    for _ in range(throttle.MAX_FAILURES + 10):
        with pytest.raises(LoginRefused):
            authenticate(session, "la", username, WRONG, ip=ATTACKER)
    assert authenticate(session, "la", username, PASSWORD, ip="192.0.2.50").username == username
