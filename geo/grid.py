"""Requests counted on a hexagon grid over the home jurisdiction, in SQL.

The grid is PostGIS's ``ST_HexagonGrid`` in the city's projected CRS: flat-topped
hexagons of edge ``size`` metres, cell ``(i, j)`` centred at ``x = 1.5 size i``,
``y = sqrt(3) size (j + (i odd) / 2)``. The cells are those that touch the jurisdiction
(whole hexagons, so that all cells have the same area). Each point's cell is computed
arithmetically in the query (the nearest cell centre, which is the hexagon holding it),
so one pass over the requests aggregates them (and counts what is left out); the
tests check it against ``ST_Intersects`` with the PostGIS cells.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from core.caching import BOUNDARY_TABLES, FrameCache, database_identity, own_writes
from core.city import CityConfig
from core.database import write_engine
from core.errors import UserError
from geo.layers import jurisdiction, layer_version, projected_srid
from geo.periods import PERIODS
from service_requests.selection import MAPPED, FilterError, LeftOut, RequestFilter

MIN_CELL_M = 50.0
MAX_CELL_M = 20_000.0
MAX_CELLS = 60_000
#: Automatic sizing: about this many requests per cell on average, within these cell counts.
TARGET_PER_CELL = 10
MIN_AUTO_CELLS, MAX_AUTO_CELLS = 200, 4000

#: Grids by jurisdiction version and size (the policy of :mod:`core.caching`).
_cells_cache: FrameCache[gpd.GeoDataFrame] = FrameCache(BOUNDARY_TABLES)


def hex_cell_key_sql(u: str, v: str) -> str:
    """SQL of the ``ST_HexagonGrid`` cell holding a point, as one bigint ``i * 2^32 + j + 2^31``.

    ``u`` and ``v`` are the point's projected ``x / (3 size)`` and ``y / (sqrt(3) size)``.
    The cell centres are two rectangular lattices (even columns ``(3 size m, h n)``, odd
    ones shifted by half a step both ways): the nearer of the two lattice points nearest
    to the point is its hexagon's centre. One expression, evaluated once per row.
    """
    ma, na, mb, nb = f"round({u})", f"round({v})", f"round({u} - 0.5)", f"round({v} - 0.5)"
    return (
        f"(CASE WHEN 3 * ({u} - {ma}) ^ 2 + ({v} - {na}) ^ 2 <= 3 * ({u} - 0.5 - {mb}) ^ 2 + ({v} - 0.5 - {nb}) ^ 2"
        f" THEN 2 * {ma} * 4294967296.0 + {na} ELSE (2 * {mb} + 1) * 4294967296.0 + {nb} END"
        f" + 2147483648.0)::bigint"
    )


def decode_cell_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(i, j)`` from the keys of :func:`hex_cell_key_sql`."""
    keys = np.asarray(keys, dtype=np.int64)
    return keys >> 32, (keys & 0xFFFFFFFF) - 2147483648


def check_cell_size(size_m: float) -> float:
    """``size_m`` if it is a usable hexagon edge in metres, else a :class:`FilterError`."""
    if not isinstance(size_m, (int, float)) or not math.isfinite(size_m) or not MIN_CELL_M <= size_m <= MAX_CELL_M:
        raise FilterError(
            f"The cell size must be between {MIN_CELL_M:.0f} and {MAX_CELL_M:.0f} metres "
            f"(the hexagon's edge), not {size_m!r}."
        )
    return float(size_m)


def hexagon_area_km2(size_m: float) -> float:
    """The area of a hexagon of edge ``size_m`` metres."""
    return 3 * math.sqrt(3) / 2 * size_m**2 / 1e6


def auto_cell_size(area_km2: float, points: int) -> float:
    """A hexagon edge (metres, a multiple of 25) giving about :data:`TARGET_PER_CELL` points per
    cell, with between :data:`MIN_AUTO_CELLS` and :data:`MAX_AUTO_CELLS` cells over ``area_km2``."""
    cells = min(MAX_AUTO_CELLS, max(MIN_AUTO_CELLS, points / TARGET_PER_CELL))
    edge = math.sqrt(area_km2 / cells * 1e6 / (3 * math.sqrt(3) / 2))
    return min(MAX_CELL_M, max(MIN_CELL_M, round(edge / 25) * 25))


