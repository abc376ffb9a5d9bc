"""Labelled address queries for measuring validation: how people really type addresses.

:func:`build_query_set` turns a city's address database into queries with realistic
variations (case, long forms, punctuation, units, missing directionals or suffixes,
one- and two-letter typos, transposed digits, house numbers that do not exist,
intersections in every notation, addresses of other agencies, input that is no address)
and the expected answer of each. The expected answer comes from the data, not from the
validator: a query is ``ambiguous`` exactly when more than one address stays compatible
with what the query still says.

:func:`measure` runs a validator over a set and reports accuracy per category. The same
generator serves the accuracy test and the benchmarks.
"""

from __future__ import annotations

import random
import string
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from address_db.validation import ValidationResult

#: The categories and how many queries of each a full set holds.
CATEGORY_SIZES = {
    "clean": 300,
    "standardizable": 400,
    "unit": 100,
    "missing_directional": 200,
    "missing_suffix": 150,
    "typo1": 250,
    "typo2": 200,
    "transposed_digits": 150,
    "nonexistent_number": 200,
    "intersection": 200,
    "out_of_area": 150,
    "invalid": 100,
}
#: Categories and the accuracy the validator must reach on them.
TARGETS = {
    "clean": 0.99,
    "standardizable": 0.99,
    "unit": 0.99,
    "missing_directional": 0.99,
    "missing_suffix": 0.99,
    "typo1": 0.95,
    "typo2": 0.95,
}

LONG_DIRECTIONALS = {"N": "North", "S": "South", "E": "East", "W": "West"}
LONG_SUFFIXES = {
    "AVE": "Avenue",
    "ST": "Street",
    "BLVD": "Boulevard",
    "DR": "Drive",
    "PL": "Place",
    "RD": "Road",
    "LN": "Lane",
    "CT": "Court",
    "TER": "Terrace",
    "CIR": "Circle",
    "HWY": "Highway",
    "PKWY": "Parkway",
}
SHORT_FORMS = {"AVE": "Av", "BLVD": "Bl", "ST": "St."}
KEYBOARD_NEIGHBOURS = {
    "A": "QSZ",
    "B": "VGHN",
    "C": "XDFV",
    "D": "SERFC",
    "E": "WRSD",
    "F": "DRTGV",
    "G": "FTYHB",
    "H": "GYUJN",
    "I": "UOJK",
    "J": "HUIKM",
    "K": "JIOL",
    "L": "KOP",
    "M": "NJK",
    "N": "BHJM",
    "O": "IPKL",
    "P": "OL",
    "Q": "WA",
    "R": "ETDF",
    "S": "AWEDX",
    "T": "RYFG",
    "U": "YIHJ",
    "V": "CFGB",
    "W": "QESA",
    "X": "ZSDC",
    "Y": "TUGH",
    "Z": "ASX",
}
INVALID_QUERIES = [
    "",
    " ",
    "12345",
    "90026",
    "555-1212",
    "😀",
    "🏠 my house",
    "<script>alert(1)</script>",
    "<b>200 N Spring St</b>",
    "'; DROP TABLE address_point; --",
    "1 OR 1=1",
    '" OR ""="',
    "PO Box 1234",
    "P.O. Box 55, Los Angeles, CA 90012",
    "Post Office Box 9",
    "Main Street",
    "hello",
    "help me",
    "x" * 250,
    "9" * 40,
    '{"address": 1}',
    "$(rm -rf /)",
    "%00",
    "../../etc/passwd",
]


