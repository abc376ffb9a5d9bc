"""Gaps between boundary layers: land inside the region the layers cover that is in none of them.

A point in a gap is neither in the home jurisdiction nor in any agency's area: lookups
give it the city's fallback contact (``[agencies.fallback]``). The boundary load reports
the gaps so that whoever maintains the layers can see them: each gap's area, a point
inside it and the agencies (and the jurisdiction) along its edge.

A gap is a hole of the union of the current jurisdiction and agencies layers: an area
enclosed on every side by them. Open water along a coast or the land beyond the outer
edge is not between the layers and is not a gap. Holes under the configured size
(``ignore_gaps_below_m2``) are slivers of digitizing and are left out. Everything is
computed in PostGIS from the current versions; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.rules import current_layers
from core.city import CityConfig

#: How close (degrees, about 1 m) a feature must come to a gap to count as along its edge.
EDGE_TOLERANCE_DEG = 0.00001


@dataclass(frozen=True)
class Gap:
    """One gap: its area (m², on the ellipsoid), a point inside it, the names of the
    features along its edge and its outline (WGS 84)."""

    area_m2: float
    lon: float
    lat: float
    neighbors: tuple[str, ...]
    geometry: BaseGeometry = field(compare=False, repr=False, default=None)

    def summary(self) -> str:
        """``2.10 km² near (33.85381, -118.29916) between A and B`` (or ``inside A``)."""
        line = f"{_area_text(self.area_m2)} near ({self.lat:.5f}, {self.lon:.5f})"
        names = list(self.neighbors)
        if len(names) == 1:
            line += f" inside {names[0]}"
        elif names:
            line += " between " + ", ".join(names[:-1]) + " and " + names[-1]
        return line


@dataclass(frozen=True)
class GapsReport:
    """The gaps between a city's jurisdiction and its agencies layer, largest first."""

    city: str
    jurisdiction: str
    gaps: tuple[Gap, ...]
    ignored_below_m2: float
    ignored: int

    @property
    def total_m2(self) -> float:
        return sum(gap.area_m2 for gap in self.gaps)

    def summary(self) -> str:
        """One line for the whole report."""
        if not self.gaps:
            line = f"No gaps between the {self.jurisdiction} and the agencies' layer"
        else:
            count = f"{len(self.gaps)} gap{'s' if len(self.gaps) != 1 else ''}"
            line = (
                f"{count} between the {self.jurisdiction} and the agencies' layer "
                f"({_area_text(self.total_m2)} in all); points in them get the fallback contact"
            )
        if self.ignored:
            line += f"; {self.ignored} sliver(s) under {self.ignored_below_m2:g} m² left out"
        return line + "."

    def lines(self, limit: int | None = None) -> list[str]:
        """The summary, then one line per gap (the ``limit`` largest)."""
        shown = self.gaps if limit is None else self.gaps[:limit]
        lines = [self.summary(), *(f"  {gap.summary()}" for gap in shown)]
        if len(shown) < len(self.gaps):
            lines.append(f"  ... and {len(self.gaps) - len(shown)} smaller gap(s)")
        return lines


_GAPS_SQL = text(
    f"""
    WITH owners AS (
        SELECT f.geom, f.name, v.role
        FROM boundary_feature f JOIN boundary_layer_version v ON v.id = f.version_id
        WHERE {current_layers("v", ("jurisdiction", "agencies"))}
    ), covered AS (
        SELECT ST_UnaryUnion(ST_Collect(geom)) AS geom FROM owners
    ), parts AS (
        SELECT (ST_Dump(geom)).geom AS geom FROM covered
    ), holes AS (
        SELECT ST_MakePolygon(ST_InteriorRingN(parts.geom, n)) AS geom
        FROM parts, generate_series(1, ST_NumInteriorRings(parts.geom)) AS n
    ), gaps AS (
        -- an island of the layers inside a hole is not part of the gap
        SELECT (ST_Dump(ST_Difference(ST_UnaryUnion(ST_Collect(holes.geom)), covered.geom))).geom AS geom
        FROM holes, covered
        GROUP BY covered.geom
    ), measured AS (
        SELECT geom, ST_Area(geom::geography) AS area_m2 FROM gaps WHERE ST_Dimension(geom) = 2
    )
    SELECT m.area_m2, ST_AsBinary(m.geom) AS wkb, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
           CASE WHEN m.area_m2 < :threshold THEN ARRAY[]::text[] ELSE ARRAY(
               SELECT DISTINCT o.name FROM owners o
               WHERE ST_Intersects(o.geom, ST_Buffer(m.geom, :tolerance))
               ORDER BY o.name
           ) END AS neighbors,
           m.area_m2 < :threshold AS ignored
    FROM measured m, LATERAL (SELECT ST_PointOnSurface(m.geom) AS geom) p
    ORDER BY m.area_m2 DESC
    """
)


def find_gaps(session: Session, city: CityConfig) -> GapsReport | None:
    """The gaps between the current jurisdiction and agencies layers of ``city``.

    None when the city configures no agencies layer or one of the two is not loaded.
    """
    if city.agencies is None:
        return None
    loaded = set(
        session.scalars(
            text(f"SELECT role FROM boundary_layer_version WHERE {current_layers(None, ('jurisdiction', 'agencies'))}"),
            {"city": city.key},
        )
    )
    if loaded != {"jurisdiction", "agencies"}:
        return None
    threshold = city.agencies.ignore_gaps_below_m2
    rows = session.execute(_GAPS_SQL, {"city": city.key, "threshold": threshold, "tolerance": EDGE_TOLERANCE_DEG})
    kept, ignored = [], 0
    for row in rows:
        if row.ignored:
            ignored += 1
        else:
            kept.append(
                Gap(
                    float(row.area_m2),
                    float(row.lon),
                    float(row.lat),
                    tuple(row.neighbors),
                    shapely.from_wkb(bytes(row.wkb)),
                )
            )
    return GapsReport(city.key, city.name, tuple(kept), threshold, ignored)


def _area_text(area_m2: float) -> str:
    if area_m2 >= 100_000:
        return f"{area_m2 / 1e6:.2f} km²"
    return f"{area_m2 / 10_000:.2f} ha"
