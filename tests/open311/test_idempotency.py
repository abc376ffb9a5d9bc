"""Idempotency keys: random, and the session's or the API client's own, so that a replay reveals nothing of others."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from open311.clients import issue_client
from service_requests.models import ServiceRequest

API = "/open311/v2"
FORM = {"address": "2111 W Bellevue Ave", "attribute[surface]": "wall", "description": "Tags on the garage"}


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(ServiceRequest))


def _form_key(client) -> str:
    page = client.get("/report/graffiti").get_data(as_text=True)
    found = re.search(r'name="idempotency_key" value="([^"]*)"', page)
    assert found, "the form carries no idempotency key"
    return found.group(1)


def _reference(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"].split("/status/")[1].split("?")[0]


def _open311_post(client, api_key: str, key: str):
    return client.post(
        f"{API}/requests.json",
        headers={"Idempotency-Key": key},
        data={
            "api_key": api_key,
            "service_code": "graffiti",
            "lat": "34.07325",
            "long": "-118.26690",
            "attribute[surface]": "wall",
            "description": "Tags on the garage",
        },
    )


def test_form_keys_have_128_random_bits(client, app):
    keys = {_form_key(client) for _ in range(3)} | {_form_key(app.test_client())}
    assert len(keys) == 4
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22,}", key) for key in keys), keys  # secrets.token_urlsafe(16)


def test_another_residents_key_does_not_reveal_their_request(app, client, session):
    resident_a, resident_b = client, app.test_client_class(app, app.response_class, use_cookies=True)
    key = _form_key(resident_a)
    _form_key(resident_b)
    before = _count(session)
    reference_a = _reference(resident_a.post("/report/graffiti", data={**FORM, "idempotency_key": key}))
    replayed = resident_b.post("/report/graffiti", data={**FORM, "idempotency_key": key})
    assert reference_a not in replayed.get_data(as_text=True) + replayed.headers.get("Location", "")
    reference_b = _reference(replayed)  # B's own form is filed: B sent it and expects it filed
    assert reference_b != reference_a and _count(session) == before + 2
    # A's double submit still makes one request.
    assert _reference(resident_a.post("/report/graffiti", data={**FORM, "idempotency_key": key})) == reference_a
    assert _count(session) == before + 2


def test_api_clients_keys_are_their_own_and_not_the_web_forms(client, session):
    _, first_key = issue_client(session, "la", "First app", per_minute=10_000)
    second, second_key = issue_client(session, "la", "Second app", per_minute=10_000)
    first_id = _open311_post(client, first_key, "retry-1").get_json()[0]["service_request_id"]
    assert _open311_post(client, first_key, "retry-1").get_json()[0]["service_request_id"] == first_id
    other = _open311_post(client, second_key, "retry-1")
    assert other.status_code == 200 and other.get_json()[0]["service_request_id"] != first_id
    # Neither can a web form reach an API client's request by writing its scope into the key.
    second_id = other.get_json()[0]["service_request_id"]
    _form_key(client)
    for forged in (f"open311:{second.id}:retry-1", "retry-1"):
        reference = _reference(client.post("/report/graffiti", data={**FORM, "idempotency_key": forged}))
        assert reference not in (first_id, second_id)


def test_the_same_key_with_another_body_is_a_400_not_the_first_request(client, session):
    _, api_key = issue_client(session, "la", "Retrying app", per_minute=10_000)
    first = _open311_post(client, api_key, "retry-2")
    assert first.status_code == 200
    moved = client.post(
        f"{API}/requests.json",
        headers={"Idempotency-Key": "retry-2"},
        data={
            "api_key": api_key,
            "service_code": "graffiti",
            "lat": "34.07400",
            "long": "-118.26690",
            "attribute[surface]": "wall",
            "description": "Tags on the garage",
        },
    )
    assert moved.status_code == 400
    assert "Idempotency-Key" in moved.get_json()[0]["description"]
    assert "as a different request" in moved.get_json()[0]["description"]
    assert _open311_post(client, api_key, "retry-2").get_json() == first.get_json()  # the same body replays


def test_migration_0015_splits_open311_keys_into_their_scope_and_back(database):
    """Two Open311 clients' same key, stored as open311:<id>:<key> before 0015, become one key in two scopes."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from core.database import alembic_config, upgrade

    name = f"{database.engine.url.database}_m15"
    server = create_engine(database.engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(database.engine.url.set(database=name))
    row = text(
        "INSERT INTO service_request (city, public_ref, service_code, service_name, status, channel, "
        "response_method, description, attributes, location_quality, requested_at, updated_at, source, "
        "idempotency_key) VALUES ('la', :ref, 'graffiti', 'Graffiti', 'submitted', 'web', 'none', '', '{}', "
        "'none', now(), now(), 'intake', :key)"
    )
    keys = {"R1": "form-1", "R2": "open311:3:abc", "R3": "open311:4:abc", "R4": None}
    try:
        upgrade(engine, "0014")
        with engine.begin() as conn:
            for ref, key in keys.items():
                conn.execute(row, {"ref": ref, "key": key})
        upgrade(engine, "0015")
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT public_ref, idempotency_scope, idempotency_key FROM service_request ORDER BY public_ref")
            ).all()
        assert [tuple(r) for r in stored] == [
            ("R1", "legacy", "form-1"),
            ("R2", "open311:3", "abc"),
            ("R3", "open311:4", "abc"),
            ("R4", None, None),
        ]
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0014")
        with engine.connect() as conn:
            assert dict(conn.execute(text("SELECT public_ref, idempotency_key FROM service_request")).all()) == keys
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
