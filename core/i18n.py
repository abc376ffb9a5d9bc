"""Languages: the gettext catalogues, their languages, and translations outside a web request.

The interface is written in English (:data:`SOURCE_LANGUAGE`), the msgids; every further
language is a catalogue ``app/translations/<lang>/LC_MESSAGES/messages.po``, compiled to its
``.mo`` at install (``scripts/install.sh``; ``make translations`` extracts and updates).
The web reads the catalogues through Flask-Babel (``app/i18n.py``); the domain (the e-mails
of the outbox, rendered in the requester's language) reads the same files through plain
Babel here, so nothing below ``app/`` needs Flask.

A city lists the languages it offers (``[city] languages``); those offered are the ones
listed that have a catalogue (English always has one: its own strings).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

#: The language the interface's strings are written in.
SOURCE_LANGUAGE = "en"

#: The catalogues' folder (beside the templates whose strings they mostly hold).
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "app" / "translations"

_CODE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def N_(message: str) -> str:  # noqa: N802 -- gettext's conventional name, which pybabel extracts
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


class Sentence(str):
    """A sentence for people, in the source language (it is that ``str``), that keeps its msgid and values:
    a Flask-free package raises its errors with one, and the page that shows the error writes it in the
    page's language (:meth:`in_words`). Its msgid is marked with :func:`N_` where it is written:
    ``Sentence(N_("%(name)s is empty; choose the photo again."), name=name)``."""

    msgid: str
    values: dict[str, object]

    def __new__(cls, msgid: str, **values: object) -> Sentence:
        made = super().__new__(cls, msgid % values if values else msgid)
        made.msgid, made.values = msgid, values
        return made

    def in_words(self, gettext: Callable[[str], str]) -> str:
        """The sentence in the language of ``gettext`` (a catalogue's), its values filled in (a value that is a
        sentence itself, such as the reason inside "%(reason)s Nearby: ...", written in that language too)."""
        translated = gettext(self.msgid)
        if not self.values:
            return translated
        values = {k: v.in_words(gettext) if isinstance(v, Sentence) else v for k, v in self.values.items()}
        return translated % values


def language_problem(code: object) -> str | None:
    """Why ``code`` is not a language a city can offer (None when it is one), in a sentence."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        return f'{code!r} is not a language code: write a lower-case code such as "en" or "es" (or "pt_BR")'
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return f'{code!r} is not a language Babel knows: use a code such as "en", "es", "zh" or "pt_BR"'
    return None


def catalogue_languages(directory: Path = TRANSLATIONS_DIR) -> tuple[str, ...]:
    """The languages with a catalogue in ``directory`` (its ``.po``), the source language first."""
    found = sorted(p.parent.parent.name for p in directory.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE))


def offered_languages(city_languages: Iterable[str], directory: Path = TRANSLATIONS_DIR) -> tuple[str, ...]:
    """The city's languages that have a catalogue, in the city's order (never empty: the source language)."""
    available = set(catalogue_languages(directory))
    offered = tuple(code for code in city_languages if code in available)
    return offered or (SOURCE_LANGUAGE,)


def language_name(code: str) -> str:
    """The language's name in itself, capitalised ("English", "Español")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


@lru_cache(maxsize=32)
def _load(language: str, directory: Path) -> NullTranslations:
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(directory), [language])  # a NullTranslations when no .mo is compiled


def translations(language: str | None, directory: Path = TRANSLATIONS_DIR) -> NullTranslations:
    """The catalogue of ``language`` (its ``gettext`` and ``ngettext``), read with plain Babel: the
    source language's strings when None or without a compiled catalogue."""
    return _load(language or SOURCE_LANGUAGE, directory)


def pick_language(language: str | None, offered: Collection[str]) -> str:
    """``language`` when offered, else the first offered (the city's default)."""
    if language is not None and language in offered:
        return language
    return next(iter(offered), SOURCE_LANGUAGE)
