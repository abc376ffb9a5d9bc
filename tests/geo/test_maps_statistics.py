"""Hot spots on synthetic data with known answers: a planted cluster is found, random points
give no more than the false discovery rate allows, Gi* equals esda run independently on the
same grid, and each point's hexagon is the one PostGIS draws around it."""

from __future__ import annotations

import math
from datetime import date

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pymannkendall
import pytest
from sqlalchemy import text

from geo.emerging import classify, emerging_hot_spots, mann_kendall
from geo.grid import decode_cell_keys, hex_cell_key_sql
from geo.hotspots import MIN_SHARE, NOT_TESTED, HotspotParams, hot_cells_by_area, hot_spots
from geo.layers import jurisdiction
from tests.helpers.maps_synthetic import cluster_points, insert, only_synthetic, projected, random_points

DOWNTOWN = (-118.2500, 34.0500)  # inside Council District 14
CELL = 800.0


def test_each_point_falls_in_the_postgis_hexagon_around_it(session):
    """The arithmetic cell of the SQL aggregation is the ST_HexagonGrid cell holding the point,
    for points anywhere, negative coordinates included."""
    key = hex_cell_key_sql("(x / (3 * :size))", "(y / (sqrt(3.0) * :size))")
    rows = session.execute(
        text(
            f"""
        WITH p AS (SELECT n, x, y FROM (
                SELECT n, (random() - 0.5) * 20000 AS x, (random() - 0.5) * 20000 + :shift AS y
                FROM generate_series(1, 3000) n) s)
        SELECT p.n, {key} AS key, h.i, h.j
        FROM p JOIN LATERAL ST_HexagonGrid(:size, ST_MakeEnvelope(p.x - 1, p.y - 1, p.x + 1, p.y + 1, 32611)) h
             ON ST_Intersects(h.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 32611))
        """
        ),
        {"size": 437.0, "shift": 3_700_000},
    ).all()
    rows += session.execute(
        text(
            f"""
        WITH p AS (SELECT n, (random() - 0.5) * 5000 AS x, (random() - 0.5) * 5000 AS y FROM generate_series(1, 2000) n)
        SELECT p.n, {key} AS key, h.i, h.j
        FROM p JOIN LATERAL ST_HexagonGrid(:size, ST_MakeEnvelope(p.x - 1, p.y - 1, p.x + 1, p.y + 1, 32611)) h
             ON ST_Intersects(h.geom, ST_SetSRID(ST_MakePoint(p.x, p.y), 32611))
        """
        ),
        {"size": 100.0},
    ).all()
    assert len(rows) >= 5000  # a point on an edge touches two cells: measure zero with random points
    i, j = decode_cell_keys(np.array([r.key for r in rows]))
    assert (i == np.array([r.i for r in rows])).all() and (j == np.array([r.j for r in rows])).all()


def test_a_planted_cluster_is_found(session, la):
    rng = np.random.default_rng(20240101)
    insert(session, la, random_points(session, la, 6000, rng), "bg")
    insert(session, la, cluster_points(la, DOWNTOWN, 1200, 900, rng), "cl")
    result = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=CELL))
    assert result.points == 6900 and result.cell_m == CELL and not result.cell_auto

    cells = result.cells
    centre = cells.loc[
        ((cells["x"] - _projected(la, DOWNTOWN)[0]) ** 2 + (cells["y"] - _projected(la, DOWNTOWN)[1]) ** 2).idxmin()
    ]
    assert centre["bin"] == 3, centre  # the cluster's centre: hot at 99 %
    hot = cells[cells["bin"] > 0]
    distance = np.hypot(hot["x"] - centre["x"], hot["y"] - centre["y"])
    # Hot cells are the cluster (and the cells whose distance band reaches it), nowhere else.
    assert len(hot) >= 5 and distance.max() < 1200 + 2 * math.sqrt(3) * CELL * 1.01 + CELL
    assert result.cold <= 0.10 * len(cells)

    by_ward = hot_cells_by_area(session, la, result, "wards")
    assert by_ward.iloc[0]["key"] == "14" and by_ward.iloc[0]["hot_99"] >= 1
    assert "Getis-Ord Gi*" in result.method() and "800 m edge" in result.method()
    assert result.parameters()["cells"] == len(cells)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_points_give_no_hot_spots_beyond_the_false_discovery_rate(session, la, seed):
    rng = np.random.default_rng(seed)
    insert(session, la, random_points(session, la, 8000, rng), f"csr{seed}")
    result = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=CELL))
    significant = (result.cells["bin"] != 0).mean()
    # Under complete spatial randomness every discovery is false: BH at 10 % keeps their
    # expected share of the discoveries under 10 %, and with no true effect any at all is rare.
    assert significant <= 0.10, significant
    assert (result.cells["bin"].abs() == 3).mean() <= 0.01


