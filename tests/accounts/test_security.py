"""Accounts, roles and security, tested route by route and attack by attack."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select, text

from accounts.models import AuditEntry, StaffUser
from accounts.roles import ROLES
from app.factory import create_app
from service_requests.intake import RequestInput, create_request
from service_requests.models import ServiceRequest
from tests.helpers.staff import PASSWORD, CsrfClient, log_in, make_user

#: Who may open each route: None is everyone, "*" any logged-in user, else the permission.
#: A route missing here fails test_every_route_declares_who_may_use_it: new routes must be classified.
ACCESS = {
    "pages.index": None,
    "language.choose": None,
    "health.health": None,
    "assets.vendor": None,
    "tiles.streets": None,
    "tiles.basemap": None,
    "api.boundary_layer": None,
    "api.locate": None,
    "addresses.validate": None,
    "addresses.suggest": None,
    "addresses.reverse": None,
    "addresses.intake_address": "requests.create",
    "requests.choose_service": None,
    "requests.report": None,
    "requests.nearby": None,
    "requests.status_lookup": None,
    "requests.status": None,
    **{
        f"alerts.{name}": None
        for name in (
            "follow_request",
            "me_too",
            "confirm_subscription",
            "unsubscribe_link",
            "alerts_page",
            "ward_feed",
            "near_feed",
        )
    },
    "public_map.map_page": None,
    "public_map.list_page": None,
    "public_map.reports_geojson": None,
    "requests.staff_choose_service": "requests.create",
    "requests.staff_intake": "requests.create",
    "requests.shift_channel": "requests.create",
    "requests.caller_history_api": "requests.contact",
    "media.photo": None,  # public photos to anyone; the others to staff who may view the request (checked in the view)
    **{
        f"queue.{name}": "requests.overdue"
        for name in ("queue", "points", "export", "save_current_view", "delete_saved_view", "bulk")
    },
    "staff.request_detail": "requests.view",
    "supervision.overdue_view": "requests.overdue",
    "supervision.escalations_view": "requests.reassign",
    "supervision.acknowledge_view": "requests.reassign",
    "auth.escalation_email": "*",
    "staff.services_admin": "catalogue.manage",
    "staff.service_edit": "catalogue.manage",
    "auth.login": None,
    "auth.logout": None,
    "auth.change_password": "*",
    "admin.users": "users.manage",
    "admin.user_edit": "users.manage",
    "admin.audit_log": "audit.view",
    **{
        f"maps.{name}": "maps.view"
        for name in (
            "index",
            "layer_page",
            "layer_map",
            "area_page",
            "area_map",
            "hotspots_page",
            "hotspots_map",
            "emerging_page",
            "emerging_map",
            "heat_page",
            "heat_map",
        )
    },
    "maps.request_list": "requests.view",
    "maps.export": "data.export",
    **{
        f"reports.{name}": "reports.view"
        for name in ("index", "breakout_page", "top_page", "backlog_page", "export_table")
    },
    "reports.monthly": None,
    "reports.export_requests": "data.export",
    **{
        f"open311.{name}": None
        for name in (  # keys and limits: the API's own check (tests/open311/test_open311.py)
            "discovery",
            "service_list",
            "service_definition",
            "create_request",
            "request_list",
            "request_detail",
            "token",
            "openapi",
            "list_updates",  # GET servicerequestupdates: public updates only (tests/open311/test_updates.py)
            "post_updates",  # POST servicerequestupdates: an api_key, checked by check_key_and_rate
        )
    },
}

CONTACT: dict[str, Any] = {
    "first_name": "Ana",
    "last_name": "Quintero",
    "email": "ana.quintero@example.org",
    "phone": "2135550188",
    "contact_notes": "gate code 4411",
}


@pytest.fixture
def ocb_request(session, la, validator) -> ServiceRequest:
    """A graffiti request (department OCB) in ward 13, with the reporter's contact data."""
    form = RequestInput(
        service_code="graffiti",
        channel="phone",
        address="2111 W BELLEVUE AVE",
        attributes={"surface": "wall"},
        description="Tagging on the wall",
        **CONTACT,
    )
    created = create_request(session, la, validator, form).request
    assert created.ward_key == "13" and created.department_code == "OCB"
    return created


