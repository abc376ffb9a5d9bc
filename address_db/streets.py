"""The street-name index: which known streets a typed name could mean.

Intake staff mistype street names; residents misspell them. The distinct street names
of a city (a few thousand even for a large city) are held in memory and compared with
the Damerau-Levenshtein distance (a transposition counts as one edit, also next to
another edit), so that one- and two-letter typos still find the street. Numbered streets must keep their digits:
136TH is not a typo of 135TH.
"""

from __future__ import annotations

import re

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.caching import ADDRESS_TABLES, VersionedCache


def allowed_edits(name: str) -> int:
    """How many letter edits a typed name may be from the street it means."""
    letters = len(name.replace(" ", ""))
    if letters <= 3:
        return 0
    return 1 if letters <= 5 else 2


class StreetIndex:
    """The distinct street names of one city's address database."""

    def __init__(self, city: str, names: list[str]) -> None:
        self.city = city
        self.names = sorted(set(names))
        self._known = set(self.names)

    @classmethod
    def build(cls, session: Session, city: str) -> StreetIndex:
        rows = session.execute(text("SELECT DISTINCT name FROM address_street WHERE city = :city"), {"city": city})
        return cls(city, [row[0] for row in rows])

    def __contains__(self, name: str) -> bool:
        return name in self._known

    def similar(self, name: str, limit: int = 8) -> list[tuple[str, int]]:
        """Known names ``name`` could mean, as (name, edits), closest first.

        An exact match is the only answer when there is one: a real street name is
        taken as typed.
        """
        if name in self._known:
            return [(name, 0)]
        if allowed_edits(name) == 0:
            return []
        digits = re.sub(r"\D", "", name)
        matches = process.extract(name, self.names, scorer=DamerauLevenshtein.distance, score_cutoff=2, limit=limit * 3)
        found = [
            (match, int(distance))
            for match, distance, _ in matches
            # the budget follows the longer word: FAIRF is two letters short of FAIRFAX
            if distance <= allowed_edits(max(name, match, key=len)) and re.sub(r"\D", "", match) == digits
        ]
        found.sort(key=lambda item: (item[1], item[0]))
        return found[:limit]

    def completing(self, prefix: str, limit: int = 8) -> list[str]:
        """Names whose beginning is within one edit of a partly typed ``prefix`` (BELEV -> BELLEVUE)."""
        if len(prefix) < 4:
            return []
        size = len(prefix)
        found = [
            name
            for name in self.names
            # the typed part may have one letter missing or extra: compare with beginnings one shorter and longer
            if min(DamerauLevenshtein.distance(prefix, name[:n], score_cutoff=1) for n in (size - 1, size, size + 1))
            <= 1
        ]
        return found[:limit]

    def resembling(self, name: str, limit: int = 5) -> list[str]:
        """The names most like ``name`` by any measure, for "did you mean" lists."""
        return [match for match, _, _ in process.extract(name, self.names, limit=limit)]


def address_data_version(session: Session, city: str) -> int | None:
    """The id of the last address load of ``city``: the street index's data version."""
    return session.execute(text("SELECT max(id) FROM address_load WHERE city = :city"), {"city": city}).scalar()


class StreetIndexCache(VersionedCache[StreetIndex]):
    """A :class:`StreetIndex` per city, rebuilt after each address load."""

    def __init__(self, max_age: float | None = None) -> None:
        super().__init__(StreetIndex.build, address_data_version, max_age, tables=ADDRESS_TABLES)
