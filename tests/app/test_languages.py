"""The interface's language on the web: the switch, Accept-Language, the catalogue's translations and Open311."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html import unescape

from sqlalchemy import select

from app.i18n import COOKIE
from core.i18n import N_, Sentence, translations
from service_requests.models import ServiceRecord
from tests.app.test_alerts_pages import make
from tests.app.test_staff_pages import GRAFFITI_FORM
from tests.helpers.fixture_cities import app_serving


def test_english_by_default_spanish_when_the_browser_asks(client):
    page = client.get("/report").get_data(as_text=True)
    assert '<html lang="en">' in page and "Graffiti Removal" in page
    spanish = client.get("/report", headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="es">' in spanish and "Eliminación de grafiti" in spanish and "Graffiti Removal" not in spanish
    assert "Reportar un problema" in spanish or "Reporte un problema" in spanish
    french = client.get("/report", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in french  # not offered: the city's first language


def test_the_switch_is_remembered_over_the_browsers_language(client):
    page = client.get("/report").get_data(as_text=True)
    assert 'href="/language/es?next=/report"' in page and ">Español</a>" in page
    response = client.get("/language/es?next=/report")
    assert response.status_code == 302 and response.headers["Location"] == "/report"
    assert f"{COOKIE}=es" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]
    assert '<html lang="es">' in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    client.get("/language/en?next=/")
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)


def test_the_switch_refuses_a_language_not_offered_and_another_site(client):
    refused = client.get("/language/fr?next=/report")
    assert refused.status_code == 404 and "choose one of: en, es" in refused.get_data(as_text=True)
    assert "Set-Cookie" not in refused.headers
    assert client.get("/language/es?next=https://evil.example/").headers["Location"] == "/"
    assert client.get("/language/es?next=//evil.example/").headers["Location"] == "/"
    back = client.get("/language/es?next=/report", headers={"Referer": "http://localhost/report?q=sof%C3%A1"})
    assert back.headers["Location"] == "/report?q=sof%C3%A1"  # the page as it was, with its query
    other = client.get("/language/es?next=/report", headers={"Referer": "https://evil.example/report?q=x"})
    assert other.headers["Location"] == "/report"


def test_a_city_with_one_language_shows_no_switch(settings, bound_database, gardena):
    app = app_serving(settings, bound_database, "gardena", settings.cities_dir, settings.data_dir)
    page = app.test_client().get("/report", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "language-switch" not in page


def test_the_service_form_asks_its_questions_in_spanish(client):
    page = client.get("/report/graffiti", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "¿Dónde está el grafiti?" in page and "Pared de un edificio" in page
    assert 'value="wall"' in page  # the answers' keys never change


def test_open311_services_in_the_asked_language(client):
    english = client.get("/open311/v2/services.json").get_json()
    assert {s["service_code"]: s["service_name"] for s in english}["graffiti"] == "Graffiti Removal"
    spanish = client.get("/open311/v2/services.json", headers={"Accept-Language": "es"})
    assert spanish.headers["Content-Language"] == "es" and "Accept-Language" in spanish.headers["Vary"]
    names = {s["service_code"]: s for s in spanish.get_json()}
    assert (
        names["graffiti"]["service_name"] == "Eliminación de grafiti"
        and names["graffiti"]["group"] == "Embellecimiento"
    )
    by_argument = client.get("/open311/v2/services.xml?locale=es_MX")
    assert "Eliminación de grafiti" in by_argument.get_data(as_text=True)
    ET.fromstring(by_argument.get_data())
    definition = client.get("/open311/v2/services/graffiti.json?locale=es").get_json()
    surface = next(a for a in definition["attributes"] if a["code"] == "surface")
    assert (
        surface["description"] == "¿Dónde está el grafiti?"
        and {"key": "wall", "name": "Pared de un edificio"} in surface["values"]
    )
    refused = client.get("/open311/v2/services.json?locale=klingon")
    assert refused.status_code == 400 and "locale 'klingon' is not offered" in refused.get_data(as_text=True)


def test_the_catalogue_editor_edits_the_spanish(admin_client, session):
    page = admin_client.get("/staff/services/graffiti").get_data(as_text=True)
    assert 'name="tr-es-name"' in page and 'value="Eliminación de grafiti"' in page
    assert "wall = Pared de un edificio" in page
    form = {
        **GRAFFITI_FORM,
        "tr-es-name": "Quitar grafiti",
        "tr-es-description": "Pintura en paredes.",
        "tr-es-keywords": "pintas, pintura",
        "tr-es-attribute-surface-description": "¿Dónde está?",
        "tr-es-attribute-surface-values": "wall = Pared\nfence = Cerca\nother =",
    }
    assert admin_client.post("/staff/services/graffiti", data=form).status_code == 303
    record = session.scalar(select(ServiceRecord).where(ServiceRecord.city == "la", ServiceRecord.code == "graffiti"))
    assert record.translations["es"] == {
        "name": "Quitar grafiti",
        "description": "Pintura en paredes.",
        "keywords": ["pintas", "pintura"],
        "attributes": {"surface": {"description": "¿Dónde está?", "values": {"wall": "Pared", "fence": "Cerca"}}},
    }
    bad = admin_client.post("/staff/services/graffiti", data={**form, "tr-es-attribute-surface-values": "roof = Techo"})
    assert bad.status_code == 400 and "answer 'roof', which is not among its answers" in unescape(
        bad.get_data(as_text=True)
    )
    session.refresh(record)
    assert record.translations["es"]["name"] == "Quitar grafiti"  # nothing stored from a refused form


def test_an_open311_request_in_spanish_is_answered_by_email_in_spanish(client, session):
    from open311.clients import issue_client
    from service_requests.models import Notification, ServiceRequest

    _, key = issue_client(session, "la", "Spanish app", "dev@example.org")
    session.commit()
    response = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "graffiti",
            "address_string": "2111 W Bellevue Ave",
            "attribute[surface]": "wall",
            "email": "ana@example.org",
        },
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    reference = response.get_json()[0]["service_request_id"]
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.public_ref == reference))
    assert request.language == "es"
    notification = session.scalar(select(Notification).where(Notification.request_id == request.id))
    assert "su solicitud" in notification.subject


def test_links_and_keys_inside_translated_sentences_stay_markup(client):
    spanish = {"Accept-Language": "es"}
    login = client.get("/login", headers=spanish).get_data(as_text=True)
    assert '<a href="/report">reportar un problema</a>' in login and "&lt;a" not in login
    services = client.get("/report?q=zzzzzz", headers=spanish).get_data(as_text=True)
    assert "<kbd>Intro</kbd>" in services and '<a href="?">véalos todos</a>' in services and "&lt;kbd" not in services
    assert "«zzzzzz»" in services
    hostile = client.get("/report?q=<b>x</b>", headers=spanish).get_data(as_text=True)
    assert "<b>x</b>" not in hostile and "&lt;b&gt;x&lt;/b&gt;" in hostile  # what was typed stays text


def test_a_refused_request_form_says_why_in_spanish(client):
    """The domain's errors (intake, photos) are Sentences: the form writes them in the page's language."""
    spanish = {"Accept-Language": "es"}
    base = {"address": "2111 W Bellevue Ave", "description": "Pintas"}
    unanswered = client.post("/report/graffiti", data=base, headers=spanish)
    page = unanswered.get_data(as_text=True)
    assert unanswered.status_code == 400 and "Por favor, responda: ¿Dónde está el grafiti?" in page
    bad_email = client.post(
        "/report/graffiti",
        data={**base, "attribute[surface]": "wall", "email": "ana-en-ejemplo", "response_method": "email"},
        headers=spanish,
    )
    assert "&#39;ana-en-ejemplo&#39; no es una dirección de correo electrónico." in bad_email.get_data(as_text=True)
    english = client.post("/report/graffiti", data=base).get_data(as_text=True)
    assert "Please answer: Where is the graffiti?" in english


def test_a_sentence_is_its_english_and_is_written_again_in_spanish():
    sentence = Sentence(N_("%(name)s is empty; choose the photo again."), name="IMG_1.jpg")
    assert sentence == "IMG_1.jpg is empty; choose the photo again."
    assert sentence.in_words(translations("es").gettext) == "IMG_1.jpg está vacío; vuelva a elegir la foto."


def test_the_address_service_answers_in_the_pages_language(client):
    """The address widget's answers (why an address is not found, whose it is) are written in Spanish too."""
    es = {"Accept-Language": "es"}
    missing = client.get("/api/addresses/validate", query_string={"q": "123 Zzyzxq Ave"}, headers=es).get_json()
    assert missing["status"] == "not_found"
    assert missing["reason"] == "No hay ninguna calle llamada ZZYZXQ en la base de direcciones."
    english = client.get("/api/addresses/validate", query_string={"q": "123 Zzyzxq Ave"}).get_json()
    assert english["reason"] == "There is no street named ZZYZXQ in the address database."

    beverly = client.get(
        "/api/addresses/validate", query_string={"q": "9400 Brighton Way, Beverly Hills, CA 90210"}, headers=es
    ).get_json()
    assert beverly["status"] == "outside" and "Beverly Hills" in beverly["reason"]
    assert "está" in beverly["reason"] and "is" not in beverly["reason"].split()

    at_sea = client.get("/api/locate", query_string={"lon": "-120.5", "lat": "33.0"}, headers=es).get_json()
    assert at_sea["reason"].startswith("El lugar (33.00000, -120.50000) está fuera de todas las zonas")


