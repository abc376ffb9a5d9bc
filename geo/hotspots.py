"""Statistical hot spots: Getis-Ord Gi* on request counts in hexagons, with FDR correction.

The convention of ArcGIS "Optimized Hot Spot Analysis" and PySAL: counts per cell of a
regular grid (:mod:`geo.grid`), binary spatial weights by distance band or k nearest
neighbours (``libpysal``), Gi* z-scores (``esda.G_Local(star=True)``, analytical
inference), two-sided p-values, and the Benjamini-Hochberg false discovery rate
(``esda.fdr``) applied at each confidence level: each cell is binned hot or cold at 99,
95 or 90 % confidence, or not significant.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pyproj
from scipy import stats
from sqlalchemy.orm import Session

from core.caching import POLICY, LRUStore
from core.city import CityConfig
from geo.cache import RESULTS
from geo.grid import auto_sized_counts, check_cell_size, hexagon_area_km2
from geo.layers import areas, projected_srid
from geo.sufficiency import month_coverage, shortfall
from service_requests.selection import FilterError, LeftOut, RequestFilter

WEIGHTS = ("distance", "knn")
#: Confidence level (%) -> significance level.
LEVELS = {99: 0.01, 95: 0.05, 90: 0.10}
BIN_LABELS = {
    3: "Hot spot, 99 % confidence",
    2: "Hot spot, 95 % confidence",
    1: "Hot spot, 90 % confidence",
    0: "Not significant",
    -1: "Cold spot, 90 % confidence",
    -2: "Cold spot, 95 % confidence",
    -3: "Cold spot, 99 % confidence",
}
#: Default distance band: this many rings of neighbouring cells.
DEFAULT_RINGS = 2
#: Cells with less of their area inside the city are not tested (their counts say little).
MIN_SHARE = 0.25
NOT_TESTED = "Not tested: mostly outside the city"
NOT_COMPUTED = "Not computed: too few requests"
MAX_K = 64


@dataclass(frozen=True)
class HotspotParams:
    """How the analysis is run; every ``None`` is chosen from the data and reported.

    ``cell_m``: hexagon edge in metres (default: about ten requests per cell, 200 to
    4,000 cells). ``weights``: ``distance`` (a fixed band of ``band_m`` metres between
    cell centres, default two rings of cells) or ``knn`` (the ``k`` nearest cells).
    ``fdr``: correct for multiple testing (default True).
    """

    cell_m: float | None = None
    weights: str = "distance"
    band_m: float | None = None
    k: int = 8
    fdr: bool = True

    def __post_init__(self) -> None:
        if self.cell_m is not None:
            check_cell_size(self.cell_m)
        if self.weights not in WEIGHTS:
            raise FilterError(f"weights must be distance or knn, not {self.weights!r}.")
        if self.band_m is not None and not (math.isfinite(self.band_m) and 0 < self.band_m <= 100_000):
            raise FilterError("The distance band must be a positive number of metres, at most 100,000.")
        if not 1 <= self.k <= MAX_K:
            raise FilterError(f"k (nearest neighbours) must be between 1 and {MAX_K}, not {self.k}.")


#: Weights by grid: a function of the cell centres, no data version (:mod:`core.caching`).
_weights_cache: LRUStore[libpysal.weights.W] = LRUStore(lambda: POLICY.weights)


def spatial_weights(
    xy: np.ndarray, weights: str = "distance", band_m: float | None = None, k: int = 8
) -> libpysal.weights.W:
    """Binary spatial weights between cell centres ``xy`` (projected, metres), each cell its own
    neighbour too (weight 1 on the diagonal: Gi*, not Gi). Kept for the last few grids."""
    key = (xy.shape, hash(xy.tobytes()), weights, band_m, k)
    kept = _weights_cache.get(key)
    if kept is not None:
        return kept
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands are reported by the caller, not printed
        if weights == "knn":
            w = libpysal.weights.KNN.from_array(xy, k=min(k, len(xy) - 1))
        else:
            w = libpysal.weights.DistanceBand.from_array(xy, threshold=band_m, binary=True, silence_warnings=True)
        w = libpysal.weights.fill_diagonal(w, 1)
        w.transform = "B"
    _weights_cache.put(key, w)
    return w


def gi_star(y: np.ndarray, w: libpysal.weights.W, fdr: bool = True) -> pd.DataFrame:
    """Gi* of ``y`` under binary weights ``w`` (self-weights of 1 included, as
    :func:`spatial_weights` makes them): ``z``, two-sided ``p`` and ``bin``.

    ``bin`` is +/-3, 2, 1 for hot/cold at 99, 95, 90 % confidence, 0 otherwise; with
    ``fdr`` a level's p-value cut-off is ``esda.fdr(p, alpha)``, else ``alpha``. Also in
    ``attrs``: the cut-offs used, by confidence level.
    """
    y = np.asarray(y, dtype=float)
    if len(y) < 3 or y.sum() == 0 or np.all(y == y[0]):
        out = pd.DataFrame({"z": np.zeros(len(y)), "p": np.ones(len(y)), "bin": np.zeros(len(y), dtype=int)})
        out.attrs["cutoffs"] = {level: float("nan") for level in LEVELS}
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(y, w, transform="B", star=None, permutations=0)  # star from the diagonal
    z = np.asarray(g.Zs, dtype=float)
    p = 2 * stats.norm.sf(np.abs(z))
    bins = np.zeros(len(y), dtype=int)
    cutoffs = {}
    for level, alpha in sorted(LEVELS.items()):  # 90, 95, 99: stronger levels overwrite
        cutoff = float(esda.fdr(p, alpha)) if fdr else alpha
        cutoffs[level] = cutoff
        significant = p <= cutoff
        bins[significant] = np.sign(z[significant]) * {90: 1, 95: 2, 99: 3}[level]
    out = pd.DataFrame({"z": z, "p": p, "bin": bins})
    out.attrs["cutoffs"] = cutoffs
    return out


@dataclass
class HotspotResult:
    """The cells with their counts and Gi* results, and everything needed to reproduce them."""

    cells: gpd.GeoDataFrame
    filter: RequestFilter
    city: str
    crs: str
    cell_m: float
    cell_auto: bool
    weights: str
    band_m: float | None
    k: int | None
    fdr: bool
    cutoffs: dict[int, float]
    mean_neighbours: float
    islands: int
    points: int
    left_out: LeftOut
    edge_cells: int = 0
    edge_points: int = 0
    #: Why Gi* was not computed (too few requests or cells), or None when it was.
    skipped: str | None = None
    #: Warnings about what the data can carry (sparse windows, mostly empty cells).
    notices: list[str] = field(default_factory=list)
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def nonempty_cells(self) -> int:
        """Cells holding at least one request."""
        return int((self.cells["count"] > 0).sum())

    @property
    def hot(self) -> int:
        return int((self.cells["bin"] > 0).sum())

    @property
    def cold(self) -> int:
        return int((self.cells["bin"] < 0).sum())

    def parameters(self) -> dict[str, object]:
        """The parameters as plain values (for exports and for reproducing the run)."""
        return {
            "statistic": "Getis-Ord Gi* (esda.G_Local, star=True, transform='B', analytical z)",
            "esda": esda.__version__,
            "libpysal": libpysal.__version__,
            "grid": "ST_HexagonGrid (flat-topped hexagons) touching the jurisdiction",
            "crs": self.crs,
            "cell_edge_m": self.cell_m,
            "cell_size_chosen_automatically": self.cell_auto,
            "cell_area_km2": round(hexagon_area_km2(self.cell_m), 4),
            "cells": len(self.cells),
            "variable": "requests per cell, divided by the share of the cell inside the jurisdiction",
            "cells_not_tested": self.edge_cells,
            "min_share_inside": MIN_SHARE,
            "requests_in_cells_not_tested": self.edge_points,
            "weights": self.weights,
            "distance_band_m": self.band_m,
            "k": self.k,
            "mean_neighbours_including_self": round(self.mean_neighbours, 2),
            "islands": self.islands,
            "p_values": "two-sided, normal approximation",
            "multiple_testing": "Benjamini-Hochberg false discovery rate (esda.fdr) at each level"
            if self.fdr
            else "none",
            "p_cutoffs": {f"{k} %": v for k, v in self.cutoffs.items()},
            "requests_counted": self.points,
            "left_out": self.left_out.total,
            "left_out_why": self.left_out.sentence(),
            "not_computed": self.skipped,
            "warnings": self.notices,
            "filter": self.filter.args(),
            "computed_at": self.computed_at.isoformat(timespec="seconds"),
        }

    def method(self) -> str:
        """The method in a few sentences, with every parameter (shown on the map)."""
        if self.skipped:
            return (
                f"{self.skipped} Counted: {self.points:,} requests in {len(self.cells):,} hexagons of "
                f"{self.cell_m:,.0f} m edge ({self.nonempty_cells:,} holding requests). {self.left_out.sentence()}"
            )
        if self.weights == "knn":
            weights = f"the {self.k} nearest cells (libpysal KNN)"
        else:
            weights = f"a fixed distance band of {self.band_m:,.0f} m between cell centres (libpysal DistanceBand)"
        correction = (
            "Benjamini-Hochberg false discovery rate correction (esda.fdr) applied at each level"
            if self.fdr
            else "no correction for multiple testing"
        )
        return (
            f"Getis-Ord Gi* (esda {esda.__version__} G_Local, star=True, binary weights, analytical z-scores) "
            f"on counts of {self.points:,} requests in {len(self.cells):,} hexagons of {self.cell_m:,.0f} m edge "
            f"({hexagon_area_km2(self.cell_m):.3f} km² each, {'chosen for the city and the filter' if self.cell_auto else 'as requested'}; "
            f"ST_HexagonGrid in {self.crs}) touching the jurisdiction; a cell's count is divided by the share of "
            f"its area inside the city, and the {self.edge_cells:,} cells less than {MIN_SHARE:.0%} inside "
            f"({self.edge_points:,} requests) are not tested. Neighbours: {weights}, "
            f"{self.mean_neighbours:.1f} cells on average with the cell itself"
            f"{f', {self.islands} cell(s) without neighbours' if self.islands else ''}. "
            f"Two-sided p-values; {correction}; cells binned hot or cold at 99, 95 and 90 % confidence. "
            f"{self.left_out.sentence()}"
        )


def hot_spots(
    session: Session, city: CityConfig, flt: RequestFilter, params: HotspotParams | None = None, cache: bool = True
) -> HotspotResult:
    """Gi* hot and cold spots of the requests under ``flt`` in ``city`` (mapped requests only).

    Results are kept per filter, parameters and data version (see :mod:`geo.cache`);
    treat the returned frames as read-only.
    """
    params = params or HotspotParams()
    key = ("hot_spots", city.key, flt.key(), params)
    if not cache:
        return _hot_spots(session, city, flt, params)
    return RESULTS.get_or_compute(session, key, lambda: _hot_spots(session, city, flt, params))


def _hot_spots(session: Session, city: CityConfig, flt: RequestFilter, params: HotspotParams) -> HotspotResult:
    cells, cell_m, auto = auto_sized_counts(session, city, flt, params.cell_m)
    band = None
    if params.weights == "distance":
        band = params.band_m or DEFAULT_RINGS * math.sqrt(3) * cell_m * 1.01
    tested = cells["share"].to_numpy() >= MIN_SHARE
    # A cell partly outside the city can only collect requests on its inside part: its
    # count is scaled to a whole cell, else every edge cell would look cold.
    cells["rate"] = cells["count"] / cells["share"]
    notices = _notices(session, city, flt, cells, tested)
    skipped = shortfall(int(cells.loc[tested, "count"].sum()), int((cells.loc[tested, "count"] > 0).sum()))
    if skipped or not tested.any():
        return _not_computed(
            cells,
            tested,
            city,
            flt,
            params,
            cell_m,
            auto,
            skipped or "Hot spots were not computed: no cell lies mostly inside the city at this cell size.",
            notices,
        )
    w = spatial_weights(cells.loc[tested, ["x", "y"]].to_numpy(), params.weights, band, params.k)
    result = gi_star(cells.loc[tested, "rate"].to_numpy(), w, params.fdr)
    cells["z"], cells["p"], cells["bin"] = np.nan, np.nan, 0
    cells.loc[tested, "z"], cells.loc[tested, "p"] = result["z"].to_numpy(), result["p"].to_numpy()
    cells.loc[tested, "bin"] = result["bin"].to_numpy()
    cells["bin"] = cells["bin"].astype(int)
    cells["label"] = np.where(tested, cells["bin"].map(BIN_LABELS), NOT_TESTED)
    return HotspotResult(
        cells=cells,
        filter=flt,
        city=city.key,
        crs=f"EPSG:{projected_srid(city)}",
        cell_m=cell_m,
        cell_auto=auto,
        weights=params.weights,
        band_m=band,
        k=params.k if params.weights == "knn" else None,
        fdr=params.fdr,
        cutoffs=result.attrs["cutoffs"],
        mean_neighbours=float(np.mean(list(w.cardinalities.values()))) if tested.any() else 0.0,
        islands=sum(1 for c in w.cardinalities.values() if c <= 1),
        points=int(cells["count"].sum()),
        left_out=cells.attrs["left_out"],
        edge_cells=int((~tested).sum()),
        edge_points=int(cells.loc[~tested, "count"].sum()),
        notices=notices,
    )


def _notices(
    session: Session, city: CityConfig, flt: RequestFilter, cells: gpd.GeoDataFrame, tested: np.ndarray
) -> list[str]:
    """Warnings on what these counts can carry: mostly empty months, mostly empty cells."""
    notices = []
    months = month_coverage(session, city, flt).warning()
    if months:
        notices.append(months)
    counts = cells.loc[tested, "count"]
    if len(counts) and (counts > 0).mean() < 0.5 and counts.sum():
        notices.append(
            f"Sparse counts: {int((counts > 0).sum()):,} of the {len(counts):,} tested cells hold a "
            f"request ({int(counts.sum()):,} requests); a hot cell may be a few requests. Read the "
            f"counts in the cells before the colours."
        )
    return notices


def _not_computed(
    cells: gpd.GeoDataFrame,
    tested: np.ndarray,
    city: CityConfig,
    flt: RequestFilter,
    params: HotspotParams,
    cell_m: float,
    auto: bool,
    why: str,
    notices: list[str],
) -> HotspotResult:
    """The cells with their counts and no statistic, saying why."""
    cells["z"], cells["p"], cells["bin"] = np.nan, np.nan, 0
    cells["label"] = np.where(tested, NOT_COMPUTED, NOT_TESTED)
    band = params.band_m or DEFAULT_RINGS * math.sqrt(3) * cell_m * 1.01 if params.weights == "distance" else None
    return HotspotResult(
        cells=cells,
        filter=flt,
        city=city.key,
        crs=f"EPSG:{projected_srid(city)}",
        cell_m=cell_m,
        cell_auto=auto,
        weights=params.weights,
        band_m=band,
        k=params.k if params.weights == "knn" else None,
        fdr=params.fdr,
        cutoffs={level: float("nan") for level in LEVELS},
        mean_neighbours=0.0,
        islands=0,
        points=int(cells["count"].sum()),
        left_out=cells.attrs["left_out"],
        edge_cells=int((~tested).sum()),
        edge_points=int(cells.loc[~tested, "count"].sum()),
        skipped=why,
        notices=notices,
    )


def p_text(p: float) -> str:
    """A p-value as written in results: ``< 0.001`` below it, else three decimals; ``""`` for none."""
    if p is None or not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def cell_centres(result_cells: gpd.GeoDataFrame, crs: str) -> gpd.GeoSeries:
    """The cells' centres as points in EPSG:4326 (from the exact projected centres)."""
    to_wgs84 = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(result_cells["x"].to_numpy(), result_cells["y"].to_numpy())
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=result_cells.index, crs="EPSG:4326")


