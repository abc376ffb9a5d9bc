"""Every route of the app, from its URL map, fuzzed: random path variables, query strings, form and JSON
bodies, anonymously and as an administrator; no answer is a server error (5xx).

The route list, the generated requests and their sending are :mod:`bench.fuzz`'s (which runs the same
with 10,000 cases per public endpoint); here each endpoint gets a small budget against the test
database, so that the whole file stays near a minute.
"""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from app.factory import create_app
from bench.fuzz import UNLIMITED, Case, Endpoint, cases, endpoints, plausible_paths, send
from core.settings import Settings
from tests.helpers.staff import CsrfClient, log_in, make_user

#: Generated cases per endpoint and identity.
EXAMPLES = 6
#: Endpoints whose every case costs a map or a report computed afresh, and the login's password hashing.
SLOW = {
    "/maps/emerging",
    "/maps/emerging/map.html",
    "/maps/hotspots",
    "/maps/hotspots/map.html",
    "/maps/heat/map.html",
    "/reports/monthly",
    "/reports/requests.<fmt>",
    "/login",
    "/account/password",
}
ROUTES = endpoints(create_app(Settings.from_env(env="test")))  # the URL map at collection time


@pytest.fixture
def fuzz_app(settings: Settings, bound_database) -> Flask:
    """The test app with rate limits lifted (fuzzing measures the views, not the limiter)."""
    app = create_app(dataclasses.replace(settings, **UNLIMITED), database=bound_database)
    app.test_client_class = CsrfClient
    return app


def test_the_route_list_is_the_url_map():
    rules = {endpoint.rule.rule for endpoint in ROUTES}
    assert {
        "/api/addresses/validate",
        "/open311/v2/requests.<fmt>",
        "/reports/monthly",
        "/maps/requests",
        "/login",
    } <= rules
    assert len(rules) == len({r.rule for r in create_app(Settings.from_env(env="test")).url_map.iter_rules()})
    assert any(e.public for e in ROUTES) and any(not e.public for e in ROUTES)


def _fuzz(client, endpoint: Endpoint, plausible: dict[str, list[str]], after=None) -> None:
    examples = 2 if endpoint.rule.rule in SLOW else EXAMPLES

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )  # no shrinking: the failing case is shown as sent
    @given(case=cases(endpoint, plausible))
    def no_server_error(case: Case) -> None:
        response = send(client, case)
        assert response.status_code < 500, (
            f"{response.status_code} for {case.describe()}\n" + response.get_data(as_text=True)[:500]
        )
        if after is not None:
            after()

    no_server_error()


@pytest.mark.parametrize("group", ["/api", "/open311", "/maps", "/reports", "/staff", "other"])
def test_no_route_answers_a_server_error_anonymously(fuzz_app, session, group):
    plausible = plausible_paths(session)
    client = fuzz_app.test_client()
    for endpoint in _group(group):
        _fuzz(client, endpoint, plausible)


@pytest.mark.parametrize("group", ["/api", "/open311", "/maps", "/reports", "/staff", "other"])
def test_no_route_answers_a_server_error_to_an_administrator(fuzz_app, session, group):
    username = make_user(session, "admin")
    make_user(session, "analyst", username="fuzz-target")  # whom /admin/users/<username> may change
    plausible = {**plausible_paths(session), "username": ["fuzz-target", "nobody"]}
    client = fuzz_app.test_client()
    log_in(client, username)

    def still_logged_in() -> None:  # /logout, or a password changed by chance, ends the session
        if client.get("/account/password").status_code != 200:
            log_in(client, username)

    for endpoint in _group(group):
        _fuzz(
            client,
            endpoint,
            plausible,
            after=still_logged_in if endpoint.rule.rule in ("/logout", "/account/password", "/login") else None,
        )


def _group(group: str) -> list[Endpoint]:
    prefixes = ("/api", "/open311", "/maps", "/reports", "/staff")
    if group == "other":
        return [e for e in ROUTES if not e.rule.rule.startswith(prefixes)]
    return [e for e in ROUTES if e.rule.rule.startswith(group)]
