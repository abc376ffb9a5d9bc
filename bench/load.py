"""Load test: residents, apps, intake and planners at once against gunicorn on loopback (locust).

The bench database (1,000,000 requests, see ``bench/open311.py``) is served by gunicorn;
locust runs the users of ``bench/locustfile.py`` for a bounded time, headless, and its
per-endpoint statistics (throughput, latency percentiles, failures) are written to
``bench/results/load.{json,md}``. Zero failures is the target; ``/health`` measured alone
in the same run is the baseline of what the server does with no work.
"""

from __future__ import annotations

import csv
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from accounts.users import UserFields, create_user, find_user, set_password
from bench.address_validation import ensure_addresses
from bench.common import bench_database, write_results
from bench.open311 import ensure_history, free_port, load, start_server, stop_server
from bench.requests import DATA_DIR
from open311.clients import issue_client

VENV_BIN = Path(sys.executable).parent
USERS = 24
SPAWN_RATE = 6


def places(database: Any, city: str, count: int = 2000) -> Path:
    """A file of in-city addresses with their points, for the users to pick from."""
    with database.session() as session:
        rows = session.execute(
            text(
                "SELECT standardized, ST_X(geom), ST_Y(geom) FROM address_point WHERE city = :c AND kind = 'address' "
                "AND in_jurisdiction ORDER BY random() LIMIT :n"
            ),
            {"c": city, "n": count},
        ).all()
    path = DATA_DIR / "load-places.json"
    path.write_text(json.dumps([{"address": a, "lon": f"{x:.7f}", "lat": f"{y:.7f}"} for a, x, y in rows]))
    return path


def staff_login(database: Any, city: str) -> tuple[str, str]:
    """A planner account for the load test (its password renewed each run)."""
    password = secrets.token_urlsafe(18)
    with database.session() as session:
        user = find_user(session, city, "load-planner")
        if user is None:
            create_user(
                session, city, "load-planner", password, UserFields("Load test planner", "planner"), actor="bench"
            )
        else:
            set_password(session, user, password, actor="bench")
        session.commit()
    return "load-planner", password


def read_stats(prefix: Path) -> list[dict[str, Any]]:
    """Locust's per-endpoint statistics (the *_stats.csv file)."""
    rows = []
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"] if row["Type"] in ("", "None") else f"{row['Type']} {row['Name']}",
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "per_s": round(float(row["Requests/s"]), 1),
                    "p50_ms": float(row["50%"] or 0),
                    "p95_ms": float(row["95%"] or 0),
                    "p99_ms": float(row["99%"] or 0),
                }
            )
    return rows


def run(total: int = 1_000_000, seconds: int = 90, seed: int = 311) -> dict[str, Any]:
    """Run the load test and write bench/results/load.{json,md}."""
    ensure_addresses(total, seed)
    database, city = bench_database()
    ensure_history(database, city, total, seed)
    with database.session() as session:
        _, key = issue_client(session, city.key, "Load test", per_minute=100_000_000)
        session.commit()
    username, password = staff_login(database, city.key)
    places_file = places(database, city.key)
    port = free_port()
    unlimited = "100000000/minute"
    server = start_server(
        database.url,
        port,
        DATA_DIR / "load-gunicorn.log",
        extra_env={
            "GEO311_ENV": "development",  # plain http on loopback: cookies must not be Secure-only
            "GEO311_RATE_LOGIN": unlimited,
            "GEO311_RATE_PUBLIC_FORMS": unlimited,
            "GEO311_RATE_PUBLIC_API": unlimited,
        },
    )
    prefix = DATA_DIR / "load"
    try:
        baseline = load(port, "/health", 10)
        env = {
            "GEO311_LOAD_API_KEY": key,
            "GEO311_LOAD_PLACES": str(places_file),
            "GEO311_LOAD_USER": username,
            "GEO311_LOAD_PASSWORD": password,
            "PATH": str(VENV_BIN),
        }
        start = time.perf_counter()
        subprocess.run(
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(Path(__file__).with_name("locustfile.py")),
                "--headless",
                "--users",
                str(USERS),
                "--spawn-rate",
                str(SPAWN_RATE),
                "--run-time",
                f"{seconds}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--exit-code-on-error",
                "0",
            ],
            env={**env, "HOME": str(DATA_DIR)},
            check=True,
            capture_output=True,
            timeout=seconds + 120,
        )
        wall = time.perf_counter() - start
    finally:
        stop_server(server)
    stats = read_stats(prefix)
    total_row = next(r for r in stats if r["name"].endswith("Aggregated"))
    endpoints = [r for r in stats if not r["name"].endswith("Aggregated")]
    summary = {
        "users": USERS,
        "seconds": seconds,
        "wall_s": round(wall),
        "server": "gunicorn (4 sync workers)",
        "generator": "locust (same machine)",
        "baseline_health": baseline,
        "total": total_row,
        "endpoints": endpoints,
        "targets": {"failures": 0},
    }
    table = [
        (
            f"all ({USERS} users, {seconds} s)",
            f"{total_row['per_s']}/s, p50 {total_row['p50_ms']:.0f} ms, "
            f"p95 {total_row['p95_ms']:.0f} ms, {total_row['failures']} failures",
            "0 failures",
            f"GET /health alone: {baseline['per_s']}/s, p95 {baseline['p95_ms']:.0f} ms",
        )
    ]
    table += [
        (
            r["name"],
            f"{r['requests']} ({r['per_s']}/s), p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, "
            f"{r['failures']} failures",
            "0 failures",
            "-",
        )
        for r in endpoints
    ]
    write_results("load", summary, table)
    return summary