@pytest.fixture
def bsl_request(session, la, validator) -> ServiceRequest:
    """A streetlight request (department BSL) elsewhere."""
    form = RequestInput(
        service_code="streetlight-single",
        channel="phone",
        address="2111 W BELLEVUE AVE",
        attributes={},
        description="Light out",
    )
    return create_request(session, la, validator, _fill_required(session, la, form)).request


def _fill_required(session, la, form: RequestInput) -> RequestInput:
    from service_requests.catalogue_db import get_service

    service = get_service(session, la.key, form.service_code)
    assert service is not None
    for attribute in service.attributes:
        if attribute.required:
            value = attribute.values[0].key if attribute.values else "1"
            form.attributes[attribute.code] = [value] if attribute.datatype == "multivaluelist" else value
    return form


def _url(rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^<>]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule.rule)


def test_every_route_declares_who_may_use_it(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "_access"), f"{rule.endpoint} declares no access rule"
        assert rule.endpoint in ACCESS, f"{rule.endpoint} is not classified in this test"
        assert view._access == ACCESS[rule.endpoint], rule.endpoint


def test_a_route_without_a_rule_is_refused(settings, bound_database):
    app = create_app(settings, database=bound_database)
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert app.test_client().get("/forgotten").status_code == 403


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_reaches_exactly_its_routes(role, app, client, client_as, ocb_request):
    user_client = client_as(role) if role else client
    values = {
        "reference": ocb_request.public_ref,
        "service_code": "graffiti",
        "code": "graffiti",
        "username": "nobody-here",
        "role": "wards",
        "key": "13",
        "package": "leaflet",
        "filename": "dist/leaflet.js",
        "layer": "wards",
        "what": "wards",
        "fmt": "geojson",
        "by": "ward",
        "service_request_id": ocb_request.public_ref,
        "token": ocb_request.public_ref,
        "z": "16",
        "x": "11298",
        "y": "26177",
        "name": "no-such-photo-00000000000000000.jpg",
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in rule.methods:
            continue
        url = _url(rule, values)
        response = user_client.get(url)
        needed = ACCESS[rule.endpoint]
        may = needed is None or (role is not None and (needed == "*" or needed in ROLES[role].permissions))
        if may:
            assert response.status_code not in (401, 403) and "/login" not in response.headers.get("Location", ""), (
                role,
                url,
                response.status_code,
            )
        elif role is None:
            assert response.status_code in (302, 401), (url, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login?next=")
        else:
            assert response.status_code == 403, (role, url, response.status_code)


def test_department_staff_see_their_department_only(client_as, ocb_request, bsl_request, session):
    ocb = client_as("department", department_code="OCB")
    assert ocb.get(f"/staff/requests/{ocb_request.public_ref}").status_code == 200
    assert ocb.get(f"/staff/requests/{bsl_request.public_ref}").status_code == 404  # as if it did not exist
    refused = ocb.post(f"/staff/requests/{bsl_request.public_ref}", data={"action": "status", "status": "fixed"})
    assert refused.status_code == 404
    session.refresh(bsl_request)
    assert bsl_request.status == "submitted"
    # The overdue queue is their department's, whatever the filter asks for.
    queue = ocb.get("/staff/overdue?department=BSL").get_data(as_text=True)
    assert "BSL" not in re.sub(r"<option[^>]*>.*?</option>", "", queue)


def test_only_supervisors_reassign(client_as, ocb_request, session):
    form = {"action": "reassign", "department": "BSS", "reason": "wrong crew"}
    staff = client_as("department", department_code="OCB")
    assert staff.post(f"/staff/requests/{ocb_request.public_ref}", data=form).status_code == 403
    supervisor = client_as("supervisor", department_code="OCB")
    moved = supervisor.post(f"/staff/requests/{ocb_request.public_ref}", data=form)
    assert moved.status_code == 200 and "has left your queue" in moved.get_data(as_text=True)  # not a 404
    session.refresh(ocb_request)
    assert ocb_request.department_code == "BSS"


def test_council_members_read_their_ward_without_personal_data(client_as, ocb_request, session):
    own = client_as("council", area_role="wards", area_key="13")
    page = own.get(f"/staff/requests/{ocb_request.public_ref}").get_data(as_text=True)
    assert "Tagging on the wall" not in page  # the requester's own words: for roles with requests.contact
    assert all(value not in page for value in CONTACT.values())
    assert (
        own.post(f"/staff/requests/{ocb_request.public_ref}", data={"action": "note", "note": "hello"}).status_code
        == 403
    )  # read-only
    other = client_as("council", area_role="wards", area_key="01")
    assert other.get(f"/staff/requests/{ocb_request.public_ref}").status_code == 404


def test_personal_data_only_for_roles_that_need_it(client_as, client, ocb_request, caplog):
    caplog.set_level(logging.DEBUG)
    for role in ROLES:
        page = client_as(role).get(f"/staff/requests/{ocb_request.public_ref}").get_data(as_text=True)
        shown = CONTACT["email"] in page and CONTACT["phone"] in page and CONTACT["contact_notes"] in page
        assert shown == ("requests.contact" in ROLES[role].permissions), role
    public = client.get(f"/status/{ocb_request.public_ref}").get_data(as_text=True)
    assert all(value not in public for value in CONTACT.values())
    client.post("/report/graffiti", data={"address": "2111 W BELLEVUE AVE", "attribute[surface]": "wall", **CONTACT})
    assert all(value not in caplog.text for value in CONTACT.values())  # never in the logs


def test_request_references_cannot_be_enumerated(client, ocb_request, app):
    app.extensions["geo311"].settings = replace(app.extensions["geo311"].settings, rate_public_api="30/minute")
    statuses = []
    ref = ocb_request.public_ref
    guesses = [str(n) for n in range(1, 15)] + [ref[:-1] + c for c in "0123456789ABCDEFGH" if ref[:-1] + c != ref]
    for guess in guesses:
        statuses.append(client.get(f"/status/{guess}").status_code)
    assert set(statuses[:30]) <= {404}
    assert statuses[-1] == 429  # the guesser is slowed down, then stopped
    assert client.get(f"/status/{ref}").status_code == 429  # even for a real one, from that address


def test_forged_cross_site_posts_are_refused(app, session, ocb_request):
    victim = app.test_client()
    log_in_client = CsrfClient(app, app.response_class, use_cookies=True)
    username = make_user(session, "admin")
    log_in(log_in_client, username)
    # The attacker's page makes the logged-in browser post without the page's token.
    cookie = log_in_client.get_cookie("geo311_session")
    victim.set_cookie(cookie.key, cookie.value)
    forged = victim.post(f"/staff/requests/{ocb_request.public_ref}", data={"action": "status", "status": "fixed"})
    assert forged.status_code == 400 and "did not come from this site" in forged.get_data(as_text=True)
    session.refresh(ocb_request)
    assert ocb_request.status == "submitted"
    assert (
        victim.post("/admin/users", data={"username": "mallory", "password": "x" * 20, "role": "admin"}).status_code
        == 400
    )
    assert session.scalar(select(StaffUser).where(StaffUser.username == "mallory")) is None
    assert victim.post("/logout").status_code == 400  # nobody can be logged out from another site either


def test_stored_markup_is_shown_as_text_to_staff(client, admin_client, session):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = client.post(
        "/report/graffiti",
        data={
            "address": "2111 W BELLEVUE AVE",
            "attribute[surface]": "wall",
            "description": hostile,
            "first_name": hostile,
        },
    )
    reference = response.headers["Location"].split("/status/")[1].split("?")[0]
    page = admin_client.get(f"/staff/requests/{reference}")
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]  # and inline scripts would not run anyway


INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE service_request; --",
    '" OR 1=1 --',
    "%' OR 1=1 --",
    "') UNION SELECT password_hash FROM staff_user --",
    "$$; SELECT pg_sleep(5); $$",
    "\\'; --",
]


