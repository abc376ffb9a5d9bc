"""Point lookup: is a point ours, in which ward and district, and whose is it if not?

:func:`locate` asks the database (GiST index over subdivided pieces);
:class:`boundaries.index.BoundaryIndex` answers the same question in process for the
intake hot path. Both turn their hits into a :class:`Location` with :func:`resolve`,
so they agree by construction on everything but the geometry test itself.

A point on a shared line (between two wards) belongs to both; the one with the
smallest key is reported, so answers are deterministic.

A point in no layer but within the extent of the jurisdiction and agencies layers (a gap
between them) gets the city's fallback contact (``[agencies.fallback]``, e.g. the
county), marked as such; a point beyond that extent, or in a city without a fallback,
is ``unknown``. :func:`outside_reason` words each case once for every caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.rules import current_layers
from core.city import CityConfig
from core.errors import InvalidCoordinates
from core.i18n import N_, Sentence

#: The layers that say whose a point is; their extent bounds where the fallback answers.
OWNER_ROLES = ("jurisdiction", "agencies")


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
    """The agency that serves a point outside the home jurisdiction.

    ``fallback`` marks the city's fallback contact, given for a point in no layer: it is
    whom to ask, not an agency whose area the point is known to lie in.
    """

    key: str
    name: str
    phone: str | None
    website: str | None
    note: str | None = None
    fallback: bool = False


#: The key of the fallback "agency" (it is no feature of the agencies layer).
FALLBACK_KEY = "fallback"


def fallback_agency(city: CityConfig) -> Agency | None:
    """The city's fallback contact as an :class:`Agency`, or None when it configures none."""
    contact = city.agencies.fallback if city.agencies is not None else None
    if contact is None:
        return None
    return Agency(FALLBACK_KEY, contact.name, contact.phone, contact.website, contact.note, fallback=True)


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
        """``inside`` the home jurisdiction, ``outside`` in a known agency's area, ``unlisted``
        (in no layer: the agency is the city's fallback contact) or ``unknown``."""
        if self.in_jurisdiction:
            return "inside"
        if self.agency is None:
            return "unknown"
        return "unlisted" if self.agency.fallback else "outside"

    def as_dict(self) -> dict[str, object]:
        """The location as JSON-ready data, with its ``status`` and, outside, its ``reason``."""
        data = asdict(self)
        data["status"] = self.status
        data["reason"] = None if self.in_jurisdiction else outside_reason(self)
        return data


#: The sentences of :func:`outside_reason`, by what is located (each whole, for translators).
_OUTSIDE = {
    "address": (
        N_(
            "The address (%(lat)s, %(lon)s) lies beyond every area this system knows; check the point (are "
            "longitude and latitude swapped?) or the address."
        ),
        N_("The address lies within the boundaries of %(agency)s."),
        N_(
            "The address is not inside any agency area we know either; for help contact %(agency)s at "
            "%(phone)s (%(website)s)."
        ),
    ),
    "location": (
        N_(
            "The location (%(lat)s, %(lon)s) lies beyond every area this system knows; check the point (are "
            "longitude and latitude swapped?) or the address."
        ),
        N_("The location lies within the boundaries of %(agency)s."),
        N_(
            "The location is not inside any agency area we know either; for help contact %(agency)s at "
            "%(phone)s (%(website)s)."
        ),
    ),
    "point": (
        N_(
            "The point (%(lat)s, %(lon)s) lies beyond every area this system knows; check the point (are "
            "longitude and latitude swapped?) or the address."
        ),
        N_("The point lies within the boundaries of %(agency)s."),
        N_(
            "The point is not inside any agency area we know either; for help contact %(agency)s at "
            "%(phone)s (%(website)s)."
        ),
    ),
}


