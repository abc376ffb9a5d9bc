"""Every public page in Spanish has no English left: a pseudo-translation shows what is not translated.

The test compiles a pseudo-catalogue for ``es`` in which every msgstr is ⟦msgid⟧, serves the app
with it, and renders each public page with ``Accept-Language: es``. Whatever visible text is left
outside ⟦⟧ once data is taken out (the catalogue's Spanish, the city's name and its areas'
labels, numbers, references) was never marked for translation.

A sentence put into a translated one as a value ("placed %(basis)s") sits inside the outer ⟦⟧ even
when it stayed English; so the real Spanish catalogue's pages and the address service's answers are
also searched for the catalogue's own English sentences (:func:`english_sentences`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel import Locale
from flask import Flask

from app.factory import create_app
from boundaries.queries import layer_versions
from core.i18n import language_name, translations
from service_requests.intake import RequestInput, create_request
from tests.helpers.translations import CLOSE, OPEN, extracted_messages, page_words, write_pseudo_catalogue

#: Elements whose text is not read as the page's (scripts) or is data by construction: ``<time>`` holds a
#: date Babel writes from its CLDR data in the page's language, not a string of the catalogue.
_SKIPPED = {"script", "style", "template", "time"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
#: Attributes that people read (or hear) as text.
_READ_ATTRIBUTES = ("aria-label", "alt", "placeholder")


class _VisibleText(HTMLParser):
    """The visible text of a part of a page (``<main>``, ``<header>``, ``<title>``): text nodes and read
    attributes, leaving out scripts, whatever is marked as another language (``lang="en"``: "English") and
    proper names marked not to be translated (``translate="no"``: a street, an area, a department)."""

    def __init__(self, part: str, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.part, self.language = part, language
        self.stack: list[tuple[str, bool]] = []  # (tag, whether it is read)
        self.inside = 0
        self.texts: list[str] = []

    def _read(self) -> bool:
        return self.inside > 0 and all(read for _, read in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        read = tag not in _SKIPPED and values.get("lang") in (None, self.language) and values.get("translate") != "no"
        if tag == self.part:
            self.inside += 1
        if tag not in _VOID:
            self.stack.append((tag, read))
        if read and self._read():
            self.texts.extend(values[a] or "" for a in _READ_ATTRIBUTES if values.get(a))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break
        if tag == self.part:
            self.inside -= 1

    def handle_data(self, data: str) -> None:
        if self._read():
            self.texts.append(data)


def visible_text(html: str, part: str, language: str = "es") -> str:
    parser = _VisibleText(part, language)
    parser.feed(html)
    return " ".join(parser.texts)


def untranslated(text: str, data: list[str]) -> list[str]:
    """The words of ``text`` outside ⟦⟧ (translated strings nest: a link's text in a sentence) once ``data`` is out."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}", " ", text)
    for value in sorted(data, key=len, reverse=True):
        if value:
            text = text.replace(value, " ")
    return re.findall(r"[^\W\d_]{2,}", text)


@pytest.fixture(scope="module")
def pseudo_catalogues(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pseudo_catalogue(tmp_path_factory.mktemp("pseudo-translations"), "es")


@pytest.fixture
def pseudo_app(settings, bound_database, pseudo_catalogues) -> Flask:
    return create_app(settings, database=bound_database, translations=pseudo_catalogues)


@pytest.fixture
def data(session, la) -> list[str]:
    """What a page shows that is data, not interface: the catalogue's words in Spanish, the city's names,
    the languages' own names (the switch), the calendar's Spanish words (Babel's, as charts label months)."""
    found = [la.name, "311", "K7M3Q-X9TBA", *(language_name(code) for code in la.languages)]
    calendar = Locale.parse("es")
    for width in ("wide", "abbreviated"):
        found += [*calendar.months["format"][width].values(), *calendar.months["stand-alone"][width].values()]
    for service in la.catalogue.services.values():
        spanish = service.in_language("es")
        found += [spanish.name, spanish.group, spanish.description, ", ".join(spanish.keywords)]
        for attribute in spanish.attributes:
            found += [attribute.description, attribute.datatype_description or ""]
            found += [value.name for value in attribute.values]
    for layer in la.areas.values():
        found += [layer.label, layer.label.lower()]
    found += [str(v.version) for v in layer_versions(session, la.key, current_only=True)]
    return found


@pytest.fixture
def reference(session, la, validator) -> str:
    return create_request(
        session,
        la,
        validator,
        RequestInput(
            service_code="graffiti",
            channel="web",
            address="2111 W Bellevue Ave",
            attributes={"surface": "wall"},
            description="Pintas en la pared",
        ),
    ).request.public_ref


#: The public pages, by path ({reference}: a request's).
PAGES = [
    pytest.param("/", id="index"),
    pytest.param("/report", id="services"),
    pytest.param("/report?q=grafiti", id="services-search"),
    pytest.param("/report?q=zzzzzz", id="services-search-none"),
    pytest.param("/status", id="status-lookup"),
    pytest.param("/status?reference=nonsense", id="status-lookup-error"),
    pytest.param("/login", id="login"),
    pytest.param("/no-such-page", id="error-404"),
    pytest.param("/language/fr", id="error-language"),
    pytest.param("/report/graffiti", id="request-form"),
    pytest.param("/status/{reference}", id="status"),
    pytest.param("/reports/monthly", id="monthly-report"),
    pytest.param("/around", id="public-map"),
    pytest.param("/around/list", id="public-list"),
    pytest.param("/alerts", id="alerts"),
    pytest.param("/subscriptions/confirm/not-a-token", id="confirm-subscription"),
    pytest.param("/subscriptions/unsubscribe/not-a-token", id="unsubscribe"),
]

#: The public routes that are not pages for people (JSON, files, redirects), left out of PAGES.
NOT_PAGES = {
    "language.choose",  # a redirect (its refusal is the error page, in PAGES)
    "health.health",
    "assets.vendor",
    "tiles.streets",
    "tiles.basemap",
    "api.boundary_layer",
    "api.locate",
    "addresses.validate",
    "addresses.suggest",
    "addresses.reverse",
    "requests.nearby",
    "auth.logout",
    "media.photo",  # a photo file
    "public_map.reports_geojson",
    "alerts.ward_feed",  # Atom feeds: their words are the catalogue's and the city's (part 2: titles)
    "alerts.near_feed",
}
#: The endpoint of each page of PAGES.
PAGE_ENDPOINTS = {
    "pages.index",
    "requests.choose_service",
    "requests.status_lookup",
    "auth.login",
    "requests.report",
    "requests.status",
    "reports.monthly",
    "public_map.map_page",
    "public_map.list_page",
    "alerts.alerts_page",
    "alerts.confirm_subscription",
    "alerts.unsubscribe_link",
}


@pytest.mark.parametrize("path", PAGES)
def test_a_public_page_in_spanish_has_no_untranslated_text(pseudo_app, data, reference, path):
    response = pseudo_app.test_client().get(path.format(reference=reference), headers={"Accept-Language": "es"})
    assert response.status_code in (200, 400, 404), response.status_code
    html = response.get_data(as_text=True)
    assert '<html lang="es">' in html
    text = visible_text(html, "main") + " " + visible_text(html, "title")
    assert OPEN in text, "the page shows no translated text at all: is the pseudo-catalogue served?"
    assert untranslated(text, data) == [], text


def test_the_header_in_spanish_has_no_untranslated_text(pseudo_app, data):
    """base.html: the skip link, the navigation, the account links (the language switch is translated)."""
    html = pseudo_app.test_client().get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert untranslated(visible_text(html, "body"), data) == []


def test_every_public_page_is_checked(app):
    """A new public page must join PAGES (translated) or NOT_PAGES."""
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and "GET" in (rule.methods or ())
        and getattr(app.view_functions[rule.endpoint], "_access", "?") is None
        and not rule.endpoint.startswith("open311.")  # the API, in JSON and XML: its words are the catalogue's
    }
    assert public - NOT_PAGES - PAGE_ENDPOINTS == set(), "add these public pages to PAGES"


def test_the_pseudo_translation_finds_english():
    html = "<main><h1>⟦Follow a request⟧</h1><p>Show the request</p><p lang='en'>English</p></main>"
    assert untranslated(visible_text(html, "main"), []) == ["Show", "the", "request"]
    nested = "<main><p>⟦try another word, or <a>⟦see them all⟧</a>⟧</p><script>let x = 1;</script></main>"
    names = '<main><p>⟦near <span translate="no">W BELLEVUE AVE</span>⟧ <time>3 Dec</time></p></main>'
    assert untranslated(visible_text(names, "main"), []) == []
    assert untranslated(visible_text(nested, "main"), []) == []
    assert untranslated(visible_text("<main><p>Graffiti 12</p></main>", "main"), ["Graffiti"]) == []


@cache
def english_sentences() -> list[re.Pattern[str]]:
    """The catalogue's English sentences (four words or more, outside their values) that the Spanish catalogue
    writes otherwise, each as a pattern whose values are any text: one found in a Spanish answer is a
    sentence left in English, as a value of a translated one or in a script's data."""
    spanish = translations("es").gettext
    found = []
    for message in extracted_messages():
        msgid = str(message.id[0] if isinstance(message.id, tuple) else message.id)
        if not msgid or spanish(msgid) == msgid:
            continue
        parts = re.split(r"%\(\w+\)[sd]", msgid)
        if sum(len(re.findall(r"[A-Za-z]{2,}", part)) for part in parts) >= 4:
            found.append(re.compile(".+?".join(re.escape(part) for part in parts)))
    return found


def english_in(text: str, sentences: list[re.Pattern[str]]) -> list[str]:
    return [match.group(0) for pattern in sentences if (match := pattern.search(text))]


#: What the address service and the public data answer, asked by a page in Spanish: an address placed
#: between two numbers and on a street's range, one judged by the place typed, refusals, points in and out.
ANSWERS = [
    "/api/addresses/validate?q=315+S+Main+St",
    "/api/addresses/validate?q=1685+Main+St,+Santa+Monica",
    "/api/addresses/validate?q=123+Foo+St,+West+Hollywood",
    "/api/addresses/validate?q=9113+W+Bellevue+Ave",
    "/api/addresses/validate?q=326+Bonnie+Brae+St",
    "/api/addresses/validate?q=La+Cienega+Blvd+%26+Blackwelder+St",
    "/api/addresses/validate?q=12345",
    "/api/addresses/validate?q=PO+Box+5",
    "/api/addresses/validate?q=0+W+Bellevue+Ave",
    "/api/addresses/suggest?q=2111+W+Bel",
    "/api/addresses/reverse?lon=-118.2669&lat=34.07325",
    "/api/locate?lon=-118.40&lat=34.07",
    "/api/locate?lon=-120.5&lat=33.0",
    "/api/requests/nearby?service=graffiti&lon=-118.2669&lat=34.07325",
    "/around/reports.geojson",
    "/alerts/ward/13.atom",
]


def test_the_english_sentences_are_found():
    sentences = english_sentences()
    assert english_in("placed between 303 and 327 S MAIN ST: confirm", sentences) == []  # a value, not a sentence
    assert english_in(
        "se ubicó on the left side of the 1651-1697 block of MAIN ST (address range of the street centerline)",
        sentences,
    )
    assert english_in("City of Los Angeles: llame al 311 (outside the city: (213) 473-3231)", sentences) == []


@pytest.mark.parametrize("path", [*(p.values[0] for p in PAGES), *ANSWERS])
def test_a_spanish_page_or_answer_holds_no_english_sentence(client, reference, path):
    response = client.get(path.format(reference=reference), headers={"Accept-Language": "es"})
    assert response.status_code in (200, 400, 404), response.status_code
    body = response.get_data(as_text=True)
    if response.is_json:
        body = json.dumps(response.get_json(), ensure_ascii=False)
    text = unescape(page_words(body))
    assert english_in(text, english_sentences()) == []
