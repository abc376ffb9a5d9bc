"""Interpolation: where a house number that no address point holds would be.

Two bases, in this order of trust:

- **a street's address range**: a centerline segment whose left or right range holds
  the number with the same parity (odd numbers on one side, even on the other) gives
  the point at the number's fraction along the segment, set back from the centerline
  on that side;
- **two known numbers**: the nearest lower and higher numbers of the same parity on
  the same street (directional and type included) and of the same owner, at most
  ``max_gap`` numbers and ``max_distance_m`` metres apart, give the point at the
  number's fraction between them.

Each answer says its basis in words ("between 150 and 250 N SPRING ST"), a :class:`core.i18n.Sentence`
that a page writes in its language (the street stays as the address tables write it). Nothing is
interpolated beyond the ends of what is known: a number in no range and not between two
known numbers has no interpolated point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.i18n import N_, Sentence

#: How far from the centerline an interpolated address is set (metres): about where a
#: house front is on a residential street.
SETBACK_M = 12.0


@dataclass(frozen=True)
class Interpolated:
    """An interpolated point for one house number on one street."""

    kind: str  # "range" (on a centerline's address range) or "between" (between known numbers)
    lon: float
    lat: float
    predir: str | None
    name: str
    suffix: str | None
    postdir: str | None
    owner_agency: str | None
    in_jurisdiction: bool | None
    agency_key: str | None
    source: str
    basis: Sentence

    @property
    def street_text(self) -> str:
        return " ".join(p for p in (self.predir, self.name, self.suffix, self.postdir) if p)


_ON_RANGES = text(
    """
    WITH sides AS (
        SELECT s.id, s.geom, s.predir, s.name, s.suffix, s.postdir, s.owner_agency, s.in_jurisdiction, s.agency_key,
               s.source_key, side.side, side.f, side.t
        FROM street_segment s
        CROSS JOIN LATERAL (VALUES ('left', s.left_from, s.left_to), ('right', s.right_from, s.right_to)) side(side, f, t)
        WHERE s.city = :city AND s.name = ANY(:names)
          AND (CAST(:owner AS text) IS NULL OR s.owner_agency IS NOT DISTINCT FROM :owner)
          AND side.f IS NOT NULL AND :n BETWEEN least(side.f, side.t) AND greatest(side.f, side.t)
          AND side.f % 2 = :n % 2
    ), placed AS (
        SELECT sides.*, CASE WHEN t = f THEN 0.5 ELSE (:n - f)::float8 / (t - f) END AS frac FROM sides
    ), points AS (
        SELECT placed.*, ST_LineInterpolatePoint(geom, frac) AS on_line,
               ST_Azimuth(ST_LineInterpolatePoint(geom, greatest(frac - 0.01, 0)),
                          ST_LineInterpolatePoint(geom, least(frac + 0.01, 1))) AS heading
        FROM placed
    )
    SELECT id, predir, name, suffix, postdir, owner_agency, in_jurisdiction, agency_key, source_key, side, f, t,
           ST_X(pt) AS lon, ST_Y(pt) AS lat
    FROM (
        SELECT points.*, coalesce(
            ST_Project(on_line::geography, :setback,
                       heading + CASE WHEN side = 'left' THEN -pi() / 2 ELSE pi() / 2 END)::geometry,
            on_line) AS pt
        FROM points
    ) found
    ORDER BY abs(t - f), id
    LIMIT 8
    """
)


def on_ranges(
    session: Session, city: str, names: Sequence[str], number: int, owner: str | None = None
) -> list[Interpolated]:
    """Points for ``number`` on the address ranges of the segments of streets ``names``
    (of the neighbour ``owner`` only, when given); the tightest range first."""
    rows = (
        session.execute(
            _ON_RANGES, {"city": city, "names": list(names), "n": number, "owner": owner, "setback": SETBACK_M}
        )
        .mappings()
        .all()
    )
    return [
        _interpolated(
            "range",
            r,
            Sentence(_RANGE_SIDE[r["side"]], low=min(r["f"], r["t"]), high=max(r["f"], r["t"]), street=_street(r)),
        )
        for r in rows
    ]


#: The basis of a point on a range, by side of the centerline (whole phrases: a language words each side its way).
_RANGE_SIDE = {
    "left": N_("on the left side of the %(low)s-%(high)s block of %(street)s (address range of the street centerline)"),
    "right": N_(
        "on the right side of the %(low)s-%(high)s block of %(street)s (address range of the street centerline)"
    ),
}


def _street(row: Any) -> str:
    """The street of a result row as the address tables write it ("N SPRING ST")."""
    return " ".join(p for p in (row["predir"], row["name"], row["suffix"], row["postdir"]) if p)


def _interpolated(kind: str, row: Any, basis: Sentence) -> Interpolated:
    """An :class:`Interpolated` from a result row, with its basis in words."""
    return Interpolated(
        kind,
        row["lon"],
        row["lat"],
        row["predir"],
        row["name"],
        row["suffix"],
        row["postdir"],
        row["owner_agency"],
        row["in_jurisdiction"],
        row["agency_key"],
        row["source_key"],
        basis,
    )


def _nearest_known(side: str) -> str:
    """The nearest known number below (``side`` "lo") or above ("hi") :n of the same parity on
    street ``v``, at most :gap away."""
    compare, order, bound = ("<", "DESC", ">= :n - :gap") if side == "lo" else (">", "ASC", "<= :n + :gap")
    return f"""
        SELECT house_number, geom FROM address_point a
        WHERE a.city = :city AND a.street_name = v.name AND a.kind <> 'intersection'
          AND a.predir IS NOT DISTINCT FROM v.predir AND a.suffix IS NOT DISTINCT FROM v.suffix
          AND a.postdir IS NOT DISTINCT FROM v.postdir AND a.owner_agency IS NOT DISTINCT FROM v.owner_agency
          AND a.source_key = v.source_key
          AND a.house_number {compare} :n AND a.house_number {bound} AND a.house_number % 2 = :n % 2
        ORDER BY a.house_number {order} LIMIT 1
    """


_BETWEEN = text(
    f"""
    SELECT v.predir, v.name, v.suffix, v.postdir, v.owner_agency, lo.house_number AS lo_n, hi.house_number AS hi_n,
           ST_X(p) AS lon, ST_Y(p) AS lat, v.source_key AS source_key, NULL::boolean AS in_jurisdiction,
           NULL::text AS agency_key
    FROM (
        SELECT DISTINCT predir, street_name AS name, suffix, postdir, owner_agency, source_key FROM address_point
        WHERE city = :city AND street_name = ANY(:names) AND kind <> 'intersection'
    ) v
    CROSS JOIN LATERAL ({_nearest_known("lo")}) lo
    CROSS JOIN LATERAL ({_nearest_known("hi")}) hi
    CROSS JOIN LATERAL (
        SELECT ST_LineInterpolatePoint(ST_MakeLine(lo.geom, hi.geom),
                                       (:n - lo.house_number)::float8 / (hi.house_number - lo.house_number)) AS p
    ) placed
    WHERE ST_DistanceSphere(lo.geom, hi.geom) <= :max_distance
    ORDER BY hi.house_number - lo.house_number, v.name
    LIMIT 8
    """
)


def between_known(
    session: Session, city: str, names: Sequence[str], number: int, max_gap: int, max_distance_m: float
) -> list[Interpolated]:
    """Points for ``number`` between the nearest known lower and higher numbers of the
    same parity on each street of ``names`` (same directional, type, owner and source)."""
    if max_gap <= 0:
        return []
    rows = (
        session.execute(
            _BETWEEN, {"city": city, "names": list(names), "n": number, "gap": max_gap, "max_distance": max_distance_m}
        )
        .mappings()
        .all()
    )
    return [
        _interpolated(
            "between",
            r,
            Sentence(N_("between %(low)s and %(high)s %(street)s"), low=r["lo_n"], high=r["hi_n"], street=_street(r)),
        )
        for r in rows
    ]
