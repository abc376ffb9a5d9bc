"""Candidate duplicates of a request: the same service, nearby, made around the same time.

Staff see them on a request's page and close one of a pair as a duplicate of the other. The
distance is measured in the database, on the geography (metres on the ellipsoid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from service_requests.models import ServiceRequest


@dataclass(frozen=True)
class Candidate:
    """A request that may be the same problem as another one, and how far from it it is."""

    id: int
    public_ref: str
    short_ref: str | None
    status: str
    is_open: bool
    address: str | None
    requested_at: datetime
    distance_m: float
    lon: float
    lat: float


def candidate_duplicates(
    session: Session, request: ServiceRequest, radius_m: float = 200.0, days: int = 30, limit: int = 10
) -> list[Candidate]:
    """Requests of ``request``'s service within ``radius_m`` metres made within ``days`` days of it, nearest first.

    Open or closed (a problem fixed last week may be the one reported again); never the request
    itself, and never a request already closed as a duplicate (its original stands for the
    problem, and is listed when it is near). A request without a point (or with a placeholder
    one) has no candidates, and is no candidate.
    """
    point = request_point(session, request)
    if point is None:
        return []
    rows = session.execute(
        text(
            """
            WITH here AS (SELECT geom, requested_at FROM service_request WHERE id = :id)
            SELECT s.id, s.public_ref, s.short_ref, s.status, s.is_open, s.address, s.requested_at,
                   ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
                   ST_Distance(s.geom::geography, here.geom::geography) AS distance
            FROM service_request s, here
            WHERE s.city = :city AND s.service_code = :service AND s.id <> :id
              AND s.status <> 'duplicate' AND s.duplicate_of IS NULL AND s.location_quality <> 'placeholder'
              AND s.requested_at BETWEEN here.requested_at - make_interval(days => :days)
                                     AND here.requested_at + make_interval(days => :days)
              -- the box lets the GiST index on geom answer; the geography test is exact
              AND s.geom && ST_Expand(here.geom, :dx, :dy)
              AND ST_DWithin(s.geom::geography, here.geom::geography, :radius)
            ORDER BY distance, s.requested_at DESC LIMIT :limit
            """
        ),
        {
            "id": request.id,
            "city": request.city,
            "service": request.service_code,
            "days": days,
            "radius": radius_m,
            "limit": limit,
            # degrees that surely cover the radius: 1 degree of latitude is over 110 km
            "dy": radius_m / 110_000,
            "dx": radius_m / (110_000 * max(0.01, math.cos(math.radians(point[1])))),
        },
    )
    return [
        Candidate(
            r.id,
            r.public_ref,
            r.short_ref,
            r.status,
            r.is_open,
            r.address,
            r.requested_at,
            round(r.distance, 1),
            r.lon,
            r.lat,
        )
        for r in rows
    ]


def request_point(session: Session, request: ServiceRequest) -> tuple[float, float] | None:
    """The request's (longitude, latitude), or None when it has no point or only a placeholder one."""
    if request.geom is None or request.location_quality == "placeholder":
        return None
    row = session.execute(
        text("SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM service_request WHERE id = :id"), {"id": request.id}
    ).one()
    return (row.lon, row.lat)
