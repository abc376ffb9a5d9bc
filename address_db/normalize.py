"""Address normalization: free text (or a source's columns) to standardized components.

One normalizer serves the address loader and every query, so that both sides of a
match are written the same way. Street addresses are parsed by ``usaddress`` (a CRF
trained on US addresses); intersections (``X AT Y``, ``X & Y``, ``X and Y``, ``X / Y``),
P.O. boxes and input that cannot be an address are recognized before it. Components
are standardized after USPS Publication 28: street suffixes (AVENUE, AV -> AVE),
directionals (WEST -> W), unit designators (APARTMENT -> APT, # 3), numbered streets
as ordinals (135 -> 135TH), upper case without punctuation.

:func:`parse_address` raises :class:`InvalidAddress` with a reason a person can act on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache

import usaddress
from scourgify.address_constants import OCCUPANCY_TYPE_ABBREVIATIONS, STREET_TYPE_ABBREVIATIONS

from core.errors import UserError
from core.i18n import N_, Sentence

MAX_LENGTH = 200

DIRECTIONALS = {
    "N": "N",
    "S": "S",
    "E": "E",
    "W": "W",
    "NE": "NE",
    "NW": "NW",
    "SE": "SE",
    "SW": "SW",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
STREET_TYPES: dict[str, str] = {**{v: v for v in STREET_TYPE_ABBREVIATIONS.values()}, **STREET_TYPE_ABBREVIATIONS}
UNIT_TYPES: dict[str, str] = {
    **{v: v for v in OCCUPANCY_TYPE_ABBREVIATIONS.values()},
    **OCCUPANCY_TYPE_ABBREVIATIONS,
    "APT": "APT",
    "APTS": "APT",
    "STE": "STE",
    "SUITE": "STE",
    "UNIT": "UNIT",
    "NO": "#",
    "NUMBER": "#",
}
WORD_ORDINALS = {
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
    "ELEVENTH": "11TH",
    "TWELFTH": "12TH",
}

_ALLOWED = re.compile(r"[A-Za-z0-9\s,.#\-/&'@]")
_PO_BOX = re.compile(r"\b(?:P\s*O|POST\s+OFFICE)\s*BOX\b|^\s*BOX\s+\d+|\bPMB\s+\d+")
_ZIP_AT_END = re.compile(r"[\s,]*\b(\d{5})(?:-\d{4})?\s*$")
_COUNTRY_AT_END = re.compile(r"[\s,]+(?:USA|US|UNITED STATES(?: OF AMERICA)?)\s*$")
_STATE_AT_END = re.compile(r"[\s,]+(?:CA|CALIF|CALIFORNIA)\s*$")
# "X AT Y", "X AND Y", "X & Y", "X @ Y", "X / Y" (between words: "1/2" is a fraction, "N/R" a roadway).
_DANGLING_CONNECTORS = re.compile(r"(?:\s+(?:AT|AND)|\s*[&@/])+$")
_INTERSECTION = re.compile(r"\s+(?:AT|AND)\s+|\s*[&@]\s*|\s+/\s*|(?<=[A-Z]{2})/\s*(?=[A-Z0-9])")
# "EXPOSITION BLVD N/R": which roadway of a divided street; not part of its name.
_ROADWAY = re.compile(r"\b[NSEW]/?B?R\b|\b[NSEW]/B\b")
_SPACE_UNIT = re.compile(r"\s+SPACE\s+(\w+)\b", re.IGNORECASE)
# "INTERSECTION OF X & Y", "THE CORNER OF X AND Y": the words before the two streets.
_INTERSECTION_OF = re.compile(r"^\s*(?:THE\s+)?(?:INTERSECTION|CORNER|CROSSING)\s+OF\s+", re.IGNORECASE)
_NUMBER = re.compile(r"^(\d+)(?:-\d+)?([A-Z])?$")
_FRACTION = re.compile(r"^\d/\d$")


class InvalidAddress(UserError):
    """Text that is not an address; the message says why and what to type instead."""


@dataclass(frozen=True)
class Street:
    """A standardized street: ``W BELLEVUE AVE`` is predir W, name BELLEVUE, suffix AVE.

    ``predir_word`` and ``suffix_word`` keep those words as typed, for the other
    readings a street allows (:meth:`readings`); they take no part in equality.
    """

    name: str
    predir: str | None = None
    suffix: str | None = None
    postdir: str | None = None
    predir_word: str | None = field(default=None, compare=False, repr=False)
    suffix_word: str | None = field(default=None, compare=False, repr=False)
    postdir_word: str | None = field(default=None, compare=False, repr=False)
    trailing_words: str | None = field(default=None, compare=False, repr=False)

    @property
    def text(self) -> str:
        return " ".join(p for p in (self.predir, self.name, self.suffix, self.postdir) if p)

    def readings(self) -> list[Street]:
        """This street, then the readings in which a directional or street-type word is part
        of the name, or the other way round: BEVERLY GLEN (BLVD), ECHO PARK (AVE),
        WEST KENSINGTON (RD), S WEST (BLVD)."""
        readings = [self]
        first, _, rest = self.name.partition(" ")
        if not self.predir and rest and first in DIRECTIONALS:  # "S WEST" read as one name: S + WEST (BLVD)
            readings.append(Street(rest, DIRECTIONALS[first], self.suffix, self.postdir))
        if not self.predir and self.name in DIRECTIONALS and self.postdir_word:  # "3800 S WEST": name S, postdir WEST
            readings.append(Street(self.postdir_word, DIRECTIONALS[self.name], self.suffix, None))
        if self.trailing_words and not self.suffix:  # "521 W CESAR E CHAVEZ": CHAVEZ was taken for a city
            middle = f" {self.postdir_word}" if self.postdir_word else ""
            readings.append(Street(f"{self.name}{middle} {self.trailing_words}", self.predir, None, None))
        if self.suffix_word:
            readings.append(Street(f"{self.name} {self.suffix_word}", self.predir, None, self.postdir))
        if self.predir_word:
            readings.append(Street(f"{self.predir_word} {self.name}", None, self.suffix, self.postdir))
        if self.suffix_word and self.predir_word:
            readings.append(Street(f"{self.predir_word} {self.name} {self.suffix_word}", None, None, self.postdir))
        return readings


@dataclass(frozen=True)
class ParsedAddress:
    """A standardized street address or intersection."""

    kind: str  # "address" or "intersection"
    street: Street
    number: int | None = None
    number_suffix: str | None = None  # "1/2", "A"
    cross_street: Street | None = None
    unit_type: str | None = None
    unit: str | None = None
    city: str | None = None
    zipcode: str | None = None

    @property
    def house(self) -> str:
        """The house number as written: ``3008 1/2``, ``12B``."""
        if self.number is None:
            return ""
        if not self.number_suffix:
            return str(self.number)
        return (
            f"{self.number} {self.number_suffix}" if "/" in self.number_suffix else f"{self.number}{self.number_suffix}"
        )

    @property
    def unit_text(self) -> str:
        if not self.unit:
            return ""
        return f"{self.unit_type or '#'} {self.unit}"

    def text(self, unit: bool = True, zipcode: bool = True) -> str:
        """The standardized one-line form: ``3008 1/2 E MALABAR ST APT 2, 90063``."""
        if self.kind == "intersection":
            assert self.cross_street is not None
            line = f"{self.street.text} AT {self.cross_street.text}"
        else:
            line = " ".join(p for p in (self.house, self.street.text, self.unit_text if unit else "") if p)
        if zipcode and self.zipcode:
            line += f", {self.zipcode}"
        return line

    def without_unit(self) -> ParsedAddress:
        return replace(self, unit_type=None, unit=None)


def ordinal(number: int) -> str:
    """``1`` -> ``1ST``, ``12`` -> ``12TH``, ``23`` -> ``23RD``."""
    if 10 <= number % 100 <= 20:
        return f"{number}TH"
    return f"{number}{ {1: 'ST', 2: 'ND', 3: 'RD'}.get(number % 10, 'TH') }"


def standardize_name(name: str) -> str:
    """A street name in its standard form: ordinals for numbered streets, ST for SAINT."""
    words = _clean_words(name)
    if not words:
        return ""
    if len(words) == 1:
        word = words[0]
        if word.isdigit() and int(word) > 0:
            return ordinal(int(word))
        if re.fullmatch(r"\d+(ST|ND|RD|TH)", word) and int(word[:-2]) > 0:
            return ordinal(int(word[:-2]))
        return WORD_ORDINALS.get(word, word)
    if words[0] == "SAINT":
        words[0] = "ST"
    return " ".join(words)


def standardize_street(
    name: str, predir: str | None = None, suffix: str | None = None, postdir: str | None = None
) -> Street:
    """A :class:`Street` from its parts as a source or a parser gives them."""
    predir_word = " ".join(_clean_words(predir)) or None
    postdir_word = " ".join(_clean_words(postdir)) or None
    return Street(
        name=standardize_name(name),
        predir=_directional(predir),
        suffix=_street_type(suffix),
        postdir=_directional(postdir),
        predir_word=predir_word if predir_word and len(predir_word) > 2 else None,  # WEST, not W
        suffix_word=" ".join(_clean_words(suffix)) or None,
        postdir_word=postdir_word,
    )


def standardize_components(
    *,
    number: object = None,
    predir: str | None = None,
    street_name: str | None = None,
    suffix: str | None = None,
    postdir: str | None = None,
    unit_type: str | None = None,
    unit: str | None = None,
    city: str | None = None,
    zipcode: object = None,
) -> ParsedAddress:
    """A :class:`ParsedAddress` from a source's separate columns (no free-text parsing)."""
    if not street_name or not str(street_name).strip():
        raise InvalidAddress(Sentence(N_("There is no street name.")))
    number_value, number_suffix = _house_number(str(number).strip().upper()) if _present(number) else (None, None)
    if number_value is None:
        raise InvalidAddress(Sentence(N_("There is no house number.")))
    return ParsedAddress(
        kind="address",
        street=standardize_street(str(street_name), predir, suffix, postdir),
        number=number_value,
        number_suffix=number_suffix,
        unit_type=_unit_type(unit_type) if unit else None,
        unit=_clean_unit(unit) if unit else None,
        city=" ".join(_clean_words(city)) if city else None,
        zipcode=standardize_zipcode(zipcode),
    )


