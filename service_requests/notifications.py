"""Closing the loop: delivering the notification outbox.

Intake and the lifecycle write notifications into the outbox in the same transaction as
the change they announce, so none is lost. :func:`deliver_pending` sends the e-mails
through SMTP when a server is configured; a failure leaves the message queued with its
error and a later retry time (exponential backoff up to six hours). Call-backs and letters
(``phone``, ``mail``) wait in the outbox as tasks for staff, who mark them done.
"""

from __future__ import annotations

import email.policy
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.settings import Settings
from service_requests.models import Notification, ServiceRequest, Subscription
from service_requests.subscriptions import Links, words

MAX_BACKOFF = timedelta(hours=6)
# Headers unfolded up to SMTP's line limit: a long List-Unsubscribe URL stays one readable <url>, not encoded words.
_POLICY = email.policy.default.clone(max_line_length=998)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    waiting: int

    def summary(self) -> str:
        return f"{self.sent} sent, {self.failed} failed (will be retried), {self.waiting} still waiting"


def deliver_pending(
    session: Session,
    settings: Settings,
    city: str,
    now: datetime | None = None,
    limit: int = 200,
    timeout: float = 10.0,
) -> DeliveryReport:
    """Send the due e-mails of ``city``'s outbox; each outcome is committed as it happens."""
    now = now or datetime.now(UTC)
    if not settings.smtp_host:
        return DeliveryReport(0, 0, _waiting(session, city))
    sent = failed = 0
    for _ in range(limit):
        notification = session.scalar(
            _of_city(select(Notification), city)
            .where(
                Notification.method == "email",
                Notification.sent_at.is_(None),
                Notification.next_attempt_at <= now,
            )
            .order_by(Notification.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=Notification)
        )
        if notification is None:
            break
        subscription = session.get(Subscription, notification.subscription_id) if notification.subscription_id else None
        if subscription is not None and subscription.unsubscribed_at is not None:
            notification.sent_at = datetime.now(UTC)  # never sent: the subscriber left before it went out
            notification.last_error = "not sent: unsubscribed"
            session.commit()
            continue
        try:
            _send(settings, notification, timeout, subscription)
        except (OSError, smtplib.SMTPException) as exc:
            notification.attempts += 1
            notification.last_error = f"{type(exc).__name__}: {exc}"[:500]
            notification.next_attempt_at = now + min(MAX_BACKOFF, timedelta(minutes=2 ** min(notification.attempts, 9)))
            failed += 1
        else:
            notification.attempts += 1
            notification.sent_at = datetime.now(UTC)
            notification.last_error = None
            sent += 1
        session.commit()
    return DeliveryReport(sent, failed, _waiting(session, city))


def _of_city(query: Select, city: str) -> Select:
    """``query`` of notifications restricted to ``city``'s: by their request, or by their subscription (area alerts)."""
    return (
        query.outerjoin(ServiceRequest, ServiceRequest.id == Notification.request_id)
        .outerjoin(Subscription, Subscription.id == Notification.subscription_id)
        .where(func.coalesce(ServiceRequest.city, Subscription.city) == city)
    )


def compose(settings: Settings, notification: Notification, subscription: Subscription | None = None) -> EmailMessage:
    """The e-mail of ``notification``; a subscriber's carries its unsubscribe link (body and ``List-Unsubscribe``)."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = settings.mail_from
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    body = notification.body
    if subscription is not None:
        link = Links(settings.public_url).unsubscribe(subscription.unsubscribe_token)
        message["List-Unsubscribe"] = f"<{link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: mail clients' one click
        _ = words(subscription.language).gettext  # the language it was subscribed in
        body += "\n\n--\n" + _("You receive this about %(target)s. To stop, open: %(link)s") % {
            "target": subscription.target,
            "link": link,
        }
        body += "\n"
    message.set_content(body)
    return message


def _send(settings: Settings, notification: Notification, timeout: float, subscription: Subscription | None) -> None:
    message = compose(settings, notification, subscription)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:  # type: ignore[arg-type]
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def _waiting(session: Session, city: str) -> int:
    return len(session.scalars(_of_city(select(Notification.id), city).where(Notification.sent_at.is_(None))).all())


def staff_tasks(session: Session, city: str) -> list[Notification]:
    """Call-backs and letters waiting for staff."""
    return list(
        session.scalars(
            select(Notification)
            .join(ServiceRequest, ServiceRequest.id == Notification.request_id)
            .where(
                ServiceRequest.city == city, Notification.method.in_(("phone", "mail")), Notification.sent_at.is_(None)
            )
            .order_by(Notification.created_at)
        )
    )


def mark_done(session: Session, notification: Notification) -> None:
    """A call-back made or a letter sent."""
    notification.sent_at = datetime.now(UTC)
    notification.attempts += 1
    session.commit()
