"""Address validation: is this an address, which one, and whose is it?

:meth:`Validator.validate` answers one of

- ``valid``: the matched address (address_id, standardized text, point) with its ward
  and district;
- ``ambiguous``: ranked candidates with scores (the directional is missing and both N
  and S exist, say);
- ``not_found``: ranked suggestions (nearest house numbers on the same street, similar
  street names);
- ``outside``: the address exists but its point lies in another agency's area: that
  agency's name, phone and website, and the point;
- ``invalid``: not an address, with the reason.

Only an existing house number on the street is ever ``valid``. Whose an address is comes
from its point and the current boundaries, never from its ZIP code or postal city.
:meth:`Validator.suggest` serves as-you-type suggestions and :meth:`Validator.reverse`
turns a point picked on a map into the nearest address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from address_db.interpolation import Interpolated, between_known, on_ranges
from address_db.normalize import (
    DIRECTIONALS,
    STREET_TYPES,
    InvalidAddress,
    ParsedAddress,
    Street,
    parse_address,
    standardize_name,
)
from address_db.streets import StreetIndex, StreetIndexCache
from address_db.typed_place import PlaceEvidence, PlaceIndexCache
from boundaries.index import IndexCache
from boundaries.lookup import Agency, Area, Location, check_lon_lat, outside_reason
from boundaries.rules import current_layers
from core.city import AddressSettings
from core.i18n import N_, Sentence

#: The best candidate is ``valid`` from this score, when no other comes within MARGIN.
VALID_SCORE = 0.80
MARGIN = 0.10
#: Below this a candidate is not worth offering.
MIN_SCORE = 0.45
EDIT_PENALTY = 0.08
DIRECTION_MISMATCH = 0.35
#: The query says W; the record has no directional (the LA data holds both "1424 S CONSTANCE ST"
#: and "1424 CONSTANCE ST"): a weaker fit than the record that says W.
DIRECTION_UNSTATED = 0.15
SUFFIX_MISMATCH = 0.15
ZIP_MISMATCH = 0.12
#: 3008 and 3008 1/2 are different addresses: one is never taken for the other without confirmation.
NUMBER_SUFFIX_MISMATCH = 0.25
#: "0 MAIN ST", "00 MAIN ST": no house number, only a street.
_NUMBER_ZERO = re.compile(r"^\s*0+\s+(\D.*)$")
#: Two streets whose address points come this close (metres) are taken to cross there.
NEARBY_CROSSING_M = 60.0
#: Reverse lookup: the nearest address within this distance (metres).
REVERSE_TOLERANCE_M = 100.0


MATCH_KINDS = {
    "points": "address point",
    "parcels": "parcel",
    "list": "interpolated on a range (at load)",
    "history": "request history",
    "centerlines": "crossing of street centerlines",
    "range": "interpolated on a range",
    "between": "interpolated between known numbers",
    "nearby": "where points of both streets are close together",
    "agency": "by the place name typed",
}


@dataclass(frozen=True)
class Candidate:
    """An address of the database offered as an answer, with how well it matches."""

    address_id: str | None
    text: str
    kind: str
    lon: float | None
    lat: float | None
    score: float
    #: what the match is: address point, parcel, list (placed on a range at load), history,
    #: centerlines (a crossing), range or between (interpolated now), agency (by place name)
    source_kind: str | None = None
    source: str | None = None
    #: whose address it is: None for the city's own, else the agency key ("" when no agency is known)
    owner: str | None = None
    basis: str | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def match_kind(self) -> str:
        """The kind of match in words."""
        return MATCH_KINDS.get(self.source_kind or "", self.source_kind or self.kind)


@dataclass
class ValidationResult:
    """The answer to one address query."""

    status: str
    query: str
    standardized: str | None = None
    match: Candidate | None = None
    ward: Area | None = None
    district: Area | None = None
    agency: Agency | None = None
    candidates: list[Candidate] = field(default_factory=list)
    suggestions: list[Candidate] = field(default_factory=list)
    reason: str | None = None
    unit: str | None = None
    #: how the answer was reached, in words ("between 150 and 250 N SPRING ST"; "by the place name typed")
    basis: str | None = None
    #: the place typed (a city name or ZIP code) and what it pointed to
    place: str | None = None
    place_agency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidates"] = [c.as_dict() for c in self.candidates]
        data["suggestions"] = [c.as_dict() for c in self.suggestions]
        return data


@dataclass(frozen=True)
class ReverseResult:
    """The nearest address to a point (within the tolerance), and whose the point is."""

    address: Candidate | None
    distance_m: float | None
    location: Location

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address.as_dict() if self.address else None,
            "distance_m": self.distance_m,
            "location": self.location.as_dict(),
        }


_COLUMNS = """address_id, standardized, kind, ST_X(geom) AS lon, ST_Y(geom) AS lat, house_number, number_suffix,
              predir, street_name, suffix, postdir, cross_predir, cross_name, cross_suffix, cross_postdir, zipcode,
              source_kind, source_key, owner_agency, in_jurisdiction, agency_key, postal_cities, placed_by"""


class Validator:
    """Address validation for one city, with the in-process indexes it keeps warm."""

    def __init__(
        self,
        city: str,
        boundaries: IndexCache | None = None,
        streets: StreetIndexCache | None = None,
        settings: AddressSettings | None = None,
        home_name: str | None = None,
    ) -> None:
        self.city = city
        self.boundaries = boundaries or IndexCache()
        self.streets = streets or StreetIndexCache()
        self.settings = settings
        self.home_name = home_name or city
        self.places = PlaceIndexCache(self.home_name, settings)
        self.max_gap = settings.interpolation_max_gap if settings else 200
        self.max_distance_m = settings.interpolation_max_distance_m if settings else 600.0

    # -- validate -------------------------------------------------------------------

    def validate(self, session: Session, query: object) -> ValidationResult:
        """Validate one address, intersection or free-text location."""
        shown = query if isinstance(query, str) else repr(query)
        try:
            parsed = parse_address(query)
        except InvalidAddress as exc:
            no_number = self._number_zero(session, shown)
            return no_number or ValidationResult("invalid", shown[:300], reason=exc.args[0])  # its Sentence
        streets = self.streets.get(session, self.city)
        places = self.places.get(session, self.city)
        parsed = _with_place_split_off(parsed, streets, places)
        place = places.read(parsed.city, parsed.zipcode)
        if parsed.kind == "intersection":
            ranked, suggestions, reason = self._match_intersection(session, streets, parsed)
        else:
            ranked, suggestions, reason = self._match_address(session, streets, parsed)
        result = ValidationResult(
            "not_found",
            shown,
            standardized=parsed.text(),
            unit=parsed.unit_text or None,
            place=place.typed,
            place_agency=place.agency,
        )
        ranked = [c for c in ranked if c.score >= MIN_SCORE]
        if place.names_neighbour:
            ranked = self._weigh_place(ranked, place)
        if not ranked:
            return self._unmatched(session, result, place, suggestions, reason)
        best = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        owners = {c.owner for c in ranked[:8] if best.score - c.score < MARGIN}
        if place.names_neighbour and best.owner != place.agency:
            # A neighbour's name was typed but the match is not the neighbour's: never silently the city's.
            result.status = "ambiguous"
            result.candidates = [*ranked[:7], self._agency_candidate(session, place)]
            result.reason = Sentence(
                N_(
                    "%(typed)s was typed, which points to the %(agency)s, but the address matches %(address)s in "
                    "the %(owner)s: confirm on the map which is meant."
                ),
                typed=place.typed,
                agency=_bare(place.agency_name or place.agency),
                address=best.text,
                owner=self._owner_name(session, best.owner),
            )
            return result
        if best.score < VALID_SCORE or round(best.score - runner_up, 3) < MARGIN:
            result.status = "ambiguous"
            result.candidates = self._labelled(session, ranked[:8])
            result.reason = _ambiguity_reason(parsed, ranked)
            if len(owners) > 1:
                result.reason = Sentence(
                    N_("%(reason)s The same address exists in more than one jurisdiction (%(owners)s)."),
                    reason=result.reason,
                    owners=", ".join(sorted(self._owner_name(session, o) for o in owners)),
                )
            return result
        return self._answer(session, result, best)

    def _number_zero(self, session: Session, shown: str) -> ValidationResult | None:
        """House number 0 is many exports' "no number": the street is known, the place on it is not."""
        match = _NUMBER_ZERO.match(shown)
        if not match:
            return None
        try:
            street = parse_address(f"1 {match.group(1)}").street
        except InvalidAddress:
            return None
        readings = _readings(self.streets.get(session, self.city), street)
        names = [name for _, found in readings for name in found]
        return ValidationResult(
            "not_found",
            shown[:300],
            standardized=street.text,
            reason=Sentence(
                N_(
                    "0 is no house number: the street is %(street)s. Give the house number or the nearest cross "
                    "street, or pick the point on the map."
                ),
                street=street.text,
            ),
            suggestions=self._street_suggestions(session, names) if names else [],
        )

    def _answer(self, session: Session, result: ValidationResult, best: Candidate) -> ValidationResult:
        """``valid``, ``approximate`` or ``outside`` for the one chosen candidate."""
        index = self.boundaries.get(session, self.city)
        location = index.locate(best.lon, best.lat)
        result.match = best
        result.basis = best.basis
        result.ward, result.district = location.ward, location.district
        interpolated = best.source_kind in ("range", "between", "nearby")
        if best.owner:  # a neighbour's source, or a point in a neighbour's area
            result.status = "outside"
            result.agency = self._agency(session, best.owner) or location.agency
            result.ward = result.district = None
            name = result.agency.name if result.agency else best.owner
            result.reason = Sentence(N_("The address lies within the boundaries of %(agency)s."), agency=name)
        elif location.in_jurisdiction:
            result.status = "approximate" if interpolated else "valid"
            if interpolated:
                result.reason = Sentence(
                    N_("No address point has this number; it is placed %(basis)s: confirm it on the map."),
                    basis=best.basis or "",
                )
        else:
            result.status = "outside"
            result.agency = location.agency
            result.reason = outside_reason(location, "address")
        return result

    def _unmatched(
        self,
        session: Session,
        result: ValidationResult,
        place: PlaceEvidence,
        suggestions: list[Candidate],
        reason: str,
    ) -> ValidationResult:
        """Nothing matched: the agency the typed place names, else suggestions."""
        if place.names_neighbour:
            agency = self._agency(session, place.agency)
            result.status = "outside"
            result.agency = agency
            result.basis = Sentence(
                N_("by the place name typed") if place.by == "name" else N_("by the ZIP code typed")
            )
            result.match = self._agency_candidate(session, place)
            name = agency.name if agency else place.agency
            probably = (
                N_(
                    "This address is probably in the %(agency)s, judged by the place name typed (%(typed)s): it is "
                    "not in the %(home)s's address database. Confirm the location on the map."
                )
                if place.by == "name"
                else N_(
                    "This address is probably in the %(agency)s, judged by the ZIP code typed (%(typed)s): it is "
                    "not in the %(home)s's address database. Confirm the location on the map."
                )
            )
            result.reason = Sentence(probably, agency=_bare(name), typed=place.typed, home=self.home_name)
            result.suggestions = [
                replace(c, note=Sentence(N_("in the %(home)s, not %(typed)s"), home=self.home_name, typed=place.typed))
                for c in suggestions
                if c.owner != place.agency
            ]
            return result
        result.suggestions = self._labelled(session, suggestions)
        result.reason = reason
        return result

    def _labelled(self, session: Session, candidates: list[Candidate]) -> list[Candidate]:
        """Candidates of another agency say so ("in the City of Santa Monica"), unless they say something already."""
        return [
            replace(c, note=Sentence(N_("in the %(agency)s"), agency=_bare(self._owner_name(session, c.owner))))
            if c.owner is not None and not c.note
            else c
            for c in candidates
        ]

    def _weigh_place(self, ranked: list[Candidate], place: PlaceEvidence) -> list[Candidate]:
        """Candidates of the agency the typed place names first."""
        theirs = [c for c in ranked if c.owner == place.agency]
        return theirs or ranked

    def _agency_candidate(self, session: Session, place: PlaceEvidence) -> Candidate:
        """The neighbour named by the typed place, as a candidate to confirm on the map."""
        point = session.execute(
            text(
                f"""
            SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (
                SELECT ST_PointOnSurface(ST_Union(f.geom)) AS p FROM boundary_feature f
                JOIN boundary_layer_version v ON v.id = f.version_id
                WHERE {current_layers("v", ("agencies",))} AND f.key = :key
            ) x
            """
            ),
            {"city": self.city, "key": place.agency},
        ).first()
        name = place.agency_name or place.agency or ""
        return Candidate(
            None,
            Sentence(N_("%(agency)s (the place typed: %(typed)s)"), agency=name, typed=place.typed),
            "agency",
            point.lon if point else None,
            point.lat if point else None,
            0.5,
            source_kind="agency",
            owner=place.agency,
            basis=Sentence(N_("by the place name typed") if place.by == "name" else N_("by the ZIP code typed")),
        )

    def _agency(self, session: Session, key: str | None) -> Agency | None:
        if not key:
            return None
        row = session.execute(
            text(
                f"""
            SELECT f.key, f.name, f.phone, f.website FROM boundary_feature f
            JOIN boundary_layer_version v ON v.id = f.version_id
            WHERE {current_layers("v", ("agencies",))} AND f.key = :key LIMIT 1
            """
            ),
            {"city": self.city, "key": key},
        ).first()
        return Agency(row.key, row.name, row.phone, row.website) if row else None

    def _owner_name(self, session: Session, owner: str | None) -> str:
        if owner is None:
            return self.home_name
        agency = self._agency(session, owner)
        return agency.name if agency else (owner or "no known agency")

    def _match_address(
        self, session: Session, streets: StreetIndex, parsed: ParsedAddress
    ) -> tuple[list[Candidate], list[Candidate], str]:
        readings = _readings(streets, parsed.street)
        if not readings:
            resembling = streets.resembling(parsed.street.name)
            reason = Sentence(
                N_("There is no street named %(street)s in the address database."), street=parsed.street.name
            )
            return [], self._street_suggestions(session, resembling), reason
        names = {name for _, found in readings for name in found}
        rows = (
            session.execute(
                text(
                    f"SELECT {_COLUMNS} FROM address_point WHERE city = :city AND street_name = ANY(:names) "
                    "AND house_number = :number AND kind <> 'intersection'"
                ),
                {"city": self.city, "names": list(names), "number": parsed.number},
            )
            .mappings()
            .all()
        )
        scored = [
            (
                _candidate(
                    row,
                    max(
                        _address_score(parsed, street, row, found[row["street_name"]])
                        for street, found in readings
                        if row["street_name"] in found
                    ),
                ),
                any(
                    not _contradicts(street, row["predir"], row["postdir"])
                    for street, found in readings
                    if row["street_name"] in found
                ),
            )
            for row in rows
        ]
        ranked = sorted((c for c, fits in scored if fits), key=lambda c: (-c.score, c.text))
        # N ALAMEDA is not S ALAMEDA: a number on the street of the other direction is only a suggestion.
        elsewhere = [
            replace(
                c,
                score=0.4,
                note=Sentence(N_("on %(street)s, not %(typed)s"), street=_street_of(c), typed=parsed.street.text),
            )
            for c, fits in scored
            if not fits
        ]
        if ranked:
            return ranked, [], ""
        interpolated = self._interpolate(session, parsed, readings, names)
        if interpolated:
            return interpolated, [], ""
        street, found = readings[0]
        suggestions = self._nearest_numbers(session, parsed, street, found)
        reason = Sentence(
            N_("There is no number %(number)s on %(street)s in the address database."),
            number=parsed.house,
            street=min(found, key=found.get),  # type: ignore[arg-type]
        )
        if any(street.predir or street.postdir for street, _ in readings):
            reason = Sentence(
                N_(
                    "There is no number %(number)s on %(street)s in the address database, and it is in no known "
                    "address range."
                ),
                number=parsed.house,
                street=parsed.street.text,
            )
        return [], (suggestions + elsewhere)[:8], reason

    def _interpolate(
        self, session: Session, parsed: ParsedAddress, readings: list[tuple[Street, dict[str, int]]], names: set[str]
    ) -> list[Candidate]:
        """Interpolated candidates for a number no address point holds: on ranges, else between known numbers."""
        if parsed.number is None or parsed.number_suffix:
            return []
        found: list[Interpolated] = on_ranges(session, self.city, list(names), parsed.number)
        if not found:
            found = between_known(session, self.city, list(names), parsed.number, self.max_gap, self.max_distance_m)
        candidates = []
        index = self.boundaries.get(session, self.city)
        for item in found:
            fitting = [
                (street, edits[item.name])
                for street, edits in readings
                if item.name in edits and not _contradicts(street, item.predir, item.postdir)
            ]
            if not fitting:
                continue
            score = max(_street_fit(street, edits, item.predir, item.suffix, item.postdir) for street, edits in fitting)
            owner = _owner_at(index, item.owner_agency, item.lon, item.lat)
            text_ = f"{parsed.house} {item.street_text}"
            candidates.append(
                Candidate(
                    None,
                    text_,
                    "interpolated",
                    item.lon,
                    item.lat,
                    round(score - 0.01, 3),
                    source_kind=item.kind,
                    source=item.source,
                    owner=owner,
                    basis=item.basis,
                )
            )
        unique: dict[tuple, Candidate] = {}
        for c in sorted(candidates, key=lambda c: -c.score):
            unique.setdefault((c.text, c.owner), c)
        return sorted(unique.values(), key=lambda c: (-c.score, c.text))

    def _nearest_numbers(
        self, session: Session, parsed: ParsedAddress, street: Street, names: dict[str, int]
    ) -> list[Candidate]:
        """Existing numbers on the street: digit transpositions of the typed one, then the nearest."""
        direction = street.predir or street.postdir
        rows = (
            session.execute(
                text(
                    f"""
                SELECT {_COLUMNS} FROM address_point
                WHERE city = :city AND street_name = ANY(:names) AND kind <> 'intersection'
                  AND (CAST(:direction AS text) IS NULL OR coalesce(predir, postdir) = :direction)
                ORDER BY house_number = ANY(:transposed) DESC, abs(house_number - :number), house_number
                LIMIT 6
                """
                ),
                {
                    "city": self.city,
                    "names": list(names),
                    "number": parsed.number,
                    "direction": direction,
                    "transposed": _transpositions(parsed.number or 0),
                },
            )
            .mappings()
            .all()
        )
        return [_candidate(row, round(0.5 - 0.05 * i, 2)) for i, row in enumerate(rows)]

    def _match_intersection(
        self, session: Session, streets: StreetIndex, parsed: ParsedAddress
    ) -> tuple[list[Candidate], list[Candidate], str]:
        assert parsed.cross_street is not None
        first, second = _readings(streets, parsed.street), _readings(streets, parsed.cross_street)
        missing = [s.name for s, found in ((parsed.street, first), (parsed.cross_street, second)) if not found]
        if missing:
            reason = (
                Sentence(N_("There is no street named %(street)s in the address database."), street=missing[0])
                if len(missing) == 1
                else Sentence(
                    N_("There is no street named %(street)s or %(other)s in the address database."),
                    street=missing[0],
                    other=missing[1],
                )
            )
            return [], self._street_suggestions(session, streets.resembling(missing[0])), reason
        names_a = [name for _, found in first for name in found]
        names_b = [name for _, found in second for name in found]
        rows = (
            session.execute(
                text(
                    f"""
                SELECT {_COLUMNS} FROM address_point
                WHERE city = :city AND kind = 'intersection'
                  AND ((street_name = ANY(:a) AND cross_name = ANY(:b)) OR (street_name = ANY(:b) AND cross_name = ANY(:a)))
                """
                ),
                {"city": self.city, "a": names_a, "b": names_b},
            )
            .mappings()
            .all()
        )
        ranked = sorted(
            (_candidate(row, _intersection_score(parsed, row, first, second)) for row in rows),
            key=lambda c: (-c.score, c.text),
        )
        if not ranked:
            ranked = self._nearby_crossings(session, parsed, first, second)
        if ranked:
            return ranked, [], ""
        suggestions = (
            session.execute(
                text(
                    f"""
                SELECT {_COLUMNS} FROM address_point
                WHERE city = :city AND kind = 'intersection' AND (street_name = ANY(:names) OR cross_name = ANY(:names))
                ORDER BY standardized LIMIT 6
                """
                ),
                {"city": self.city, "names": names_a + names_b},
            )
            .mappings()
            .all()
        )
        reason = Sentence(
            N_("%(street)s and %(other)s do not cross in the address database (or the crossing is not recorded)."),
            street=parsed.street.name,
            other=parsed.cross_street.name,
        )
        return [], [_candidate(row, 0.4) for row in suggestions], reason

    def _nearby_crossings(
        self,
        session: Session,
        parsed: ParsedAddress,
        first: list[tuple[Street, dict[str, int]]],
        second: list[tuple[Street, dict[str, int]]],
    ) -> list[Candidate]:
        """Where no crossing is recorded: places where points of both streets are within
        NEARBY_CROSSING_M of each other (one candidate per place, about 300 m apart)."""
        assert parsed.cross_street is not None
        rows = (
            session.execute(
                text(
                    """
            WITH a AS (SELECT geom, predir, street_name, suffix, postdir, in_jurisdiction, agency_key, owner_agency
                       FROM address_point WHERE city = :city AND kind <> 'intersection' AND street_name = ANY(:a)),
                 pairs AS (
                SELECT a.*, b.predir AS b_predir, b.street_name AS b_name, b.suffix AS b_suffix, b.postdir AS b_postdir,
                       b.geom AS b_geom, ST_DistanceSphere(a.geom, b.geom) AS d
                FROM a CROSS JOIN LATERAL (
                    SELECT geom, predir, street_name, suffix, postdir FROM address_point b
                    WHERE b.city = :city AND b.kind <> 'intersection' AND b.street_name = ANY(:b)
                    ORDER BY b.geom <-> a.geom LIMIT 1
                ) b
            )
            SELECT DISTINCT ON (ST_SnapToGrid(a_geom, 0.003)) * FROM (
                SELECT predir, street_name, suffix, postdir, b_predir, b_name, b_suffix, b_postdir, owner_agency, d,
                       geom AS a_geom, ST_X(ST_LineInterpolatePoint(ST_MakeLine(geom, b_geom), 0.5)) AS lon,
                       ST_Y(ST_LineInterpolatePoint(ST_MakeLine(geom, b_geom), 0.5)) AS lat
                FROM pairs WHERE d <= :within
            ) close
            ORDER BY ST_SnapToGrid(a_geom, 0.003), d
            """
                ),
                {
                    "city": self.city,
                    "a": [n for _, f in first for n in f],
                    "b": [n for _, f in second for n in f],
                    "within": NEARBY_CROSSING_M,
                },
            )
            .mappings()
            .all()
        )
        index = self.boundaries.get(session, self.city)
        found = []
        for r in sorted(rows, key=lambda r: r["d"])[:6]:
            a_text = " ".join(p for p in (r["predir"], r["street_name"], r["suffix"], r["postdir"]) if p)
            b_text = " ".join(p for p in (r["b_predir"], r["b_name"], r["b_suffix"], r["b_postdir"]) if p)
            left = max(
                (
                    _street_fit(st, f[r["street_name"]], r["predir"], r["suffix"], r["postdir"])
                    for st, f in first
                    if r["street_name"] in f
                ),
                default=0.0,
            )
            right = max(
                (
                    _street_fit(st, f[r["b_name"]], r["b_predir"], r["b_suffix"], r["b_postdir"])
                    for st, f in second
                    if r["b_name"] in f
                ),
                default=0.0,
            )
            owner = _owner_at(index, r["owner_agency"], r["lon"], r["lat"])
            found.append(
                Candidate(
                    None,
                    f"{a_text} AT {b_text}",
                    "intersection",
                    r["lon"],
                    r["lat"],
                    round(left + right - 1.0 - 0.01, 3),
                    source_kind="nearby",
                    owner=owner,
                    basis=Sentence(
                        N_("where addresses of %(first)s and %(second)s are %(metres)s m apart"),
                        first=a_text,
                        second=b_text,
                        metres=round(r["d"]),
                    ),
                )
            )
        return sorted(found, key=lambda c: (-c.score, c.text))

    def _street_suggestions(self, session: Session, names: Sequence[str]) -> list[Candidate]:
        rows = (
            session.execute(
                text(
                    """
                SELECT DISTINCT ON (name, predir, suffix) predir, name, suffix, postdir, zipcodes, addresses
                FROM address_street WHERE city = :city AND name = ANY(:names)
                ORDER BY name, predir, suffix, addresses DESC
                """
                ),
                {"city": self.city, "names": list(names)},
            )
            .mappings()
            .all()
        )
        order = {name: i for i, name in enumerate(names)}
        rows = sorted(rows, key=lambda r: (order[r["name"]], -r["addresses"]))[:6]
        return [
            Candidate(
                None,
                Street(r["name"], r["predir"], r["suffix"], r["postdir"]).text
                + (f" ({', '.join(r['zipcodes'][:3])})" if r["zipcodes"] else ""),
                "street",
                None,
                None,
                round(0.4 - 0.05 * i, 2),
            )
            for i, r in enumerate(rows)
        ]

    # -- suggest (as you type) --------------------------------------------------------

    def suggest(self, session: Session, typed: object, limit: int = 8) -> list[Candidate]:
        """Addresses, intersections or streets that complete what has been typed so far."""
        if not isinstance(typed, str):
            return []
        cleaned = re.sub(r"[^A-Z0-9 &/@]", " ", typed.upper().replace(".", ""))[:200]
        cleaned = re.sub(r"\s+", " ", cleaned).strip()
        if len(cleaned) < 2:
            return []
        limit = max(1, min(int(limit), 20))
        number_match = re.match(r"^(\d{1,7})\s+(.+)$", cleaned)
        if number_match:
            return self._suggest_addresses(session, int(number_match.group(1)), number_match.group(2).split(), limit)
        parts = re.split(r"\s*(?:&|@|/|\bAND\b|\bAT\b)\s*", cleaned, maxsplit=1)
        if len(parts) == 2 and parts[0]:
            return self._suggest_intersections(session, parts[0].split(), parts[1].split(), limit)
        if cleaned.isdigit():
            return []
        return self._suggest_streets(session, cleaned.split(), limit)

    def _suggest_addresses(self, session: Session, number: int, words: list[str], limit: int) -> list[Candidate]:
        direction = DIRECTIONALS.get(words[0]) if len(words) > 1 else None
        words = words[1:] if direction else words
        if not words:
            return []
        typed = " ".join(words)
        rows = self._addresses_by_prefix(session, number, words[0], direction, limit * 4)
        if not rows:  # a typo in the street name: the streets it could mean
            streets = self.streets.get(session, self.city)
            guess = _name_guess(words)
            names = [name for name, _ in streets.similar(guess)] or streets.completing(guess)
            rows = (
                session.execute(
                    text(
                        f"SELECT {_COLUMNS} FROM address_point WHERE city = :city AND house_number = :number "
                        "AND street_name = ANY(:names) AND kind <> 'intersection' ORDER BY standardized LIMIT :limit"
                    ),
                    {"city": self.city, "number": number, "names": names, "limit": limit},
                )
                .mappings()
                .all()
            )
        ranked = sorted(rows, key=lambda r: (not _street_words(r).startswith(typed), r["standardized"]))
        return [_candidate(row, 1.0) for row in ranked[:limit]]

    def _addresses_by_prefix(
        self, session: Session, number: int, first_word: str, direction: str | None, limit: int
    ) -> Sequence[Any]:
        return (
            session.execute(
                text(
                    f"""
                SELECT {_COLUMNS} FROM address_point
                WHERE city = :city AND house_number = :number AND street_name LIKE :prefix
                  AND kind <> 'intersection'
                  AND (CAST(:direction AS text) IS NULL OR coalesce(predir, postdir) = :direction)
                ORDER BY street_name, predir LIMIT :limit
                """
                ),
                {
                    "city": self.city,
                    "number": number,
                    "prefix": _like_prefix(first_word),
                    "direction": direction,
                    "limit": limit,
                },
            )
            .mappings()
            .all()
        )

    def _suggest_intersections(
        self, session: Session, first: list[str], second: list[str], limit: int
    ) -> list[Candidate]:
        streets = self.streets.get(session, self.city)
        names = [name for name, _ in streets.similar(_name_guess(first))]
        if not names:
            return []
        rows = (
            session.execute(
                text(
                    f"""
                SELECT {_COLUMNS} FROM address_point
                WHERE city = :city AND kind = 'intersection'
                  AND ((street_name = ANY(:names) AND cross_name LIKE :prefix)
                       OR (cross_name = ANY(:names) AND street_name LIKE :prefix))
                ORDER BY standardized LIMIT :limit
                """
                ),
                {"city": self.city, "names": names, "prefix": _like_prefix(" ".join(second)), "limit": limit},
            )
            .mappings()
            .all()
        )
        return [_candidate(row, 1.0) for row in rows]

    def _suggest_streets(self, session: Session, words: list[str], limit: int) -> list[Candidate]:
        direction = DIRECTIONALS.get(words[0]) if len(words) > 1 else None
        words = words[1:] if direction else words
        rows = (
            session.execute(
                text(
                    """
                SELECT predir, name, suffix, postdir, zipcodes, addresses FROM address_street
                WHERE city = :city AND name LIKE :prefix
                  AND (CAST(:direction AS text) IS NULL OR coalesce(predir, postdir) = :direction)
                ORDER BY addresses DESC, name LIMIT :limit
                """
                ),
                {"city": self.city, "prefix": _like_prefix(" ".join(words)), "direction": direction, "limit": limit},
            )
            .mappings()
            .all()
        )
        return [
            Candidate(
                None,
                Street(r["name"], r["predir"], r["suffix"], r["postdir"]).text
                + (f" ({', '.join(r['zipcodes'][:3])})" if r["zipcodes"] else ""),
                "street",
                None,
                None,
                1.0,
            )
            for r in rows
        ]

    # -- reverse (a point picked on the map) ---------------------------------------------

    def reverse(
        self, session: Session, lon: object, lat: object, tolerance_m: float = REVERSE_TOLERANCE_M
    ) -> ReverseResult:
        """The nearest address to the point within ``tolerance_m``, and whose the point is."""
        x, y = check_lon_lat(lon, lat)
        location = self.boundaries.get(session, self.city).locate(x, y)
        row = (
            session.execute(
                text(
                    f"""
                SELECT {_COLUMNS}, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) AS d
                FROM (SELECT * FROM address_point WHERE city = :city
                      ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT 5) nearest
                ORDER BY d LIMIT 1
                """
                ),
                {"city": self.city, "x": x, "y": y},
            )
            .mappings()
            .first()
        )
        if row is None:
            return ReverseResult(None, None, location)
        distance = round(float(row["d"]), 1)
        address = _candidate(row, 1.0) if distance <= tolerance_m else None
        return ReverseResult(address, distance, location)


