"""The public map's selection (service_requests/public_reports.py): recent, bounded, cached, approximate.

Never a placeholder point, a request outside the city or a cancelled one; never personal data,
the typed address or the location note; the description only once staff marked it public;
closed requests older than the window hidden unless asked for; at most max_points, the newest.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import timedelta

import pytest
from sqlalchemy import text

from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import change_status, set_details_public
from service_requests.public_reports import RESULTS, PublicQuery, parse_bbox, parse_query, public_reports
from service_requests.selection import FilterError, RequestFilter, filter_choices

BELLEVUE = (-118.26690, 34.07325)  # beside 2111 W BELLEVUE AVE, Echo Park, ward 13
BELLEVUE_PLACE = "near the 2100 block of W BELLEVUE AVE"
SECRETS = ("Bob Smith", "5551234", "behind the blue gate", "Smithson", "bob@example.org", "213-555-0199")


def file(session, city, validator, **changes):
    """A graffiti request at a point picked beside Bellevue Ave, with every kind of private text."""
    base = dict(
        service_code="graffiti",
        channel="phone",
        address="12 Bob Smith 5551234",  # typed, did not match: private
        lon=BELLEVUE[0],
        lat=BELLEVUE[1],
        attributes={"surface": "wall"},
        description="Tags on my wall, call Bob Smithson at 213-555-0199",
        location_note="behind the blue gate",
        first_name="Bob",
        last_name="Smithson",
        email="bob@example.org",
        phone="213-555-0199",
        response_method="email",
        actor="intake:maria",
    )
    return create_request(session, city, validator, RequestInput(**{**base, **changes})).request


def refs(found) -> list[str]:
    return [r.reference for r in found.reports]


def shown(request) -> str:
    return request.short_ref_shown


def age(session, request, *, requested_days: float = 0, closed_days: float | None = None, status: str = "fixed"):
    """Move ``request`` back in time: made ``requested_days`` ago, closed ``closed_days`` ago (as ``status``)."""
    session.execute(
        text(
            "UPDATE service_request SET requested_at = now() - make_interval(secs => :made), "
            "status = CASE WHEN CAST(:closed AS float8) IS NULL THEN status ELSE :status END, "
            "closed_at = CASE WHEN CAST(:closed AS float8) IS NULL THEN closed_at "
            "ELSE now() - make_interval(secs => CAST(:closed AS float8)) END WHERE id = :id"
        ),
        {
            "made": requested_days * 86400,
            "closed": None if closed_days is None else closed_days * 86400,
            "status": status,
            "id": request.id,
        },
    )
    session.expire_all()


def test_a_new_request_is_shown_approximately_and_without_personal_data(session, la, validator):
    request = file(session, la, validator)
    found = public_reports(session, la, PublicQuery())
    assert shown(request) in refs(found)
    report = next(r for r in found.reports if r.reference == shown(request))
    assert (report.service_name, report.status_label, report.is_open, report.family) == (
        "Graffiti Removal",
        "Submitted",
        True,
        "open",
    )
    assert report.place == BELLEVUE_PLACE  # the derived place, never the typed text
    assert report.description is None  # the requester's words stay private
    assert report.closed_at is None and report.requested_at is not None
    # The point is on the grid: moved, within the grid's half diagonal, never the request's own.
    exact_lon, exact_lat = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM service_request WHERE id = :id"), {"id": request.id}
    ).one()
    assert (report.lon, report.lat) != (round(exact_lon, 6), round(exact_lat, 6))
    dy = (report.lat - exact_lat) * 111_320
    dx = (report.lon - exact_lon) * 111_320 * math.cos(math.radians(exact_lat))
    assert math.hypot(dx, dy) <= la.public_map.snap_m * 0.75
    grid = la.public_map.snap_m / 111_320
    assert abs(report.lat / grid - round(report.lat / grid)) < 0.01  # a grid line (to 6 decimals), whatever the request
    words = repr(dataclasses.asdict(report))
    for secret in SECRETS:
        assert secret.lower() not in words.lower(), secret


def test_the_description_only_once_staff_made_it_public_and_shortened(session, la, validator):
    request = file(session, la, validator, description="Fresh tags on the wall of the laundromat. " * 12)
    set_details_public(session, request, "intake:maria", True)
    report = next(r for r in public_reports(session, la, PublicQuery()).reports if r.reference == shown(request))
    assert report.description is not None and report.description.startswith("Fresh tags on the wall")
    assert len(report.description) <= 281 and report.description.endswith("…")
    assert "blue gate" not in repr(report)  # the location note is never published, public details or not


@pytest.mark.parametrize(
    "change",
    [
        "location_quality = 'placeholder'",  # an unknown location put on a default point
        "in_jurisdiction = false",  # outside the city
        "geom = NULL",  # no point
        "status = 'cancelled', closed_at = now()",
    ],
)
def test_what_the_public_map_never_shows(session, la, validator, change):
    kept, hidden = file(session, la, validator), file(session, la, validator)
    session.execute(text(f"UPDATE service_request SET {change} WHERE id = :id"), {"id": hidden.id})
    found = refs(public_reports(session, la, PublicQuery()))
    assert shown(kept) in found and shown(hidden) not in found


def test_closed_requests_older_than_the_window_are_hidden_unless_asked_for(session, la, validator):
    days = la.public_map.closed_days
    recent, old, ancient, stale = (file(session, la, validator) for _ in range(4))
    # The windows are whole local days: a request a day beyond one can still fall on its first local day
    # when a change of clocks lies between (the hour after local midnight), so each is two days beyond.
    age(session, recent, requested_days=days + 20, closed_days=days - 1)  # made long ago, closed lately: shown
    age(session, old, requested_days=days + 5, closed_days=days + 2)
    age(
        session,
        ancient,
        requested_days=la.public_map.older_closed_days + 10,
        closed_days=la.public_map.older_closed_days + 2,
    )
    age(session, stale, requested_days=la.public_map.open_days + 2)  # still open, but made too long ago
    default = refs(public_reports(session, la, PublicQuery()))
    assert shown(recent) in default and shown(old) not in default and shown(ancient) not in default
    assert shown(stale) not in default
    older = refs(public_reports(session, la, PublicQuery(older=True)))
    assert shown(recent) in older and shown(old) in older and shown(ancient) not in older


def test_bounded_newest_first_and_says_so(session, la, validator):
    city = dataclasses.replace(la, public_map=dataclasses.replace(la.public_map, max_points=3))
    made = [file(session, la, validator) for _ in range(5)]
    for i, request in enumerate(made):
        age(session, request, requested_days=(5 - i) / 24)  # the last one made is the newest
    found = public_reports(session, city, PublicQuery())
    assert found.truncated and found.limit == 3 and len(found.reports) == 3
    assert refs(found) == [shown(r) for r in reversed(made[2:])]
    times = [r.requested_at for r in found.reports]
    assert times == sorted(times, reverse=True)


def test_filters_by_service_status_ward_and_box(session, la, validator):
    graffiti = file(session, la, validator)
    closed = file(session, la, validator)
    change_status(session, closed, "fixed", "crew:graffiti-3", note="Painted over")
    assert refs(public_reports(session, la, PublicQuery(RequestFilter(status="open")))).count(shown(closed)) == 0
    assert shown(closed) in refs(public_reports(session, la, PublicQuery(RequestFilter(status="closed"))))
    assert shown(graffiti) not in refs(public_reports(session, la, PublicQuery(RequestFilter(status="closed"))))
    assert shown(graffiti) in refs(public_reports(session, la, PublicQuery(RequestFilter(ward="13"))))
    assert shown(graffiti) not in refs(public_reports(session, la, PublicQuery(RequestFilter(ward="1"))))
    assert shown(graffiti) not in refs(
        public_reports(session, la, PublicQuery(RequestFilter(services=("dead-animal",))))
    )
    assert shown(graffiti) in refs(public_reports(session, la, PublicQuery(RequestFilter(services=("graffiti",)))))
    near = (BELLEVUE[0] - 0.01, BELLEVUE[1] - 0.01, BELLEVUE[0] + 0.01, BELLEVUE[1] + 0.01)
    far = (BELLEVUE[0] + 0.1, BELLEVUE[1] + 0.1, BELLEVUE[0] + 0.2, BELLEVUE[1] + 0.2)
    assert shown(graffiti) in refs(public_reports(session, la, PublicQuery(bbox=near)))
    assert shown(graffiti) not in refs(public_reports(session, la, PublicQuery(bbox=far)))


def test_parsing_reads_only_the_public_fields_and_refuses_bad_values_clearly(session, la):
    choices = filter_choices(session, la)
    query = parse_query(
        {
            "service": ["graffiti"],
            "ward": ["13"],
            "status": ["open"],
            "older": ["1"],
            "bbox": ["-118.3,34,-118.2,34.1"],
            "department": ["BOS"],
            "channel": ["phone"],
            "scope": ["all"],
        },
        choices,
    )
    assert query.flt == RequestFilter(services=("graffiti",), ward="13", status="open")  # the rest is ignored
    assert query.older and query.bbox == (-118.3, 34.0, -118.2, 34.1)
    assert parse_query({}, choices) == PublicQuery()
    for args, words in (
        ({"status": ["cancelled"]}, "status must be one of all, open, closed"),
        ({"ward": ["99999"]}, "There is no ward '99999'"),
        ({"service": ["nothing-like-it"]}, "There is no service"),
        ({"bbox": ["a,b,c,d"]}, "bbox must be four numbers"),
        ({"bbox": ["-118.2,34,-118.3,34.1"]}, "west < east"),
        ({"bbox": ["1,2,3,4", "1,2,3,5"]}, "Give one bbox"),
    ):
        with pytest.raises(FilterError, match=words):
            parse_query(args, choices)
    assert parse_bbox("") is None


def test_results_are_cached_by_the_version_of_the_requests(session, la, validator):
    RESULTS.clear()
    before = RESULTS.hits
    first = public_reports(session, la, PublicQuery())
    again = public_reports(session, la, PublicQuery())
    assert again is first and RESULTS.hits == before + 1  # no write in between: the same result
    request = file(session, la, validator)  # this transaction's own write: computed for it, not kept
    assert shown(request) in refs(public_reports(session, la, PublicQuery()))
    other_day = public_reports(
        session, la, PublicQuery(), today=first.open_since + timedelta(days=la.public_map.open_days + 1)
    )
    assert other_day is not first


def test_a_fixture_city_shows_its_own_reports_only(session, la, validator, gardena, gardena_validator):
    ours = file(session, la, validator)
    theirs = create_request(
        session,
        gardena,
        gardena_validator,
        RequestInput(
            service_code="graffiti", channel="phone", lon=-118.3090, lat=33.8880, attributes={"surface": "wall"}
        ),
    ).request
    in_gardena = refs(public_reports(session, gardena, PublicQuery()))
    assert shown(theirs) in in_gardena and shown(ours) not in in_gardena
    assert shown(theirs) not in refs(public_reports(session, la, PublicQuery()))