def test_sql_injection_through_every_filter(client, admin_client, session, ocb_request):
    before = session.execute(text("SELECT count(*) FROM service_request")).scalar()
    for value in INJECTIONS:
        for url in (
            f"/staff/overdue?department={value}",
            f"/admin/audit?actor={value}",
            f"/admin/audit?kind={value}",
            f"/admin/users/{value}",
            f"/staff/services/{value}",
            f"/staff/requests/{value}",
        ):
            response = admin_client.get(url)
            assert response.status_code in (200, 400, 404), (url, response.status_code)
            assert "$argon2" not in response.get_data(as_text=True)
        for url in (
            f"/status/{value}",
            f"/api/requests/nearby?service={value}&lon=-118.26&lat=34.07",
            f"/api/addresses/validate?q={value}",
            f"/api/addresses/suggest?q={value}",
            f"/api/boundaries/wards/{value}.geojson",
            f"/report/{value}",
            f"/status?reference={value}",
        ):
            response = client.get(url)
            assert response.status_code in (200, 400, 404), (url, response.status_code)
        assert client.post("/login", data={"username": value, "password": value}).status_code == 400
    assert session.execute(text("SELECT count(*) FROM service_request")).scalar() == before


def test_brute_force_login_locks_the_account(client, session, app):
    username = make_user(session, "intake")
    for _ in range(5):
        assert client.post("/login", data={"username": username, "password": "guess-guess-guess"}).status_code == 400
    locked = client.post("/login", data={"username": username, "password": PASSWORD})
    assert locked.status_code == 400  # even the right password waits now
    assert "locked for a while" in locked.get_data(as_text=True)
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target == username)).all()
    assert actions.count("login.failure") == 5 and "login.locked" in actions and "login.refused_locked" in actions
    # An unknown name gets the same answer as a wrong password.
    unknown = client.post("/login", data={"username": "no-such-user", "password": "guess-guess-guess"})
    assert unknown.get_data(as_text=True).count("locked for a while") == 1


