"""The staff request page answers every action on the same page: confirmations, errors, where a request went."""

from __future__ import annotations

from service_requests.models import RequestEvent
from tests.app.test_staff_pages import make


def page(client, request) -> str:
    return client.get(f"/staff/requests/{request.public_ref}").get_data(as_text=True)


def test_the_status_menu_starts_at_the_current_status(client_as, session, la, validator):
    request = make(session, la, validator)
    staff = client_as("department")
    url = f"/staff/requests/{request.public_ref}"
    assert 'value="submitted" selected' in page(staff, request)
    staff.post(url, data={"action": "status", "status": "in_progress", "note": "Crew sent"})
    html = page(staff, request)
    assert 'value="in_progress" selected' in html and 'value="submitted" selected' not in html


def test_a_note_never_changes_the_status(client_as, session, la, validator):
    request = make(session, la, validator)
    staff = client_as("department")
    url = f"/staff/requests/{request.public_ref}"
    staff.post(url, data={"action": "status", "status": "in_progress"})
    answer = staff.post(url, data={"action": "note", "note": "Called back", "status": "submitted"})
    session.refresh(request)
    assert answer.status_code == 303 and request.status == "in_progress"


def test_every_action_is_confirmed_on_the_page(client_as, session, la, validator):
    request = make(session, la, validator)
    staff = client_as("department")
    url = f"/staff/requests/{request.public_ref}"
    html = staff.post(url, data={"action": "note", "note": "Called back"}, follow_redirects=True).get_data(as_text=True)
    assert "Note added." in html and request.public_ref in html
    html = staff.post(url, data={"action": "status", "status": "in_progress"}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Status changed to In progress." in html


def test_a_mistyped_original_is_an_error_on_the_page(client_as, session, la, validator):
    request = make(session, la, validator)
    staff = client_as("department")
    answer = staff.post(f"/staff/requests/{request.public_ref}", data={"action": "duplicate", "original": "LA-NOPE"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "No request you can see has the reference LA-NOPE" in html
    assert 'value="LA-NOPE"' in html and request.public_ref in html  # what was typed is kept, the request shown
    session.refresh(request)
    assert request.status == "submitted"


def test_another_departments_original_is_an_error_on_the_page(client_as, session, la, validator):
    request = make(session, la, validator)
    other = make(session, la, validator, service_code="graffiti")
    other.department_code = "BSS"
    session.commit()
    staff = client_as("department")
    answer = staff.post(
        f"/staff/requests/{request.public_ref}", data={"action": "duplicate", "original": other.public_ref}
    )
    assert answer.status_code == 400 and "No request you can see" in answer.get_data(as_text=True)


def test_marking_a_duplicate_is_confirmed(client_as, session, la, validator):
    original, copy = make(session, la, validator), make(session, la, validator)
    staff = client_as("department")
    answer = staff.post(
        f"/staff/requests/{copy.public_ref}",
        data={"action": "duplicate", "original": original.public_ref},
        follow_redirects=True,
    )
    assert f"Marked as a duplicate of {original.public_ref}." in answer.get_data(as_text=True)
    html = page(staff, original)
    assert "Its duplicates" in html and f'href="/staff/requests/{copy.public_ref}"' in html


def test_an_action_the_role_may_not_do_answers_on_the_page(client_as, session, la, validator):
    request = make(session, la, validator)
    staff = client_as("department")  # department staff may not reassign
    answer = staff.post(
        f"/staff/requests/{request.public_ref}", data={"action": "reassign", "department": "BSS", "reason": "x"}
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 403 and "does not allow" in html and request.public_ref in html
    answer = staff.post(f"/staff/requests/{request.public_ref}", data={"action": "explode"})
    assert answer.status_code == 400 and "not known" in answer.get_data(as_text=True)


def test_a_reassignment_out_of_scope_says_where_it_went(client_as, session, la, validator):
    request = make(session, la, validator)
    supervisor = client_as("supervisor")
    answer = supervisor.post(
        f"/staff/requests/{request.public_ref}",
        data={"action": "reassign", "department": "BSS", "reason": "Sidewalk"},
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and request.public_ref in html and "Bureau of Street Services" in html
    assert "No request has that reference" not in html


def test_history_kinds_and_reply_method_in_words(client_as, session, la, validator):
    request = make(session, la, validator, response_method="none")
    staff = client_as("department")
    staff.post(f"/staff/requests/{request.public_ref}", data={"action": "note", "note": "Called back"})
    html = page(staff, request)
    assert "<td>Created" in html and "<td>Note" in html and "reply by no reply wanted" in html
    assert "reply by none" not in html
    assert session.query(RequestEvent).filter_by(request_id=request.id, kind="note").count() == 1


def test_areas_and_answers_show_their_names(client_as, session, la, validator):
    from service_requests.selection import filter_choices

    request = make(session, la, validator)
    html = page(client_as("department"), request)
    assert "Office of Community Beautification" in html
    assert "<dt>Where is the graffiti?</dt><dd>Building wall</dd>" in html
    assert "surface:" not in html
    areas = filter_choices(session, la)
    assert request.ward_key and areas.wards[request.ward_key] in html
    if request.district_key:
        assert areas.districts[request.district_key] in html