# -- scoring ------------------------------------------------------------------------------


def _street_fit(query: Street, edits: int, predir: str | None, suffix: str | None, postdir: str | None) -> float:
    """How well a known street fits the typed one: 1.0 less its letter edits and its mismatches."""
    return 1.0 - EDIT_PENALTY * edits - _street_penalty(query, predir, suffix, postdir)


def _street_penalty(query: Street, predir: str | None, suffix: str | None, postdir: str | None) -> float:
    penalty = 0.0
    # Directionals compare as a set, wherever they stand: "HUNTINGTON DR S" fits E HUNTINGTON DR S.
    wanted = {d for d in (query.predir, query.postdir) if d}
    found = {d for d in (predir, postdir) if d}
    if _contradicts(query, predir, postdir):
        penalty += DIRECTION_MISMATCH
    elif wanted and not found:
        penalty += DIRECTION_UNSTATED
    elif found - wanted:
        penalty += 0.02
    if query.suffix and suffix and query.suffix != suffix:
        penalty += SUFFIX_MISMATCH
    elif suffix and not query.suffix:
        penalty += 0.01
    elif query.suffix and not suffix:
        penalty += 0.02
    return penalty


def _readings(streets: StreetIndex, street: Street) -> list[tuple[Street, dict[str, int]]]:
    """The readings of a typed street with the known names each could mean (exact readings only, if any)."""
    readings = [(reading, dict(streets.similar(reading.name))) for reading in street.readings()]
    exact = [(reading, found) for reading, found in readings if 0 in found.values()]
    return exact or [(reading, found) for reading, found in readings if found]


