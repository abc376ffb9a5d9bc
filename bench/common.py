"""What every benchmark shares: its own database, timing, and the results files."""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from boundaries.loader import load_city as load_boundaries
from core.city import CityConfig, SourceMapping, load_city
from core.database import Database, normalize_url, upgrade
from core.errors import UserError
from core.settings import PROJECT_ROOT, Settings

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
BENCH_DBNAME = "geo311_bench"


def history_mapping(city: CityConfig) -> SourceMapping:
    """The request history's source mapping of ``city`` (its ``[requests]`` table)."""
    if city.requests is None:
        raise UserError(f"{city.path.name} has no [requests] table; the request benchmarks read its history mapping.")
    return city.requests


def bench_database(settings: Settings | None = None) -> tuple[Database, CityConfig]:
    """The benchmark database (never the demo's): migrated, with the Los Angeles boundaries."""
    settings = settings or Settings.from_env()
    database = Database.from_settings(settings, dbname=BENCH_DBNAME)
    upgrade(database.engine)
    city = load_city("la", settings.cities_dir, settings.data_dir)
    with database.session() as session:
        load_boundaries(session, city)  # skips layers already loaded from the same files
    return database, city


def drop_bench_data(settings: Settings | None = None) -> None:
    """Start from nothing: drop the benchmark database and the generated files (never the demo's)."""
    settings = settings or Settings.from_env()
    database = Database.from_settings(settings, dbname=BENCH_DBNAME)
    if database.cluster is not None:
        database.engine  # noqa: B018 (starts the embedded server, stopped at exit)
        server = database.cluster.url("postgres")
    else:
        assert settings.database_url is not None  # no embedded cluster: DATABASE_URL is set
        server = (
            make_url(normalize_url(settings.database_url))
            .set(database="postgres")
            .render_as_string(hide_password=False)
        )
    database.dispose()
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DBNAME}" WITH (FORCE)'))
    admin.dispose()
    shutil.rmtree(PROJECT_ROOT / "var" / "bench", ignore_errors=True)


def table_storage(session: Any, table: str) -> dict[str, Any]:
    """The size on disk of ``table``: its rows (with TOAST), each index, and in all, in bytes."""
    rows, total = session.execute(
        text("SELECT pg_table_size(CAST(:t AS regclass)), pg_total_relation_size(CAST(:t AS regclass))"), {"t": table}
    ).one()
    indexes = dict(
        session.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                "WHERE indrelid = CAST(:t AS regclass) ORDER BY 2 DESC"
            ),
            {"t": table},
        ).all()
    )
    return {"table_bytes": rows, "indexes_bytes": sum(indexes.values()), "total_bytes": total, "indexes": indexes}


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50, p95, p99, mean and max of timings in milliseconds."""
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "n": len(ordered),
        "p50": pick(0.50),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "mean": round(statistics.fmean(ordered), 3),
        "max": round(ordered[-1], 3),
    }


def time_each(items: Iterable[Any], call: Callable[[Any], object], warmup: int = 20) -> dict[str, float]:
    """Call ``call`` on every item; percentiles of the wall time per call (after a warm-up)."""
    items = list(items)
    for item in items[:warmup]:
        call(item)
    samples = []
    for item in items:
        start = time.perf_counter()
        call(item)
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def write_results(name: str, results: dict[str, Any], table: list[tuple[str, str, str, str]]) -> Path:
    """Write ``bench/results/<name>.json`` and ``.md``; return the JSON path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamped = {
        "benchmark": name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "processor": platform.machine(),
            "load_average_1_5_15_min": [round(x, 2) for x in os.getloadavg()],
        },
        **results,
    }
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(stamped, indent=2))
    lines = [f"# {name} ({stamped['at']})", "", "| measure | result | target | floor / baseline |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table]
    (RESULTS_DIR / f"{name}.md").write_text("\n".join(lines) + "\n")
    return path
