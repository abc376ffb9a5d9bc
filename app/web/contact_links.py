"""Phone numbers and e-mail addresses on pages as links a phone can act on (``tel:``, ``mailto:``).

Two Jinja filters, registered by the factory: ``tel_link`` turns each phone number in a text
(e.g. "311 (outside the city: (213) 473-3231)") into a ``tel:`` link and escapes the rest;
``mailto_link`` makes one address a ``mailto:`` link.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from app.web import runtime

#: A run that reads as a phone number: digits with spaces, dots, dashes or brackets between them,
#: at least three digits in all (short codes such as 311 count).
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]*\d")
_MIN_DIGITS = 3


def _dial(number: str) -> str:
    """The ``tel:`` target of ``number``: its digits, and a leading + if it has one."""
    digits = re.sub(r"\D", "", number)
    return ("+" if number.startswith("+") else "") + digits


def tel_link(text: str | None) -> Markup:
    """``text`` escaped, each phone number in it a ``tel:`` link; "" for None."""
    if not text:
        return Markup("")
    parts: list[str] = []
    end = 0
    for match in _PHONE.finditer(text):
        number = match.group(0)
        if number.startswith("(") and ")" not in number:  # "(outside the city: 213 ..." is not a bracket of the number
            number = number[1:]
        start = match.end() - len(number)
        if sum(ch.isdigit() for ch in number) < _MIN_DIGITS:
            continue
        parts.append(str(escape(text[end:start])))
        parts.append(f'<a class="tel" href="tel:{escape(_dial(number))}">{escape(number)}</a>')
        end = match.end()
    parts.append(str(escape(text[end:])))
    return Markup("".join(parts))


def mailto_link(address: str | None) -> Markup:
    """``address`` as a ``mailto:`` link (escaped); "" for None or a text without an @."""
    if not address:
        return Markup("")
    if "@" not in address:
        return escape(address)
    return Markup(f'<a class="mailto" href="mailto:{escape(address.strip())}">{escape(address)}</a>')


def register(app: Flask) -> None:
    """Install the two filters, and ``city_contact`` (the city's own name and phone) on every page."""
    app.jinja_env.filters["tel_link"] = tel_link
    app.jinja_env.filters["mailto_link"] = mailto_link

    @app.context_processor
    def city_contact() -> dict[str, Any]:
        return {"city_contact": runtime().city.contact}