def hex_cells(session: Session, city: CityConfig, size_m: float) -> gpd.GeoDataFrame:
    """The cells of edge ``size_m`` touching the home jurisdiction.

    Columns ``i``, ``j`` (the ``ST_HexagonGrid`` indices), ``x``, ``y`` (centre, projected
    CRS), ``cell`` (``"i:j"``), ``share`` (of its area inside the jurisdiction) and the
    hexagon in EPSG:4326. Kept per jurisdiction version.
    """
    size_m = check_cell_size(size_m)
    srid = projected_srid(city)
    version = layer_version(session, city, "jurisdiction")
    if version is None:
        raise UserError("The city limit is not loaded yet: run `flask boundaries load-city`.")
    key = (database_identity(session), city.key, version, srid, size_m)
    return _cells_cache.get_or_build(session, key, lambda: _cells(session, city, version, srid, size_m))


def _cells(session: Session, city: CityConfig, version: int, srid: int, size_m: float) -> gpd.GeoDataFrame:
    rows = _stored_cells(session, version, srid, size_m)
    if rows is None:
        area = float(jurisdiction(session, city).loc[0, "area_km2"])
        if area / hexagon_area_km2(size_m) > MAX_CELLS:
            smallest = math.sqrt(area / MAX_CELLS * 1e6 / (3 * math.sqrt(3) / 2))
            raise FilterError(
                f"A {size_m:.0f} m cell makes more than {MAX_CELLS:,} cells over {city.name}; "
                f"use at least {math.ceil(smallest / 25) * 25:.0f} m."
            )
        rows = _build_cells(session, version, srid, size_m)
    i = np.array([r.i for r in rows], dtype=np.int64)
    j = np.array([r.j for r in rows], dtype=np.int64)
    height = math.sqrt(3) * size_m
    cells = gpd.GeoDataFrame(
        {
            "cell": [f"{a}:{b}" for a, b in zip(i, j)],
            "i": i,
            "j": j,
            "x": 1.5 * size_m * i,
            "y": height * j + (i % 2) * height / 2,
            "share": np.array([float(r.share) for r in rows]),
        },
        geometry=shapely.from_wkb([bytes(r.geom) for r in rows]),
        crs="EPSG:4326",
    )
    return cells


def _stored_cells(session: Session | Connection, version: int, srid: int, size_m: float) -> Sequence[Any] | None:
    """The grid as kept in the database, or None when it was never built."""
    built = session.execute(
        text("SELECT 1 FROM hex_grid WHERE version_id = :v AND srid = :s AND size_m = :m"),
        {"v": version, "s": srid, "m": size_m},
    ).first()
    if built is None:
        return None
    return session.execute(
        text(
            "SELECT i, j, geom, share FROM hex_grid_cell WHERE version_id = :v AND srid = :s AND size_m = :m ORDER BY i, j"
        ),
        {"v": version, "s": srid, "m": size_m},
    ).all()


_GRID_SQL = """
    WITH extent AS (
        SELECT ST_Envelope(ST_Transform(f.geom, :srid)) AS g FROM boundary_feature f WHERE f.version_id = :version
    ), cells AS (
        SELECT h.i, h.j, h.geom AS projected, ST_Transform(h.geom, 4326) AS geom
        FROM extent, ST_HexagonGrid(:size, extent.g) h
    ), shares AS (
        SELECT c.i, c.j, c.geom,
               (SELECT sum(CASE WHEN ST_Within(c.geom, p.geom) THEN ST_Area(c.projected)
                                ELSE ST_Area(ST_Transform(ST_Intersection(p.geom, c.geom), :srid)) END)
                FROM boundary_piece p WHERE p.version_id = :version AND ST_Intersects(p.geom, c.geom))
               / ST_Area(c.projected) AS share
        FROM cells c
    )
    {action} SELECT {columns} i, j, ST_AsBinary(geom) AS geom, least(share, 1.0) AS share FROM shares WHERE share > 0
"""


