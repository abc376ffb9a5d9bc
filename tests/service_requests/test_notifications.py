"""The notification outbox against a real SMTP server on loopback: up, down, and back up."""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from service_requests.intake import RequestInput, create_request
from service_requests.models import Notification
from service_requests.notifications import deliver_pending, mark_done, staff_tasks


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Any] = []

    def handle_message(self, message) -> None:  # noqa: ANN001
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request_with(session, la, validator, **contact):
    return create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti",
            channel="web",
            address="2111 W Bellevue Ave",
            attributes={"surface": "wall"},
            **contact,
        ),
    ).request


def test_emails_wait_while_the_server_is_down_and_go_when_it_is_back(session, la, settings, validator):
    request = request_with(session, la, validator, email="ana@example.org", response_method="email")
    port = free_port()
    smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, mail_from="311@la.example")

    down = deliver_pending(session, smtp, "la", timeout=2)
    assert (down.sent, down.failed) == (0, 1)
    queued = session.scalar(select(Notification).where(Notification.request_id == request.id))
    assert queued.sent_at is None and queued.attempts == 1 and queued.last_error
    assert deliver_pending(session, smtp, "la").failed == 0  # not retried before its time

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        later = datetime.now(UTC) + timedelta(minutes=5)
        up = deliver_pending(session, smtp, "la", now=later)
    finally:
        server.stop()
    assert up.sent == 1
    assert [m["To"] for m in inbox.messages] == ["ana@example.org"]
    assert request.short_ref_shown in inbox.messages[0]["Subject"]  # the short one, read over the phone
    session.refresh(queued)
    assert queued.sent_at is not None and queued.last_error is None


def test_without_a_mail_server_nothing_is_sent_and_nothing_lost(session, la, settings, validator):
    request_with(session, la, validator, email="ana@example.org", response_method="email")
    report = deliver_pending(session, dataclasses.replace(settings, smtp_host=None), "la")
    assert report.sent == 0 and report.waiting >= 1


def test_call_backs_are_tasks_for_staff(session, la, validator):
    from service_requests.lifecycle import change_status

    request = request_with(session, la, validator, phone="213 555 0100", response_method="phone")
    change_status(session, request, "fixed", "crew:1", "Painted over")
    tasks = [t for t in staff_tasks(session, "la") if t.request_id == request.id]
    assert len(tasks) == 1 and tasks[0].recipient == "213 555 0100"
    mark_done(session, tasks[0])
    assert not [t for t in staff_tasks(session, "la") if t.request_id == request.id]