@dataclass(frozen=True)
class LabelledQuery:
    """A query and the answer it should get."""

    city: str
    category: str
    query: str
    expected_status: str
    expected_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Sampler:
    def __init__(self, session: Session, city: str, rng: random.Random) -> None:
        self.session, self.city, self.rng = session, city, rng
        rows = (
            session.execute(
                text(
                    """
                SELECT address_id, kind, house_number, number_suffix, predir, street_name, suffix, postdir,
                       cross_predir, cross_name, cross_suffix, cross_postdir, zipcode, in_jurisdiction
                FROM address_point WHERE city = :city ORDER BY address_id
                """
                ),
                {"city": city},
            )
            .mappings()
            .all()
        )
        self.addresses = [r for r in rows if r["kind"] != "intersection"]
        self.intersections = [r for r in rows if r["kind"] == "intersection"]
        self.by_number: dict[tuple[str, int], list[Any]] = defaultdict(list)
        self.numbers_on: dict[str, set[int]] = defaultdict(set)
        for r in self.addresses:
            self.by_number[(r["street_name"], r["house_number"])].append(r)
            self.numbers_on[r["street_name"]].add(r["house_number"])
        self.pairs: dict[frozenset[str], list[Any]] = defaultdict(list)
        for r in self.intersections:
            self.pairs[frozenset((r["street_name"], r["cross_name"]))].append(r)
        self.names = {r["street_name"] for r in rows} | {r["cross_name"] for r in self.intersections}

    def sample(self, rows: list[Any], n: int) -> list[Any]:
        return self.rng.sample(rows, min(n, len(rows)))

    def expected(self, row: Any, keep: set[str]) -> tuple[str, str | None]:
        """valid/outside, or ambiguous when another address fits what the query still says."""
        stated = {c for c in keep if row[c]}  # a component the query does not state constrains nothing
        fits = [
            s
            for s in self.by_number[(row["street_name"], row["house_number"])]
            if (s["number_suffix"] or None) == (row["number_suffix"] or None) and all(s[c] == row[c] for c in stated)
        ]
        if len(fits) > 1:
            return "ambiguous", row["address_id"]
        return ("valid" if row["in_jurisdiction"] else "outside"), row["address_id"]


def _house(row: Any) -> str:
    suffix = row["number_suffix"]
    if not suffix:
        return str(row["house_number"])
    return f"{row['house_number']} {suffix}" if "/" in suffix else f"{row['house_number']}{suffix}"


def _compose(
    row: Any,
    *,
    name: str | None = None,
    predir: str | None | bool = True,
    suffix: str | None | bool = True,
    zipcode: bool = True,
    number: str | None = None,
) -> str:
    parts = [number or _house(row)]
    parts.append(row["predir"] if predir is True else (predir or ""))
    parts.append(name or row["street_name"])
    parts.append(row["suffix"] if suffix is True else (suffix or ""))
    parts.append(row["postdir"] or "")
    line = " ".join(p for p in parts if p)
    if zipcode and row["zipcode"]:
        line += f", {row['zipcode']}"
    return line


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    i = rng.choice(letters)
    kind = rng.choice(["substitute", "delete", "insert", "transpose"])
    if kind == "substitute":
        return name[:i] + rng.choice(KEYBOARD_NEIGHBOURS.get(name[i], string.ascii_uppercase)) + name[i + 1 :]
    if kind == "delete" and len(letters) > 4:
        return name[:i] + name[i + 1 :]
    if kind == "transpose" and i + 1 < len(name) and name[i + 1].isalpha() and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name[:i] + rng.choice(KEYBOARD_NEIGHBOURS.get(name[i], string.ascii_uppercase)) + name[i:]


def _restyle(line: str, rng: random.Random) -> str:
    """Case and spacing as people type them."""
    style = rng.choice(["lower", "title", "upper", "spaces"])
    if style == "lower":
        return line.lower()
    if style == "title":
        return line.title()
    if style == "spaces":
        return "  " + line.replace(" ", "  ") + " "
    return line


