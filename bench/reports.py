"""Benchmarks: performance reports over the generated Los Angeles history (default 1,000,000 requests).

Targets (issue: performance reports): the Summary of Performance for the whole city
<= 1 s; any breakout page's figures <= 2 s. The data is the one of ``bench/maps.py``
(:func:`bench.maps.ensure_requests`: generated once, imported once, reused).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text

from bench.common import bench_database, percentiles, write_results
from bench.maps import ensure_requests
from geo import reports
from geo.cache import RESULTS
from service_requests import rollups
from service_requests.selection import RequestFilter, filter_choices

TARGETS_MS = {"summary": 1000, "breakout": 2000}
BREAKOUTS = (*reports.DIMENSIONS, *reports.PERIODS)


def _timed(call) -> float:  # noqa: ANN001
    """Wall time of ``call`` in ms, computed afresh: the cache of results is emptied first."""
    RESULTS.clear()
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def run(total: int = 1_000_000, seed: int = 311, repeats: int = 5) -> dict[str, Any]:
    """Run the benchmark and write bench/results/reports.{json,md}."""
    setup = ensure_requests(total, seed)
    database, city = bench_database()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) service_request"))
    with database.session() as session:  # the reports' rollup, as an import leaves it (counted again if missing)
        rollup = rollups.refresh(session, city)
        session.commit()
        cells = int(
            session.execute(text("SELECT count(*) FROM request_rollup WHERE city = :c"), {"c": city.key}).scalar_one()
        )
    flt = RequestFilter(scope="city")
    with database.session() as session:
        stored = session.execute(
            text("SELECT count(*) FROM service_request WHERE city = :c"), {"c": city.key}
        ).scalar_one()
        choices = filter_choices(session, city)
        where, params = flt.sql(city, "r")
        # The floor: reading the same rows and only counting them (the machine's speed today).
        floor_samples = [
            _timed(
                lambda: session.execute(text(f"SELECT count(*) FROM service_request r WHERE {where}"), params).scalar()
            )
            for _ in range(repeats)
        ]
        summary_samples = [_timed(lambda: reports.summary(session, city, flt)) for _ in range(repeats)]
        distinct_samples = [_timed(lambda: reports.summary(session, city, flt, distinct=True)) for _ in range(3)]
        breakout_ms = {
            by: percentiles(
                [
                    _timed(lambda: reports.breakout(session, city, flt, by, choices=choices))  # noqa: B023
                    for _ in range(3)
                ]
            )
            for by in BREAKOUTS
        }
        # The summary page shows more than the summary: this year and this fiscal year so far
        # against the year before (four more summaries over shorter spans) and a months chart.
        summary_page_ms = percentiles(
            [
                _timed(
                    lambda: (
                        reports.summary(session, city, flt),
                        reports.year_to_date(session, city, flt),
                        reports.year_to_date(session, city, flt, fiscal=True),
                        reports.breakout(session, city, flt, "month", medians=False),
                    )
                )
                for _ in range(3)
            ]
        )
        page_ms = {
            "top_services_overall_and_per_ward": percentiles(
                [
                    _timed(
                        lambda: (
                            reports.top_services(session, city, flt, choices=choices),
                            reports.top_services(session, city, flt, per="ward", choices=choices),
                        )
                    )
                    for _ in range(3)
                ]
            ),
            "backlog_and_compliance": percentiles(
                [
                    _timed(
                        lambda: (
                            reports.backlog_aging(session, city, flt, choices=choices),
                            reports.compliance(session, city, flt, "department", choices=choices),
                            reports.compliance(session, city, flt, "service", choices=choices),
                        )
                    )
                    for _ in range(3)
                ]
            ),
            "month_breakout_with_year_over_year": percentiles(
                [
                    _timed(
                        lambda: reports.with_year_before(
                            reports.breakout(session, city, flt, "month", choices=choices), "month"
                        )
                    )
                    for _ in range(3)
                ]
            ),
        }
        session.rollback()
    summary_p = percentiles(summary_samples)
    floor_p = percentiles(floor_samples)
    worst = max([*(v["p50"] for v in breakout_ms.values()), *(v["p50"] for v in page_ms.values())])
    results = {
        "setup": setup,
        "rollup": {"months_counted": rollup.months, "seconds": round(rollup.seconds, 1), "cells": cells},
        "stored_requests": stored,
        "summary_ms": summary_p,
        "summary_distinct_ms": percentiles(distinct_samples),
        "floor_count_ms": floor_p,
        "summary_page_ms": summary_page_ms,
        "breakout_ms": breakout_ms,
        "pages_ms": page_ms,
        "targets_ms": TARGETS_MS,
    }
    table = [
        (
            f"Summary of Performance, whole city ({stored:,} requests)",
            f"p50 {summary_p['p50']:.0f} ms, p95 {summary_p['p95']:.0f} ms",
            f"<= {TARGETS_MS['summary']} ms",
            f"counting the same rows: p50 {floor_p['p50']:.0f} ms",
        )
    ]
    table.append(
        (
            "the reports' rollup",
            f"{cells:,} cells"
            + (f", counted in {rollup.seconds:.0f} s" if rollup.months else " (counted after the import)"),
            "-",
            f"{stored / max(cells, 1):.1f} requests per cell",
        )
    )
    table.append(
        (
            "the summary page (with this year and fiscal year so far, and a months chart)",
            f"p50 {summary_page_ms['p50']:.0f} ms",
            "-",
            "-",
        )
    )
    table += [
        (f"breakout by {by}", f"p50 {v['p50']:.0f} ms", f"<= {TARGETS_MS['breakout']} ms", "-")
        for by, v in breakout_ms.items()
    ]
    table += [
        (name.replace("_", " "), f"p50 {v['p50']:.0f} ms", f"<= {TARGETS_MS['breakout']} ms", "-")
        for name, v in page_ms.items()
    ]
    table.append(("slowest breakout page", f"p50 {worst:.0f} ms", f"<= {TARGETS_MS['breakout']} ms", "-"))
    write_results("reports", results, table)
    return results
