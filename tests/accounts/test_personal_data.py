"""The requester's own words (description, location note) reach only roles with the contact permission,
until a staff member marks them public; tested route by route for every role."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from accounts.roles import ROLES
from service_requests.intake import RequestInput, create_request
from service_requests.models import ServiceRequest

DESCRIPTION = "Tagging again, call Maria Lopez on 213-555-0142 after six"
NOTE = "behind the blue gate of Maria Lopez, 213-555-0199"
PRIVATE = ("Maria Lopez", "213-555-0142", "213-555-0199")
WITHOUT_CONTACT = [role for role, r in ROLES.items() if "requests.contact" not in r.permissions]
WITH_CONTACT = [role for role, r in ROLES.items() if "requests.contact" in r.permissions]


@pytest.fixture
def private_request(session, la, validator) -> ServiceRequest:
    """A graffiti request (department OCB, ward 13) whose description and location note name the requester."""
    form = RequestInput(
        service_code="graffiti",
        channel="phone",
        address="2111 W BELLEVUE AVE",
        attributes={"surface": "wall"},
        description=DESCRIPTION,
        location_note=NOTE,
    )
    return create_request(session, la, validator, form).request


def _lists(request: ServiceRequest) -> list[str]:
    """The request lists and exports of the maps and reports that hold this request."""
    today = request.requested_at.astimezone(ZoneInfo("America/Los_Angeles")).date().isoformat()  # the city's day
    narrow = f"service=graffiti&from={today}"
    return [
        f"/maps/requests?{narrow}",
        f"/maps/export/requests.geojson?{narrow}",
        f"/reports/requests.csv?{narrow}",
        f"/reports/requests.geojson?{narrow}",
    ]


def _staff_page(client, request: ServiceRequest) -> str:
    response = client.get(f"/staff/requests/{request.public_ref}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _public_pages(client, request: ServiceRequest) -> str:
    status = client.get(f"/status/{request.public_ref}")
    open311 = client.get(f"/open311/v2/requests/{request.public_ref}.json")
    assert status.status_code == open311.status_code == 200
    return status.get_data(as_text=True) + open311.get_data(as_text=True)


@pytest.mark.parametrize("role", WITHOUT_CONTACT)
def test_roles_without_the_contact_permission_never_see_the_requesters_words(role, client_as, private_request):
    browser = client_as(role)
    assert not any(text in _staff_page(browser, private_request) for text in PRIVATE)
    for url in _lists(private_request):
        response = browser.get(url)
        if response.status_code == 403:  # a role without data.export or requests.view
            continue
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and private_request.public_ref in body, url  # listed...
        assert not any(text in body for text in PRIVATE), (role, url)  # ...without their words


@pytest.mark.parametrize("role", WITH_CONTACT)
def test_roles_with_the_contact_permission_see_them(role, client_as, private_request):
    page = _staff_page(client_as(role), private_request)
    assert DESCRIPTION in page and NOTE in page


def test_the_public_never_sees_them_unmarked(client, private_request):
    assert not any(text in _public_pages(client, private_request) for text in PRIVATE)


def test_marked_public_every_role_and_the_public_see_them(client, client_as, private_request, session):
    for role in ("council", "planner", "analyst"):  # may not decide: they cannot read the words
        assert (
            client_as(role)
            .post(f"/staff/requests/{private_request.public_ref}", data={"action": "details", "public": "1"})
            .status_code
            == 403
        )
    supervisor = client_as("supervisor")  # of OCB, the request's department
    assert (
        supervisor.post(
            f"/staff/requests/{private_request.public_ref}", data={"action": "details", "public": "1"}
        ).status_code
        == 303
    )
    session.refresh(private_request)
    assert private_request.details_public
    for role in WITHOUT_CONTACT:
        page = _staff_page(client_as(role), private_request)
        assert DESCRIPTION in page and NOTE in page, role
    public = _public_pages(client, private_request)
    assert DESCRIPTION in public and NOTE in public
    assert (
        supervisor.post(
            f"/staff/requests/{private_request.public_ref}", data={"action": "details", "public": "0"}
        ).status_code
        == 303
    )
    assert not any(text in _staff_page(client_as("analyst"), private_request) for text in PRIVATE)
