"""The words of ``q`` as the database matches them: case and accents folded (no database: pytest -m unit).

The patterns are PostgreSQL regular expressions of bracket classes and escaped literals, a part
of the syntax Python's ``re`` reads the same way, so they are tried here with ``re``; the
database tests (tests/open311/test_requests_search.py) run them in PostgreSQL.
"""

from __future__ import annotations

import re

import pytest

from open311.search import fold, text_join, word_pattern


def found(word: str, text: str) -> bool:
    return re.search(word_pattern(word), text) is not None


def test_fold_drops_accents_and_case():
    assert fold("Évêque Ñandú") == "eveque nandu"
    assert fold("ÅNGSTRÖM") == "angstrom"


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("cafe", "Grafiti en el CAFÉ de la esquina"),
        ("CAFÉ", "cafe on the corner"),
        ("café", "Café"),
        ("nino", "Parque del Niño"),
        ("ÁRBOL", "arbol caído"),
        ("ул", "Улица"),  # Cyrillic case
        ("graff", "GRAFFITI REMOVAL"),
        ("W", "2111 w bellevue ave"),
        ("2111", "2111 W BELLEVUE AVE"),
    ],
)
def test_a_word_is_found_whatever_its_case_and_accents(word, text):
    assert found(word, text)


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("cafe", "caf"),
        ("n.a", "nXa"),  # a dot is a dot, not "any character"
        ("a*", "b"),
        ("(x", "y"),
        ("100%", "100 percent"),
        ("[ab]", "a"),
    ],
)
def test_other_characters_are_literal(word, text):
    assert not found(word, text)
    assert found(word, f"say {word} here")


def test_a_long_word_makes_a_valid_pattern():
    assert found("é" * 200, "E" * 200)


def test_no_words_no_join_and_each_word_its_own_condition():
    assert text_join(()) == ("", [], {})
    join, conditions, params = text_join(("wall", "Café"))
    assert "CROSS JOIN LATERAL" in join and "OFFSET 0" in join
    assert conditions == ["q.searched ~ :word_0", "q.searched ~ :word_1"]
    assert params == {"word_0": word_pattern("wall"), "word_1": word_pattern("Café")}
