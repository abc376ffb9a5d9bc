"""Candidate duplicates on the staff request page: listed with date, status and distance, one click either way."""

from __future__ import annotations

import json
import re

from sqlalchemy import text

from tests.app.test_staff_pages import make


def page(client, request) -> str:
    return client.get(f"/staff/requests/{request.public_ref}").get_data(as_text=True)


def test_candidates_are_listed_with_date_status_distance_and_both_actions(client_as, session, la, validator):
    request, other = make(session, la, validator), make(session, la, validator)
    html = page(client_as("department"), request)
    assert "Possible duplicates" in html
    item = re.search(rf'<li class="candidate" data-reference="{other.public_ref}">(.*?)</li>', html, re.S).group(1)
    assert other.short_ref_shown in item and "Submitted" in item and "0 m away" in item
    assert other.requested_at.astimezone(la.tz).strftime("%Y-%m-%d") in item
    assert "Mark this request a duplicate of it" in item and "Mark it a duplicate of this one" in item
    assert f'data-reference="{request.public_ref}"' not in html  # never itself
    data = json.loads(re.search(r'id="request-map-data">(.*?)</script>', html, re.S).group(1))
    assert data["point"]["reference"] == request.public_ref
    assert [c["reference"] for c in data["candidates"]] == [other.public_ref]


def test_one_click_marks_this_request_a_duplicate_of_the_candidate(client_as, session, la, validator):
    request, other = make(session, la, validator), make(session, la, validator)
    answer = client_as("department").post(
        f"/staff/requests/{request.public_ref}",
        data={"action": "duplicate", "original": other.public_ref},
        follow_redirects=True,
    )
    session.refresh(request)
    assert request.status == "duplicate" and request.duplicate_of == other.id
    assert f"Marked as a duplicate of {other.public_ref}." in answer.get_data(as_text=True)


def test_one_click_marks_the_candidate_a_duplicate_of_this_request(client_as, session, la, validator):
    request, other = make(session, la, validator), make(session, la, validator)
    answer = client_as("department").post(
        f"/staff/requests/{request.public_ref}",
        data={"action": "duplicate", "original": request.public_ref, "target": other.public_ref},
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/staff/requests/{request.public_ref}")
    session.refresh(request), session.refresh(other)
    assert other.status == "duplicate" and other.duplicate_of == request.id and request.is_open
    html = page(client_as("department"), request)
    assert "Its duplicates" in html and f'href="/staff/requests/{other.public_ref}"' in html


def test_an_out_of_scope_candidate_is_not_listed_and_cannot_be_closed(client_as, session, la, validator):
    request, other = make(session, la, validator), make(session, la, validator)
    other.department_code = "BSS"
    session.commit()
    staff = client_as("department")
    assert f'data-reference="{other.public_ref}"' not in page(staff, request)
    answer = staff.post(
        f"/staff/requests/{request.public_ref}",
        data={"action": "duplicate", "original": request.public_ref, "target": other.public_ref},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403 and f"You may not change the request {other.public_ref}" in html
    assert request.public_ref in html  # the page stays on this request
    session.refresh(other)
    assert other.is_open and other.duplicate_of is None


def test_a_closed_candidate_offers_only_this_request_as_its_duplicate(client_as, session, la, validator):
    from service_requests.lifecycle import change_status

    request, other = make(session, la, validator), make(session, la, validator)
    change_status(session, other, "fixed", "crew", "Painted over")
    item = re.search(
        rf'<li class="candidate" data-reference="{other.public_ref}">(.*?)</li>',
        page(client_as("department"), request),
        re.S,
    ).group(1)
    assert "Fixed" in item and "Mark this request a duplicate of it" in item and "Mark it a duplicate" not in item


def test_a_request_without_a_point_has_no_map_and_says_why_no_candidates(client_as, session, la, validator):
    request, _other = make(session, la, validator), make(session, la, validator)
    session.execute(text("UPDATE service_request SET geom = NULL WHERE id = :id"), {"id": request.id})
    session.commit()
    html = page(client_as("department"), request)
    assert "candidate duplicates can be found" in html and "No map: this request has no point" in html
    assert 'id="request-map"' not in html and "request-map.js" not in html


def test_the_map_data_holds_nearby_open_requests_beyond_the_candidates(client_as, session, la, validator):
    request, candidate, nearby = (make(session, la, validator) for _ in range(3))
    session.execute(
        text(
            "UPDATE service_request SET geom = ST_Project(geom::geography, 600, radians(90))::geometry WHERE id = :id"
        ),
        {"id": nearby.id},
    )
    session.commit()
    staff = client_as("department")
    staff.post(
        f"/staff/requests/{request.public_ref}",
        data={"action": "duplicate", "original": request.public_ref, "target": candidate.public_ref},
    )
    data = json.loads(re.search(r'id="request-map-data">(.*?)</script>', page(staff, request), re.S).group(1))
    assert data["candidates"] == []
    assert [(n["reference"], 599 <= n["distance_m"] <= 601) for n in data["nearby"]] == [(nearby.public_ref, True)]