def test_the_address_services_basis_and_refusals_are_in_the_pages_language(client):
    """How an approximate point was placed (between two numbers, on a street's range) and why a text is no
    address are Sentences too: the Spanish answer has no English left in them."""
    es = {"Accept-Language": "es"}

    def answer(q: str, headers: dict | None = None) -> dict:
        return client.get("/api/addresses/validate", query_string={"q": q}, headers=headers or {}).get_json()

    between = answer("315 S Main St", es)
    assert between["status"] == "approximate" and between["match"]["source_kind"] == "between"
    assert between["basis"] == between["match"]["basis"] == "entre el 303 y el 327 de S MAIN ST"
    assert between["reason"] == (
        "Ningún punto de dirección tiene este número; se ubicó entre el 303 y el 327 de S MAIN ST: confírmelo en el mapa."
    )
    assert answer("315 S Main St")["basis"] == "between 303 and 327 S MAIN ST"

    on_a_range = answer("1685 Main St, Santa Monica", es)
    assert on_a_range["match"]["source_kind"] == "range"
    assert on_a_range["basis"] == (
        "en el lado izquierdo de la cuadra 1651-1697 de MAIN ST (según el rango de números de la calle)"
    )

    by_place = answer("123 Foo St, West Hollywood", es)
    assert by_place["match"]["text"] == "City of West Hollywood (el lugar escrito: WEST HOLLYWOOD)"

    only_a_number = answer("12345", es)
    assert only_a_number["status"] == "invalid"
    assert (
        only_a_number["reason"]
        == "Eso es solo un número: agregue el nombre de la calle (por ejemplo, 200 N Spring St)."
    )
    assert answer("12345")["reason"] == "That is only a number: add the street name (e.g. 200 N Spring St)."