def parse_address(text: object) -> ParsedAddress:
    """Parse and standardize free text, or raise :class:`InvalidAddress` saying why not."""
    if not isinstance(text, str):
        raise InvalidAddress(Sentence(N_("The address must be text.")))
    return _parse_cached(text.strip())


# A pure function of the text, with no data behind it: outside the cache policy of core/caching.py
# (no version to follow, nothing to invalidate); the bound keeps a flood of distinct inputs small.
@lru_cache(maxsize=65536)
def _parse_cached(text: str) -> ParsedAddress:
    cleaned = _check_characters(text)
    if _PO_BOX.search(cleaned):
        raise InvalidAddress(
            Sentence(
                N_(
                    "A P.O. box is a mailing address, not a place: give the street address or the cross streets "
                    "where the problem is."
                )
            )
        )
    cleaned = _COUNTRY_AT_END.sub("", cleaned)
    cleaned = _INTERSECTION_OF.sub("", cleaned)
    cleaned = _SPACE_UNIT.sub(r" SPC \1", cleaned)  # "SPACE 14" (a mobile-home space): the parser knows SPC
    zipcode = None
    match = _ZIP_AT_END.search(cleaned)
    if match and match.start() > 0:
        zipcode = match.group(1)
        cleaned = cleaned[: match.start()]
    cleaned = _STATE_AT_END.sub("", cleaned).strip(" ,")
    cleaned = _DANGLING_CONNECTORS.sub("", cleaned).strip(" ,")  # "MAIN ST &": no second street was given
    if not cleaned:
        raise InvalidAddress(Sentence(N_("That is only a ZIP code: add the house number and street.")))
    if re.fullmatch(r"[\d\s,#\-/]+", cleaned):
        raise InvalidAddress(Sentence(N_("That is only a number: add the street name (e.g. 200 N Spring St).")))
    if not re.search(r"[A-Z]{2}|\d+(?:ST|ND|RD|TH)\b|^[A-Z]\b|^\d+\s+(?:[NSEW]\s+)?[A-Z]\b", cleaned):
        raise InvalidAddress(
            Sentence(N_("There is no street name: give the house number and street (e.g. 200 N Spring St)."))
        )

    intersection = _parse_intersection(cleaned, zipcode)
    if intersection is not None:
        return intersection
    return _parse_street_address(cleaned, zipcode)