def _address_score(parsed: ParsedAddress, street: Street, row: Any, edits: int) -> float:
    score = _street_fit(street, edits, row["predir"], row["suffix"], row["postdir"])
    if parsed.zipcode and row["zipcode"] and parsed.zipcode != row["zipcode"]:
        score -= ZIP_MISMATCH
    if (parsed.number_suffix or None) != (row["number_suffix"] or None):
        score -= NUMBER_SUFFIX_MISMATCH
    return round(score, 3)


def _intersection_score(
    parsed: ParsedAddress,
    row: Any,
    first: list[tuple[Street, dict[str, int]]],
    second: list[tuple[Street, dict[str, int]]],
) -> float:
    row_a = (row["street_name"], row["predir"], row["suffix"], row["postdir"])
    row_b = (row["cross_name"], row["cross_predir"], row["cross_suffix"], row["cross_postdir"])

    def side(readings: list[tuple[Street, dict[str, int]]], found_street: tuple) -> float | None:
        scores = [
            _street_fit(street, found[found_street[0]], *found_street[1:])
            for street, found in readings
            if found_street[0] in found
        ]
        return max(scores) if scores else None

    orientations = []
    for a, b in ((row_a, row_b), (row_b, row_a)):
        left, right = side(first, a), side(second, b)
        if left is not None and right is not None:
            orientations.append(left + right - 1.0)
    score = max(orientations, default=0.0)
    if parsed.zipcode and row["zipcode"] and parsed.zipcode != row["zipcode"]:
        score -= ZIP_MISMATCH
    return round(score, 3)


