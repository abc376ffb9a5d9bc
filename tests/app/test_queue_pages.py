"""The work queue page, its map points and its CSV; the reassign form's assignee select."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service_requests.models import ServiceRequest
from tests.helpers.requests import file_graffiti
from tests.helpers.staff import make_user


def make(session, la, validator, **changes):
    return file_graffiti(session, la, validator, **changes)


def test_department_staff_see_their_queue_with_names(client_as, session, la, validator):
    late = make(session, la, validator, requested_at=datetime.now(UTC) - timedelta(days=5))
    client = client_as("department", department_code="OCB")
    page = client.get("/staff/queue")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and late.public_ref in html and "Late:" in html and "days late" in html
    assert 'href="/staff/queue"' in html  # the navigation links to it
    assert "Page 1" in html


def test_other_departments_requests_are_not_in_the_queue(client_as, session, la, validator):
    ocb = make(session, la, validator)
    client = client_as("department", department_code="BSS")
    assert ocb.public_ref not in client.get("/staff/queue").get_data(as_text=True)
    assert ocb.public_ref not in client.get("/staff/queue?department=OCB").get_data(as_text=True)


def test_bad_query_is_a_400_with_a_sentence(client_as):
    client = client_as("department", department_code="OCB")
    response = client.get("/staff/queue?sort=nonsense")
    assert response.status_code == 400 and "sort must be one of" in response.get_data(as_text=True)
    assert client.get("/staff/queue?page=abc").status_code == 400


def test_roles_without_the_queue_are_refused(client_as):
    assert client_as("intake").get("/staff/queue").status_code in (302, 403)


def test_points_and_csv_of_the_view(client_as, session, la, validator):
    request = make(session, la, validator)
    request.description = "=HYPERLINK(1)"
    request.address = "=cmd|' /C calc'!A0"
    session.commit()
    client = client_as("supervisor", department_code="OCB")
    points = client.get("/staff/queue/points.json").get_json()
    assert request.public_ref in [f["properties"]["reference"] for f in points["features"]]
    body = client.get("/staff/queue/queue.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    row = next(r for r in rows if r["reference"] == request.public_ref)
    assert row["place"].startswith("'=")  # formula-safe


def test_reassign_to_department_staff_only(client_as, session, la, validator):
    request = make(session, la, validator)
    make_user(session, "department", "olga", department_code="OCB")
    make_user(session, "department", "boris", department_code="BSS")
    client = client_as("supervisor", department_code="OCB")
    url = f"/staff/requests/{request.public_ref}"
    assert 'value="user:olga"' in client.get(url).get_data(as_text=True)
    refused = client.post(
        url, data={"action": "reassign", "department": "OCB", "assignee": "user:boris", "reason": "x"}
    )
    assert refused.status_code == 400 and "not staff of department OCB" in refused.get_data(as_text=True)
    assert (
        client.post(
            url, data={"action": "reassign", "department": "OCB", "assignee": "user:olga", "reason": "x"}
        ).status_code
        == 303
    )
    stored = session.scalar(select(ServiceRequest.assignee).where(ServiceRequest.id == request.id))
    assert stored == "user:olga"
    queue = client.get("/staff/queue?mine=1").get_data(as_text=True)
    assert request.public_ref not in queue  # assigned to olga, not to the supervisor
    assert "Test department" in client.get("/staff/queue").get_data(as_text=True)


def test_reassign_to_a_named_crew_of_the_department(client_as, session, la, validator):
    request = make(session, la, validator)
    client = client_as("supervisor", department_code="OCB")
    url = f"/staff/requests/{request.public_ref}"
    assert 'value="crew:graffiti-3"' in client.get(url).get_data(as_text=True)
    refused = client.post(
        url, data={"action": "reassign", "department": "OCB", "assignee": "crew:bulky-east", "reason": "x"}
    )
    assert refused.status_code == 400 and "no crew" in refused.get_data(as_text=True)
    done = client.post(
        url, data={"action": "reassign", "department": "OCB", "assignee": "crew:graffiti-3", "reason": "Crew work"}
    )
    assert done.status_code == 303
    assert session.scalar(select(ServiceRequest.assignee).where(ServiceRequest.id == request.id)) == "crew:graffiti-3"
    page = client.get(url).get_data(as_text=True)
    assert "Graffiti crew 3 (crew)" in page and "crew:graffiti-3</dd>" not in page
    assert "Graffiti crew 3 (crew)" in client.get("/staff/queue").get_data(as_text=True)


def test_priority_form_sets_it_and_the_queue_shows_and_sorts_it(client_as, session, la, validator):
    request = make(session, la, validator)
    client = client_as("department", department_code="OCB")
    url = f"/staff/requests/{request.public_ref}"
    assert "Emergency: 4 hours" in client.get(url).get_data(as_text=True)
    refused = client.post(url, data={"action": "priority", "priority": "Someday"})
    assert refused.status_code == 400 and "no priority" in refused.get_data(as_text=True)
    assert client.post(url, data={"action": "priority", "priority": "Emergency"}).status_code == 303
    history = client.get(url).get_data(as_text=True)
    assert "Priority: Emergency (was none)" in history
    queue = client.get("/staff/queue?sort=priority").get_data(as_text=True)
    assert request.public_ref in queue and 'aria-sort="ascending"' in queue


def test_save_open_and_delete_a_view(client_as):
    client = client_as("department", department_code="OCB")
    saved = client.post("/staff/queue/views", data={"name": "Late", "query": "overdue=1&sort=age"})
    assert saved.status_code == 303 and "overdue=1" in saved.headers["Location"]
    page = client.get("/staff/queue").get_data(as_text=True)
    assert ">Late</a>" in page and "?overdue=1&amp;sort=age" in page
    refused = client.post("/staff/queue/views", data={"name": "", "query": "mine=1"}, follow_redirects=True)
    assert refused.status_code == 200 and "Give the view a name" in refused.get_data(as_text=True)
    assert client.post("/staff/queue/views/999999/delete", follow_redirects=True).status_code == 200
    beyond = client.post("/staff/queue/views/54847404470317703233536/delete", follow_redirects=True)
    assert beyond.status_code == 200 and "You have no such saved view." in beyond.get_data(as_text=True)  # not a 500


def test_bulk_needs_one_confirmation(client_as, session, la, validator):
    a, b = make(session, la, validator), make(session, la, validator)
    worker = make_user(session, "department", department_code="OCB")
    client = client_as("supervisor", department_code="OCB")
    data = {"action": "assign", "assignee": f"user:{worker}", "ref": [a.public_ref, b.public_ref]}
    from werkzeug.datastructures import MultiDict

    review = client.post(
        "/staff/queue/bulk",
        data=MultiDict([(k, v) for k, vs in data.items() for v in ([vs] if isinstance(vs, str) else vs)]),
    )
    html = review.get_data(as_text=True)
    assert review.status_code == 200 and "Confirm: 2 request(s)" in html and "Test department" in html
    session.refresh(a)
    assert a.assignee is None  # nothing done before the confirmation
    done = client.post(
        "/staff/queue/bulk",
        data=MultiDict(
            [
                ("action", "assign"),
                ("assignee", f"user:{worker}"),
                ("confirm", "1"),
                ("ref", a.public_ref),
                ("ref", b.public_ref),
            ]
        ),
        follow_redirects=True,
    )
    assert "2 assigned." in done.get_data(as_text=True)
    none = client.post("/staff/queue/bulk", data={"action": "assign"}, follow_redirects=True)
    assert "Check at least one request" in none.get_data(as_text=True)
