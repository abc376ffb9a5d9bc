"""The interface's catalogues in tests: compiled when stale, and a pseudo-translation that shows what is not translated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from core.i18n import TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]

#: The pseudo-translation wraps every string in these, so that text outside them is untranslated.
OPEN, CLOSE = "⟦", "⟧"


def page_words(html: str) -> str:
    """A page's HTML without its tags: its words as read, whatever marks them (a street's name in a
    public place is a ``<span translate="no">``, as a name no translation changes)."""
    return re.sub(r"<[^>]+>", "", html)


def compile_catalogues(directory: Path = TRANSLATIONS_DIR) -> None:
    """Compile each ``messages.po`` of ``directory`` whose ``.mo`` is missing or older (what install.sh does)."""
    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        with mo.open("wb") as target:
            write_mo(target, catalog)


def extracted_messages() -> Catalog:
    """Every string of the code and templates marked for translation, as ``make translations`` extracts them."""
    catalog = Catalog(locale="en")
    method_map: list[tuple[str, str]] = []
    for line in (ROOT / "babel.cfg").read_text().splitlines():
        if line.startswith("[") and ":" in line:
            method, pattern = line.strip("[]").split(":", 1)
            method_map.append((pattern.strip(), method.strip()))
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords, options_map={"**.html": {}}
    ):
        catalog.add(message, context=context)
    return catalog


def write_pseudo_catalogue(directory: Path, language: str) -> Path:
    """A compiled catalogue of ``language`` in ``directory`` where every msgstr is ⟦msgid⟧; returns ``directory``."""
    source = extracted_messages()
    pseudo = Catalog(locale=language)
    for message in source:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = str(message.id[0]), str(message.id[1])
            forms = [singular] + [plural] * (pseudo.num_plurals - 1)
            pseudo.add(message.id, tuple(OPEN + form + CLOSE for form in forms), context=message.context)
        else:
            pseudo.add(message.id, OPEN + str(message.id) + CLOSE, context=message.context)
    target = directory / language / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "messages.po").open("wb") as po:  # what makes the language one with a catalogue
        write_po(po, pseudo)
    with (target / "messages.mo").open("wb") as mo:
        write_mo(mo, pseudo)
    return directory