# -- pieces -----------------------------------------------------------------------------


def _check_characters(text: str) -> str:
    if not text:
        raise InvalidAddress(
            Sentence(N_("The address is empty: type a house number and street, or two cross streets."))
        )
    if len(text) > MAX_LENGTH:
        raise InvalidAddress(
            Sentence(
                N_("The address is too long (%(length)s characters; an address has at most %(most)s)."),
                length=len(text),
                most=MAX_LENGTH,
            )
        )
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    bad = sorted({c for c in folded if not _ALLOWED.fullmatch(c)})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        raise InvalidAddress(
            Sentence(
                N_("The address has characters that are not part of an address (%(shown)s); remove them."), shown=shown
            )
        )
    folded = folded.upper().replace(".", " ")
    return re.sub(r"\s+", " ", folded).strip()


def _parse_intersection(cleaned: str, zipcode: str | None) -> ParsedAddress | None:
    parts = [p.strip(" ,-") for p in _INTERSECTION.split(_ROADWAY.sub(" ", cleaned))]
    if len(parts) != 2 or not all(parts):
        return None
    if re.match(r"^\d+(?:\s+\d/\d)?\s+\D", parts[0]) and not re.match(r"^\d+(?:ST|ND|RD|TH)\b", parts[0]):
        return None  # "500 W 5TH ST AT GRAND": a house address with a landmark
    # "SYLVAN ST & HAZELTINE AVE, LOS ANGELES": a comma after the second street starts the city;
    # a comma in the first is part of its name ("MARTIN LUTHER KING, JR BLVD").
    second, _, tail = parts[1].partition(",")
    first = _parse_street(parts[0].replace(",", " "))
    city = " ".join(_clean_words(tail)) or None
    return ParsedAddress(
        kind="intersection", street=first, cross_street=_parse_street(second), city=city, zipcode=zipcode
    )


