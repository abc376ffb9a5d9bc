"""The city's own street base layer as Mapbox vector tiles, made by PostGIS.

:func:`street_tile` returns one tile (``z``/``x``/``y`` in Web Mercator, the XYZ scheme)
with two layers, both from the address database of the city:

``streets``
    Street centerline segments (``street_segment``): ``name`` (the full name, or one
    composed of its parts), ``class`` (``major``, ``street`` or ``minor``) and the
    source's ``road_class``. Below :data:`ALL_STREETS_ZOOM` minor and unnamed segments
    are left out, below :data:`STREETS_ZOOM` everything but major roads; nothing is drawn
    below :data:`MIN_STREETS_ZOOM`. Lines are simplified to the tile's resolution, and the
    segments of one street in a tile are merged into lines as long as they join (so that
    its name fits along it).
``addresses``
    Address points (``address_point``, not intersections) with a house number, at
    :data:`ADDRESS_ZOOM` and above only: ``number`` (with its suffix) and ``street``.
    Points of one place given by several sources or aliases are sent once.

Everything is done in one SQL statement (``ST_TileEnvelope``, ``ST_AsMVTGeom``,
``ST_AsMVT``) using the GiST indexes on both tables; an empty tile is ``b""``.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

#: The deepest zoom a tile is made for (a few metres a tile; maps overzoom beyond it).
MAX_ZOOM = 22
#: Below this zoom the streets layer is empty (a tile would hold too much of the city).
MIN_STREETS_ZOOM = 10
#: From this zoom all but minor roads are drawn; below it only major roads.
STREETS_ZOOM = 12
#: From this zoom every segment is drawn, minor and unnamed ones too.
ALL_STREETS_ZOOM = 14
#: From this zoom house-number points are in the tiles ("street zoom").
ADDRESS_ZOOM = 16
#: Tile resolution and the margin kept around it (so lines and labels meet across tiles).
EXTENT = 4096
BUFFER = 64

#: Road classes (``street_segment.road_class``, compared in lower case) drawn from the
#: lowest zoom, and those drawn only at street level. Any other class is an ordinary street.
MAJOR_CLASSES = (
    "freeway",
    "highway",
    "motorway",
    "expressway",
    "ramp",
    "trunk",
    "primary",
    "arterial",
    "major",
    "boulevard",
)
MINOR_CLASSES = (
    "alley",
    "walkway",
    "private",
    "beach",
    "mall",
    "service",
    "path",
    "footway",
    "track",
    "driveway",
    "trail",
    "pedestrian",
    "cycleway",
    "parking",
)

#: Web Mercator's width in metres (the side of the z=0 tile).
WORLD_M = 40075016.685578488

_TILE_SQL = text("""
WITH env AS (
    SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
           ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS box
),
segments AS (
    SELECT coalesce(nullif(s.full_name, ''), nullif(concat_ws(' ', s.predir, s.name, s.suffix, s.postdir), ''))
               AS name,
           CASE WHEN lower(s.road_class) = ANY(:major) THEN 'major'
                WHEN lower(s.road_class) = ANY(:minor) THEN 'minor'
                ELSE 'street' END AS class,
           s.road_class, s.geom
    FROM street_segment s, env
    WHERE :z >= :min_streets_zoom AND s.city = :city AND s.geom && env.box
),
streets AS (
    SELECT ST_AsMVTGeom(ST_LineMerge(ST_Collect(ST_Simplify(ST_Transform(g.geom, 3857), :tolerance))),
                        env.tile, :extent, :buffer, true) AS geom,
           g.name, g.class, g.road_class
    FROM segments g, env
    WHERE (:z >= :all_streets_zoom OR (g.class <> 'minor' AND g.name IS NOT NULL))
      AND (:z >= :streets_zoom OR g.class = 'major')
    GROUP BY g.name, g.class, g.road_class, env.tile
),
points AS (
    SELECT DISTINCT ON (p.geom)
           ST_AsMVTGeom(ST_Transform(p.geom, 3857), env.tile, :extent, :buffer, true) AS geom,
           p.house_number::text || coalesce(p.number_suffix, '') AS number,
           concat_ws(' ', p.predir, p.street_name, p.suffix, p.postdir) AS street
    FROM address_point p, env
    WHERE :z >= :address_zoom AND p.city = :city AND p.kind = 'address' AND p.house_number IS NOT NULL
      AND p.geom && env.box
    ORDER BY p.geom, p.rank, p.house_number
)
SELECT coalesce((SELECT ST_AsMVT(streets, 'streets', :extent, 'geom') FROM streets WHERE geom IS NOT NULL), '')
    || coalesce((SELECT ST_AsMVT(points, 'addresses', :extent, 'geom') FROM points WHERE geom IS NOT NULL), '')
""")


class TileError(ValueError):
    """Tile coordinates that name no tile (the message says why, for a 400 answer)."""


def check_tile(z: int, x: int, y: int, max_zoom: int = MAX_ZOOM) -> None:
    """Raise :class:`TileError` unless ``z``/``x``/``y`` is a tile of the XYZ scheme up to ``max_zoom``."""
    if not 0 <= z <= max_zoom:
        raise TileError(f"The zoom level must be between 0 and {max_zoom}, not {z}.")
    side = 1 << z
    if not (0 <= x < side and 0 <= y < side):
        raise TileError(f"At zoom {z} the tile column and row go from 0 to {side - 1}; {x}/{y} is outside.")


def tile_params(city: str, z: int, x: int, y: int) -> dict[str, object]:
    """The parameters of the tile statement for ``city`` (a city key) and the tile."""
    pixel_m = WORLD_M / (1 << z) / EXTENT
    return {
        "city": city,
        "z": z,
        "x": x,
        "y": y,
        "extent": EXTENT,
        "buffer": BUFFER,
        "margin": BUFFER / EXTENT,
        "tolerance": pixel_m if z < ALL_STREETS_ZOOM else 0.0,
        "major": list(MAJOR_CLASSES),
        "minor": list(MINOR_CLASSES),
        "min_streets_zoom": MIN_STREETS_ZOOM,
        "streets_zoom": STREETS_ZOOM,
        "all_streets_zoom": ALL_STREETS_ZOOM,
        "address_zoom": ADDRESS_ZOOM,
    }


def street_tile(session: Session, city: str, z: int, x: int, y: int) -> bytes:
    """The streets and addresses of ``city`` (a city key) in tile ``z``/``x``/``y``, as an MVT (``b""``: empty)."""
    check_tile(z, x, y)
    data = session.execute(_TILE_SQL, tile_params(city, z, x, y)).scalar()
    return bytes(data or b"")
