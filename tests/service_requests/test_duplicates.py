"""Candidate duplicates: the same service, within the radius, within the days, never itself or a duplicate."""

from __future__ import annotations

from sqlalchemy import text

from service_requests.duplicates import candidate_duplicates, request_point
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import change_status, mark_duplicate

HERE = (-118.2600, 34.0770)  # in Los Angeles (Echo Park)


def file(session, city, validator, service_code="graffiti", **changes):
    data = RequestInput(
        service_code=service_code,
        channel="phone",
        address=changes.pop("address", "2111 W Bellevue Ave"),
        attributes=changes.pop("attributes", {"surface": "wall"} if service_code == "graffiti" else {}),
        **changes,
    )
    return create_request(session, city, validator, data).request


def move(session, request, metres_east: float = 0.0, days: float = 0.0) -> None:
    """Put the request ``metres_east`` of HERE, made ``days`` after the first one's time."""
    session.execute(
        text(
            "UPDATE service_request SET geom = ST_Project(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,"
            " :m, radians(90))::geometry, requested_at = requested_at + make_interval(secs => :s) WHERE id = :id"
        ),
        {"lon": HERE[0], "lat": HERE[1], "m": metres_east, "s": days * 86400, "id": request.id},
    )
    session.commit()
    session.refresh(request)


def refs(candidates):
    return [c.public_ref for c in candidates]


def test_candidates_are_the_same_service_within_the_radius_nearest_first(session, la, validator):
    request, near, nearer, far = (file(session, la, validator) for _ in range(4))
    other_service = file(session, la, validator, service_code="electronic-waste", email="ana@example.org")
    for r, m in ((request, 0), (near, 150), (nearer, 40), (far, 260), (other_service, 10)):
        move(session, r, m)
    found = candidate_duplicates(session, request)
    assert refs(found) == [nearer.public_ref, near.public_ref]
    assert 39 < found[0].distance_m < 41 and 149 < found[1].distance_m < 151
    assert refs(candidate_duplicates(session, request, radius_m=300)) == [n.public_ref for n in (nearer, near, far)]
    assert refs(candidate_duplicates(session, request, radius_m=300, limit=1)) == [nearer.public_ref]


def test_candidates_are_within_the_days_before_or_after_and_open_or_closed(session, la, validator):
    request, before, after, old = (file(session, la, validator) for _ in range(4))
    move(session, request, 0)
    move(session, before, 20, days=-20)
    move(session, after, 30, days=25)
    move(session, old, 10, days=-45)
    change_status(session, before, "fixed", "crew", "Painted over")
    found = candidate_duplicates(session, request)
    assert refs(found) == [before.public_ref, after.public_ref]
    assert found[0].status == "fixed" and not found[0].is_open and found[1].is_open
    assert refs(candidate_duplicates(session, request, days=50)) == [
        old.public_ref,
        before.public_ref,
        after.public_ref,
    ]
    assert refs(candidate_duplicates(session, request, days=10)) == []


def test_never_itself_nor_a_duplicate(session, la, validator):
    request, copy, other = (file(session, la, validator) for _ in range(3))
    for r, m in ((request, 0), (copy, 5), (other, 50)):
        move(session, r, m)
    assert refs(candidate_duplicates(session, request)) == [copy.public_ref, other.public_ref]
    mark_duplicate(session, copy, request, "crew")
    assert refs(candidate_duplicates(session, request)) == [other.public_ref]
    assert refs(candidate_duplicates(session, copy)) == [request.public_ref, other.public_ref]


def test_another_citys_request_at_the_same_place_is_no_candidate(session, la, validator, gardena, gardena_validator):
    request = file(session, la, validator)
    theirs = create_request(
        session,
        gardena,
        gardena_validator,
        RequestInput(
            service_code="graffiti", channel="phone", lon=-118.3090, lat=33.8880, attributes={"surface": "wall"}
        ),
    ).request
    move(session, request, 0)
    move(session, theirs, 5)
    assert theirs.city == "gardena" and candidate_duplicates(session, request) == []


def test_a_request_without_a_point_has_no_candidates(session, la, validator):
    request, near = file(session, la, validator), file(session, la, validator)
    move(session, near, 5)
    session.execute(text("UPDATE service_request SET geom = NULL WHERE id = :id"), {"id": request.id})
    session.commit()
    session.refresh(request)
    assert request_point(session, request) is None and candidate_duplicates(session, request) == []
    assert request_point(session, near) is not None


def test_the_city_file_sets_the_radius_and_days(la):
    from core.city import IntakeSettings

    assert la.intake.candidate_radius_m == 200 and la.intake.candidate_days == 30
    assert IntakeSettings().candidate_radius_m == 200 and IntakeSettings().candidate_days == 30