def build_query_set(
    session: Session, city: str, sizes: dict[str, int] | None = None, seed: int = 311, outside_city: str | None = None
) -> list[LabelledQuery]:
    """A labelled query set from the address database of ``city``.

    ``outside_city`` names a configuration under which the same addresses belong to
    another agency (``gardena`` for Los Angeles addresses): its queries fill the
    out-of-area category.
    """
    sizes = {**CATEGORY_SIZES, **(sizes or {})}
    rng = random.Random(seed)
    s = _Sampler(session, city, rng)
    queries: list[LabelledQuery] = []

    def add(category: str, query: str, expected: tuple[str, str | None], query_city: str = city) -> None:
        queries.append(LabelledQuery(query_city, category, query, expected[0], expected[1]))

    everything = {"predir", "suffix", "postdir", "zipcode"}
    for row in s.sample(s.addresses, sizes["clean"]):
        add("clean", _compose(row), s.expected(row, everything))

    for row in s.sample(s.addresses, sizes["standardizable"]):
        predir = LONG_DIRECTIONALS.get(row["predir"], row["predir"]) if rng.random() < 0.5 else True
        suffix = (
            (LONG_SUFFIXES.get(row["suffix"]) or SHORT_FORMS.get(row["suffix"]) or True) if rng.random() < 0.6 else True
        )
        with_zip = rng.random() < 0.6
        line = _compose(row, predir=predir, suffix=suffix, zipcode=False)
        if rng.random() < 0.3:
            line = line.replace(" ", ". ", 1) if row["predir"] and predir is True else line + "."
        if with_zip and row["zipcode"]:
            line += rng.choice(
                [f", {row['zipcode']}", f", Los Angeles, CA {row['zipcode']}", f" Los Angeles CA {row['zipcode']}"]
            )
        elif rng.random() < 0.4:
            line += ", Los Angeles, CA"
        keep = {"predir", "suffix", "postdir"} | ({"zipcode"} if with_zip else set())
        add("standardizable", _restyle(line, rng), s.expected(row, keep))

    for row in s.sample(s.addresses, sizes["unit"]):
        unit = rng.choice(["Apt 3", "#12", "Unit B", "Apt. 204", "Ste 100", "# 7", "Space 14"])
        add(
            "unit",
            _restyle(_compose(row, zipcode=False) + " " + unit, rng),
            s.expected(row, {"predir", "suffix", "postdir"}),
        )

    with_dir = [r for r in s.addresses if r["predir"]]
    for row in s.sample(with_dir, sizes["missing_directional"]):
        with_zip = rng.random() < 0.5
        add(
            "missing_directional",
            _compose(row, predir=None, zipcode=with_zip),
            s.expected(row, {"suffix", "postdir"} | ({"zipcode"} if with_zip else set())),
        )

    with_suffix = [r for r in s.addresses if r["suffix"]]
    for row in s.sample(with_suffix, sizes["missing_suffix"]):
        add("missing_suffix", _compose(row, suffix=None, zipcode=False), s.expected(row, {"predir", "postdir"}))

    for category, edits, min_letters in (("typo1", 1, 5), ("typo2", 2, 7)):
        candidates = [r for r in s.addresses if sum(c.isalpha() for c in r["street_name"]) >= min_letters]
        made = 0
        for row in s.sample(candidates, sizes[category] * 3):
            name = row["street_name"]
            for _ in range(edits):
                name = _typo(name, rng)
            if name in s.names or name == row["street_name"]:
                continue  # a typo that spells another real street is not a typo to correct
            add(category, _compose(row, name=name), s.expected(row, everything))
            made += 1
            if made == sizes[category]:
                break

    made = 0
    for row in s.sample(
        [r for r in s.addresses if r["house_number"] >= 10 and not r["number_suffix"]], sizes["transposed_digits"] * 4
    ):
        digits = str(row["house_number"])
        spots = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1] and not (i == 0 and digits[1] == "0")]
        if not spots:
            continue
        i = rng.choice(spots)
        swapped = int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
        if swapped in s.numbers_on[row["street_name"]]:
            continue  # the swapped number exists: then it is simply another real address
        add("transposed_digits", _compose(row, number=str(swapped)), ("not_found", row["address_id"]))
        made += 1
        if made == sizes["transposed_digits"]:
            break

    for row in s.sample(s.addresses, sizes["nonexistent_number"]):
        existing = s.numbers_on[row["street_name"]]
        number = row["house_number"] + rng.choice([2, 4, 6, 8, 10, 100, 1000])
        while number in existing:
            number += 2
        add("nonexistent_number", _compose(row, number=str(number)), ("not_found", None))

    for row in s.sample(s.intersections, sizes["intersection"]):
        keep_a, keep_b = rng.random() < 0.7, rng.random() < 0.7
        a = " ".join(p for p in (row["predir"], row["street_name"], row["suffix"] if keep_a else None) if p)
        b = " ".join(p for p in (row["cross_predir"], row["cross_name"], row["cross_suffix"] if keep_b else None) if p)
        line = (
            f"{b} {rng.choice(['AT', '&', 'and', '/', '@'])} {a}"
            if rng.random() < 0.5
            else f"{a} {rng.choice(['AT', '&', 'and', '/', '@'])} {b}"
        )

        def side(record: Any, name: str) -> tuple[Any, Any]:
            return (
                (record["predir"], record["suffix"])
                if record["street_name"] == name
                else (record["cross_predir"], record["cross_suffix"])
            )

        def fits(record: Any) -> bool:  # the same crossing, as far as the query says (used at once, in this loop)
            for name, keep in ((row["street_name"], keep_a), (row["cross_name"], keep_b)):  # noqa: B023
                wanted, found = side(row, name), side(record, name)  # noqa: B023
                if (wanted[0] and wanted[0] != found[0]) or (keep and wanted[1] and wanted[1] != found[1]):
                    return False
            return True

        matches = [r for r in s.pairs[frozenset((row["street_name"], row["cross_name"]))] if fits(r)]
        status = "ambiguous" if len(matches) > 1 else ("valid" if row["in_jurisdiction"] else "outside")
        add("intersection", _restyle(line, rng), (status, row["address_id"]))

    if outside_city:
        other = _Sampler(session, outside_city, rng)
        for row in other.sample(other.addresses, sizes["out_of_area"]):
            add("out_of_area", _compose(row), other.expected(row, everything), outside_city)

    for i in range(sizes["invalid"]):
        base = INVALID_QUERIES[i % len(INVALID_QUERIES)]
        query = base if i < len(INVALID_QUERIES) else f"PO Box {rng.randint(1, 99999)}" if i % 2 else base.upper()
        add("invalid", query, ("invalid", None))
    return queries