def _parse_street(text: str) -> Street:
    """A bare street (no number): ``N FIGUEROA ST``."""
    text = _SAINT_AT_START.sub(r"\1SAINT ", text)
    try:
        tags, _ = usaddress.tag(f"1 {text}")
    except usaddress.RepeatedLabelError:
        tags = {}
    name = _join(tags, "StreetNamePreModifier", "StreetNamePreType", "StreetName")
    if not name or tags.get("AddressNumber") != "1":
        return _rule_based_street(text.split())
    street = standardize_street(
        name,
        tags.get("StreetNamePreDirectional"),
        tags.get("StreetNamePostType"),
        tags.get("StreetNamePostDirectional"),
    )
    return _with_trailing_words(street, tags)


def _with_trailing_words(street: Street, tags: dict[str, str]) -> Street:
    """Keep the words usaddress took for a city when a street has no type: they may be its name."""
    if tags.get("PlaceName") and not tags.get("StreetNamePostType") and not tags.get("StateName"):
        return replace(street, trailing_words=" ".join(_clean_words(tags["PlaceName"])))
    return street


_SAINT_AFTER_NUMBER = re.compile(r"^(\d+\S*\s+(?:\d/\d\s+)?(?:[NSEW]\s+)?)ST\s+(?=[A-Z]{2})")
_SAINT_AT_START = re.compile(r"^((?:[NSEW]\s+)?)ST\s+(?=[A-Z]{2})")


