"""The in-process boundary index for the intake hot path.

The same subdivided pieces the database probes, held in an ``rtree`` index with
prepared shapely geometries. :class:`IndexCache` rebuilds it when the current layer
versions change (see :mod:`app.caching`).
"""

from __future__ import annotations

import threading
from typing import Sequence

import shapely
from rtree import index as rtree_index
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.caching import VersionedCache
from boundaries.lookup import Hit, Location, check_lon_lat, resolve


def current_version_ids(session: Session, city: str) -> tuple[int, ...]:
    """The ids of the current layer versions of ``city``: the index's data version."""
    rows = session.execute(
        text("SELECT id FROM boundary_layer_version WHERE city = :city AND is_current ORDER BY id"), {"city": city}
    )
    return tuple(row[0] for row in rows)


class BoundaryIndex:
    """Point lookups over one set of layer versions, in memory."""

    def __init__(self, city: str, version_ids: tuple[int, ...], pieces: Sequence[tuple[BaseGeometry, Hit]]) -> None:
        self.city = city
        self.version_ids = version_ids
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
    def build(cls, session: Session, city: str) -> "BoundaryIndex":
        """Load the pieces of the current layers of ``city`` from the database."""
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
        return cls(city, version_ids, pieces)

    def __len__(self) -> int:
        return len(self._geometries)

    def locate(self, lon: object, lat: object) -> Location:
        """The same answer as :func:`boundaries.lookup.locate`, without a database round trip."""
        x, y = check_lon_lat(lon, lat)
        with self._lock:
            candidates = list(self._tree.intersection((x, y, x, y)))
            hits = [self._hits[i] for i in candidates if shapely.intersects_xy(self._geometries[i], x, y)]
        return resolve(x, y, hits)


class IndexCache(VersionedCache[BoundaryIndex]):
    """A :class:`BoundaryIndex` per city, rebuilt when its current layer versions change."""

    def __init__(self, max_age: float = 1.0) -> None:
        super().__init__(BoundaryIndex.build, current_version_ids, max_age)
