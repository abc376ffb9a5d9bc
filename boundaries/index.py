"""The in-process boundary index for the intake hot path.

The same subdivided pieces the database probes, held in an ``rtree`` index with
prepared shapely geometries. :class:`IndexCache` rebuilds it when the current layer
versions change (see :mod:`core.caching`). The extent of the jurisdiction and agencies
layers, where the city's fallback contact answers, is read from the database as
:func:`boundaries.lookup.locate` computes it, so that both agree to the last bit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import shapely
from rtree import index as rtree_index
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.lookup import Agency, Hit, Location, check_lon_lat, fallback_agency, resolve
from boundaries.rules import current_layers
from core.caching import BOUNDARY_TABLES, VersionedCache
from core.city import CityConfig

#: (min lon, min lat, max lon, max lat), inclusive.
Extent = tuple[float, float, float, float]


def current_version_ids(session: Session, city: str) -> tuple[int, ...]:
    """The ids of the current layer versions of ``city``: the index's data version."""
    rows = session.execute(
        text(f"SELECT id FROM boundary_layer_version WHERE {current_layers(None)} ORDER BY id"), {"city": city}
    )
    return tuple(row[0] for row in rows)


class BoundaryIndex:
    """Point lookups over one set of layer versions, in memory."""

    def __init__(
        self,
        city: str,
        version_ids: tuple[int, ...],
        pieces: Sequence[tuple[BaseGeometry, Hit]],
        fallback: Agency | None = None,
        extent: Extent | None = None,
    ) -> None:
        self.city = city
        self.version_ids = version_ids
        self.fallback = fallback
        self.extent = extent
        self._geometries = [geometry for geometry, _ in pieces]
        self._hits = [hit for _, hit in pieces]
        for geometry in self._geometries:
            shapely.prepare(geometry)
        stream = ((i, geometry.bounds, None) for i, geometry in enumerate(self._geometries))
        self._tree = rtree_index.Index(stream) if self._geometries else rtree_index.Index()
        # rtree queries are not documented as thread-safe, and GEOS builds a prepared geometry's
        # indexes lazily on first use: two threads testing one piece at once crashed the process.
        self._lock = threading.Lock()

    @classmethod
    def build(cls, session: Session, city: str, fallback: Agency | None = None) -> BoundaryIndex:
        """Load the pieces of the current layers of ``city`` from the database.

        ``fallback`` (see :func:`boundaries.lookup.fallback_agency`) answers for points in gaps.
        """
        version_ids = current_version_ids(session, city)
        rows = session.execute(
            text(
                """
                SELECT ST_AsBinary(p.geom), v.role, f.key, f.name, f.phone, f.website
                FROM boundary_piece p
                JOIN boundary_layer_version v ON v.id = p.version_id
                JOIN boundary_feature f ON f.id = p.feature_id
                WHERE v.id = ANY(:ids)
                """
            ),
            {"ids": list(version_ids)},
        )
        pieces = [(shapely.from_wkb(bytes(wkb)), Hit(*rest)) for wkb, *rest in rows]
        box = session.execute(
            text(
                """
                SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
                FROM (SELECT ST_Extent(p.geom) AS e FROM boundary_piece p
                      JOIN boundary_layer_version v ON v.id = p.version_id
                      WHERE v.id = ANY(:ids) AND v.role IN ('jurisdiction', 'agencies')) extent
                """
            ),
            {"ids": list(version_ids)},
        ).one()
        extent = None if box[0] is None else (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        return cls(city, version_ids, pieces, fallback, extent)

    def __len__(self) -> int:
        return len(self._geometries)

    def locate(self, lon: object, lat: object) -> Location:
        """The same answer as :func:`boundaries.lookup.locate`, without a database round trip."""
        x, y = check_lon_lat(lon, lat)
        with self._lock:
            candidates = list(self._tree.intersection((x, y, x, y)))
            hits = [self._hits[i] for i in candidates if shapely.intersects_xy(self._geometries[i], x, y)]
        return resolve(x, y, hits, self.fallback, self._in_extent(x, y))

    def _in_extent(self, x: float, y: float) -> bool:
        if self.extent is None:
            return False
        min_x, min_y, max_x, max_y = self.extent
        return min_x <= x <= max_x and min_y <= y <= max_y


class IndexCache(VersionedCache[BoundaryIndex]):
    """A :class:`BoundaryIndex` per city, rebuilt when its current layer versions change.

    ``cities`` are the configurations whose fallback contacts the indexes give for points
    in gaps; a city not among them gets none (its gap points are ``unknown``).
    """

    def __init__(self, max_age: float | None = None, cities: Iterable[CityConfig] = ()) -> None:
        self.fallbacks = {city.key: fallback_agency(city) for city in cities}
        super().__init__(self._build_index, current_version_ids, max_age, tables=BOUNDARY_TABLES)

    def _build_index(self, session: Session, city: str) -> BoundaryIndex:
        return BoundaryIndex.build(session, city, self.fallbacks.get(city))