# "227 4TH", "730 W G": a number and a bare ordinal or one-letter street, which the CRF misreads.
_BARE_SHORT_STREET = re.compile(
    r"^\d+[A-Z]?\s+(?:[NSEW]\s+)?(?:\d+(?:ST|ND|RD|TH)|[A-Z])$"
    r"|^\d+\s+\d/\d\s+[A-Z][A-Z ]*$"
)  # "427 1/2 LINNIE CANAL": a fraction, no type


_TRAILING_UNIT = re.compile(r"\s+(#|APT|UNIT|STE|SUITE|SPC|RM|FL)\s*([A-Z0-9-]{1,8})$")


def _parse_street_address(cleaned: str, zipcode: str | None) -> ParsedAddress:
    if _BARE_SHORT_STREET.match(cleaned.upper()):
        return _rule_based_address(cleaned.upper(), zipcode)
    trailing = _TRAILING_UNIT.search(cleaned.upper())
    if trailing and _BARE_SHORT_STREET.match(
        cleaned.upper()[: trailing.start()]
    ):  # "1 S 1ST # 12": the CRF eats the unit
        parsed = _rule_based_address(cleaned.upper()[: trailing.start()], zipcode)
        return replace(parsed, unit_type=_unit_type(trailing.group(1)), unit=_clean_unit(trailing.group(2)))
    cleaned = _SAINT_AFTER_NUMBER.sub(r"\1SAINT ", cleaned)  # "161 S ST ANDREWS PL": Saint Andrews
    try:
        tags, kind = usaddress.tag(cleaned)
    except usaddress.RepeatedLabelError:
        return _rule_based_address(cleaned, zipcode)
    if kind == "PO Box" or "USPSBoxID" in tags:
        raise InvalidAddress(
            Sentence(N_("A P.O. box is a mailing address, not a place: give the street address of the problem."))
        )
    number, number_suffix = _house_number(tags.get("AddressNumber", ""))
    if number is None:
        raise InvalidAddress(
            Sentence(
                N_(
                    "There is no house number: give the number and street (e.g. 200 N Spring St) "
                    "or two cross streets (e.g. 1st St & Main St)."
                )
            )
        )
    if tags.get("AddressNumberSuffix"):
        number_suffix = tags["AddressNumberSuffix"].replace(" ", "")
    name = _join(tags, "StreetNamePreModifier", "StreetNamePreType", "StreetName")
    if not name and tags.get("StreetNamePostDirectional"):  # "6610 S WEST (BLVD)": a street named WEST
        name = tags.pop("StreetNamePostDirectional")
    if not name:
        raise InvalidAddress(Sentence(N_("There is no street name after the house number.")))
    unit_type, unit = _unit(tags)
    if trailing and unit is None:  # "1 N SPG # 12": the CRF read the unit into the street name
        parsed = _parse_street_address(cleaned[: trailing.start()], zipcode)
        return replace(parsed, unit_type=_unit_type(trailing.group(1)), unit=_clean_unit(trailing.group(2)))
    street = _with_trailing_words(
        standardize_street(
            name,
            tags.get("StreetNamePreDirectional"),
            tags.get("StreetNamePostType"),
            tags.get("StreetNamePostDirectional"),
        ),
        tags,
    )
    return ParsedAddress(
        kind="address",
        street=street,
        number=number,
        number_suffix=number_suffix,
        unit_type=unit_type,
        unit=unit,
        city=" ".join(_clean_words(tags.get("PlaceName", ""))) or None,
        zipcode=zipcode or standardize_zipcode(tags.get("ZipCode")),
    )


