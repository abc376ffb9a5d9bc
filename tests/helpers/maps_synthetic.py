"""Synthetic requests for the map tests: points inside the city drawn with a fixed seed.

They get their own service code, so that a filter on it sees them alone (the test
database also holds the real history), and they live only in the test's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyproj
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.city import CityConfig
from geo.layers import jurisdiction
from service_requests.references import new_short_references
from service_requests.selection import RequestFilter

SERVICE = "synthetic-test"
START = datetime(2024, 1, 1, 12, tzinfo=UTC)


def projected(city: CityConfig) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    """To and from the city's projected CRS (x, y order)."""
    return (
        pyproj.Transformer.from_crs("EPSG:4326", city.projected_crs, always_xy=True),
        pyproj.Transformer.from_crs(city.projected_crs, "EPSG:4326", always_xy=True),
    )


def random_points(session: Session, city: CityConfig, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points (lon, lat) uniform over the city's area (complete spatial randomness)."""
    forward, _ = projected(city)
    outline = jurisdiction(session, city, simplified=False).to_crs(city.projected_crs).geometry.iloc[0]
    shapely.prepare(outline)
    minx, miny, maxx, maxy = outline.bounds
    found: list[np.ndarray] = []
    total = 0
    while total < count:
        xy = np.column_stack([rng.uniform(minx, maxx, count * 3), rng.uniform(miny, maxy, count * 3)])
        inside = xy[shapely.contains_xy(outline, xy[:, 0], xy[:, 1])]
        found.append(inside)
        total += len(inside)
    xy = np.vstack(found)[:count]
    _, back = projected(city)
    lon, lat = back.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def cluster_points(
    city: CityConfig, centre: tuple[float, float], radius_m: float, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` points (lon, lat) uniform in a disc of ``radius_m`` around ``centre`` (lon, lat)."""
    forward, back = projected(city)
    cx, cy = forward.transform(*centre)
    r = radius_m * np.sqrt(rng.uniform(0, 1, count))
    a = rng.uniform(0, 2 * np.pi, count)
    lon, lat = back.transform(cx + r * np.cos(a), cy + r * np.sin(a))
    return np.column_stack([lon, lat])


def insert(
    session: Session,
    city: CityConfig,
    points: np.ndarray,
    tag: str,
    days: np.ndarray | None = None,
    location_quality: str = "point",
    in_jurisdiction: bool = True,
) -> None:
    """Store ``points`` as open requests of :data:`SERVICE`, ``days`` after :data:`START` (default 0)."""
    days = np.zeros(len(points)) if days is None else days
    session.execute(
        text(
            """
        INSERT INTO service_request (city, public_ref, short_ref, service_code, service_name, status, channel,
            description, attributes, location_quality, geom, in_jurisdiction, requested_at, updated_at, source,
            response_method)
        SELECT :city, :tag || '-' || n, short_ref, :service, 'Synthetic test', 'submitted', 'web', '', '{}'::jsonb,
               :quality, ST_SetSRID(ST_MakePoint(lon, lat), 4326), :inside, at, at, 'intake', 'none'
        FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:ats AS timestamptz[]),
                    CAST(:short_refs AS text[]))
             WITH ORDINALITY AS p(lon, lat, at, short_ref, n)
        """
        ),
        {
            "city": city.key,
            "tag": tag,
            "service": SERVICE,
            "quality": location_quality,
            "inside": in_jurisdiction,
            "lons": points[:, 0].tolist(),
            "lats": points[:, 1].tolist(),
            "ats": [START + timedelta(days=float(d)) for d in days],
            "short_refs": new_short_references(len(points)),
        },
    )


def only_synthetic(**changes: object) -> RequestFilter:
    """The filter that sees the synthetic requests alone."""
    return RequestFilter(services=(SERVICE,)).replace(**changes)
