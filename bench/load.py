"""Load test: 50 people at once (call-takers, residents, Open311 apps, planners, managers, council
offices) against gunicorn on loopback (locust), for five minutes.

The bench database (see ``bench/open311.py``) is served by gunicorn; locust runs the people of
``bench/locustfile.py`` with their pauses, headless, and its per-endpoint statistics
(throughput, latency percentiles, failures) are written to ``bench/results/load.{json,md}``.
Targets (issue 22): 0 failures; address suggest, validate and create p95 <= 300 ms; map and
report pages p95 <= 2 s. ``/health`` measured alone in the same run is the baseline of what
the server does with no work.
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
from address_db.validation import Validator
from bench.address_validation import ensure_addresses
from bench.common import bench_database, write_results
from bench.open311 import ensure_history, free_port, load, start_server, stop_server
from bench.requests import DATA_DIR
from core.city import CityConfig
from open311.clients import issue_client

VENV_BIN = Path(sys.executable).parent
USERS = 50
SPAWN_RATE = 5
SECONDS = 300
#: p95 targets by the prefix of an endpoint's name in the locustfile.
TARGETS_MS = {"address:": 300.0, "create:": 300.0, "map:": 2000.0, "report:": 2000.0}


def target_of(name: str) -> float | None:
    """The p95 target of an endpoint reported under ``name`` (None: no target but 0 failures)."""
    bare = name.split(" ", 1)[1] if name.split(" ", 1)[0] in ("GET", "POST") else name
    return next((ms for prefix, ms in TARGETS_MS.items() if bare.startswith(prefix)), None)


def places(database: Any, city: CityConfig, count: int = 2000, path: Path | None = None) -> Path:
    """A file of in-city addresses with their points, for the users to pick from (``path``, by
    default in the bench's data folder): addresses the validator finds unambiguous, as a caller's
    would be once confirmed (checked untimed), so that a failure under load is the server's."""
    validator = Validator(city.key, settings=city.addresses, home_name=city.name)
    with database.session() as session:
        rows = session.execute(
            text(
                "SELECT standardized, ST_X(geom), ST_Y(geom) FROM address_point WHERE city = :c AND kind = 'address' "
                "AND in_jurisdiction ORDER BY random() LIMIT :n"
            ),
            {"c": city.key, "n": 2 * count},
        ).all()
        valid = [r for r in rows if validator.validate(session, r[0]).status == "valid"][:count]
    path = path or DATA_DIR / "load-places.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{"address": a, "lon": f"{x:.7f}", "lat": f"{y:.7f}"} for a, x, y in valid]))
    return path


def staff_logins(database: Any, city: str, ward: str) -> dict[str, list[str]]:
    """An account of each role the load test logs in with (passwords renewed each run); the council
    office's area is ``ward``."""
    logins: dict[str, list[str]] = {}
    fields = {
        "intake": UserFields("Load test call-taker", "intake"),
        "planner": UserFields("Load test planner", "planner"),
        "council": UserFields("Load test council office", "council", area_role="wards", area_key=ward),
    }
    with database.session() as session:
        for role, wanted in fields.items():
            username, password = f"load-{role}", secrets.token_urlsafe(18)
            user = find_user(session, city, username)
            if user is None:
                create_user(session, city, username, password, wanted, actor="bench")
            else:
                set_password(session, user, password, actor="bench")
            logins[role] = [username, password]
        session.commit()
    return logins


def busiest_ward(database: Any, city: str) -> str:
    """The ward with the most requests: the council office's."""
    with database.session() as session:
        found = session.execute(
            text(
                "SELECT ward_key FROM service_request WHERE city = :c AND ward_key IS NOT NULL "
                "GROUP BY ward_key ORDER BY count(*) DESC LIMIT 1"
            ),
            {"c": city},
        ).scalar()
    return str(found or "1")


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


def run(total: int = 1_000_000, seconds: int = SECONDS, seed: int = 311, users: int = USERS) -> dict[str, Any]:
    """Run the load test and write bench/results/load.{json,md}."""
    ensure_addresses(total, seed)
    database, city = bench_database()
    ensure_history(database, city, total, seed)
    with database.session() as session:
        _, key = issue_client(session, city.key, "Load test", per_minute=100_000_000)
        session.commit()
    ward = busiest_ward(database, city.key)
    logins = staff_logins(database, city.key, ward)
    places_file = places(database, city)
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
            "GEO311_LOAD_USERS": json.dumps(logins),
            "GEO311_LOAD_WARD": ward,
            "GEO311_LOAD_USER_COUNT": str(users),
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
                str(users),
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
            timeout=seconds + 180,
        )
        wall = time.perf_counter() - start
    finally:
        stop_server(server)
    stats = read_stats(prefix)
    total_row = next(r for r in stats if r["name"].endswith("Aggregated"))
    endpoints = [r for r in stats if not r["name"].endswith("Aggregated")]
    for row in endpoints:
        row["target_p95_ms"] = target_of(row["name"])
        row["met"] = row["failures"] == 0 and (row["target_p95_ms"] is None or row["p95_ms"] <= row["target_p95_ms"])
    summary = {
        "users": users,
        "seconds": seconds,
        "wall_s": round(wall),
        "server": "gunicorn (4 sync workers)",
        "generator": "locust (same machine)",
        "baseline_health": baseline,
        "total": total_row,
        "endpoints": endpoints,
        "targets": {"failures": 0, "p95_ms_by_kind": TARGETS_MS},
        "all_met": total_row["failures"] == 0 and all(r["met"] for r in endpoints),
    }
    table = [
        (
            f"all ({users} users, {seconds} s)",
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
            "0 failures" + (f", p95 <= {r['target_p95_ms']:.0f} ms" if r["target_p95_ms"] else ""),
            "met" if r["met"] else "NOT MET",
        )
        for r in endpoints
    ]
    write_results("load", summary, table)
    return summary