def test_login_attempts_are_rate_limited_per_address(client, app):
    app.extensions["geo311"].settings = replace(app.extensions["geo311"].settings, rate_login="3/minute")
    codes = [client.post("/login", data={"username": f"u{i}", "password": "x"}).status_code for i in range(5)]
    assert codes[:3] == [400, 400, 400] and codes[3:] == [429, 429]
    assert int(client.post("/login", data={"username": "u", "password": "x"}).headers["Retry-After"]) > 0


def test_logout_ends_the_session_on_the_server(app, session):
    client = CsrfClient(app, app.response_class, use_cookies=True)
    log_in(client, make_user(session, "admin"))
    stolen = client.get_cookie("geo311_session").value
    assert client.get("/admin/users").status_code == 200
    assert client.post("/logout").status_code == 303
    thief = app.test_client()
    thief.set_cookie("geo311_session", stolen)
    assert thief.get("/admin/users").status_code == 302  # the old cookie opens nothing


def test_disabling_a_user_ends_their_sessions(admin_client, client_as, session):
    intake = client_as("intake")
    username = session.scalars(select(StaffUser.username).where(StaffUser.role == "intake")).all()[-1]
    assert intake.get("/intake/new").status_code == 200
    response = admin_client.post(
        f"/admin/users/{username}", data={"action": "fields", "display_name": "Gone", "role": "intake", "active": "0"}
    )
    assert response.status_code == 303
    assert intake.get("/intake/new").status_code == 302


