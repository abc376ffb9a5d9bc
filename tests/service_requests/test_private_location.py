"""No dead end, no leak: a typed address that did not match, filed at a point picked on the map.

The typed text is kept for staff with requests.contact and never published; the public place
of the request comes from its point (address_db.places). Migration 0012 corrects the requests
stored the old way, with the same derivation in SQL.
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from address_db.places import NEUTRAL_PLACE, PLACE_RADIUS_M, is_public_place, public_place
from core.settings import PROJECT_ROOT
from open311.clients import issue_client
from service_requests.intake import RequestInput, create_request
from service_requests.models import ServiceRequest
from tests.helpers.translations import page_words

TYPED = "12 Bob Smith 5551234"  # the old status page showed "0 block of BOB SMITH 5551234"
SECRETS = ("Bob Smith", "5551234")
BELLEVUE = (-118.26690, 34.07325)  # beside 2111 W BELLEVUE AVE, Echo Park, ward 13
BELLEVUE_PLACE = "near the 2100 block of W BELLEVUE AVE"


def picked(lon: float = BELLEVUE[0], lat: float = BELLEVUE[1], **changes) -> RequestInput:
    base = dict(
        service_code="graffiti",
        channel="phone",
        address=TYPED,
        lon=lon,
        lat=lat,
        attributes={"surface": "wall"},
        description="Tags",
        actor="intake:maria",
    )
    return RequestInput(**{**base, **changes})


def empty_spot(session) -> tuple[float, float]:
    """A point of the city (near an address of ward 13, moved away) with no address within the radius."""
    row = session.execute(
        text(
            """
        SELECT ST_X(c.g) AS lon, ST_Y(c.g) AS lat FROM (
            SELECT ST_Project(a.geom::geography, 900, radians(b))::geometry AS g
            FROM address_point a, generate_series(0, 315, 45) b
            WHERE a.city = 'la' AND a.kind = 'address' ORDER BY a.id LIMIT 400) c
        WHERE NOT EXISTS (SELECT 1 FROM address_point p WHERE p.city = 'la'
                          AND ST_DWithin(p.geom::geography, c.g::geography, :far))
        LIMIT 1
        """
        ),
        {"far": PLACE_RADIUS_M + 50},
    ).first()
    assert row is not None
    return row.lon, row.lat


def spot_between(session, near_m: float, far_m: float) -> tuple[float, float, str]:
    """A point whose nearest address (a house, not an intersection) is ``near_m`` to ``far_m`` metres away."""
    row = session.execute(
        text(
            """
        SELECT ST_X(c.g) AS lon, ST_Y(c.g) AS lat, n.kind, n.house_number, n.d FROM (
            SELECT ST_Project(a.geom::geography, 125, radians(b))::geometry AS g
            FROM address_point a, generate_series(0, 315, 45) b
            WHERE a.city = 'la' AND a.kind = 'address' ORDER BY a.id LIMIT 2000) c,
        LATERAL (SELECT p.kind, p.house_number, ST_Distance(p.geom::geography, c.g::geography) AS d
                 FROM address_point p WHERE p.city = 'la' ORDER BY p.geom <-> c.g LIMIT 1) n
        WHERE n.d BETWEEN :near AND :far AND n.kind = 'address'
        LIMIT 1
        """
        ),
        {"near": near_m, "far": far_m},
    ).first()
    assert row is not None
    return row.lon, row.lat, public_place(session, "la", row.lon, row.lat)


# -- the public place of a point ---------------------------------------------------------------


def test_the_public_place_is_the_block_of_the_nearest_address(session):
    assert public_place(session, "la", *BELLEVUE) == BELLEVUE_PLACE
    lon, lat = session.execute(
        text(
            "SELECT ST_X(geom), ST_Y(geom) FROM address_point WHERE city = 'la' "
            "AND house_number BETWEEN 1 AND 99 AND kind = 'address' LIMIT 1"
        )
    ).one()
    assert public_place(session, "la", lon, lat).startswith("near the 0 block of ")


def test_an_intersection_gives_x_at_y(session):
    row = session.execute(
        text(
            """
        SELECT ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.street_name, i.cross_name FROM address_point i
        WHERE i.city = 'la' AND i.kind = 'intersection' AND NOT EXISTS (
            SELECT 1 FROM address_point a WHERE a.city = 'la' AND a.kind = 'address'
              AND ST_DWithin(a.geom::geography, i.geom::geography, 20))
        ORDER BY i.id LIMIT 1
        """
        )
    ).one()
    place = public_place(session, "la", row.lon, row.lat)
    assert place.startswith("near ") and " AT " in place and row.street_name in place and row.cross_name in place
    assert "block" not in place and "," not in place and is_public_place(place)


def test_far_from_any_address_the_nearest_named_street_or_a_neutral_text(session):
    lon, lat = empty_spot(session)
    assert public_place(session, "la", lon, lat) == NEUTRAL_PLACE
    load = session.execute(text("SELECT max(id) FROM address_load WHERE city = 'la'")).scalar_one()
    for name, offset in (("SPRING", 0.0004), (None, 0.0001)):  # a named street 40 m away, an unnamed one closer
        session.execute(
            text(
                "INSERT INTO street_segment (city, load_id, source_key, rank, predir, name, suffix, geom) "
                "VALUES ('la', :load, 'test', 1, 'N', :name, 'ST', "
                "ST_SetSRID(ST_MakeLine(ST_MakePoint(:x - 0.001, :y), ST_MakePoint(:x + 0.001, :y)), 4326))"
            ),
            {"load": load, "name": name, "x": lon, "y": lat + offset},
        )
    assert public_place(session, "la", lon, lat) == "near N SPRING ST"
    assert public_place(session, "gardena", lon, lat) == NEUTRAL_PLACE  # another city's streets are not used


def test_only_derived_texts_are_public_places():
    for ok in (
        BELLEVUE_PLACE,
        "near W 1ST ST AT N SPRING ST",
        "near N SPRING ST",
        NEUTRAL_PLACE,
        "near the 0 block of O'FARRELL ST",
    ):
        assert is_public_place(ok), ok
    for typed in (
        TYPED,
        "2113 W Bellevue Ave",
        "near Bob's house",
        "12 bob smith",
        "",
        None,
        "near the 200 block of n spring st, 555-1234",
        "2111 W BELLEVUE AVE, 90026",
    ):
        assert not is_public_place(typed), typed


# -- intake stores the typed text privately ---------------------------------------------------


def test_an_unmatched_typed_address_is_private_and_the_place_comes_from_the_point(session, la, validator):
    created = create_request(session, la, validator, picked(location_note="behind the garage"))
    request = created.request
    assert request.location_quality == "point" and request.ward_key == "13"
    assert request.typed_address == TYPED
    assert request.address == BELLEVUE_PLACE
    assert request.location_note == "behind the garage"
    again = create_request(session, la, validator, picked(address="Call 555-1234 ask for Bob"))
    assert [n.address for n in again.nearby] == [BELLEVUE_PLACE]  # the duplicate hint at intake


def test_a_point_with_no_typed_address_has_no_private_text(session, la, validator):
    request = create_request(session, la, validator, picked(address=None)).request
    assert request.typed_address is None and request.address == BELLEVUE_PLACE


@pytest.mark.parametrize(
    "typed, outcome", [("326 Bonnie Brae St", "ambiguous"), ("2113 W Bellevue Ave", "not_found"), (TYPED, None)]
)
def test_no_dead_end_when_the_address_does_not_validate(session, la, validator, typed, outcome):
    status = validator.validate(session, typed).status
    assert status == outcome if outcome else status not in ("valid", "outside")
    request = create_request(session, la, validator, picked(address=typed)).request
    assert request.location_quality == "point" and request.typed_address == typed
    assert request.address == BELLEVUE_PLACE


# -- no public surface shows it ------------------------------------------------------------------


def _assert_secret_free(body: str, where: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in body.lower(), (secret, where)


def test_the_status_page_and_nearby_hints_show_the_place_not_the_typed_text(client, session, la, validator):
    reference = create_request(session, la, validator, picked()).request.public_ref
    page = client.get(f"/status/{reference}").get_data(as_text=True)
    _assert_secret_free(page, "status page")
    assert BELLEVUE_PLACE in page_words(page)
    nearby = client.get(
        "/api/requests/nearby", query_string={"lon": BELLEVUE[0], "lat": BELLEVUE[1], "service": "graffiti"}
    )
    assert nearby.status_code == 200
    _assert_secret_free(nearby.get_data(as_text=True), "nearby API")
    assert [n["address"] for n in nearby.get_json()["nearby"] if n["reference"] == reference] == [BELLEVUE_PLACE]


def test_open311_json_and_xml_never_hold_the_typed_text(client, session, la, validator):
    _client, key = issue_client(session, "la", "Test app", contact="dev@example.org", per_minute=10_000)
    through_api = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "graffiti",
            "lat": str(BELLEVUE[1]),
            "long": str(BELLEVUE[0]),
            "attribute[surface]": "wall",
            "address_string": TYPED,
        },
    )
    assert through_api.status_code == 200, through_api.get_data(as_text=True)
    api_ref = through_api.get_json()[0]["service_request_id"]
    web_ref = create_request(session, la, validator, picked()).request.public_ref
    assert session.query(ServiceRequest).filter_by(public_ref=api_ref).one().typed_address == TYPED
    for fmt in ("json", "xml"):
        for path in ("requests", f"requests/{api_ref}", f"requests/{web_ref}"):
            for query in ("", "?extensions=true", f"?service_request_id={api_ref},{web_ref}"):
                response = client.get(f"/open311/v2/{path}.{fmt}{query}")
                assert response.status_code == 200, (path, query)
                _assert_secret_free(response.get_data(as_text=True), f"{path}.{fmt}{query}")
    found = client.get(f"/open311/v2/requests/{web_ref}.json").get_json()[0]
    assert found["address"] == BELLEVUE_PLACE and found["address_id"] is None
    root = ET.fromstring(client.get(f"/open311/v2/requests/{api_ref}.xml").get_data())
    assert root.find("request/address").text == BELLEVUE_PLACE


def test_open311_publishes_no_neutral_text_as_an_address(client, session, la, validator):
    lon, lat = empty_spot(session)
    reference = create_request(session, la, validator, picked(lon=lon, lat=lat)).request.public_ref
    assert client.get(f"/status/{reference}").get_data(as_text=True).count(NEUTRAL_PLACE) == 1
    assert client.get(f"/open311/v2/requests/{reference}.json").get_json()[0]["address"] is None


def test_staff_see_the_typed_text_only_with_the_contact_permission(client_as, session, la, validator):
    reference = create_request(session, la, validator, picked()).request.public_ref
    for role in ("intake", "supervisor", "admin"):
        page = client_as(role).get(f"/staff/requests/{reference}").get_data(as_text=True)
        assert "Address as typed (not matched)" in page and TYPED in page, role
    for role in ("council", "planner", "analyst"):
        response = client_as(role).get(f"/staff/requests/{reference}")
        assert response.status_code == 200, role
        page = response.get_data(as_text=True)
        assert "Address as typed" not in page, role
        _assert_secret_free(page, role)
        assert BELLEVUE_PLACE in page


def test_exports_lists_maps_and_the_monthly_report_never_hold_it(client, client_as, session, la, validator):
    create_request(session, la, validator, picked())
    analyst = client_as("analyst")  # data.export, maps.view, reports.view, requests.view; no requests.contact
    for path in (
        "/maps/export/requests.geojson",
        "/reports/requests.csv",
        "/reports/requests.geojson",
        "/maps/requests",
        "/maps/wards/13",
        "/maps/wards/13/map.html",
    ):
        response = analyst.get(path)
        assert response.status_code == 200, path
        _assert_secret_free(response.get_data(as_text=True), path)
    assert BELLEVUE_PLACE in analyst.get("/maps/requests").get_data(as_text=True)
    monthly = client.get("/reports/monthly")
    assert monthly.status_code == 200
    _assert_secret_free(monthly.get_data(as_text=True), "monthly report")


# -- migration 0012 ---------------------------------------------------------------------------------


def _migration():
    path = PROJECT_ROOT / "migrations" / "versions" / "0012_private_location.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stored_the_old_way(session, address: str | None, lon: float, lat: float) -> int:
    return session.execute(
        text(
            """
        INSERT INTO service_request (city, public_ref, short_ref, service_code, service_name, status, channel,
                                     response_method, description, attributes, address, location_quality, geom,
                                     in_jurisdiction, requested_at, updated_at, source)
        VALUES ('la', 'OLD-' || md5(random()::text), upper(substr(md5(random()::text), 1, 10)), 'graffiti', 'Graffiti', 'submitted', 'phone', 'none', '',
                '{}'::jsonb, :address, 'point', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), true, now(), now(),
                'intake')
        RETURNING id
        """
        ),
        {"address": address, "lon": lon, "lat": lat},
    ).scalar_one()


def test_migration_0012_moves_typed_text_and_derives_the_same_place(session):
    migration = _migration()
    assert (migration.revision, migration.down_revision) == ("0012", "0011")
    assert (migration.RADIUS_M, migration.NEUTRAL_PLACE) == (PLACE_RADIUS_M, NEUTRAL_PLACE)
    far_lon, far_lat = empty_spot(session)
    mid_lon, mid_lat, mid_place = spot_between(session, 100, 145)
    assert mid_place.startswith("near the ")
    rows = {
        "typed": (TYPED, *BELLEVUE),
        "typed like an address": ("12 Bob Smith", *BELLEVUE),
        "typed far away": (TYPED, far_lon, far_lat),
        "typed, nearest 100-150 m": ("my place", mid_lon, mid_lat),
        "written by the old code": ("near 2111 W BELLEVUE AVE, 90026", *BELLEVUE),
        "none": (None, *BELLEVUE),
    }
    ids = {label: _stored_the_old_way(session, *row) for label, row in rows.items()}
    addressed = session.execute(
        text("SELECT id, address FROM service_request WHERE location_quality = 'address' LIMIT 1")
    ).first()
    session.execute(text(migration.CORRECT_POINT_REQUESTS))
    for label, (old, lon, lat) in rows.items():
        address, typed = session.execute(
            text("SELECT address, typed_address FROM service_request WHERE id = :id"), {"id": ids[label]}
        ).one()
        assert address == public_place(session, "la", lon, lat), label  # the same derivation as the code
        assert is_public_place(address), label
        expected = None if label in ("written by the old code", "none") else old
        assert typed == expected, label
    assert (
        session.execute(
            text("SELECT address FROM service_request WHERE id = :id"), {"id": ids["typed, nearest 100-150 m"]}
        ).scalar_one()
        == mid_place
    )
    if addressed is not None:  # requests located by their address are not touched
        assert (
            session.execute(
                text("SELECT address FROM service_request WHERE id = :id"), {"id": addressed.id}
            ).scalar_one()
            == addressed.address
        )
    session.execute(text(migration.CORRECT_POINT_REQUESTS))  # run again: nothing changes, nothing is lost
    assert (
        session.execute(
            text("SELECT typed_address FROM service_request WHERE id = :id"), {"id": ids["typed"]}
        ).scalar_one()
        == TYPED
    )


# -- end to end in Chromium ---------------------------------------------------------------------


def _file_at_a_picked_point(
    page, base: str, form_path: str, typed: str, lon: float, lat: float, screenshot: str | None = None
) -> str:
    """Type an address that does not match, pick the point on the map, file; returns the status page's text."""
    page.goto(base + form_path)
    page.wait_for_selector('#intake-map[data-ready="true"]')
    page.fill("#address-input", typed)
    page.click("#address-check")
    page.wait_for_selector(
        '#address-result[data-status="not_found"], #address-result[data-status="invalid"], '
        '#address-result[data-status="ambiguous"]'
    )
    assert "filed at that point" in page.inner_text("#address-result")  # the way on is offered
    page.evaluate(
        "([lat, lon]) => document.getElementById('intake-map').geo311Map.setView([lat, lon], 18, {animate: false})",
        [lat, lon],
    )
    box = page.locator("#intake-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector('#address-result[data-status="picked"]')
    assert page.input_value("#address-input") == typed and page.input_value("#address-id") == ""
    assert "kept for staff only" in page.inner_text("#address-result")
    page.select_option("#surface", "wall")
    page.fill("#description", "Tags on the wall")
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)
    page.click("#request-form button[type=submit]")
    # A resident lands on the status page; staff on the request's staff record with the call-saved panel.
    page.wait_for_selector("h1:has-text('Request '), .flash-call-saved")
    return page.inner_text("main")


