"""Subscribers' e-mails are written in the language they subscribed in (issue 20): the confirmation, a
followed request's updates, area alerts and the unsubscribe footer, with the services' names and the
states in that language; a subscription of no language (made before migration 0027) gets the city's first."""

from __future__ import annotations

from service_requests.lifecycle import change_status
from service_requests.notifications import compose
from service_requests.subscriptions import (
    Area,
    confirm,
    queue_area_alerts,
    subscribe_to_area,
    subscribe_to_request,
)
from tests.service_requests.test_subscriptions import LINKS, confirm_token, file, mail_to


def test_a_spanish_follower_gets_the_confirmation_and_the_updates_in_spanish(session, la, settings, validator):
    request = file(session, la, validator)
    subscription = subscribe_to_request(session, request, "ana@example.org", LINKS, "es")
    assert subscription.language == "es"
    [confirmation] = mail_to(session, "ana@example.org")
    target = f"la solicitud {request.short_ref_shown} (Eliminación de grafiti)"
    assert subscription.target == target
    assert confirmation.subject == f"Confirme: novedades sobre {target}"
    assert "Alguien (esperamos que usted) pidió recibir correos" in confirmation.body
    assert "abra este enlace en las próximas 48 horas" in confirmation.body
    confirm(session, confirm_token(session, "ana@example.org"))
    change_status(session, request, "in_progress", "crew", note="La cuadrilla va en camino")
    update = mail_to(session, "ana@example.org")[-1]
    assert update.subject == f"Novedades de la solicitud {request.short_ref_shown}: En curso"
    assert update.body.startswith(
        f"Estado actual de la solicitud {request.short_ref_shown} (Eliminación de grafiti): En curso."
    )
    footer = compose(settings, update, subscription).get_content()
    assert f"Recibe este mensaje porque se suscribió a {target}. Para no recibir más, abra:" in footer
    for english in ("Update", "Request", "In progress", "Graffiti", "You receive"):
        assert english not in update.subject + footer


def test_an_english_follower_gets_english(session, la, settings, validator):
    request = file(session, la, validator)
    subscription = subscribe_to_request(session, request, "bo@example.org", LINKS, "en")
    [confirmation] = mail_to(session, "bo@example.org")
    target = f"request {request.short_ref_shown} (Graffiti Removal)"
    assert confirmation.subject == f"Confirm: updates about {target}"
    assert "open this link within 48 hours" in confirmation.body
    confirm(session, confirm_token(session, "bo@example.org"))
    change_status(session, request, "fixed", "crew")
    update = mail_to(session, "bo@example.org")[-1]
    assert update.subject == f"Update on request {request.short_ref_shown}: Fixed"
    assert update.body == f"Request {request.short_ref_shown} (Graffiti Removal) is now: Fixed."
    assert f"You receive this about {target}. To stop, open:" in compose(settings, update, subscription).get_content()


def test_followers_of_one_request_each_get_their_language(session, la, validator):
    request = file(session, la, validator)
    for address, language in (("cy@example.org", "es"), ("di@example.org", "en"), ("ed@example.org", None)):
        subscribe_to_request(session, request, address, LINKS, language)
        confirm(session, confirm_token(session, address))
    change_status(session, request, "in_progress", "crew")
    assert mail_to(session, "cy@example.org")[-1].subject.endswith(": En curso")
    assert mail_to(session, "di@example.org")[-1].subject.endswith(": In progress")
    # Made before migration 0027 (no language): the source language, as a request of no language's requester.
    assert mail_to(session, "ed@example.org")[-1].subject.endswith(": In progress")


def confirmed_ward(session, request, address, language, updates=False):
    label = "Distrito 1" if language == "es" else "District 1"
    subscription = subscribe_to_area(
        session, "la", Area("ward", label, ward_key=request.ward_key), address, LINKS, updates, language
    )
    confirm(session, confirm_token(session, address))
    return subscription


def test_area_alerts_in_the_subscribers_language(session, la, validator):
    first = file(session, la, validator)
    confirmed_ward(session, first, "fa@example.org", "es", updates=True)
    confirmed_ward(session, first, "gu@example.org", "en", updates=True)
    assert mail_to(session, "fa@example.org")[0].subject == "Confirme: novedades sobre Distrito 1"
    new = file(session, la, validator)
    queue_area_alerts(session, "la", LINKS, place=lambda address: "2100 block of W BELLEVUE AVE")
    [spanish] = mail_to(session, "fa@example.org")[1:]
    assert spanish.subject == "Alerta 311: 1 solicitud nueva en Distrito 1"
    assert spanish.body.startswith("Solicitudes nuevas en Distrito 1:\n- Eliminación de grafiti, Recibida, ")
    assert "cuadra 2100 de W BELLEVUE AVE" in spanish.body and new.public_ref in spanish.body
    [english] = mail_to(session, "gu@example.org")[1:]
    assert english.subject == "311 alert: 1 new request in District 1"
    assert english.body.startswith("New requests in District 1:\n- Graffiti Removal, Submitted, ")
    assert "2100 block of W BELLEVUE AVE" in english.body

    change_status(session, new, "in_progress", "crew")
    queue_area_alerts(session, "la", LINKS)
    spanish = mail_to(session, "fa@example.org")[-1]
    assert spanish.subject == "Alerta 311: novedades en Distrito 1"
    assert spanish.body.startswith(
        f"Novedades en Distrito 1:\n- Eliminación de grafiti {new.short_ref_shown}: En curso el "
    )
    english = mail_to(session, "gu@example.org")[-1]
    assert english.subject == "311 alert: updates in District 1"
    assert f"- Graffiti Removal {new.short_ref_shown}: In progress on " in english.body


def test_area_alerts_of_no_language_are_in_the_citys_first(session, la, validator):
    first = file(session, la, validator)
    confirmed_ward(session, first, "ha@example.org", None)
    file(session, la, validator)
    file(session, la, validator)
    queue_area_alerts(session, "la", LINKS, default_language="es")
    assert mail_to(session, "ha@example.org")[-1].subject == "Alerta 311: 2 solicitudes nuevas en District 1"
