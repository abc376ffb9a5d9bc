"""Replies, photos and followers on the staff request page."""

from __future__ import annotations

from core.replies_file import MAX_REPLY
from service_requests.followers import add_follower
from service_requests.models import Notification, RequestEvent
from tests.app.test_staff_pages import make


def page(client, request) -> str:
    return client.get(f"/staff/requests/{request.public_ref}").get_data(as_text=True)


def test_a_templated_reply_is_offered_filled_in_and_sent(client_as, session, la, validator):
    request = make(session, la, validator, response_method="email")
    staff = client_as("department")
    html = page(staff, request)
    assert "Reply to the resident" in html and '<option value="Received"' in html
    assert "Graffiti removed" not in html  # that one is for fixed graffiti
    assert f"Your request {request.short_ref_shown} (Graffiti Removal)" in html  # filled in
    answer = staff.post(
        f"/staff/requests/{request.public_ref}",
        data={"action": "reply", "template": "Received", "text": "Edited: we have it."},
        follow_redirects=True,
    )
    assert "Reply sent" in answer.get_data(as_text=True)
    sent = session.query(Notification).filter_by(request_id=request.id, body="Edited: we have it.").one()
    assert (sent.method, sent.recipient) == ("email", "ana@example.org")
    assert "<td>Reply sent" in page(staff, request)
    assert session.query(RequestEvent).filter_by(request_id=request.id, kind="reply").one().public


def test_no_reply_wanted_says_why_and_a_posted_reply_is_an_error(client_as, session, la, validator):
    request = make(session, la, validator, response_method="none")
    staff = client_as("department")
    html = page(staff, request)
    assert "asked for no reply" in html and 'id="reply-text"' not in html
    answer = staff.post(f"/staff/requests/{request.public_ref}", data={"action": "reply", "text": "Hello"})
    assert answer.status_code == 400 and "asked for no reply" in answer.get_data(as_text=True)
    assert session.query(RequestEvent).filter_by(request_id=request.id, kind="reply").count() == 0


def test_empty_or_too_long_replies_are_errors_on_the_page_that_keep_the_text(client_as, session, la, validator):
    request = make(session, la, validator, response_method="email")
    staff = client_as("department")
    url = f"/staff/requests/{request.public_ref}"
    answer = staff.post(url, data={"action": "reply", "text": "   "})
    assert answer.status_code == 400 and "The reply is empty" in answer.get_data(as_text=True)
    long = "word " * (MAX_REPLY // 4)
    answer = staff.post(url, data={"action": "reply", "text": long})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Please shorten it" in html and long.strip() in html


def test_a_role_without_contact_access_cannot_reply(client_as, session, la, validator):
    request = make(session, la, validator, response_method="email")
    viewer = client_as("planner")
    assert "Reply to the resident" not in page(viewer, request)
    answer = viewer.post(f"/staff/requests/{request.public_ref}", data={"action": "reply", "text": "Hi"})
    assert answer.status_code in (403, 404)
    assert session.query(RequestEvent).filter_by(request_id=request.id, kind="reply").count() == 0


def test_the_photo_is_a_link_to_its_host_and_never_loaded_from_it(client_as, session, la, validator):
    request = make(session, la, validator, media_url="https://media.example.org/p/1.jpg")
    staff = client_as("department")
    answer = staff.get(f"/staff/requests/{request.public_ref}")
    html = answer.get_data(as_text=True)
    assert 'href="https://media.example.org/p/1.jpg"' in html and "kept by media.example.org" in html
    assert '<img src="https://media.example.org' not in html  # it would tell that host who looked
    assert "https:" not in answer.headers["Content-Security-Policy"].split("img-src")[1].split(";")[0]
    served = make(session, la, validator)
    served.media_url = "/media/requests/1.jpg"  # a photo the app serves itself is shown
    session.commit()
    own = page(staff, served)
    assert '<img src="/media/requests/1.jpg"' in own
    without = page(staff, make(session, la, validator))
    assert 'value="photo_add"' in without and 'class="photo-list"' not in without  # only the form to add some
    assert '<h2 id="photos-title">' not in page(client_as("planner"), make(session, la, validator))


def test_reported_count_and_followers_for_contact_roles(client_as, session, la, validator):
    request = make(session, la, validator)
    assert "Reported 1 time." in page(client_as("department"), request)
    add_follower(
        session,
        request,
        first_name="Bo",
        last_name="Lee",
        email=None,
        phone="2135550199",
        response_method="phone",
        channel="phone",
        actor="intake",
    )
    html = page(client_as("department"), request)
    assert "Reported 2 times" in html and "Bo Lee: told by phone (" in html and "2135550199" in html
