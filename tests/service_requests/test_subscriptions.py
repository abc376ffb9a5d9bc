"""Following a request by e-mail, "me too", and alerts for an area (issue 20, Must 7), against the real database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.settings import Settings
from geo import reports
from service_requests.followers import FollowerError, add_me_too, report_count
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import add_note, change_status
from service_requests.models import Notification, RequestEvent
from service_requests.notifications import compose
from service_requests.subscriptions import (
    CONFIRM_FOR,
    PER_ADDRESS,
    Area,
    Links,
    SubscriptionError,
    area_requests,
    confirm,
    follower_count,
    queue_area_alerts,
    subscribe_to_area,
    subscribe_to_request,
    token_hash,
    unsubscribe,
)

LINKS = Links("https://311.example.org")


def file(session, city, validator, address="2111 W Bellevue Ave", **extra):
    return create_request(
        session,
        city,
        validator,
        RequestInput(service_code="graffiti", channel="web", address=address, attributes={"surface": "wall"}, **extra),
    ).request


def mail_to(session, address: str) -> list[Notification]:
    return list(
        session.scalars(select(Notification).where(Notification.recipient == address).order_by(Notification.id))
    )


def confirm_token(session, address: str) -> str:
    """The token of the confirmation link last e-mailed to ``address``."""
    body = mail_to(session, address)[-1].body
    found = re.search(r"/subscriptions/confirm/(\S+)", body)
    assert found, body
    return found.group(1)


def test_following_sends_one_confirmation_and_nothing_more_until_confirmed(session, la, validator):
    request = file(session, la, validator)
    subscription = subscribe_to_request(session, request, "ana@example.org", LINKS)
    [sent] = mail_to(session, "ana@example.org")
    assert sent.subscription_id == subscription.id and "https://311.example.org/subscriptions/confirm/" in sent.body
    token = confirm_token(session, "ana@example.org")
    assert subscription.confirm_hash == token_hash(token) and token not in (subscription.confirm_hash or "")
    assert subscription.confirmed_at is None and follower_count(session, request.id) == 0

    change_status(session, request, "in_progress", "crew", note="Crew on the way")
    assert len(mail_to(session, "ana@example.org")) == 1  # unconfirmed: only the confirmation

    confirm(session, token)
    assert follower_count(session, request.id) == 1
    change_status(session, request, "fixed", "crew", note="Painted over")
    update = mail_to(session, "ana@example.org")[-1]
    assert update.subscription_id == subscription.id and "Painted over" in update.body
    assert request.short_ref_shown in update.subject


def test_public_notes_reach_followers_private_ones_do_not(session, la, validator):
    request = file(session, la, validator)
    subscribe_to_request(session, request, "bo@example.org", LINKS)
    confirm(session, confirm_token(session, "bo@example.org"))
    add_note(session, request, "crew", "Inside note", public=False)
    add_note(session, request, "crew", "Scheduled for Tuesday", public=True)
    bodies = [n.body for n in mail_to(session, "bo@example.org")[1:]]
    assert len(bodies) == 1 and "Scheduled for Tuesday" in bodies[0]


def test_a_confirmation_link_works_once(session, la, validator):
    request = file(session, la, validator)
    subscribe_to_request(session, request, "cy@example.org", LINKS)
    token = confirm_token(session, "cy@example.org")
    confirm(session, token)
    with pytest.raises(SubscriptionError, match="used already"):
        confirm(session, token)
    with pytest.raises(SubscriptionError, match="not known"):
        confirm(session, "made-up-token")


def test_a_confirmation_link_expires(session, la, validator):
    request = file(session, la, validator)
    subscription = subscribe_to_request(session, request, "di@example.org", LINKS)
    session.refresh(subscription)
    with pytest.raises(SubscriptionError, match="expired"):
        confirm(
            session,
            confirm_token(session, "di@example.org"),
            now=subscription.created_at + CONFIRM_FOR + timedelta(minutes=1),
        )
    assert subscription.confirmed_at is None


def test_unsubscribing_stops_the_updates_and_is_harmless_twice(session, la, validator):
    request = file(session, la, validator)
    subscription = subscribe_to_request(session, request, "ed@example.org", LINKS)
    confirm(session, confirm_token(session, "ed@example.org"))
    assert unsubscribe(session, subscription.unsubscribe_token).unsubscribed_at is not None
    assert unsubscribe(session, subscription.unsubscribe_token) is subscription
    assert unsubscribe(session, "no-such-token") is None
    change_status(session, request, "in_progress", "crew")
    assert len(mail_to(session, "ed@example.org")) == 1 and follower_count(session, request.id) == 0


def test_every_subscriber_email_carries_its_unsubscribe_link(session, la, validator):
    request = file(session, la, validator)
    subscription = subscribe_to_request(session, request, "fa@example.org", LINKS)
    [notification] = mail_to(session, "fa@example.org")
    message = compose(Settings(public_url="https://311.example.org"), notification, subscription)
    link = f"https://311.example.org/subscriptions/unsubscribe/{subscription.unsubscribe_token}"
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in message.get_content()


def test_bad_addresses_are_refused(session, la, validator):
    request = file(session, la, validator)
    for typed in ("", "not an address", "a@b"):
        with pytest.raises(SubscriptionError, match="e-mail address"):
            subscribe_to_request(session, request, typed, LINKS)


def test_one_address_gets_few_confirmations_whoever_asks(session, la, validator):
    request = file(session, la, validator)
    for _ in range(PER_ADDRESS.hits):
        subscribe_to_request(session, request, "Gu@Example.org", LINKS)
    with pytest.raises(SubscriptionError, match="within the hour"):
        subscribe_to_request(session, request, "gu@example.org", LINKS)
    assert len(mail_to(session, "Gu@Example.org")) == PER_ADDRESS.hits


def test_following_again_when_confirmed_sends_nothing(session, la, validator):
    request = file(session, la, validator)
    first = subscribe_to_request(session, request, "ha@example.org", LINKS)
    confirm(session, confirm_token(session, "ha@example.org"))
    assert subscribe_to_request(session, request, "ha@example.org", LINKS) is first
    assert len(mail_to(session, "ha@example.org")) == 1


# -- me too ----------------------------------------------------------------------------


def test_me_too_is_another_report_of_the_same_problem(session, la, validator):
    request = file(session, la, validator)
    assert report_count(session, request.id) == 1
    add_me_too(session, request, la.channels.web_form)
    assert report_count(session, request.id) == 2
    event = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.kind == "reported_again")
    ).one()
    assert event.public and event.data == {"channel": la.channels.web_form} and event.actor == "public"


def test_me_too_on_a_closed_request_is_refused(session, la, validator):
    request = file(session, la, validator)
    change_status(session, request, "fixed", "crew")
    with pytest.raises(FollowerError, match="closed"):
        add_me_too(session, request, la.channels.web_form)


def test_me_toos_leave_the_reports_requests_and_distinct_problems_as_they_were(session, la, validator):
    """A me-too is a report of a problem already counted: the Summary counts requests, so it is unchanged."""
    request = file(session, la, validator)
    before = reports.summary(session, la)
    add_me_too(session, request, la.channels.web_form)
    add_me_too(session, request, la.channels.web_form)
    after = reports.summary(session, la)
    assert after["requests"] == before["requests"] and after["distinct_problems"] == before["distinct_problems"]
    assert report_count(session, request.id) == 3


# -- alerts for an area ----------------------------------------------------------------


def confirmed_area(session, city, area, address, updates=False):
    subscription = subscribe_to_area(session, city, area, address, LINKS, updates=updates)
    confirm(session, confirm_token(session, address))
    return subscription


def test_a_ward_alert_lists_the_new_requests_of_the_ward_once(session, la, validator):
    earlier = file(session, la, validator)
    ward = earlier.ward_key
    assert ward
    confirmed_area(session, "la", Area("ward", f"Council District {ward}", ward_key=ward), "ia@example.org")
    inside = file(session, la, validator)
    outside = file(session, la, validator, address="130 N Spring St")
    assert outside.ward_key != ward
    report = queue_area_alerts(session, "la", LINKS)
    assert report.subscribers >= 1
    [alert] = mail_to(session, "ia@example.org")[1:]
    assert inside.public_ref in alert.body and earlier.public_ref not in alert.body
    assert outside.public_ref not in alert.body and alert.request_id is None and alert.subscription_id
    queue_area_alerts(session, "la", LINKS)
    assert len(mail_to(session, "ia@example.org")) == 2  # sent once


def test_a_radius_alert_lists_the_requests_within_it(session, la, validator):
    near = file(session, la, validator)
    lon, lat = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM service_request WHERE id = :id"), {"id": near.id}
    ).one()
    confirmed_area(session, "la", Area.near(lon, lat, 300, "300 m around the 2100 block"), "jo@example.org")
    inside = file(session, la, validator)  # the same place, filed after the confirmation
    far = file(session, la, validator, address="130 N Spring St")
    queue_area_alerts(session, "la", LINKS, place=lambda address: "somewhere public")
    [alert] = mail_to(session, "jo@example.org")[1:]
    assert inside.public_ref in alert.body and far.public_ref not in alert.body and near.public_ref not in alert.body
    assert "somewhere public" in alert.body


def test_area_alerts_with_updates_tell_status_changes(session, la, validator):
    request = file(session, la, validator)
    confirmed_area(session, "la", Area("ward", "the ward", ward_key=request.ward_key), "ka@example.org", updates=True)
    change_status(session, request, "in_progress", "crew", note="On it")
    queue_area_alerts(session, "la", LINKS)
    [alert] = mail_to(session, "ka@example.org")[1:]
    assert request.short_ref_shown in alert.body and "In progress" in alert.body


def test_unconfirmed_and_unsubscribed_area_subscribers_get_no_alerts(session, la, validator):
    request = file(session, la, validator)
    area = Area("ward", "the ward", ward_key=request.ward_key)
    subscribe_to_area(session, "la", area, "lu@example.org", LINKS, updates=False)
    gone = confirmed_area(session, "la", area, "mo@example.org")
    unsubscribe(session, gone.unsubscribe_token)
    file(session, la, validator)
    queue_area_alerts(session, "la", LINKS)
    assert len(mail_to(session, "lu@example.org")) == 1 and len(mail_to(session, "mo@example.org")) == 1


def test_radius_bounds():
    with pytest.raises(SubscriptionError, match="radius"):
        Area.near(-118.25, 34.05, 10, "too small")
    with pytest.raises(SubscriptionError, match="radius"):
        Area.near(-118.25, 34.05, 50_000, "too big")


def test_area_requests_never_show_placeholder_points(session, la, validator):
    request = file(session, la, validator)
    session.execute(
        text("UPDATE service_request SET location_quality = 'placeholder' WHERE id = :id"), {"id": request.id}
    )
    session.commit()
    found = area_requests(session, "la", Area("ward", "w", ward_key=request.ward_key), limit=1000)
    assert request.id not in [r.id for r in found]


def test_a_fixture_city_has_radius_alerts_of_its_own(session, la, gardena, gardena_validator):
    """Gardena (no wards) gets radius alerts; a Gardena subscriber never hears of Los Angeles requests."""
    point = {"lon": -118.3090, "lat": 33.8880}
    confirmed_area(session, "gardena", Area.near(point["lon"], point["lat"], 500, "near city hall"), "ne@example.org")
    theirs = create_request(
        session,
        gardena,
        gardena_validator,
        RequestInput(
            service_code="graffiti", channel="phone", attributes={"surface": "wall"}, lon=point["lon"], lat=point["lat"]
        ),
    ).request
    queue_area_alerts(session, "la", LINKS)
    assert len(mail_to(session, "ne@example.org")) == 1  # Los Angeles' run leaves Gardena's subscribers alone
    queue_area_alerts(session, "gardena", LINKS)
    [alert] = mail_to(session, "ne@example.org")[1:]
    assert theirs.public_ref in alert.body


def test_the_alerts_send_command_queues_each_alert_once(app, session, la, validator):
    request = file(session, la, validator)
    confirmed_area(session, "la", Area("ward", "the ward", ward_key=request.ward_key), "cli@example.org")
    new = file(session, la, validator)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["alerts", "send"])
    assert first.exit_code == 0, first.output
    assert "1 alert e-mail(s) queued" in first.output and "wait in the outbox" in first.output
    [alert] = mail_to(session, "cli@example.org")[1:]
    assert new.public_ref in alert.body and "2100 block of W BELLEVUE AVE" in alert.body  # the public place only
    again = runner.invoke(args=["alerts", "send"])
    assert "0 alert e-mail(s) queued" in again.output and len(mail_to(session, "cli@example.org")) == 2
