"""The interface's language on the web: Flask-Babel, and which language each request gets.

The language is, in order: the one the visitor chose with the header's switch (remembered in
the :data:`COOKIE` cookie), else the best match of the browser's ``Accept-Language`` among the
languages offered, else the city's first. The languages offered are the city's
(``[city] languages``) that have a catalogue (:func:`core.i18n.offered_languages`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import Babel, get_locale, get_translations
from markupsafe import Markup

from address_db.places import place_words
from core.catalogue_file import ServiceLevel
from core.i18n import TRANSLATIONS_DIR, Sentence, language_name, offered_languages, pick_language
from service_requests.catalogue_db import active_services

#: The cookie that remembers the language chosen with the switch.
COOKIE = "geo311_lang"
#: How long the choice is remembered (a year).
COOKIE_MAX_AGE = 365 * 24 * 3600


def languages() -> tuple[str, ...]:
    """The languages this app offers, the city's default first."""
    return current_app.extensions["geo311_languages"]


def select_locale() -> str:
    """The language of the current request: the remembered choice, else ``Accept-Language``, else the default."""
    offered = languages()
    chosen = request.cookies.get(COOKIE)
    if chosen in offered:
        return chosen
    return pick_language(request.accept_languages.best_match(offered), offered)


def current_language() -> str:
    """The language of the current request, as a code ("en", "es")."""
    locale = get_locale()
    return str(locale) if locale is not None else languages()[0]


def service_level_words(level: ServiceLevel) -> str:
    """A service level in the words of the page's language ("48 hours", "5 días hábiles")."""
    return level.describe_in(get_translations().ngettext)


def service_names() -> dict[str, str]:
    """The city's active services' names in the page's language, by code (read once a request)."""
    names = g.get("geo311_service_names")
    if names is None:
        from app.web import db_session, runtime  # the web layer's session, set up after this module

        language = current_language()
        services = active_services(db_session(), runtime().city.key)
        names = g.geo311_service_names = {s.code: s.in_language(language).name for s in services}
    return names


def service_name(code: str, stored: str) -> str:
    """The name of the service ``code`` in the page's language; ``stored`` (the name a request was filed
    under) for a service no longer offered."""
    return service_names().get(code, stored)


def place_in_words(place: str | None) -> Markup:
    """A public place (:func:`address_db.places.approximate_place`) in the page's language, its street
    names marked as names (``translate="no"``: neither the catalogue nor a browser's translator changes
    them); "" for None."""
    if not place:
        return Markup("")
    words = get_translations()
    return Markup(
        place_words(
            place, lambda m: Markup(words.gettext(m)), name=lambda n: Markup('<span translate="no">%s</span>') % n
        )
    )


def place_text(place: str | None) -> str | None:
    """A public place in the page's language as plain text (for JSON: the scripts write it as text)."""
    return place_words(place, get_translations().gettext) if place else place


def error_words(error: BaseException | str, **names: object) -> str:
    """A message of the domain (an exception's, or a string) in the page's language: a
    :class:`core.i18n.Sentence` is written again from its msgid, its values replaced by ``names`` where
    given (the service's name in the page's language, say); a plain message is looked up as a msgid (an
    ``N_`` one is translated, any other comes back as it is)."""
    message = error.args[0] if isinstance(error, BaseException) and error.args else error
    words = get_translations().gettext
    if isinstance(message, Sentence):
        shown = {k: v for k, v in names.items() if k in message.values}
        return (
            Sentence(message.msgid, **{**message.values, **shown}).in_words(words) if shown else message.in_words(words)
        )
    return words(str(message))


def page_words(data: Any) -> Any:
    """``data`` (an answer of the domain as dicts and lists) with each :class:`core.i18n.Sentence` in it
    written in the page's language: what the JSON of the address service sends the widget."""
    if isinstance(data, Sentence):
        return error_words(data)
    if isinstance(data, dict):
        return {k: page_words(v) for k, v in data.items()}
    if isinstance(data, list):
        return [page_words(v) for v in data]
    return data


def init_app(app: Flask, city_languages: tuple[str, ...], directory: Path = TRANSLATIONS_DIR) -> None:
    """Flask-Babel over ``directory``'s catalogues, the language selection, and the templates' language values."""
    offered = offered_languages(city_languages, directory)
    app.extensions["geo311_languages"] = offered
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    Babel(app, default_locale=offered[0], locale_selector=select_locale)
    app.jinja_env.filters["service_level"] = service_level_words
    app.jinja_env.globals["service_name"] = service_name
    app.jinja_env.filters["place"] = place_in_words
    app.jinja_env.filters["error_words"] = error_words

    @app.context_processor
    def language_values() -> dict[str, object]:
        return {
            "current_locale": current_language(),
            "language_choices": [(code, language_name(code)) for code in offered],
        }