def test_knn_weights_find_the_cluster_too(session, la):
    rng = np.random.default_rng(7)
    insert(session, la, random_points(session, la, 4000, rng), "bg")
    insert(session, la, cluster_points(la, DOWNTOWN, 1000, 600, rng), "cl")
    result = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=CELL, weights="knn", k=12))
    assert result.weights == "knn" and result.k == 12 and result.hot >= 3
    assert "12 nearest cells" in result.method()


def test_gi_star_equals_esda_computed_independently_on_the_same_grid(session, la):
    """Counts from a geopandas spatial join of the points with the PostGIS hexagons, shares
    inside the city from a geopandas intersection, weights from the hexagons' centroids,
    esda's Gi*: the same numbers as the database pipeline."""
    rng = np.random.default_rng(99)
    points = np.vstack([random_points(session, la, 3000, rng), cluster_points(la, DOWNTOWN, 1500, 500, rng)])
    insert(session, la, points, "gi")
    result = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=1000.0, band_m=3600.0))

    cells = gpd.GeoDataFrame(result.cells[["cell"]], geometry=result.cells.geometry, crs="EPSG:4326").to_crs(
        la.projected_crs
    )
    dots = gpd.GeoDataFrame(geometry=gpd.points_from_xy(points[:, 0], points[:, 1]), crs="EPSG:4326").to_crs(
        la.projected_crs
    )
    joined = gpd.sjoin(dots, cells, predicate="within")
    counts = joined.groupby("cell").size().reindex(cells["cell"], fill_value=0).to_numpy()
    assert (counts == result.cells["count"].to_numpy()).all()

    # The share of each hexagon inside the city, from the full-resolution outline.
    outline = jurisdiction(session, la, simplified=False).to_crs(la.projected_crs).geometry.iloc[0]
    share = (cells.geometry.intersection(outline).area / cells.geometry.area).to_numpy()
    np.testing.assert_allclose(share, result.cells["share"].to_numpy(), atol=1e-3)  # pieces vs whole outline
    share = result.cells["share"].to_numpy()  # the grid's own, from here on
    tested = share >= MIN_SHARE
    assert (tested == result.cells["label"].ne(NOT_TESTED).to_numpy()).all() and (~tested).any()

    centroids = cells.geometry.centroid[tested]
    w = libpysal.weights.DistanceBand.from_array(
        np.column_stack([centroids.x, centroids.y]), threshold=3600.0, binary=True, silence_warnings=True
    )
    expected = esda.G_Local(counts[tested] / share[tested], w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(result.cells["z"].to_numpy()[tested], expected.Zs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(result.cells["p"].to_numpy()[tested], 2 * expected.p_norm, rtol=1e-9, atol=1e-12)
    assert result.cells["z"].to_numpy()[~tested].tolist() == [] or np.isnan(result.cells["z"].to_numpy()[~tested]).all()


def test_placeholders_and_outside_points_are_left_out_and_counted(session, la):
    rng = np.random.default_rng(5)
    insert(session, la, random_points(session, la, 500, rng), "in")
    insert(session, la, np.array([[-118.2437, 34.0522]] * 40), "ph", location_quality="placeholder")
    insert(session, la, np.array([[-118.4004, 34.0736]] * 7), "out", in_jurisdiction=False)
    result = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=2000.0))
    assert result.points == 500
    assert (result.left_out.placeholder, result.left_out.outside, result.left_out.no_location) == (40, 7, 0)
    assert "40 on a placeholder point" in result.method() and "7 outside the city" in result.method()


