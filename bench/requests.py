"""Benchmarks: importing 1,000,000 requests, and creating one request with 1,000,000 stored.

Import (issue 4): rows/s of ``import_history`` on a generated history file in the city's
own format, beside the floor measured in the same run: a raw COPY of the same file into a
plain table plus one set-based spatial UPDATE (the ward of every row). Target: within
1.5x of the floor.

Creation: ``create_request`` (address validation, routing, duplicate check, spatial
assignment, commit) p95 <= 50 ms with the imported requests stored.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import random
import resource
import time
import traceback
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import text

from address_db.validation import Validator
from bench.address_validation import ensure_addresses
from bench.common import bench_database, history_mapping, table_storage, time_each, write_results
from bench.history import real_profile, write_years
from boundaries.rules import current_layers
from core.city import CityConfig
from core.settings import PROJECT_ROOT
from service_requests.catalogue_db import sync_catalogue
from service_requests.importer import CHUNK_ROWS, ImportReport, import_history, tidy_after_import
from service_requests.intake import RequestInput, create_request

DATA_DIR = PROJECT_ROOT / "var" / "bench"
#: The generated history's years, up to the day it is made: every benchmark reads the same rows,
#: and the recent ones fill Open311's 90-day window and the public map's.
HISTORY_YEARS = 7
#: Request numbers of the generated history start with it (source_id), so its rows are known.
HISTORY_PREFIX = "B-"


def history_end(city: CityConfig) -> pd.Timestamp:
    """Today's midnight in the city (local, naive): the generated history's end."""
    return pd.Timestamp.now(tz=city.timezone).normalize().tz_localize(None)


def history_file(session: Any, city: CityConfig, rows: int, seed: int = 311) -> Path:
    """A generated history CSV in the city's format over :data:`HISTORY_YEARS` years up to today, shaped like
    its real history (:mod:`bench.history`), on the synthetic addresses (made once a day)."""
    end = history_end(city)
    path = DATA_DIR / f"history-{HISTORY_YEARS}y-{rows}-{end:%Y%m%d}.csv"
    if path.exists():
        return path
    for older in DATA_DIR.glob(f"history-{HISTORY_YEARS}y-{rows}-*.csv"):
        older.unlink()  # an earlier day's file of the same size (a gigabyte at ten million rows)
    return write_years(session, path, real_profile(city), rows, end, HISTORY_YEARS, seed, prefix=HISTORY_PREFIX)


def floor(database: Any, path: Path) -> dict[str, float]:
    """A raw COPY of the file into a plain table plus one set-based spatial UPDATE: the floor."""
    with database.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_raw"))
        conn.execute(
            text(
                "CREATE UNLOGGED TABLE bench_raw (sr text, created text, updated text, closed text, type text, owner text, "
                "status text, source text, address text, zip text, lat float8, lon float8, ward text)"
            )
        )
        raw = conn.connection.driver_connection
        start = time.perf_counter()
        with raw.cursor() as cursor, open(path, "rb") as handle:
            with cursor.copy(
                "COPY bench_raw (sr, created, updated, closed, type, owner, status, source, address, zip, "
                "lat, lon) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    copy.write(block)
        copied = time.perf_counter() - start
        start = time.perf_counter()
        conn.execute(
            text(
                f"""
            UPDATE bench_raw b SET ward = w.key FROM (
                SELECT r.ctid AS row_id, min(f.key) AS key
                FROM bench_raw r
                JOIN boundary_piece p ON ST_Intersects(p.geom, ST_SetSRID(ST_MakePoint(r.lon, r.lat), 4326))
                JOIN boundary_layer_version v ON v.id = p.version_id AND {current_layers("v", ("wards",))}
                JOIN boundary_feature f ON f.id = p.feature_id
                GROUP BY r.ctid) w
            WHERE b.ctid = w.row_id
            """
            ),
            {"city": "la"},
        )
        updated = time.perf_counter() - start
        conn.execute(text("DROP TABLE bench_raw"))
    return {"copy_s": round(copied, 1), "spatial_update_s": round(updated, 1), "total_s": round(copied + updated, 1)}


def _import_in_child(path: Path, answer: Any) -> None:
    """The import alone in a process of its own, so that its peak memory is its own (see :func:`measured_import`)."""
    try:
        answer.put(_import(path))
    except BaseException:
        answer.put(traceback.format_exc())
        raise


def _import(path: Path) -> tuple[ImportReport, float, int, float]:
    database, city = bench_database()
    mapping = dataclasses.replace(history_mapping(city), paths=(path,))
    with database.session() as session:
        start = time.perf_counter()
        report = import_history(session, city, mapping, report_dir=DATA_DIR)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    tidy_after_import(database.engine, report, city=city)
    database.dispose()
    return report, seconds, peak, time.perf_counter() - start


def measured_import(path: Path) -> tuple[ImportReport, float, int, float]:
    """Import ``path`` in a new process: its report, the import's seconds, the process's peak RSS in
    bytes during the import, and the seconds of the tidying after it (vacuum, the reports' rollup)."""
    context = multiprocessing.get_context("spawn")
    answer = context.Queue()
    child = context.Process(target=_import_in_child, args=(path, answer))
    child.start()
    while True:
        try:
            found = answer.get(timeout=5)
            break
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError(f"the import process ended with code {child.exitcode} and no answer") from None
    child.join()
    if isinstance(found, str):
        raise RuntimeError(f"the import process failed:\n{found}")
    report, seconds, peak, tidy = found
    if child.exitcode:
        raise RuntimeError(f"the import process ended with code {child.exitcode}")
    return report, seconds, peak, tidy


def run(total: int = 1_000_000, creations: int = 500, seed: int = 311) -> dict[str, Any]:
    """Run both benchmarks and write bench/results/requests.{json,md}."""
    ensure_addresses(total, seed)
    database, city = bench_database()
    with database.session() as session:
        sync_catalogue(session, city)
        session.commit()
        path = history_file(session, city, total, seed)
        session.execute(
            text("TRUNCATE service_request, request_event, request_contact, notification RESTART IDENTITY CASCADE")
        )
        session.commit()
    floor_s = floor(database, path)
    report, import_s, peak_rss, tidy_s = measured_import(path)
    with database.session() as session:
        stored = session.execute(text("SELECT count(*) FROM service_request")).scalar_one()
    with database.session() as session:
        storage = {table: table_storage(session, table) for table in ("service_request", "request_event")}
    print(f"import: {report.summary()} in {import_s:.0f} s; floor {floor_s}", flush=True)

    validator = Validator(city.key, settings=city.addresses, home_name=city.name)
    rng = random.Random(seed)
    with database.session() as session:
        sample = (
            session.execute(
                text(
                    "SELECT standardized FROM address_point WHERE city = 'la' AND kind = 'address' AND in_jurisdiction "
                    "ORDER BY random() LIMIT :n"
                ),
                {"n": 2 * creations + 40},
            )
            .scalars()
            .all()
        )
        # Time requests that are accepted: addresses the validator finds unambiguous (checked untimed).
        addresses = [a for a in sample if validator.validate(session, a).status == "valid"][: creations + 20]
        forms = [
            RequestInput(
                service_code=rng.choice(["graffiti", "illegal-dumping", "dead-animal"]),
                channel="phone",
                address=a,
                actor="bench",
                attributes={"surface": "wall"},
            )
            for a in addresses
        ]
        for form in forms:
            if form.service_code != "graffiti":
                form.attributes = {}
        creation = time_each(forms, lambda form: create_request(session, city, validator, form))

    rows_per_s = report.rows_read / import_s
    floor_rows_per_s = report.rows_read / floor_s["total_s"]
    summary = {
        "rows": report.rows_read,
        "inserted": report.inserted,
        "rejected": len(report.rejected),
        "import_s": round(import_s, 1),
        "import_rows_per_s": round(rows_per_s),
        "import_peak_rss_bytes": peak_rss,
        "after_import_s": round(tidy_s, 1),
        "floor": floor_s,
        "floor_rows_per_s": round(floor_rows_per_s),
        "ratio_to_floor": round(import_s / floor_s["total_s"], 2),
        "stored_requests": stored,
        "storage": storage,
        "create_ms": creation,
        "targets": {"ratio_to_floor": 1.5, "create_p95_ms": 50},
    }
    table = [
        (
            f"import {report.rows_read:,} requests",
            f"{import_s:.0f} s, {rows_per_s:,.0f} rows/s",
            "<= 1.5x floor",
            f"floor {floor_s['total_s']:.0f} s ({floor_rows_per_s:,.0f} rows/s): {import_s / floor_s['total_s']:.2f}x",
        ),
        (
            "import's peak memory (the importing process's RSS)",
            f"{peak_rss / 2**20:,.0f} MiB",
            "bounded",
            f"rows read and checked {CHUNK_ROWS:,} at a time",
        ),
        (
            "after the import: vacuum and the reports' rollup counted",
            f"{tidy_s:.0f} s",
            "-",
            "-",
        ),
        (
            f"create one request ({stored:,} stored)",
            f"p50 {creation['p50']} ms, p95 {creation['p95']} ms",
            "p95 <= 50 ms",
            "-",
        ),
        (
            "request table on disk",
            f"{storage['service_request']['table_bytes'] / 1e9:.2f} GB rows, "
            f"{storage['service_request']['indexes_bytes'] / 1e9:.2f} GB in "
            f"{len(storage['service_request']['indexes'])} indexes",
            "-",
            f"{storage['service_request']['total_bytes'] / max(stored, 1):,.0f} bytes per request",
        ),
    ]
    write_results("requests", summary, table)
    return summary