def _candidate(row: Any, score: float) -> Candidate:
    return Candidate(
        row["address_id"],
        row["standardized"],
        row["kind"],
        row["lon"],
        row["lat"],
        score,
        source_kind=row.get("source_kind"),
        source=row.get("source_key"),
        owner=_owner(row),
        basis=row.get("placed_by"),
    )


def _with_place_split_off(parsed: ParsedAddress, streets: StreetIndex, places: Any) -> ParsedAddress:
    """Without a comma the typed city joins the street ("1007 OCEAN FRONT WALK VENICE CA"): when the
    street is unknown and ends with a known place name, that name is the city."""
    if parsed.kind != "address" or parsed.city or parsed.street.name in streets:
        return parsed
    words = " ".join(p for p in (parsed.street.name, parsed.street.suffix_word or parsed.street.suffix) if p)
    tail = places.trailing_place(parsed.street.name) or places.trailing_place(words)
    if not tail:
        return parsed
    head = words[: -len(tail)].strip()
    try:
        again = parse_address(f"{parsed.house} {head}" + (f" {parsed.zipcode}" if parsed.zipcode else ""))
    except InvalidAddress:
        return parsed
    again = replace(again, city=tail, unit_type=parsed.unit_type, unit=parsed.unit)
    return again if again.street.name in streets else parsed


