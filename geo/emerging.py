"""Emerging hot spots: how each cell's Gi* result changes across consecutive time slices.

The requests of a time window are counted per cell and per slice (week, month or
quarter) on one grid; Gi* (with the weights and FDR correction of :mod:`geo.hotspots`)
is computed for each slice; a Mann-Kendall test on each cell's series of z-scores (the
statistic of ``pymannkendall.original_test``, vectorized) gives its trend. Cells are then labelled after the ArcGIS "Emerging
Hot Spot Analysis" conventions (spatial neighbours only, no neighbours in time):

- new: significant (90 %) in the final slice only;
- intensifying: significant in at least 90 % of the slices, with a significant upward
  trend in intensity;
- persistent: significant in at least 90 % of the slices, no significant trend;
- diminishing: significant in at least 90 % of the slices, significant downward trend;
- sporadic: significant in some slices, none of the above;
- oscillating: hot in some slices and cold in others.

Each (but the last) for hot and for cold spots; other cells have no pattern.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.city import CityConfig
from geo.cache import RESULTS
from geo.grid import auto_sized_counts
from geo.hotspots import DEFAULT_RINGS, MIN_SHARE, NOT_COMPUTED, NOT_TESTED, HotspotParams, gi_star, spatial_weights
from geo.layers import projected_srid
from geo.periods import PERIODS
from geo.sufficiency import MIN_SLICE_REQUESTS, MIN_SLICES, SPARSE_SHARE, shortfall
from service_requests.selection import FilterError, LeftOut, RequestFilter

SLICES = ("week", "month", "quarter")
PATTERNS = ("new", "intensifying", "persistent", "diminishing", "sporadic")
MAX_SLICES = 60
DEFAULT_SLICES = 12
TREND_ALPHA = 0.05
PERSISTENT_SHARE = 0.9


def slice_starts(start: date, end: date, slice_by: str) -> list[date]:
    """The first local dates of the slices covering ``start``..``end`` (:mod:`geo.periods`)."""
    return PERIODS[slice_by].starts(start, end)


def _slice_end(start: date, slice_by: str) -> date:
    return PERIODS[slice_by].next_start(start) - timedelta(days=1)


@dataclass
class EmergingResult:
    """Cells with their pattern and trend, the slices, and the parameters of the run."""

    cells: gpd.GeoDataFrame
    slices: list[date]
    slice_by: str
    filter: RequestFilter
    crs: str
    cell_m: float
    weights: str
    band_m: float | None
    k: int | None
    fdr: bool
    points: int
    left_out: LeftOut
    #: Why no pattern was computed (too few requests, cells or tested slices), or None.
    skipped: str | None = None
    #: What was adjusted (window, slice) and warnings on what the data can carry.
    notices: list[str] = field(default_factory=list)
    #: Slices with fewer than MIN_SLICE_REQUESTS requests, where Gi* was not computed.
    thin_slices: list[date] = field(default_factory=list)
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def counts(self) -> pd.Series:
        """How many cells have each pattern (``"new hot spot"`` ...)."""
        return self.cells["pattern"].value_counts()

    def parameters(self) -> dict[str, object]:
        return {
            "statistic": "Getis-Ord Gi* per time slice (esda.G_Local, star=True, transform='B'), "
            "Mann-Kendall trend of each cell's z-scores (as pymannkendall.original_test)",
            "slices": [s.isoformat() for s in self.slices],
            "slice": self.slice_by,
            "crs": self.crs,
            "cell_edge_m": self.cell_m,
            "cells": len(self.cells),
            "weights": self.weights,
            "distance_band_m": self.band_m,
            "k": self.k,
            "fdr": self.fdr,
            "significance": "90 % per slice",
            "trend_alpha": TREND_ALPHA,
            "persistent_share": PERSISTENT_SHARE,
            "requests_counted": self.points,
            "min_slice_requests": MIN_SLICE_REQUESTS,
            "slices_not_tested": [s.isoformat() for s in self.thin_slices],
            "not_computed": self.skipped,
            "warnings": self.notices,
            "left_out_why": self.left_out.sentence(),
            "left_out": self.left_out.total,
            "filter": self.filter.args(),
            "computed_at": self.computed_at.isoformat(timespec="seconds"),
        }

    def method(self) -> str:
        """The method in a few sentences, with every parameter (shown on the map)."""
        thin = (
            f" Slices with fewer than {MIN_SLICE_REQUESTS} requests ({len(self.thin_slices)} here) are not "
            f"tested and count as not significant."
            if self.thin_slices
            else f" Slices with fewer than {MIN_SLICE_REQUESTS} requests would not be tested."
        )
        weights = f"the {self.k} nearest cells" if self.weights == "knn" else f"a {self.band_m:,.0f} m distance band"
        return (
            f"{len(self.slices)} {self.slice_by}ly slices from {self.slices[0]} to "
            f"{_slice_end(self.slices[-1], self.slice_by)}; {self.points:,} requests counted in "
            f"{len(self.cells):,} hexagons of {self.cell_m:,.0f} m edge ({self.crs}; counts divided by the share of "
            f"the cell inside the city, cells less than {MIN_SHARE:.0%} inside not tested). For each slice, Getis-Ord Gi* "
            f"(esda G_Local, star=True, binary weights: {weights}) with "
            f"{'false discovery rate correction' if self.fdr else 'no multiple-testing correction'}; a cell is "
            f"significant in a slice at 90 % confidence. Trend: Mann-Kendall test on each cell's "
            f"z-scores, alpha {TREND_ALPHA}. New: significant in the last slice only; intensifying / persistent / "
            f"diminishing: significant in at least {PERSISTENT_SHARE:.0%} of the slices with an upward / no / "
            f"downward trend; sporadic: significant in some slices.{thin} {self.left_out.sentence()}"
        )


def emerging_hot_spots(
    session: Session,
    city: CityConfig,
    flt: RequestFilter,
    params: HotspotParams | None = None,
    slice_by: str = "month",
    slices: int = DEFAULT_SLICES,
    cache: bool = True,
) -> EmergingResult:
    """Emerging hot and cold spots of the requests under ``flt``.

    The window is the filter's date range, or else the last ``slices`` slices that hold
    requests (see :func:`fit_window`); a slice or number of slices that does not fit is
    replaced by the nearest that does, and ``notices`` say so. Treat the returned frames
    as read-only.
    """
    params = params or HotspotParams()
    if slice_by not in SLICES:
        raise FilterError(f"Time slices are week, month or quarter, not {slice_by!r}.")
    key = ("emerging", city.key, flt.key(), params, slice_by, slices)
    compute = lambda: _emerging(session, city, flt, params, slice_by, slices)  # noqa: E731
    return RESULTS.get_or_compute(session, key, compute) if cache else compute()


def _slice_count(start: date, end: date, slice_by: str) -> int:
    return len(slice_starts(start, end, slice_by))


def fit_window(
    session: Session, city: CityConfig, flt: RequestFilter, slice_by: str = "month", slices: int = DEFAULT_SLICES
) -> tuple[RequestFilter, str, list[str]]:
    """The window and slice emerging hot spots run on, and sentences on what was chosen.

    Without both dates, the window is the last ``slices`` slices that hold requests (up
    to the newest; not the calendar year, which may hold a day's requests). A number of
    slices outside MIN_SLICES..MAX_SLICES is brought to the nearest bound; a range making
    too many slices gets the next coarser slice (week, month, quarter) that fits, or its
    last MAX_SLICES quarters; too few, the next finer one, or MIN_SLICES weeks ending at
    its end.
    """
    notices = []
    if not MIN_SLICES <= slices <= MAX_SLICES:
        fitted = min(max(slices, MIN_SLICES), MAX_SLICES)
        notices.append(
            f"Emerging hot spots use {MIN_SLICES} to {MAX_SLICES} slices, not {slices}: shown with {fitted}."
        )
        slices = fitted
    if not (flt.date_from and flt.date_to):
        where, params = flt.sql(city)
        params["tz"] = city.timezone
        held = [
            r[0]
            for r in session.execute(
                text(
                    f"SELECT DISTINCT {PERIODS[slice_by].sql('r.requested_at')} FROM service_request r "
                    f"WHERE {where} ORDER BY 1 DESC LIMIT :n"
                ),
                {**params, "n": slices},
            )
        ]
        last = session.execute(
            text(f"SELECT max(r.requested_at AT TIME ZONE :tz)::date FROM service_request r WHERE {where}"), params
        ).scalar()
        end = flt.date_to or last or datetime.now(UTC).date()
        start = flt.date_from
        if start is None and held:
            start = held[-1]
            notices.append(
                f"No start date given: the window starts with the oldest of the last {slices} "
                f"{slice_by}s that hold requests ({len(held)} found), {start} to {end}."
            )
        elif start is None:
            start = slice_starts(end, end, slice_by)[0]
            for _ in range(slices - 1):
                start = slice_starts(start - timedelta(days=1), start - timedelta(days=1), slice_by)[0]
        flt = flt.replace(date_from=start, date_to=end)
    assert flt.date_from is not None and flt.date_to is not None
    first, last = flt.date_from, flt.date_to
    asked, n = slice_by, _slice_count(first, last, slice_by)
    asked_range = f"{first} to {last}"
    order = list(SLICES)
    if n > MAX_SLICES:
        coarser = [s for s in order[order.index(slice_by) + 1 :] if _slice_count(first, last, s) <= MAX_SLICES]
        if coarser:
            slice_by = coarser[0]
        else:
            slice_by = "quarter"
            first = slice_starts(first, last, slice_by)[-MAX_SLICES]
            flt = flt.replace(date_from=first)
            notices.append(
                f"The range is longer than {MAX_SLICES} quarters: shown from {flt.date_from}, "
                f"its last {MAX_SLICES} quarters."
            )
    elif n < MIN_SLICES:
        finer = [s for s in reversed(order[: order.index(slice_by)]) if _slice_count(first, last, s) >= MIN_SLICES]
        if finer:
            slice_by = finer[0]
        else:
            slice_by = "week"
            first = last - timedelta(days=last.weekday()) - timedelta(weeks=MIN_SLICES - 1)
            flt = flt.replace(date_from=first)
            notices.append(
                f"The range is shorter than {MIN_SLICES} weeks: shown with the {MIN_SLICES} weeks "
                f"ending {flt.date_to}, from {flt.date_from}."
            )
    if slice_by != asked:
        notices.append(
            f"{asked_range} makes {n} {asked}ly slices and emerging hot spots use "
            f"{MIN_SLICES} to {MAX_SLICES}: shown by {slice_by} "
            f"({_slice_count(first, last, slice_by)} slices) instead."
        )
    return flt, slice_by, notices


def _emerging(
    session: Session, city: CityConfig, flt: RequestFilter, params: HotspotParams, slice_by: str, slices: int
) -> EmergingResult:
    flt, slice_by, notices = fit_window(session, city, flt, slice_by, slices)
    assert flt.date_from is not None and flt.date_to is not None
    starts = slice_starts(flt.date_from, flt.date_to, slice_by)
    cells, cell_m, _ = auto_sized_counts(session, city, flt, params.cell_m, slice_by=slice_by)
    band = None
    if params.weights == "distance":
        band = params.band_m or DEFAULT_RINGS * math.sqrt(3) * cell_m * 1.01
    tested = cells["share"].to_numpy() >= MIN_SHARE
    w = spatial_weights(cells.loc[tested, ["x", "y"]].to_numpy(), params.weights, band, params.k)
    share = cells.loc[tested, "share"].to_numpy()

    z = np.zeros((int(tested.sum()), len(starts)))
    b = np.zeros((int(tested.sum()), len(starts)), dtype=int)
    per_slice = {
        s: int(cells.loc[tested, f"count_{s.isoformat()}"].sum()) if f"count_{s.isoformat()}" in cells else 0
        for s in starts
    }
    thin = [s for s in starts if per_slice[s] < MIN_SLICE_REQUESTS]
    empty = sum(1 for s in starts if per_slice[s] == 0)
    if len(thin) > SPARSE_SHARE * len(starts):
        notices.append(
            f"Sparse window: {len(thin)} of the {len(starts)} {slice_by}ly slices hold fewer than "
            f"{MIN_SLICE_REQUESTS} requests ({empty} none at all); Gi* is not computed in them."
        )
    skipped = shortfall(
        int(cells.loc[tested, "count"].sum()), int((cells.loc[tested, "count"] > 0).sum()), "Emerging hot spots"
    )
    if skipped is None and len(starts) - len(thin) < MIN_SLICES:
        skipped = (
            f"Emerging hot spots were not computed: only {len(starts) - len(thin)} of the {len(starts)} "
            f"{slice_by}ly slices hold {MIN_SLICE_REQUESTS} requests or more, and a trend needs at least "
            f"{MIN_SLICES}. Choose a window where the requests are, or a coarser slice."
        )
    for n, start in enumerate(starts):
        if skipped or start in thin:
            continue  # not tested: z 0, not significant
        y = cells.loc[tested, f"count_{start.isoformat()}"].to_numpy() / share
        result = gi_star(y, w, params.fdr)
        z[:, n], b[:, n] = result["z"].to_numpy(), result["bin"].to_numpy()

    patterns, tau, trend_p = classify(z, b)
    out = cells[["cell", "i", "j", "x", "y", "share", "count", "geometry"]].copy()
    out["pattern"] = NOT_TESTED
    out.loc[tested, "pattern"] = NOT_COMPUTED if skipped else patterns
    out["trend_tau"], out["trend_p"] = np.nan, np.nan
    out.loc[tested, "trend_tau"], out.loc[tested, "trend_p"] = tau, trend_p
    out["hot_slices"], out["cold_slices"] = 0, 0
    out.loc[tested, "hot_slices"], out.loc[tested, "cold_slices"] = (b > 0).sum(axis=1), (b < 0).sum(axis=1)
    out["final_z"], out["final_bin"] = np.nan, 0
    out.loc[tested, "final_z"], out.loc[tested, "final_bin"] = z[:, -1], b[:, -1]
    out.attrs = cells.attrs
    cells = out
    return EmergingResult(
        cells=cells,
        slices=starts,
        slice_by=slice_by,
        filter=flt,
        crs=f"EPSG:{projected_srid(city)}",
        cell_m=cell_m,
        weights=params.weights,
        band_m=band,
        k=params.k if params.weights == "knn" else None,
        fdr=params.fdr,
        points=int(cells["count"].sum()),
        left_out=cells.attrs["left_out"],
        skipped=skipped,
        notices=notices,
        thin_slices=thin,
    )


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Kendall trend test of each row of ``series`` (rows x time, oldest first).

    Returns Kendall's tau and the two-sided p-value (normal approximation with continuity
    and tie corrections), as ``pymannkendall.original_test`` computes them (the tests
    check it); vectorized, since that function takes milliseconds per series and a city
    has thousands of cells.
    """
    series = np.asarray(series, dtype=float)
    rows, n = series.shape
    upper_i, upper_j = np.triu_indices(n, k=1)
    s = np.sign(series[:, upper_j] - series[:, upper_i]).sum(axis=1)
    variance = np.full(rows, n * (n - 1) * (2 * n + 5) / 18.0)
    ordered = np.sort(series, axis=1)
    for row in np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1)):
        _, ties = np.unique(series[row], return_counts=True)
        variance[row] = (n * (n - 1) * (2 * n + 5) - np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(variance), np.where(s < 0, (s + 1) / np.sqrt(variance), 0.0))
    z = np.nan_to_num(z)
    return s / (0.5 * n * (n - 1)), 2 * stats.norm.sf(np.abs(z))