def _build_cells(session: Session, version: int, srid: int, size_m: float) -> Sequence[Any]:
    """Build the grid in PostGIS and keep it for every process and request.

    Hexagons over the jurisdiction's extent are kept where they touch one of its
    subdivided pieces (GiST-indexed: far faster than testing each against the whole
    outline), with the share of their area inside (pieces do not overlap: the shares add
    up). The grid is derived data, the same for everyone, so it is stored on a connection
    of its own and committed, even from a read-only page (on the primary when the page
    reads a replica, and read back there: the replica has not replayed it yet); a session
    with uncommitted writes of its own (a boundary load being tried) gets it computed
    without storing.
    """
    params = {"srid": srid, "version": version, "size": size_m}
    if own_writes(session, BOUNDARY_TABLES):
        return session.execute(text(_GRID_SQL.format(action="", columns="") + " ORDER BY i, j"), params).all()
    with write_engine(session).begin() as conn:
        conn.execute(
            text(
                _GRID_SQL.format(
                    action="INSERT INTO hex_grid_cell (version_id, srid, size_m, i, j, geom, share)",
                    columns=":version, :srid, :size,",
                )
                + " ON CONFLICT DO NOTHING"
            ),
            params,
        )
        conn.execute(
            text(
                "INSERT INTO hex_grid (version_id, srid, size_m, cells) SELECT :version, :srid, :size, count(*) "
                "FROM hex_grid_cell WHERE version_id = :version AND srid = :srid AND size_m = :size ON CONFLICT DO NOTHING"
            ),
            params,
        )
        return _stored_cells(conn, version, srid, size_m) or []


def hex_counts(
    session: Session, city: CityConfig, flt: RequestFilter, size_m: float, slice_by: str | None = None
) -> gpd.GeoDataFrame:
    """The requests under ``flt`` (mapped ones only) counted on the cells of :func:`hex_cells`.

    Every cell is there, with 0 where nothing was reported. With ``slice_by`` (``week``,
    ``month`` or ``quarter``) there is also one ``count_<first local date>`` column per
    time slice with requests, and ``count`` is their sum. The same pass counts what the
    map leaves out: ``attrs["left_out"]`` (a :class:`~service_requests.selection.LeftOut`), and
    ``attrs["outside_grid"]``, mapped points whose cell misses the jurisdiction (only
    when areas are stale after a boundary change; ``flask requests assign-areas``).
    """
    cells = hex_cells(session, city, size_m)
    where, params = flt.replace(scope="all").sql(city)
    params.update(srid=projected_srid(city), size=float(size_m), h=math.sqrt(3) * float(size_m), tz=city.timezone)
    slice_sql = "NULL::date"
    if slice_by is not None:
        if slice_by not in ("week", "month", "quarter"):
            raise FilterError(f"Time slices are week, month or quarter, not {slice_by!r}.")
        slice_sql = PERIODS[slice_by].sql("r.requested_at")
    mapped = MAPPED.format(a="r")
    key = hex_cell_key_sql("(ST_X(g) / (3 * :size))", "(ST_Y(g) / :h)")
    # JIT compiling these expressions costs seconds and saves nothing.
    session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(
        text(
            f"""
        SELECT CASE WHEN {mapped} THEN {key} END AS key,
               CASE WHEN {mapped} THEN {slice_sql} END AS slice,
               CASE WHEN {mapped} THEN NULL WHEN r.geom IS NULL THEN 'no_location'
                    WHEN r.location_quality = 'placeholder' THEN 'placeholder' ELSE 'outside' END AS reason,
               count(*) AS n
        FROM service_request r CROSS JOIN LATERAL ST_Transform(r.geom, :srid) AS g
        WHERE {where}
        GROUP BY 1, 2, 3
        """
        ),
        params,
    ).all()
    frame = pd.DataFrame(rows, columns=["key", "slice", "reason", "n"])
    reasons = frame[frame["reason"].notna()].groupby("reason")["n"].sum()
    counts = frame[frame["reason"].isna()]
    i, j = decode_cell_keys(counts["key"].to_numpy())
    counts = pd.DataFrame({"i": i, "j": j, "slice": counts["slice"].to_numpy(), "n": counts["n"].to_numpy()})
    out = cells.copy()
    out.attrs["left_out"] = LeftOut(
        int(reasons.get("placeholder", 0)), int(reasons.get("outside", 0)), int(reasons.get("no_location", 0))
    )
    index = pd.MultiIndex.from_arrays([out["i"], out["j"]])
    inside = pd.MultiIndex.from_arrays([counts["i"], counts["j"]]).isin(index)
    out.attrs["outside_grid"] = int(counts.loc[~inside, "n"].sum())
    if slice_by is None:
        series = counts.groupby(["i", "j"])["n"].sum()
        out["count"] = series.reindex(index, fill_value=0).to_numpy(dtype=np.int64)
        return out
    table = counts.pivot_table(index=["i", "j"], columns="slice", values="n", aggfunc="sum", fill_value=0)
    slices = sorted(table.columns)
    for s in slices:
        out[f"count_{s.isoformat()}"] = table[s].reindex(index, fill_value=0).to_numpy(dtype=np.int64)
    out["count"] = out[[f"count_{s.isoformat()}" for s in slices]].sum(axis=1) if slices else 0
    return out