def test_the_footer_gives_the_number_from_outside_the_city_in_the_pages_language(client):
    """The city file's numbers ([city] phone and phone_outside) are data; the words around them are the catalogue's."""
    spanish = client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    footer = spanish[spanish.index('<footer class="site-footer">') :]
    assert (
        'llame al <a class="tel" href="tel:311">311</a> (desde fuera de la ciudad, al '
        '<a class="tel" href="tel:2134733231">(213) 473-3231</a>)'
    ) in footer
    assert "outside" not in footer
    english = client.get("/").get_data(as_text=True)
    assert 'call <a class="tel" href="tel:311">311</a> (from outside the city, ' in english


def test_another_report_and_a_bad_filter_are_told_in_the_pages_language(client, session, la, validator):
    """The status page's note of a "me too" (the follower module's words), and the public map's, list's and
    monthly report's answer to a hand-made query string, are the catalogue's in Spanish."""
    spanish = {"Accept-Language": "es"}
    reference = make(session, la, validator).public_ref
    client.post(f"/status/{reference}/me-too", headers=spanish)
    status = client.get(f"/status/{reference}", headers=spanish).get_data(as_text=True)
    assert "Otro vecino también lo reportó («A mí también»)." in status and "Reported again" not in status
    english = client.get(f"/status/{reference}").get_data(as_text=True)
    assert 'Reported again by another resident ("me too").' in unescape(english)

    around = client.get("/around?service=nope", headers=spanish)
    assert around.status_code == 400
    assert "&#39;nope&#39; no es un valor conocido de «servicio»; los valores conocidos son: " in around.get_data(
        as_text=True
    )
    listed = client.get("/around/list?status=cancelled&ward=13", headers=spanish).get_data(as_text=True)
    assert "El parámetro status debe ser uno de estos valores: all, open, closed; no &#39;cancelled&#39;." in listed
    page = client.get("/around/list?page=0", headers=spanish).get_data(as_text=True)
    assert "El parámetro page debe ser 1 o más" in page
    monthly = client.get("/reports/monthly?month=2020-13", headers=spanish)
    assert monthly.status_code == 400
    assert "El parámetro month debe ser un mes escrito AAAA-MM (por ejemplo, 2024-03)" in monthly.get_data(as_text=True)
    assert "There is no service 'nope'; known services: " in unescape(
        client.get("/around?service=nope").get_data(as_text=True)
    )