def classify(z: np.ndarray, bins: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Each cell's pattern from its z-scores and bins per slice (cells x slices, oldest first).

    Returns the patterns (e.g. ``"new hot spot"``, ``"no pattern"``) and the Mann-Kendall
    tau and p-value of each cell's z-scores (NaN where the cell is never significant).
    """
    cells, _ = bins.shape
    hot, cold = bins > 0, bins < 0
    any_hot, any_cold = np.any(hot, axis=1), np.any(cold, axis=1)
    sign = np.where(any_cold & ~any_hot, -1.0, 1.0)[:, None]  # intensity: hotter, or colder
    tau, trend_p = mann_kendall(z * sign)
    patterns = np.full(cells, "no pattern", dtype=object)
    significant = np.where(any_hot[:, None], hot, cold)
    new = significant[:, -1] & ~significant[:, :-1].any(axis=1)
    steady = significant.mean(axis=1) >= PERSISTENT_SHARE
    rising, falling = (trend_p < TREND_ALPHA) & (tau > 0), (trend_p < TREND_ALPHA) & (tau < 0)
    pattern = np.select(
        [new, steady & rising, steady & falling, steady],
        ["new", "intensifying", "diminishing", "persistent"],
        "sporadic",
    )
    kind = np.where(any_hot, "hot spot", "cold spot")
    some = any_hot | any_cold
    patterns[some] = [f"{p} {k}" for p, k in zip(pattern[some], kind[some])]
    patterns[any_hot & any_cold] = "oscillating"
    tau[~some], trend_p[~some] = np.nan, np.nan
    return patterns.tolist(), tau, trend_p