def _bare(name: str | None) -> str:
    """An agency name to follow "the": "City of Culver City" stays, "the City of" is not doubled."""
    return (name or "").removeprefix("the ")


def _owner(row: Any) -> str | None:
    """Whose address a stored row is: None for the city's own, else the agency key ("" for none known)."""
    if row.get("owner_agency"):
        return row["owner_agency"]
    if row.get("in_jurisdiction") is False:
        return row.get("agency_key") or ""
    return None


def _owner_at(index: Any, owner_agency: str | None, lon: float, lat: float) -> str | None:
    """Whose a computed point is (as :func:`_owner` says of a stored row): its source's owner, else the
    agency whose area holds it (None for the city's own, "" for no known agency)."""
    if owner_agency:
        return owner_agency
    location = index.locate(lon, lat)
    return None if location.in_jurisdiction else (location.agency.key if location.agency else "")


def _contradicts(street: Street, predir: str | None, postdir: str | None) -> bool:
    """Whether the typed directional contradicts the record's: N ALAMEDA ST is not S ALAMEDA ST."""
    wanted = {d for d in (street.predir, street.postdir) if d}
    found = {d for d in (predir, postdir) if d}
    return bool(wanted and found and not wanted <= found)


def _street_of(candidate: Candidate) -> str:
    """The street part of a candidate's text ("800 S ALAMEDA ST, 90021" -> "S ALAMEDA ST")."""
    return re.sub(r"^\d+\S*\s+(?:\d/\d\s+)?", "", candidate.text.split(",")[0])


def _ambiguity_reason(parsed: ParsedAddress, ranked: list[Candidate]) -> str:
    if len(ranked) == 1:
        return Sentence(
            N_("The closest address is %(address)s, which differs from what was typed: please confirm."),
            address=ranked[0].text,
        )
    return Sentence(
        N_("%(count)s addresses match %(typed)s: please choose one."), count=len(ranked), typed=parsed.text(unit=False)
    )


def _transpositions(number: int) -> list[int]:
    digits = str(number)
    swapped = {
        int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
        for i in range(len(digits) - 1)
        if digits[i] != digits[i + 1] and not (i == 0 and digits[1] == "0")
    }
    return sorted(swapped - {number})


def _like_prefix(value: str) -> str:
    return value.replace("\\", "").replace("%", "").replace("_", "") + "%"


def _street_words(row: Any) -> str:
    return " ".join(p for p in (row["street_name"], row["suffix"], row["postdir"]) if p)


def _name_guess(words: list[str]) -> str:
    """The street name in typed words: without a trailing street type."""
    if len(words) > 1 and words[-1] in STREET_TYPES:
        words = words[:-1]
    return standardize_name(" ".join(words))