def _rule_based_address(cleaned: str, zipcode: str | None) -> ParsedAddress:
    """A plain left-to-right reading, for the strings usaddress cannot label."""
    words = cleaned.replace(",", " ").split()
    number, number_suffix = _house_number(words[0]) if words else (None, None)
    if number is None:
        raise InvalidAddress(
            Sentence(N_("There is no house number: give the number and street, or two cross streets."))
        )
    words = words[1:]
    if words and _FRACTION.match(words[0]):
        number_suffix, words = words[0], words[1:]
    unit_type = unit = None
    for i, word in enumerate(words):
        if (word in UNIT_TYPES or word.startswith("#")) and i > 0:
            rest = [word.lstrip("#")] if word.startswith("#") and len(word) > 1 else []
            rest += words[i + 1 :]
            unit_type, unit = UNIT_TYPES.get(word, "#"), " ".join(rest) or None
            words = words[:i]
            break
    if not words:
        raise InvalidAddress(Sentence(N_("There is no street name after the house number.")))
    return ParsedAddress(
        kind="address",
        street=_rule_based_street(words),
        number=number,
        number_suffix=number_suffix,
        unit_type=unit_type if unit else None,
        unit=unit,
        zipcode=zipcode,
    )


def _rule_based_street(words: list[str]) -> Street:
    words = [w for w in words if w]
    predir = suffix = postdir = None
    if len(words) > 1 and words[0] in DIRECTIONALS:
        predir, words = words[0], words[1:]
    if len(words) > 1 and words[-1] in DIRECTIONALS:
        postdir, words = words[-1], words[:-1]
    if len(words) > 1 and words[-1] in STREET_TYPES:
        suffix, words = words[-1], words[:-1]
    return standardize_street(" ".join(words), predir, suffix, postdir)


def _house_number(text: str) -> tuple[int | None, str | None]:
    text = text.replace(" ", "")
    match = _NUMBER.match(text)
    if not match or int(match.group(1)) == 0:  # house numbers start at 1
        return None, None
    return int(match.group(1)), match.group(2)


def _unit(tags: dict[str, str]) -> tuple[str | None, str | None]:
    identifier = tags.get("OccupancyIdentifier") or tags.get("SubaddressIdentifier")
    kind = tags.get("OccupancyType") or tags.get("SubaddressType")
    if not identifier:
        return None, None
    if identifier.startswith("#"):
        kind, identifier = kind or "#", identifier[1:]
    unit = _clean_unit(identifier)
    return (_unit_type(kind), unit) if unit else (None, None)


def _unit_type(kind: str | None) -> str:
    if not kind:
        return "#"
    key = kind.strip().upper().rstrip(".")
    return UNIT_TYPES.get(key, key)


def _clean_unit(unit: object) -> str | None:
    text = re.sub(r"[^A-Z0-9\-]", " ", str(unit).upper()).strip()
    return re.sub(r"\s+", " ", text) or None


def _directional(value: str | None) -> str | None:
    if not value:
        return None
    key = value.strip().upper().rstrip(".").replace(" ", "")
    return DIRECTIONALS.get(key, key or None)


def _street_type(value: str | None) -> str | None:
    if not value:
        return None
    key = value.strip().upper().rstrip(".")
    return STREET_TYPES.get(key, key or None)


def standardize_zipcode(value: object) -> str | None:
    """The 5-digit ZIP code in ``value`` (``90026-1234`` -> ``90026``), or None.

    A ZIP code an export stored as a number lost its leading zeros: ``2124``, ``2124.0``
    (text or number) is ``02124``. Fewer than three digits is no ZIP code.
    """
    if not _present(value) or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    text_ = str(value).strip()
    numeric = re.fullmatch(r"(\d{3,5})(?:\.0*)?", text_)
    if numeric:
        return numeric.group(1).zfill(5)
    match = re.match(r"^(\d{5})", text_)
    return match.group(1) if match else None


def _join(tags: dict[str, str], *labels: str) -> str:
    return " ".join(tags[label] for label in labels if tags.get(label))


def _clean_words(text: object) -> list[str]:
    if not _present(text):
        return []
    return re.sub(r"[^A-Z0-9' ]", " ", str(text).upper()).split()


def _present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and value != value:  # NaN from pandas
        return False
    return str(value).strip() not in ("", "nan", "None")