def test_emerging_hot_spots_label_new_and_persistent_cells(session, la):
    rng = np.random.default_rng(11)
    days = lambda n, lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    background = random_points(session, la, 6000, rng)
    insert(session, la, background, "bg", days=days(len(background), 0, 181))
    persistent = cluster_points(la, (-118.45, 34.20), 1200, 1500, rng)  # Van Nuys, every month
    insert(session, la, persistent, "per", days=days(len(persistent), 0, 181))
    new = cluster_points(la, DOWNTOWN, 1200, 400, rng)  # downtown, the last month only
    insert(session, la, new, "new", days=days(len(new), 152, 181))
    flt = only_synthetic(date_from=date(2024, 1, 1), date_to=date(2024, 6, 30))
    result = emerging_hot_spots(session, la, flt, HotspotParams(cell_m=CELL), slice_by="month")
    assert len(result.slices) == 6
    cells = result.cells

    def pattern_at(lonlat):
        x, y = _projected(la, lonlat)
        return cells.loc[((cells["x"] - x) ** 2 + (cells["y"] - y) ** 2).idxmin(), "pattern"]

    assert pattern_at(DOWNTOWN) == "new hot spot"
    assert pattern_at((-118.45, 34.20)) in ("persistent hot spot", "intensifying hot spot", "diminishing hot spot")
    assert "Mann-Kendall" in result.method()


def test_mann_kendall_equals_pymannkendall():
    rng = np.random.default_rng(3)
    series = rng.normal(size=(200, 12)).cumsum(axis=1)
    series[:20, 3:6] = 1.5  # ties
    series[20] = 0.0  # all tied
    tau, p = mann_kendall(series)
    for row in range(len(series)):
        expected = pymannkendall.original_test(series[row])
        assert tau[row] == pytest.approx(expected.Tau)
        assert p[row] == pytest.approx(expected.p)


def test_classify_patterns():
    z = np.array(
        [
            [0, 0, 0, 0, 0, 3.0],
            [3, 3, 3, 3, 3, 3.0],
            [2, 3, 4, 5, 6, 7.0],
            [-3, -3, -3, -3, -3, -3.0],
            [3, 0, 0, 3, 0, 0.0],
            [3, 0, -3, 0, 0, 0.0],
            [0, 0, 0, 0, 0, 0.0],
        ]
    )
    bins = np.sign(z).astype(int) * (np.abs(z) >= 1.65)
    patterns, tau, p = classify(z, bins)
    assert patterns == [
        "new hot spot",
        "persistent hot spot",
        "intensifying hot spot",
        "persistent cold spot",
        "sporadic hot spot",
        "oscillating",
        "no pattern",
    ]
    assert np.isnan(tau[-1]) and np.isnan(p[-1])


def _projected(city, lonlat):
    forward, _ = projected(city)
    return forward.transform(*lonlat)


def test_a_placeholder_cell_of_thousands_is_no_hot_spot_and_changes_no_other_cell(session, la):
    """Issue 16, item 3: thousands of history requests on one coordinate, detected as a placeholder by the
    import, neither make a hot spot nor shift the classification of any other cell."""
    from service_requests.importer import fix_placeholders

    rng = np.random.default_rng(16)
    insert(session, la, random_points(session, la, 3000, rng), "bg")
    insert(session, la, cluster_points(la, DOWNTOWN, 600, 900, rng), "cl")
    before = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=CELL))

    spot = (-118.3300, 34.1000)  # Hollywood, far from the planted cluster
    insert(session, la, np.array([spot] * 5000), "ph", location_quality="source")
    session.execute(
        text("UPDATE service_request SET address = 'unit ' || public_ref WHERE city = 'la' AND public_ref LIKE 'ph-%'")
    )  # 5,000 different, unmatched addresses
    report = fix_placeholders(session, la.key)
    assert report.points >= 1 and report.flagged >= 5000

    after = hot_spots(session, la, only_synthetic(), HotspotParams(cell_m=CELL))
    assert after.points == before.points and after.left_out.placeholder == 5000
    keep = ["x", "y", "bin"]
    same = before.cells[keep].round(1).merge(after.cells[keep].round(1), on=["x", "y"], suffixes=("_before", "_after"))
    assert len(same) == len(before.cells) == len(after.cells)
    assert (same["bin_before"] == same["bin_after"]).all()
    x, y = _projected(la, spot)
    near = after.cells[np.hypot(after.cells["x"] - x, after.cells["y"] - y) < CELL]
    assert (near["bin"] <= 0).all()  # the placeholder's cell is not hot