def estimated_requests(session: Session, city: CityConfig, flt: RequestFilter) -> int:
    """The planner's estimate of the mapped requests under ``flt`` (no scan)."""
    where, params = flt.replace(scope="mapped").sql(city)
    plan = session.execute(
        text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM service_request r WHERE {where}"), params
    ).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def auto_sized_counts(
    session: Session, city: CityConfig, flt: RequestFilter, size_m: float | None = None, slice_by: str | None = None
) -> tuple[gpd.GeoDataFrame, float, bool]:
    """:func:`hex_counts` at ``size_m``, or at :func:`auto_cell_size` of the exact number of
    requests (found with one pass when the planner's estimate leads to the same size, as
    it usually does). Returns the cells, the size and whether it was chosen automatically."""
    if size_m is not None:
        return hex_counts(session, city, flt, size_m, slice_by), float(size_m), False
    area = float(jurisdiction(session, city).loc[0, "area_km2"])
    size = auto_cell_size(area, estimated_requests(session, city, flt))
    cells = hex_counts(session, city, flt, size, slice_by)
    exact = auto_cell_size(area, int(cells["count"].sum()) + cells.attrs["outside_grid"])
    if exact != size:
        size, cells = exact, hex_counts(session, city, flt, exact, slice_by)
    return cells, size, True


def density_points(session: Session, city: CityConfig, flt: RequestFilter, cell_m: float = 150.0) -> gpd.GeoDataFrame:
    """The mapped requests under ``flt`` snapped to the nearest point of a grid of about ``cell_m``
    metres in longitude and latitude, with their ``count``: the input of a heat map (kernel
    density), not of a test. Snapping in degrees needs no reprojection: one cheap pass.
    Also in ``attrs``: ``left_out`` (a :class:`~service_requests.selection.LeftOut`).
    """
    cell_m = check_cell_size(cell_m)
    outline = jurisdiction(session, city)
    latitude = float(outline.geometry.iloc[0].centroid.y)
    dy = cell_m / 111_320.0
    dx = dy / math.cos(math.radians(latitude))
    where, params = flt.replace(scope="all").sql(city)
    params.update(dx=dx, dy=dy)
    mapped = MAPPED.format(a="r")
    session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(
        text(
            f"""
        SELECT CASE WHEN {mapped} THEN round(ST_X(r.geom) / :dx) END AS ix,
               CASE WHEN {mapped} THEN round(ST_Y(r.geom) / :dy) END AS iy,
               CASE WHEN {mapped} THEN NULL WHEN r.geom IS NULL THEN 'no_location'
                    WHEN r.location_quality = 'placeholder' THEN 'placeholder' ELSE 'outside' END AS reason,
               count(*) AS n
        FROM service_request r WHERE {where} GROUP BY 1, 2, 3
        """
        ),
        params,
    ).all()
    frame = pd.DataFrame(rows, columns=["ix", "iy", "reason", "n"])
    reasons = frame[frame["reason"].notna()].groupby("reason")["n"].sum()
    points = frame[frame["reason"].isna()]
    out = gpd.GeoDataFrame(
        {"count": points["n"].to_numpy(dtype=np.int64)},
        geometry=gpd.points_from_xy(points["ix"].to_numpy(float) * dx, points["iy"].to_numpy(float) * dy),
        crs="EPSG:4326",
    )
    out.attrs["left_out"] = LeftOut(
        int(reasons.get("placeholder", 0)), int(reasons.get("outside", 0)), int(reasons.get("no_location", 0))
    )
    out.attrs["cell_m"] = cell_m
    return out