def test_admin_manages_users_on_the_page(admin_client, session):
    form = {
        "username": "Maria.Lopez",
        "display_name": "María López",
        "role": "supervisor",
        "department_code": "BSL",
        "password": "streetlights at dusk",
        "repeat": "streetlights at dusk",
    }
    assert admin_client.post("/admin/users", data=form).status_code == 303
    user = session.scalar(select(StaffUser).where(StaffUser.username == "maria.lopez"))
    assert (user.role, user.department_code) == ("supervisor", "BSL") and user.password_hash.startswith("$argon2id$")
    weak = admin_client.post("/admin/users", data={**form, "username": "weak", "password": "short", "repeat": "short"})
    assert weak.status_code == 400 and "12 characters" in weak.get_data(as_text=True)
    no_department = admin_client.post("/admin/users", data={**form, "username": "nodept", "department_code": ""})
    assert no_department.status_code == 400 and "department" in no_department.get_data(as_text=True)
    council = admin_client.post(
        "/admin/users", data={**form, "username": "cd99", "role": "council", "area": "wards:99"}
    )
    assert council.status_code == 400 and "no ward &#39;99&#39;" in council.get_data(as_text=True)
    audit = admin_client.get("/admin/audit?kind=user").get_data(as_text=True)
    assert "maria.lopez" in audit and "streetlights at dusk" not in audit


def test_only_map_documents_may_run_inline_scripts(admin_client):
    document = admin_client.get("/maps/wards/map.html")
    assert document.status_code == 200 and "'unsafe-inline'" in document.headers["Content-Security-Policy"]
    page = admin_client.get("/maps/wards")
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]


def test_lists_of_requests_stay_within_scope(client_as, ocb_request, bsl_request):
    ocb = client_as("department", department_code="OCB")
    listing = ocb.get("/maps/requests?scope=all").get_data(as_text=True)
    assert ocb_request.public_ref in listing and bsl_request.public_ref not in listing
    exported = ocb.get("/maps/export/requests.geojson?scope=all").get_json()
    assert {f["properties"].get("department_code") for f in exported["features"]} <= {"OCB", None}


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp  # no tile server configured: nothing outside
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    cookie = client.get("/login").headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure_and_need_a_secret(settings, bound_database):
    from core.errors import ConfigError
    from core.settings import Settings

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"GEO311_ENV": "production"})
    production = replace(settings, env="production", secret_key="x" * 64)
    app = create_app(production, database=bound_database)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert "Strict-Transport-Security" in app.test_client().get("/health").headers


def test_first_admin_from_the_command_line(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "chief", "--name", "Chief Admin", "--password-stdin"],
        input="a long admin passphrase\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "users",
            "add",
            "crew1",
            "--role",
            "department",
            "--name",
            "Crew One",
            "--department",
            "OCB",
            "--password-stdin",
        ],
        input="graffiti crew passphrase\n",
    )
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["users", "list"]).output
    assert re.search(r"chief\s+admin", listing) and re.search(r"crew1\s+department\s+OCB", listing)
    assert runner.invoke(args=["users", "disable", "crew1"]).exit_code == 0
    bad = runner.invoke(
        args=["users", "add", "crew2", "--role", "department", "--name", "X", "--password-stdin"],
        input="graffiti crew passphrase\n",
    )
    assert bad.exit_code != 0 and "department" in bad.output
    assert runner.invoke(args=["users", "reset-password", "ghost", "--password-stdin"], input="x\n").exit_code != 0


def test_only_staff_who_file_requests_get_the_staff_search_radius(client, client_as, ocb_request, session, la):
    lon, lat = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM service_request WHERE id = :id"), {"id": ocb_request.id}
    ).one()
    # about 550 m north: beyond the public radius, within the staff one
    assert la.intake.duplicate_radius_public_m < 550 < la.intake.duplicate_radius_staff_m
    url = f"/api/requests/nearby?service=graffiti&lon={lon}&lat={lat + 0.005}"

    def found(who, query: str) -> bool:
        response = who.get(url + query)
        assert response.status_code == 200
        return ocb_request.public_ref in [n["reference"] for n in response.get_json()["nearby"]]

    assert not found(client, "") and not found(client, "&staff=1")  # anonymous: the flag is ignored
    assert not found(client_as("analyst"), "&staff=1")  # staff who do not file requests: the public radius too
    assert found(client_as("intake"), "&staff=1")
