"""A resident on a phone (390 x 844) follows a request on its status page, confirms by the link of the e-mail
(through a real SMTP server on loopback), gets the update, and unsubscribes by the e-mail's link."""

from __future__ import annotations

import dataclasses
import re

import pytest
from aiosmtpd.controller import Controller

from app.factory import create_app
from service_requests.lifecycle import change_status
from service_requests.notifications import deliver_pending
from tests.app.test_browser import SCREENSHOTS
from tests.helpers.browser import chromium, live_server
from tests.service_requests.test_notifications import Inbox, free_port, request_with

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "follow"


def text_of(message) -> str:
    return message.get_payload(decode=True).decode()


def test_a_resident_follows_a_request_confirms_and_gets_the_update(settings, bound_database, la, validator):
    session = bound_database.session()
    request = request_with(session, la, validator)
    app = create_app(settings, database=bound_database)
    port = free_port()
    inbox = Inbox()
    smtp_server = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp_server.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with live_server(app) as base, chromium() as browser:
            smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, public_url=base)
            app.extensions["geo311"].settings = smtp  # the e-mails' links point at this server
            page = browser.new_page(viewport={"width": 390, "height": 844})
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
            page.goto(f"{base}/status/{request.public_ref}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.fill("#follow-email", "ana@example.org")
            page.screenshot(path=str(SHOTS / "status-follow-form.png"), full_page=True)
            page.click("#follow-submit")
            page.wait_for_selector("text=Check your e-mail")
            page.screenshot(path=str(SHOTS / "status-follow-sent.png"), full_page=True)

            assert deliver_pending(session, smtp, "la").sent == 1
            [confirmation] = inbox.messages
            link = re.search(r"(http://127\.0\.0\.1:\d+/subscriptions/confirm/\S+)", text_of(confirmation)).group(1)
            page.goto(link)
            page.screenshot(path=str(SHOTS / "confirm-page.png"), full_page=True)
            page.click("#confirm-subscription")
            page.wait_for_selector("text=Confirmed")
            page.screenshot(path=str(SHOTS / "confirmed.png"), full_page=True)

            change_status(session, request, "in_progress", "crew", note="A crew is on the way.")
            deliver_pending(session, smtp, "la")
            update = inbox.messages[-1]
            assert update["To"] == "ana@example.org" and "A crew is on the way." in text_of(update)
            unsubscribe = re.search(r"(http://\S+/subscriptions/unsubscribe/\S+)", text_of(update)).group(1)
            assert update["List-Unsubscribe"] == f"<{unsubscribe}>"
            page.goto(unsubscribe)
            page.wait_for_selector("text=no more e-mails")
            page.screenshot(path=str(SHOTS / "unsubscribed.png"), full_page=True)

            page.goto(f"{base}/status/{request.public_ref}")
            page.click("#me-too")
            page.wait_for_selector("text=Reported 2 times")
            page.screenshot(path=str(SHOTS / "status-me-too.png"), full_page=True)

            page.goto(f"{base}/alerts?kind=ward&ward={request.ward_key}")
            page.wait_for_selector("#feed-link")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SHOTS / "alerts-ward.png"), full_page=True)
    finally:
        smtp_server.stop()
        session.close()
    assert outside == []
