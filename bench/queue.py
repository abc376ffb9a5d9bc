"""Benchmark: the staff work queue over the generated Los Angeles history (default 1,000,000 requests).

Target (issue 19): a page of the queue in <= 300 ms at p95, for several sorts and filters,
as a department user sees it (scoped to one department). The data is the one of
``bench/maps.py`` (:func:`bench.maps.ensure_requests`: generated once, imported once, reused).
Each sample is one page as the page computes it: the bounded count and the rows
(:func:`service_requests.queue.queue_page`), on pages 1 to 5.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text

from bench.common import bench_database, percentiles, write_results
from bench.maps import ensure_requests
from service_requests.queue import QueueView, queue_page
from service_requests.selection import RequestFilter, filter_choices

TARGET_MS = 300


def run(total: int = 1_000_000, seed: int = 311, repeats: int = 4) -> dict[str, Any]:
    """Run the benchmark and write bench/results/queue.{json,md}."""
    setup = ensure_requests(total, seed)
    database, city = bench_database()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) service_request"))
    with database.session() as session:
        stored = session.execute(text("SELECT count(*) FROM service_request WHERE city = :c"), {"c": city.key}).scalar()
        busiest = session.execute(
            text(
                "SELECT department_code, count(*) FROM service_request WHERE city = :c AND is_open "
                "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
            ),
            {"c": city.key},
        ).one()
        department, open_count = busiest
        ward = session.execute(
            text("SELECT ward_key FROM service_request WHERE city = :c AND is_open AND ward_key IS NOT NULL LIMIT 1"),
            {"c": city.key},
        ).scalar()
        choices = filter_choices(session, city)
        base = RequestFilter(department=department, status="open", scope="all")
        cases = {
            "due ascending (default)": QueueView(base),
            "age descending": QueueView(base, sort="age", descending=True),
            "reference ascending": QueueView(base, sort="reference"),
            "service descending": QueueView(base, sort="service", descending=True),
            "overdue only, due": QueueView(base.replace(overdue=True)),
            f"ward {ward}, age": QueueView(base.replace(ward=ward), sort="age"),
            "assignee nobody-in-particular, due": QueueView(base, assignee="user:bench"),
            "whole city (admin), due": QueueView(base.replace(department=None)),
        }
        measured: dict[str, Any] = {}
        for name, view in cases.items():
            samples = []
            for _ in range(repeats):
                for page in range(1, 6):
                    paged = QueueView(view.flt, view.assignee, False, view.sort, view.descending, page)
                    start = time.perf_counter()
                    queue_page(session, city, paged, choices)
                    samples.append((time.perf_counter() - start) * 1000)
            measured[name] = percentiles(samples[2:])  # the first two warm the cache
    results = {
        "setup": setup,
        "stored": stored,
        "department": department,
        "open_in_department": open_count,
        "target_ms": TARGET_MS,
        "pages_ms": measured,
    }
    table = [("stored requests", f"{stored:,}", "1,000,000", ""), (f"open in {department}", f"{open_count:,}", "", "")]
    table += [
        (f"queue page p95: {name}", f"{m['p95']:.0f} ms", f"<= {TARGET_MS} ms", f"p50 {m['p50']:.0f} ms")
        for name, m in measured.items()
    ]
    write_results("queue", results, table)
    return results
