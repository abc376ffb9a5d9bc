"""The text search of GET requests (``q``): each word in what the API publishes, whatever its case and accents.

A request matches when every word of ``q`` is found (as part of a word or whole) in its
published text: the service name, the published address, the public notes of its history,
and its description where the description is published. Each of these is read through
the very expression :mod:`open311.fields` publishes it with, so that nothing the API does
not show can be found by searching.

Case and accents: the embedded cluster has no locale (``initdb --no-locale``), so
PostgreSQL's ``lower()`` and ``ILIKE`` fold ASCII letters only, and ``unaccent`` is no
installed extension. Each word becomes instead a regular expression whose letters are
bracket classes of every character that folds to the same letter (``é`` -> ``[eEéÉèÈ…]``),
matched with ``~`` against the stored text as it is. The pattern is a bound parameter, so
PostgreSQL compiles it once per query.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence

from open311.fields import PUBLIC_NOTE, expression

#: Characters folded into classes: Latin (with Vietnamese), Greek and Cyrillic letters and their accents.
_FOLDED_RANGE = range(0x20, 0x2000)


def fold(text: str) -> str:
    """``text`` without accents, in lower case (``Évêque`` -> ``eveque``), as the search compares."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return stripped.casefold()


def _classes() -> dict[str, str]:
    """Each folded letter (or digit), with every character of :data:`_FOLDED_RANGE` folding to it."""
    members: dict[str, set[str]] = defaultdict(set)
    for code in _FOLDED_RANGE:
        character = chr(code)
        if not character.isalnum():
            continue
        folded = fold(character)
        if len(folded) == 1:
            members[folded].update((character, folded))
    return {key: "".join(sorted(chars)) for key, chars in members.items()}


_CLASSES = _classes()


def word_pattern(word: str) -> str:
    """A PostgreSQL regular expression (ARE) matching ``word`` whatever its case and accents.

    Letters become bracket classes; any other character is taken literally (a backslash
    before a character that is not a letter or digit makes it a literal in an ARE).
    """
    parts = []
    for character in fold(word):
        members = _CLASSES.get(character)
        if members is not None and len(members) > 1:
            parts.append(f"[{members}]")
        elif character.isalnum():
            parts.append(character)
        else:
            parts.append("\\" + character)
    return "".join(parts)


def _searched_text() -> str:
    """Everything of a request (``service_request r``) that ``q`` looks in, one text (lines apart)."""
    notes = f"(SELECT string_agg(e.note, E'\\n') FROM request_event e WHERE e.request_id = r.id AND {PUBLIC_NOTE})"
    published = (expression("service_name"), expression("address"), expression("description"), notes)
    return f"concat_ws(E'\\n', {', '.join(published)})"


def text_join(words: Sequence[str]) -> tuple[str, list[str], dict[str, str]]:
    """What to add to a request query for ``words``: a join, its conditions, their parameters.

    The join computes each request's searched text once (``OFFSET 0`` keeps PostgreSQL from
    copying the expression into every condition); it is evaluated only for the requests that
    pass the query's other conditions, so the search stays within the query's window.
    """
    if not words:
        return "", [], {}
    join = f"CROSS JOIN LATERAL (SELECT {_searched_text()} AS searched OFFSET 0) q"
    conditions = [f"q.searched ~ :word_{i}" for i in range(len(words))]
    params = {f"word_{i}": word_pattern(word) for i, word in enumerate(words)}
    return join, conditions, params


__all__ = ["fold", "text_join", "word_pattern"]
