"""The residents' pages for following a request, "me too", alerts and feeds (issue 20, Must 7)."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from sqlalchemy import select

from service_requests.followers import report_count
from service_requests.intake import RequestInput, create_request
from service_requests.lifecycle import change_status
from service_requests.models import Notification, Subscription

ATOM = "{http://www.w3.org/2005/Atom}"


def make(session, la, validator, address="2111 W Bellevue Ave", **extra):
    return create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti",
            channel="web",
            address=address,
            attributes={"surface": "wall"},
            description="Tags by the door of Ana Diaz, call 213 555 0101",
            first_name="Ana",
            last_name="Diaz",
            email="ana.diaz@example.org",
            response_method="email",
            **extra,
        ),
    ).request


def link_in(session, address: str, kind: str) -> str:
    body = session.scalars(
        select(Notification.body).where(Notification.recipient == address).order_by(Notification.id.desc())
    ).first()
    found = re.search(rf"https?://\S+?(/subscriptions/{kind}/\S+)", body or "")
    assert found, body
    return found.group(1)


def test_the_status_page_offers_following_and_me_too(client, session, la, validator):
    request = make(session, la, validator)
    html = client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert 'id="follow-email"' in html and 'type="email"' in html and 'id="me-too"' in html
    assert "Reported 1 time." in html
    change_status(session, request, "fixed", "crew")
    closed = client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert 'id="me-too"' not in closed and 'id="follow-email"' in closed


def test_follow_confirm_and_unsubscribe_through_the_pages(client, session, la, validator):
    request = make(session, la, validator)
    sent = client.post(f"/status/{request.public_ref}/follow", data={"email": "bo@example.org"})
    assert sent.status_code == 303
    assert "Check your e-mail" in client.get(sent.headers["Location"]).get_data(as_text=True)
    confirm_path = link_in(session, "bo@example.org", "confirm")
    shown = client.get(confirm_path)
    assert shown.status_code == 200 and 'id="confirm-subscription"' in shown.get_data(as_text=True)
    assert session.scalar(select(Subscription.confirmed_at).where(Subscription.email == "bo@example.org")) is None
    done = client.post(confirm_path)
    assert done.status_code == 200 and "Confirmed" in done.get_data(as_text=True)
    again = client.post(confirm_path)
    assert again.status_code == 400 and "used already" in again.get_data(as_text=True)

    token = session.scalar(select(Subscription.unsubscribe_token).where(Subscription.email == "bo@example.org"))
    ended = client.get(f"/subscriptions/unsubscribe/{token}")  # one click, no login
    assert ended.status_code == 200 and "no more e-mails" in ended.get_data(as_text=True)
    client.auto_csrf = False  # mail clients' one-click POST carries no form token
    assert client.post(f"/subscriptions/unsubscribe/{token}").status_code == 200
    assert client.get("/subscriptions/unsubscribe/not-a-token").status_code == 404


def test_a_bad_email_is_a_clear_error_that_keeps_what_was_typed(client, session, la, validator):
    request = make(session, la, validator)
    answer = client.post(f"/status/{request.public_ref}/follow", data={"email": "bo at example"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Type an e-mail address" in html and 'value="bo at example"' in html
    assert client.post("/status/NOSUCHREF99/follow", data={"email": "bo@example.org"}).status_code == 404


def test_the_email_is_shown_to_no_one_publicly_and_staff_see_a_count(client, client_as, session, la, validator):
    request = make(session, la, validator)
    client.post(f"/status/{request.public_ref}/follow", data={"email": "secret.person@example.org"})
    client.post(link_in(session, "secret.person@example.org", "confirm"))
    public_html = client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert "secret.person" not in public_html and "ana.diaz" not in public_html and "Ana Diaz" not in public_html
    staff_html = client_as("department").get(f"/staff/requests/{request.public_ref}").get_data(as_text=True)
    assert "Followed by e-mail from the status page: 1 address" in staff_html
    assert "secret.person" not in staff_html


def test_me_too_counts_once_per_browser_session(client, app, session, la, validator):
    request = make(session, la, validator)
    assert client.post(f"/status/{request.public_ref}/me-too").status_code == 303
    assert client.post(f"/status/{request.public_ref}/me-too").status_code == 303
    assert report_count(session, request.id) == 2
    html = client.get(f"/status/{request.public_ref}").get_data(as_text=True)
    assert "Reported 2 times." in html and "affects you too" in html
    second = app.test_client()  # another resident, another browser session (a CsrfClient, as the fixture set)
    assert second.post(f"/status/{request.public_ref}/me-too").status_code == 303
    assert report_count(session, request.id) == 3


def test_me_too_on_a_closed_request_is_an_error_on_the_page(client, session, la, validator):
    request = make(session, la, validator)
    change_status(session, request, "fixed", "crew")
    answer = client.post(f"/status/{request.public_ref}/me-too")
    assert answer.status_code == 400 and "report it again as a new request" in answer.get_data(as_text=True)


def test_the_alerts_page_lists_wards_by_name_and_offers_the_feed(client, session, la, validator):
    request = make(session, la, validator)
    page = client.get("/alerts").get_data(as_text=True)
    assert 'id="alert-ward"' in page and f'value="{request.ward_key}"' in page
    chosen = client.get(f"/alerts?kind=ward&ward={request.ward_key}").get_data(as_text=True)
    assert f"/alerts/ward/{request.ward_key}.atom" in chosen and 'id="alert-subscribe"' in chosen
    sent = client.post("/alerts", data={"kind": "ward", "ward": request.ward_key, "email": "cy@example.org"})
    assert sent.status_code == 303
    assert session.scalar(select(Subscription.kind).where(Subscription.email == "cy@example.org")) == "ward"
    assert client.get("/alerts?kind=ward&ward=nowhere").status_code == 400


def test_a_radius_alert_needs_an_address_of_the_city(client, session, la, validator):
    chosen = client.get("/alerts?kind=near&address=2111+W+Bellevue+Ave&radius=500")
    html = chosen.get_data(as_text=True)
    assert chosen.status_code == 200 and "500 m around 2100 block of W BELLEVUE AVE" in html
    assert "/alerts/near.atom?" in html
    sent = client.post(
        "/alerts", data={"kind": "near", "address": "2111 W Bellevue Ave", "radius": "500", "email": "di@example.org"}
    )
    assert sent.status_code == 303
    stored = session.scalars(select(Subscription).where(Subscription.email == "di@example.org")).one()
    assert stored.kind == "near" and stored.radius_m == 500
    unknown = client.get("/alerts?kind=near&address=99999+Nowhere+Blvd&radius=500")
    assert unknown.status_code == 400 and "not found" in unknown.get_data(as_text=True)
    bad_radius = client.post(
        "/alerts", data={"kind": "near", "address": "2111 W Bellevue Ave", "radius": "99999", "email": "d@example.org"}
    )
    assert bad_radius.status_code == 400 and "radius" in bad_radius.get_data(as_text=True)


def test_feeds_show_public_facts_only(client, session, la, validator):
    request = make(session, la, validator)
    answer = client.get(f"/alerts/ward/{request.ward_key}.atom")
    assert answer.status_code == 200 and answer.mimetype == "application/atom+xml"
    feed = answer.get_data(as_text=True)
    root = ElementTree.fromstring(feed)
    entries = root.findall(f"{ATOM}entry")
    mine = [e for e in entries if request.public_ref in e.find(f"{ATOM}link").get("href")]
    assert mine, "the new request is in its ward's feed"
    summary = mine[0].find(f"{ATOM}summary").text
    assert "2100 block of W BELLEVUE AVE" in summary and "Graffiti" in mine[0].find(f"{ATOM}title").text
    for private in ("Ana", "Diaz", "ana.diaz", "213 555", "2111 W", "door"):
        assert private not in feed
    lon, lat = -118.2625, 34.0722
    near = client.get(f"/alerts/near.atom?lat={lat}&lon={lon}&radius=1000")
    assert near.status_code == 200 and "Ana" not in near.get_data(as_text=True)
    assert client.get("/alerts/near.atom?lat=95&lon=0").status_code == 400
    assert client.get(f"/alerts/near.atom?lat={lat}&lon={lon}&radius=10").status_code == 400
    assert client.get(f"/alerts/near.atom?lat={lat}&lon={lon}&radius=abc").status_code == 400
    assert client.get("/alerts/near.atom").status_code == 400
    assert client.get("/alerts/ward/nowhere.atom").status_code == 404


def test_following_and_alerts_from_a_spanish_page_are_written_in_spanish(client, session, la, validator):
    """The page's language is the subscription's: its e-mails are in it (tests/service_requests/test_subscription_language.py)."""
    request = make(session, la, validator)
    spanish = {"Accept-Language": "es"}
    client.post(f"/status/{request.public_ref}/follow", data={"email": "es@example.org"}, headers=spanish)
    client.post("/alerts", data={"kind": "ward", "ward": request.ward_key, "email": "es@example.org"}, headers=spanish)
    client.post(f"/status/{request.public_ref}/follow", data={"email": "en@example.org"})
    stored = session.execute(select(Subscription.email, Subscription.kind, Subscription.language)).all()
    assert {
        ("es@example.org", "request", "es"),
        ("es@example.org", "ward", "es"),
        ("en@example.org", "request", "en"),
    } <= set(stored)
    subjects = session.scalars(
        select(Notification.subject).where(Notification.recipient == "es@example.org").order_by(Notification.id)
    ).all()
    assert subjects == [
        f"Confirme: novedades sobre la solicitud {request.short_ref_shown} (Eliminación de grafiti)",
        f"Confirme: novedades sobre Council District {request.ward_key}",
    ]


def test_feeds_in_spanish(client, session, la, validator):
    """A feed asked in Spanish (a reader's Accept-Language) is written in Spanish: its title, each entry's
    service, status, place and date, and its xml:lang."""
    request = make(session, la, validator)
    feed = client.get(f"/alerts/ward/{request.ward_key}.atom", headers={"Accept-Language": "es"}).get_data(as_text=True)
    root = ElementTree.fromstring(feed)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    assert (
        root.find(f"{ATOM}title").text == f"City of Los Angeles 311: solicitudes en Council District {request.ward_key}"
    )
    mine = [e for e in root.findall(f"{ATOM}entry") if request.public_ref in e.find(f"{ATOM}link").get("href")]
    assert mine[0].find(f"{ATOM}title").text == "Eliminación de grafiti: Recibida"
    summary = mine[0].find(f"{ATOM}summary").text
    assert summary.startswith("Eliminación de grafiti, cuadra 2100 de W BELLEVUE AVE. Estado: Recibida. Reportado el ")
    assert summary.endswith(f". Referencia {request.short_ref_shown}.")
    near = client.get(
        "/alerts/near.atom?lat=34.0722&lon=-118.2625&radius=1000", headers={"Accept-Language": "es"}
    ).get_data(as_text=True)
    assert "solicitudes en 1000 m alrededor de 34.0722, -118.2625" in near
