"""The typed place as evidence: which agency a typed city name or ZIP code points to.

People write the place they believe an address is in: a postal city ("Venice"), a
neighbour's name ("Culver City", "WeHo") or a ZIP code. That is evidence, never proof:
the point of the address decides whose it is. But a typed neighbour's name must never be
ignored, so the validator weighs it (:mod:`address_db.validation`).

Names come from the agencies layer (an agency's own name: "City of Santa Monica" gives
SANTA MONICA) and from the city file's ``[addresses.place_names]`` aliases; ZIP codes
from ``[addresses.zipcodes]``. A ZIP code that the city's own addresses also carry is
shared, and so no evidence (Harbor Gateway addresses have Gardena ZIP codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.queries import feature_names
from boundaries.rules import current_layers
from core.caching import ADDRESS_TABLES, BOUNDARY_TABLES, VersionedCache
from core.city import AddressSettings

_PREFIXES = re.compile(r"^(?:CITY OF|TOWN OF|VILLAGE OF|UNINCORPORATED)\s+")


def place_key(name: str) -> str:
    """A typed or official place name compared as upper-case words without punctuation."""
    cleaned = re.sub(r"\([^)]*\)", " ", name.upper())
    cleaned = re.sub(r"[^A-Z0-9 ]", " ", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    while _PREFIXES.match(cleaned):
        cleaned = _PREFIXES.sub("", cleaned)
    return cleaned


@dataclass(frozen=True)
class PlaceEvidence:
    """What the typed place says: the city itself, a neighbour agency, or nothing known."""

    typed: str | None = None
    agency: str | None = None  # the neighbour's agency key
    agency_name: str | None = None
    home: bool = False
    by: str | None = None  # "name" or "zip"

    @property
    def names_neighbour(self) -> bool:
        return self.agency is not None


@dataclass
class PlaceIndex:
    """The place names and ZIP codes of one city and its neighbours."""

    home_names: set[str] = field(default_factory=set)
    agency_names: dict[str, str] = field(default_factory=dict)  # place key -> agency key
    agency_titles: dict[str, str] = field(default_factory=dict)  # agency key -> official name
    agency_zips: dict[str, str] = field(default_factory=dict)  # ZIP -> agency key (not shared with the city)

    def trailing_place(self, words: str) -> str | None:
        """A known place name at the end of ``words`` ("OCEAN FRONT WALK VENICE" -> "VENICE"), longest first."""
        parts = words.split()
        for start in range(1, len(parts)):
            tail = " ".join(parts[start:])
            if tail in self.home_names or tail in self.agency_names:
                return tail
        return None

    def read(self, city: str | None, zipcode: str | None) -> PlaceEvidence:
        """The evidence of a typed city name (first) or ZIP code."""
        if city:
            key = place_key(city)
            if key in self.agency_names and key not in self.home_names:
                agency = self.agency_names[key]
                return PlaceEvidence(city, agency, self.agency_titles.get(agency), by="name")
            if key in self.home_names:
                return PlaceEvidence(city, home=True, by="name")
        if zipcode and zipcode in self.agency_zips:
            agency = self.agency_zips[zipcode]
            return PlaceEvidence(zipcode, agency, self.agency_titles.get(agency), by="zip")
        return PlaceEvidence(city or zipcode)


def build_place_index(session: Session, city: str, home_name: str, settings: AddressSettings | None) -> PlaceIndex:
    """The place index of ``city`` from its agencies layer, its addresses and its settings."""
    index = PlaceIndex()
    index.home_names = {place_key(home_name)} | {place_key(n) for n in (settings.home_place_names if settings else ())}
    for key, name in feature_names(session, city, "agencies"):
        index.agency_titles[key] = name
        index.agency_names.setdefault(place_key(name), key)
    if settings:
        for key, names in settings.place_names.items():
            for name in names:
                index.agency_names[place_key(name)] = key
        own_zips = set(
            session.execute(
                text(
                    "SELECT DISTINCT zipcode FROM address_point WHERE city = :city AND in_jurisdiction "
                    "AND owner_agency IS NULL AND zipcode IS NOT NULL"
                ),
                {"city": city},
            ).scalars()
        )
        for key, codes in settings.zipcodes.items():
            for code in codes:
                if code not in own_zips:
                    index.agency_zips[code] = key
    return index


def _version(session: Session, city: str) -> tuple:
    return tuple(
        session.execute(
            text(
                "SELECT (SELECT max(id) FROM address_load WHERE city = :city), "
                f"(SELECT max(id) FROM boundary_layer_version WHERE {current_layers(None)})"
            ),
            {"city": city},
        ).one()
    )


class PlaceIndexCache(VersionedCache[PlaceIndex]):
    """A :class:`PlaceIndex` per city, rebuilt after an address or boundary load."""

    def __init__(self, home_name: str, settings: AddressSettings | None, max_age: float | None = None) -> None:
        super().__init__(
            lambda session, city: build_place_index(session, city, home_name, settings),
            _version,
            max_age,
            tables=ADDRESS_TABLES + BOUNDARY_TABLES,
        )
