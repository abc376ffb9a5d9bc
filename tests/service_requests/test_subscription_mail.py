"""Subscriber e-mails through a real SMTP server on loopback: the confirmation, then the updates, each with
its unsubscribe link and header; a message queued before unsubscribing is not sent."""

from __future__ import annotations

import dataclasses
import re

from aiosmtpd.controller import Controller

from service_requests.lifecycle import change_status
from service_requests.models import Notification
from service_requests.notifications import deliver_pending
from service_requests.subscriptions import (
    Area,
    Links,
    confirm,
    queue_area_alerts,
    subscribe_to_area,
    subscribe_to_request,
    unsubscribe,
)
from tests.service_requests.test_notifications import Inbox, free_port, request_with


def test_confirmation_then_updates_arrive_with_their_unsubscribe_link(session, la, settings, validator):
    request = request_with(session, la, validator)
    port = free_port()
    smtp = dataclasses.replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="311@la.example",
        public_url="https://311.example.org",
    )
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        subscription = subscribe_to_request(session, request, "ana@example.org", Links(smtp.public_url))
        assert deliver_pending(session, smtp, "la").sent == 1
        [confirmation] = inbox.messages
        body = confirmation.get_payload(decode=True).decode()
        token = re.search(r"https://311\.example\.org/subscriptions/confirm/(\S+)", body).group(1)
        unsubscribe_link = f"https://311.example.org/subscriptions/unsubscribe/{subscription.unsubscribe_token}"
        assert confirmation["List-Unsubscribe"] == f"<{unsubscribe_link}>" and unsubscribe_link in body

        confirm(session, token)
        change_status(session, request, "in_progress", "crew", note="Crew on the way")
        deliver_pending(session, smtp, "la")
        update = inbox.messages[-1]
        assert update["To"] == "ana@example.org" and "Crew on the way" in update.get_payload(decode=True).decode()
        assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        change_status(session, request, "fixed", "crew", note="Done")  # queued...
        unsubscribe(session, subscription.unsubscribe_token)  # ...then the follower leaves
        sent_before = len(inbox.messages)
        deliver_pending(session, smtp, "la")
        assert [m["To"] for m in inbox.messages[sent_before:]] == []
    finally:
        server.stop()
    dropped = session.query(Notification).filter_by(
        subscription_id=subscription.id, last_error="not sent: unsubscribed"
    )
    assert dropped.count() == 1


def test_area_alerts_without_a_request_are_delivered_by_their_city(session, la, settings, validator):
    first = request_with(session, la, validator)
    port = free_port()
    smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, public_url="https://311.example.org")
    links = Links(smtp.public_url)
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        subscribe_to_area(
            session, "la", Area("ward", "the ward", ward_key=first.ward_key), "bo@example.org", links, False
        )
        deliver_pending(session, smtp, "la")
        token = re.search(r"/subscriptions/confirm/(\S+)", inbox.messages[-1].get_payload(decode=True).decode()).group(
            1
        )
        confirm(session, token)
        new = request_with(session, la, validator)
        queue_area_alerts(session, "la", links)
        assert deliver_pending(session, smtp, "gardena").sent == 0  # another city's outbox run leaves it
        deliver_pending(session, smtp, "la")
    finally:
        server.stop()
    alert = inbox.messages[-1]
    assert alert["To"] == "bo@example.org" and new.public_ref in alert.get_payload(decode=True).decode()
    assert alert["List-Unsubscribe"].startswith("<https://311.example.org/subscriptions/unsubscribe/")
