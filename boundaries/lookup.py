"""Point lookup: is a point ours, in which ward and district, and whose is it if not?

:func:`locate` asks the database (GiST index over subdivided pieces);
:class:`boundaries.index.BoundaryIndex` answers the same question in process for the
intake hot path. Both turn their hits into a :class:`Location` with :func:`resolve`,
so they agree by construction on everything but the geometry test itself.

A point on a shared line (between two wards) belongs to both; the one with the
smallest key is reported, so answers are deterministic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import InvalidCoordinates


class Hit(NamedTuple):
    """A feature of a current layer that covers the point."""

    role: str
    key: str
    name: str
    phone: str | None
    website: str | None


@dataclass(frozen=True)
class Area:
    """A ward or a district."""

    key: str
    name: str


@dataclass(frozen=True)
class Agency:
    """The agency that serves a point outside the home jurisdiction."""

    key: str
    name: str
    phone: str | None
    website: str | None


@dataclass(frozen=True)
class Location:
    """The answer of a point lookup."""

    lon: float
    lat: float
    in_jurisdiction: bool
    ward: Area | None = None
    district: Area | None = None
    agency: Agency | None = None

    @property
    def status(self) -> str:
        """``inside`` the home jurisdiction, ``outside`` with a known agency, or ``unknown``."""
        if self.in_jurisdiction:
            return "inside"
        return "outside" if self.agency else "unknown"

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["status"] = self.status
        return data


def check_lon_lat(lon: object, lat: object) -> tuple[float, float]:
    """``(lon, lat)`` as floats, or :class:`InvalidCoordinates` saying what is wrong."""
    try:
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidCoordinates(
            f"Coordinates must be numbers; got longitude {lon!r} and latitude {lat!r}."
        ) from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidCoordinates("Coordinates must be finite numbers; NaN and infinity are not places.")
    if not -180 <= x <= 180:
        raise InvalidCoordinates(f"Longitude {x} is outside -180..180; check that longitude and latitude are not swapped.")
    if not -90 <= y <= 90:
        raise InvalidCoordinates(f"Latitude {y} is outside -90..90; check that longitude and latitude are not swapped.")
    return x, y


def resolve(lon: float, lat: float, hits: Iterable[Hit]) -> Location:
    """The :class:`Location` of a point from the features covering it."""
    best: dict[str, Hit] = {}
    for hit in hits:
        if hit.role not in best or hit.key < best[hit.role].key:
            best[hit.role] = hit
    inside = "jurisdiction" in best
    ward = best.get("wards")
    district = best.get("districts")
    agency = best.get("agencies") if not inside else None
    return Location(
        lon=lon,
        lat=lat,
        in_jurisdiction=inside,
        ward=Area(ward.key, ward.name) if ward else None,
        district=Area(district.key, district.name) if district else None,
        agency=Agency(agency.key, agency.name, agency.phone, agency.website) if agency else None,
    )


_LOCATE_SQL = text(
    """
    SELECT DISTINCT v.role, f.key, f.name, f.phone, f.website
    FROM boundary_piece p
    JOIN boundary_layer_version v ON v.id = p.version_id
    JOIN boundary_feature f ON f.id = p.feature_id
    WHERE v.city = :city AND v.is_current
      AND ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    """
)


def locate(session: Session, city: str, lon: object, lat: object) -> Location:
    """Look the point up in the database's current boundary layers of ``city``."""
    x, y = check_lon_lat(lon, lat)
    rows = session.execute(_LOCATE_SQL, {"city": city, "lon": x, "lat": y})
    return resolve(x, y, (Hit(*row) for row in rows))
