"""The interface's language on the web: Flask-Babel, and which language each request gets.

The language is, in order: the one the visitor chose with the header's switch (remembered in
the :data:`COOKIE` cookie), else the best match of the browser's ``Accept-Language`` among the
languages offered, else the city's first. The languages offered are the city's
(``[city] languages``) that have a catalogue (:func:`core.i18n.offered_languages`).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, request
from flask_babel import Babel, get_locale, get_translations

from core.catalogue_file import ServiceLevel
from core.i18n import TRANSLATIONS_DIR, language_name, offered_languages, pick_language

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


def init_app(app: Flask, city_languages: tuple[str, ...], directory: Path = TRANSLATIONS_DIR) -> None:
    """Flask-Babel over ``directory``'s catalogues, the language selection, and the templates' language values."""
    offered = offered_languages(city_languages, directory)
    app.extensions["geo311_languages"] = offered
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(directory)
    Babel(app, default_locale=offered[0], locale_selector=select_locale)
    app.jinja_env.filters["service_level"] = service_level_words

    @app.context_processor
    def language_values() -> dict[str, object]:
        return {
            "current_locale": current_language(),
            "language_choices": [(code, language_name(code)) for code in offered],
        }
