"""Replies to residents: queued by the way each asked to be told, recorded in the public history."""

from __future__ import annotations

import pytest

from core.replies_file import DEFAULT_REPLY_TEMPLATES, MAX_REPLY
from service_requests.followers import add_follower
from service_requests.models import Notification, RequestEvent
from service_requests.replies import ReplyError, send_reply, templates_for, why_no_reply
from tests.helpers.requests import file_graffiti


def file(session, la, validator, **changes):
    return file_graffiti(session, la, validator, **changes)


def queued(session, request):
    return session.query(Notification).filter_by(request_id=request.id).order_by(Notification.id).all()


def test_a_reply_is_queued_by_the_requesters_method_and_recorded(session, la, validator):
    request = file(session, la, validator, email="ana@example.org", response_method="email")
    before = len(queued(session, request))
    send_reply(session, request, "  We will be there on Monday.  ", "crew")
    reply = queued(session, request)[before:]
    assert [(n.method, n.recipient, n.body) for n in reply] == [
        ("email", "ana@example.org", "We will be there on Monday.")
    ]
    event = session.query(RequestEvent).filter_by(request_id=request.id, kind="reply").one()
    assert event.public and event.note == "We will be there on Monday." and event.actor == "crew"


def test_followers_get_the_reply_too(session, la, validator):
    request = file(session, la, validator, phone="2135550100", response_method="phone")
    add_follower(
        session,
        request,
        first_name="Bo",
        last_name=None,
        email="bo@example.org",
        phone=None,
        response_method="email",
        channel="phone",
        actor="intake",
    )
    before = len(queued(session, request))
    send_reply(session, request, "Scheduled.", "crew")
    assert {(n.method, n.recipient) for n in queued(session, request)[before:]} == {
        ("phone", "2135550100"),
        ("email", "bo@example.org"),
    }


def test_nobody_to_reach_is_an_error_that_says_why(session, la, validator):
    request = file(session, la, validator, email="ana@example.org", response_method="none")
    assert "asked for no reply" in why_no_reply(session, request)
    with pytest.raises(ReplyError, match="asked for no reply"):
        send_reply(session, request, "Hello", "crew")
    assert session.query(RequestEvent).filter_by(request_id=request.id, kind="reply").count() == 0
    anonymous = file(session, la, validator)
    assert "No contact is kept" in why_no_reply(session, anonymous)


@pytest.mark.parametrize("text,message", [("   ", "is empty"), ("x" * (MAX_REPLY + 1), "at most")])
def test_empty_or_too_long_text_is_refused(session, la, validator, text, message):
    request = file(session, la, validator, email="ana@example.org", response_method="email")
    before = len(queued(session, request))
    with pytest.raises(ReplyError, match=message):
        send_reply(session, request, text, "crew")
    assert len(queued(session, request)) == before


def test_templates_fit_the_service_and_status_and_are_filled_in(session, la, validator):
    request = file(session, la, validator)
    names = [t.name for t, _ in templates_for(la.reply_templates, request)]
    assert names == ["Received"]  # not the bulky items one, not the fixed graffiti one
    request.status = "fixed"
    fitted = dict((t.name, text) for t, text in templates_for(la.reply_templates, request))
    assert set(fitted) == {"Received", "Graffiti removed"}
    assert (
        request.short_ref_shown in fitted["Graffiti removed"]
        and "2111 W BELLEVUE" in fitted["Graffiti removed"].upper()
    )
    assert "{" not in fitted["Graffiti removed"]
    assert [t.name for t, _ in templates_for(DEFAULT_REPLY_TEMPLATES, request)] == ["Received", "Closed"]
