"""The public place of a point picked on the map, in words, from the address database alone.

A request filed at a point (its typed address did not match, or none was typed) is shown
to the public by where its point is, never by what a person typed: "near the 200 block of
N SPRING ST" from the nearest known address (the house number rounded down to the
hundred), "near W 1ST ST AT N SPRING ST" from an intersection, "near N SPRING ST" from the
nearest named street centerline, and :data:`NEUTRAL_PLACE` when nothing is close enough.
Every word comes from the city's own address tables.

Migration ``0012`` derives the same texts in SQL for the requests stored before; a test
keeps the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.i18n import N_

#: How far the nearest address, intersection or street may be for the place to be named by it.
PLACE_RADIUS_M = 150.0
#: The public place of a point with nothing known near it.
NEUTRAL_PLACE = "location picked on the map"

_NAME = "[A-Z0-9 ']+"
#: The texts :func:`public_place` gives, and only those (a POSIX regex PostgreSQL reads the same way).
PUBLIC_PLACE_PATTERN = f"^(near the [0-9]+ block of {_NAME}|near {_NAME} AT {_NAME}|near {_NAME}|{NEUTRAL_PLACE})$"
_PUBLIC_PLACE = re.compile(PUBLIC_PLACE_PATTERN)

_PLACE_SQL = text(
    """
    WITH here AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    address AS (
        SELECT CASE WHEN a.kind = 'intersection'
                    THEN 'near ' || concat_ws(' ', a.predir, a.street_name, a.suffix, a.postdir) || ' AT '
                         || concat_ws(' ', a.cross_predir, a.cross_name, a.cross_suffix, a.cross_postdir)
                    ELSE 'near the ' || (a.house_number / 100 * 100) || ' block of '
                         || concat_ws(' ', a.predir, a.street_name, a.suffix, a.postdir) END AS place,
               ST_Distance(a.geom::geography, here.g::geography) AS d
        FROM here, LATERAL (
            -- the index finds the nearest few in degrees; the distance in metres decides
            SELECT * FROM address_point p
            WHERE p.city = :city
              AND ((p.kind = 'intersection' AND p.cross_name IS NOT NULL) OR p.house_number >= 0)
            ORDER BY p.geom <-> here.g LIMIT 8) a
        WHERE ST_DWithin(a.geom::geography, here.g::geography, :radius)
        ORDER BY d, a.id LIMIT 1),
    street AS (
        SELECT 'near ' || concat_ws(' ', s.predir, s.name, s.suffix, s.postdir) AS place,
               ST_Distance(s.geom::geography, here.g::geography) AS d
        FROM here, LATERAL (
            SELECT * FROM street_segment t WHERE t.city = :city AND t.name IS NOT NULL
            ORDER BY t.geom <-> here.g LIMIT 8) s
        WHERE ST_DWithin(s.geom::geography, here.g::geography, :radius)
        ORDER BY d, s.id LIMIT 1)
    SELECT coalesce((SELECT place FROM address), (SELECT place FROM street), :neutral)
    """
)


def public_place(session: Session, city: str, lon: float, lat: float, radius_m: float = PLACE_RADIUS_M) -> str:
    """Where the point ``lon``, ``lat`` (WGS 84) of city ``city`` is, in words fit for the public.

    From the nearest address within ``radius_m`` metres ("near the 200 block of N SPRING ST"),
    or intersection ("near W 1ST ST AT N SPRING ST"), else the nearest named street centerline
    within ``radius_m`` ("near N SPRING ST"), else :data:`NEUTRAL_PLACE`. It reads the address
    tables only: nothing a person typed can be in it.
    """
    place = session.execute(
        _PLACE_SQL,
        {"city": city, "lon": float(lon), "lat": float(lat), "radius": float(radius_m), "neutral": NEUTRAL_PLACE},
    ).scalar_one()
    # The address tables hold standardized upper-case names; anything else is not published.
    return place if _PUBLIC_PLACE.fullmatch(place) else NEUTRAL_PLACE


def is_public_place(value: str | None) -> bool:
    """Whether ``value`` is a text :func:`public_place` gives (and so may be published as it is)."""
    if not value:
        return False
    return _PUBLIC_PLACE.fullmatch(value) is not None


_ADDRESS = re.compile(r"^(?:near )?(\d+)(?:\s+\d/\d|[A-Z])?\s+([A-Z0-9 ]+?)(?:,.*)?$", flags=re.I)
_INTERSECTION = re.compile(r"[A-Z0-9 ]+ AT [A-Z0-9 ]+(, \d{5})?")


def approximate_place(address: str | None) -> str | None:
    """A request's address as the public may read it: ``2111 W BELLEVUE AVE, 90026`` -> ``2100 block of
    W BELLEVUE AVE``, where and not whose door; None for free text a person typed.

    A point picked on the map already has its public place ("near the 200 block of N SPRING ST"),
    and an intersection is public as it is.
    """
    if not address:
        return None
    if is_public_place(address):
        return address
    match = _ADDRESS.match(address)
    if not match:
        if _INTERSECTION.fullmatch(address):
            return address.split(",")[0]
        return None
    block = int(match.group(1)) // 100 * 100
    return f"{block} block of {match.group(2).upper()}"


#: The public place's sentences, by their English shape: each place :func:`public_place` and
#: :func:`approximate_place` write is read back into one and its names, to be written in another language.
_PLACE_WORDS = (
    (re.compile(r"near the (?P<block>[0-9]+) block of (?P<street>.+)"), N_("near the %(block)s block of %(street)s")),
    (re.compile(r"(?P<block>[0-9]+) block of (?P<street>.+)"), N_("%(block)s block of %(street)s")),
    (re.compile(r"near (?P<street>.+?) AT (?P<cross>.+)"), N_("near %(street)s at %(cross)s")),
    (re.compile(r"near (?P<street>.+)"), N_("near %(street)s")),
)
#: Marked for translation where it is shown (the constant stays the English the database holds).
N_("location picked on the map")


def place_words(place: str, gettext: Callable[[str], str], name: Callable[[str], str] = str) -> str:
    """The public ``place`` (as :func:`approximate_place` gives it) in the words of ``gettext``'s language:
    "2100 block of W BELLEVUE AVE" -> "cuadra 2100 de W BELLEVUE AVE". The street names stay as the
    address tables write them, each passed through ``name`` (a page marks them as names not to translate);
    a place of another shape (an intersection as stored) is left as it is."""
    if place == NEUTRAL_PLACE:
        return gettext(NEUTRAL_PLACE)
    for pattern, sentence in _PLACE_WORDS:
        found = pattern.fullmatch(place)
        if found:
            values = found.groupdict()
            return gettext(sentence) % {k: v if k == "block" else name(v) for k, v in values.items()}
    return name(place)