def outside_reason(location: Location, subject: str = "location") -> str:
    """One sentence on whose a point outside the home jurisdiction is, or whom to ask.

    ``subject`` names what is located ("location", "address"). Callers say first that
    it is not in the city; this sentence says the rest (a :class:`core.i18n.Sentence`: the page writes it
    in its language).
    """
    if location.in_jurisdiction:
        raise ValueError("outside_reason() is for locations outside the home jurisdiction")
    beyond, within, fallback = _OUTSIDE[subject]
    agency = location.agency
    if agency is None:
        return Sentence(beyond, lat=f"{location.lat:.5f}", lon=f"{location.lon:.5f}")
    if not agency.fallback:
        return Sentence(within, agency=agency.name)
    reason = Sentence(fallback, agency=agency.name, phone=agency.phone, website=agency.website)
    return f"{reason} {agency.note}" if agency.note else reason


def check_lon_lat(lon: object, lat: object) -> tuple[float, float]:
    """``(lon, lat)`` as floats, or :class:`InvalidCoordinates` saying what is wrong."""
    try:
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidCoordinates(f"Coordinates must be numbers; got longitude {lon!r} and latitude {lat!r}.") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidCoordinates("Coordinates must be finite numbers; NaN and infinity are not places.")
    if not -180 <= x <= 180:
        raise InvalidCoordinates(
            f"Longitude {x} is outside -180..180; check that longitude and latitude are not swapped."
        )
    if not -90 <= y <= 90:
        raise InvalidCoordinates(f"Latitude {y} is outside -90..90; check that longitude and latitude are not swapped.")
    return x, y


def resolve(
    lon: float, lat: float, hits: Iterable[Hit], fallback: Agency | None = None, in_extent: bool = False
) -> Location:
    """The :class:`Location` of a point from the features covering it.

    A point covered by neither the jurisdiction nor an agency gets ``fallback`` when it
    lies ``in_extent`` of those two layers (a gap between them), else no agency.
    """
    best: dict[str, Hit] = {}
    for hit in hits:
        if hit.role not in best or hit.key < best[hit.role].key:
            best[hit.role] = hit
    inside = "jurisdiction" in best
    ward = best.get("wards")
    district = best.get("districts")
    agency_hit = best.get("agencies") if not inside else None
    agency = Agency(agency_hit.key, agency_hit.name, agency_hit.phone, agency_hit.website) if agency_hit else None
    if not inside and agency is None and in_extent:
        agency = fallback
    return Location(
        lon=lon,
        lat=lat,
        in_jurisdiction=inside,
        ward=Area(ward.key, ward.name) if ward else None,
        district=Area(district.key, district.name) if district else None,
        agency=agency,
    )


_LOCATE_SQL = text(
    f"""
    SELECT DISTINCT v.role, f.key, f.name, f.phone, f.website
    FROM boundary_piece p
    JOIN boundary_layer_version v ON v.id = p.version_id
    JOIN boundary_feature f ON f.id = p.feature_id
    WHERE {current_layers("v")}
      AND ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    """
)


_IN_EXTENT_SQL = text(
    f"""
    SELECT coalesce(ST_Intersects(ST_SetSRID(ST_Extent(p.geom)::geometry, 4326), ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)), false)
    FROM boundary_piece p
    JOIN boundary_layer_version v ON v.id = p.version_id
    WHERE {current_layers("v", ("jurisdiction", "agencies"))}
    """
)


def locate(session: Session, city: str, lon: object, lat: object, fallback: Agency | None = None) -> Location:
    """Look the point up in the database's current boundary layers of ``city``.

    ``fallback`` (see :func:`fallback_agency`) answers for a point in a gap between the layers.
    """
    x, y = check_lon_lat(lon, lat)
    params = {"city": city, "lon": x, "lat": y}
    hits = [Hit(*row) for row in session.execute(_LOCATE_SQL, params)]
    in_extent = False
    if fallback is not None and not any(hit.role in OWNER_ROLES for hit in hits):
        in_extent = bool(session.scalar(_IN_EXTENT_SQL, params))
    return resolve(x, y, hits, fallback, in_extent)