@pytest.mark.browser
def test_file_at_a_picked_point_in_chromium_and_who_sees_the_typed_text(settings, bound_database, session):
    from app.factory import create_app
    from tests.app.test_browser import SCREENSHOTS
    from tests.helpers.browser import chromium, live_server, log_in_page, watch
    from tests.helpers.staff import make_user

    typed = "Bob Smith 555-1234"
    lon, lat, place = spot_between(session, 110, 140)  # no address within the widget's 100 m: the point is used
    assert place.startswith("near the ") and " block of " in place
    intake, analyst = make_user(session, "intake"), make_user(session, "analyst")
    app = create_app(settings, database=bound_database)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        resident = browser.new_page(viewport={"width": 1280, "height": 900})
        watched = watch(resident)
        status = _file_at_a_picked_point(
            resident, base, "/report/graffiti", typed, lon, lat, screenshot=str(SCREENSHOTS / "picked-point-form.png")
        )
        assert "your request was received" in status and place in status
        assert "Bob" not in status and "555" not in status
        resident.screenshot(path=str(SCREENSHOTS / "picked-point-status.png"), full_page=True)
        reference = resident.inner_text("h1").removeprefix("Request ").strip()
        assert not watched.errors and not watched.outside(base)

        staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in_page(staff, base, intake, "/intake/new/graffiti")
        staff_status = _file_at_a_picked_point(staff, base, "/intake/new/graffiti", typed + " (caller)", lon, lat)
        assert place in staff_status  # the staff record, where intake may read the typed text (checked below)
        staff.goto(f"{base}/staff/requests/{reference}")
        facts = staff.inner_text("dl.facts")
        assert "Address as typed (not matched)" in facts and typed in facts and place in facts
        staff.screenshot(path=str(SCREENSHOTS / "picked-point-staff.png"), full_page=True)

        other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        log_in_page(other, base, analyst, f"/staff/requests/{reference}")
        facts = other.inner_text("main")
        assert place in facts and "Address as typed" not in facts and "Bob" not in facts and "555" not in facts
    stored = (
        session.query(ServiceRequest).filter_by(short_ref=reference.replace("-", "")).one()
    )  # the page shows the short one
    assert (stored.location_quality, stored.typed_address, stored.address) == ("point", typed, place)
