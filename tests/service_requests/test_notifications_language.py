"""The requester's e-mails are written in the language the request was filed in (plain Babel, no Flask)."""

from __future__ import annotations

from sqlalchemy import select

from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import change_status
from service_requests.models import Notification


def filed_in(session, la, validator, language: str | None):
    return create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti",
            channel="web",
            address="2111 W Bellevue Ave",
            attributes={"surface": "wall"},
            email="ana@example.org",
            response_method="email",
            language=language,
        ),
    ).request


def outbox(session, request) -> list[Notification]:
    return list(
        session.scalars(select(Notification).where(Notification.request_id == request.id).order_by(Notification.id))
    )


def test_a_request_filed_in_spanish_gets_its_emails_in_spanish(session, la, validator):
    request = filed_in(session, la, validator, "es")
    assert request.language == "es"
    (received,) = outbox(session, request)
    assert received.subject == f"City of Los Angeles: su solicitud {request.short_ref_shown} fue recibida"
    assert "Recibimos su solicitud (Eliminación de grafiti)" in received.body
    assert "48 horas" in received.body and "de 20" in received.body  # "... de diciembre de 2026, 15:00"
    change_status(session, request, "fixed", "staff")
    closed = outbox(session, request)[-1]
    assert closed.subject == f"Solicitud {request.short_ref_shown}: Resuelta"
    assert closed.body == f"Su solicitud {request.public_ref} está cerrada: Resuelta."


def test_a_request_in_english_or_of_no_known_language_gets_english(session, la, validator):
    for language in ("en", None, "fr"):
        request = filed_in(session, la, validator, language)
        assert request.language == "en"  # not one of the city's languages: its default
        (received,) = outbox(session, request)
        assert (
            received.subject.endswith("was received") and "We received your request (Graffiti Removal)" in received.body
        )
        assert "48 hours" in received.body