def is_correct(item: LabelledQuery, result: ValidationResult) -> bool:
    """Top-1 correctness: the right status, and the right address where there is one."""
    if result.status != item.expected_status:
        return False
    if item.expected_status in ("valid", "outside"):
        return result.match is not None and result.match.address_id == item.expected_id
    if item.expected_status == "ambiguous":
        return item.expected_id in {c.address_id for c in result.candidates}
    if item.expected_status == "not_found" and item.expected_id:  # transposed digits: the real one offered first
        return item.expected_id in {c.address_id for c in result.suggestions[:3]}
    return True


def measure(
    queries: list[LabelledQuery], validate: Callable[[LabelledQuery], ValidationResult]
) -> dict[str, dict[str, Any]]:
    """Accuracy per category: count, correct, accuracy, and how many were wrongly ``valid``."""
    report: dict[str, dict[str, Any]] = {}
    for item in queries:
        result = validate(item)
        entry = report.setdefault(item.category, {"queries": 0, "correct": 0, "reported_valid": 0, "misses": []})
        entry["queries"] += 1
        entry["reported_valid"] += result.status == "valid"
        if is_correct(item, result):
            entry["correct"] += 1
        elif len(entry["misses"]) < 10:
            entry["misses"].append(
                {
                    "query": item.query[:120],
                    "expected": item.expected_status,
                    "got": result.status,
                    "match": result.match.text if result.match else None,
                }
            )
    for entry in report.values():
        entry["accuracy"] = round(entry["correct"] / entry["queries"], 4) if entry["queries"] else None
        entry["target"] = None
    for category, target in TARGETS.items():
        if category in report:
            report[category]["target"] = target
    return report