def hot_cells_by_area(session: Session, city: CityConfig, result: HotspotResult, layer: str) -> pd.DataFrame:
    """Per area of ``layer``: its cells (by centre) and how many are hot or cold at each level.

    Columns ``key``, ``name``, ``cells``, ``hot_99``, ``hot_95``, ``hot_90``, ``hot``
    (any level), ``cold`` and ``requests`` (in its cells); areas with hot cells first.
    """
    outlines = areas(session, city, layer)[["key", "name", "geometry"]]
    centres = gpd.GeoDataFrame(result.cells[["bin", "count"]], geometry=cell_centres(result.cells, result.crs))
    joined = gpd.sjoin(centres, outlines, predicate="within", how="inner")
    table = (
        joined.groupby(["key", "name"])
        .agg(
            cells=("bin", "size"),
            hot_99=("bin", lambda b: int((b == 3).sum())),
            hot_95=("bin", lambda b: int((b == 2).sum())),
            hot_90=("bin", lambda b: int((b == 1).sum())),
            hot=("bin", lambda b: int((b > 0).sum())),
            cold=("bin", lambda b: int((b < 0).sum())),
            requests=("count", "sum"),
        )
        .reset_index()
    )
    table = outlines[["key", "name"]].merge(table, on=["key", "name"], how="left").fillna(0)
    for column in ("cells", "hot_99", "hot_95", "hot_90", "hot", "cold", "requests"):
        table[column] = table[column].astype(int)
    return table.sort_values(["hot", "hot_99", "requests"], ascending=False).reset_index(drop=True)
