"""Map tiles: the city's street layer (vector tiles from PostGIS) and a local basemap file.

``/tiles/streets/<z>/<x>/<y>.pbf`` is :func:`geo.tiles.street_tile`, kept by browsers
under an ETag of the address data version (the policy of :mod:`core.caching`: fresh for
``POLICY.tile_max_age`` seconds, then revalidated). ``/tiles/basemap/<z>/<x>/<y>`` serves
the tiles of ``GEO311_BASEMAP_FILE``. :func:`basemap_config` tells every map (the pages'
Leaflet maps through the ``basemap`` template variable, the folium maps through
:class:`geo.maps.MapOptions`) which base layer to draw and where its tiles are.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, request, url_for

from address_db.streets import address_data_version
from app.web import db_session, runtime
from app.web.access import public
from core.caching import POLICY
from geo.basemap import BasemapError, open_archive
from geo.tiles import ADDRESS_ZOOM, MAX_ZOOM, TileError, check_tile, street_tile

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT_TYPE = "application/vnd.mapbox-vector-tile"
#: The deepest zoom of the street tiles a map fetches; closer in, it magnifies those.
STREETS_DATA_ZOOM = ADDRESS_ZOOM


def _checked(z: int, x: int, y: int, max_zoom: int = MAX_ZOOM) -> None:
    try:
        check_tile(z, x, y, max_zoom)
    except TileError as exc:
        abort(400, str(exc))


def _cached(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = POLICY.tile_max_age
    return response


@bp.get("/streets/<int:z>/<int:x>/<int:y>.pbf")
@public
def streets(z: int, x: int, y: int) -> Response:
    """A tile of the city's streets and address points (204 when it holds nothing)."""
    _checked(z, x, y)
    s = runtime()
    session = db_session()
    etag = f"streets-{s.city.key}-{address_data_version(session, s.city.key) or 0}"
    if request.if_none_match.contains(etag):
        return _cached(Response(status=304), etag)
    data = street_tile(session, s.city.key, z, x, y)
    return _cached(Response(data, status=200 if data else 204, mimetype=MVT_TYPE), etag)


def _archive():
    path = runtime().settings.basemap_file
    if path is None:
        abort(404, "No basemap file is configured (GEO311_BASEMAP_FILE).")
    try:
        return open_archive(path)
    except BasemapError as exc:
        abort(503, str(exc))


@bp.get("/basemap/<int:z>/<int:x>/<int:y>")
@public
def basemap(z: int, x: int, y: int) -> Response:
    """A tile of the configured basemap file (204 where the file has none)."""
    archive = _archive()
    _checked(z, x, y)
    tile = archive.tile(z, x, y)
    etag = f"basemap-{archive.path.stat().st_mtime_ns}"
    if tile is None:
        return _cached(Response(status=204, mimetype=archive.content_type), etag)
    response = Response(tile.data, mimetype=tile.content_type)
    if tile.gzipped:
        response.headers["Content-Encoding"] = "gzip"
    return _cached(response, etag)


def _template(endpoint: str, base: str) -> str:
    return base + url_for(endpoint, z=1, x=2, y=3).replace("/1/2/3/", "/{z}/{x}/{y}/").replace("/1/2/3", "/{z}/{x}/{y}")


def basemap_config(base: str = "") -> dict[str, Any]:
    """What the maps draw as their base, for ``app/static/basemap.js``.

    ``kind`` is ``raster`` or ``vector`` for a basemap file, ``url`` for a tile server
    (``GEO311_TILE_URL``) and otherwise ``streets``: the city's own street layer.
    ``base`` is put before the app's own URLs (a standalone map file needs them whole).
    """
    settings = runtime().settings
    if settings.basemap_file is not None:
        archive = open_archive(settings.basemap_file)
        return {
            "kind": "vector" if archive.vector else "raster",
            "url": _template("tiles.basemap", base),
            "attribution": archive.attribution or settings.tile_attribution,
            "minZoom": archive.min_zoom,
            "maxZoom": archive.max_zoom,
        }
    if settings.tile_url:
        return {"kind": "url", "url": settings.tile_url, "attribution": settings.tile_attribution, "maxZoom": 19}
    return {
        "kind": "streets",
        "url": _template("tiles.streets", base),
        "attribution": f"Streets and addresses: {runtime().city.name}",
        "maxDataZoom": STREETS_DATA_ZOOM,
        "addressZoom": ADDRESS_ZOOM,
    }


@bp.app_context_processor
def _basemap_variable() -> dict[str, Any]:
    return {"basemap": basemap_config()}
