"""Benchmark: the Open311 API with 1,000,000 requests stored, under a production WSGI server.

With the benchmarks' generated history of ``total`` requests over the seven years up to today
(:func:`bench.maps.ensure_requests`; the default 90-day window holds tens of thousands of them), the app is served by gunicorn
on this machine and measured over HTTP:

- GET requests.json with the default window (1,000 requests, serialized): p95 <= 100 ms,
  one client asking one after the other;
- POST requests.json (form-encoded, two thirds by lat/long, one third by address_string,
  every one through address validation, routing, duplicate check and commit): sustained
  >= 100 requests/s with zero errors, beside the baseline of the same server and load
  generator on GET /health in the same run.

The load generator is ``wrk`` when installed (``apt-get install wrk``), else a threaded
Python client (which costs CPU on the same 2 cores: the figures then understate the server).
Errors are non-2xx answers, socket errors, and answers whose request is not in the database.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from address_db.validation import Validator
from bench.address_validation import ensure_addresses
from bench.common import bench_database, percentiles, write_results
from bench.maps import ensure_requests
from bench.requests import DATA_DIR
from open311.clients import issue_client

TARGETS = {"get_p95_ms": 100.0, "post_per_s": 100.0}
WORKERS = 4
CONNECTIONS = 8
ROUNDS = 3
VENV_BIN = Path(sys.executable).parent


def ensure_history(database: Any, city: Any, total: int, seed: int) -> dict[str, Any]:
    """The benchmarks' generated history of ``total`` requests up to today (:func:`bench.maps.ensure_requests`):
    its recent months fill the default 90-day window."""
    setup = ensure_requests(total, seed)
    return {"stored": setup["requests"], **{k: v for k, v in setup.items() if k != "requests"}}


def post_bodies(database: Any, city: Any, key: str, count: int, seed: int) -> list[str]:
    """Form-encoded POST bodies: two thirds a point on an in-city address, one third a validated address_string."""
    validator = Validator(city.key, settings=city.addresses, home_name=city.name)
    with database.session() as session:
        points = session.execute(
            text(
                "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address_point WHERE city = :c AND kind = 'address' "
                "AND in_jurisdiction ORDER BY random() LIMIT :n"
            ),
            {"c": city.key, "n": count},
        ).all()
        sample = (
            session.execute(
                text(
                    "SELECT standardized FROM address_point WHERE city = :c AND kind = 'address' AND in_jurisdiction "
                    "ORDER BY random() LIMIT :n"
                ),
                {"c": city.key, "n": count // 2},
            )
            .scalars()
            .all()
        )
        addresses = [a for a in sample if validator.validate(session, a).status == "valid"]
    rng = np.random.default_rng(seed)
    bodies = []
    for i, point in enumerate(points):
        service = ["graffiti", "illegal-dumping", "dead-animal"][i % 3]
        fields = {"api_key": key, "service_code": service, "description": f"Reported by the benchmark ({i})"}
        if service == "graffiti":
            fields["attribute[surface]"] = "wall"
        if i % 3 == 2 and addresses:
            fields["address_string"] = addresses[i % len(addresses)]
        else:
            fields["lat"] = f"{point.lat + rng.normal(0, 2e-5):.7f}"
            fields["long"] = f"{point.lon + rng.normal(0, 2e-5):.7f}"
        bodies.append(urllib.parse.urlencode(fields))
    return bodies


# -- the server ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, port: int, log: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """gunicorn with ``WORKERS`` sync workers on the bench database; waits until it answers."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "GEO311_ENV": "production",
        "SECRET_KEY": secrets.token_hex(16),
        "GEO311_OPEN311_KEYLESS_PER_MINUTE": "100000000",
        **(extra_env or {}),
    }
    with open(log, "ab") as handle:  # the server keeps its own copy of the descriptor
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "--timeout",
                "60",
                "app:create_app()",
            ],
            env=env,
            stdout=handle,
            stderr=handle,
            start_new_session=True,
        )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if http_get(port, "/health")[0] == 200:
                return server
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise RuntimeError(f"gunicorn did not answer within 120 s; see {log}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def http_get(port: int, path: str, connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def time_gets(port: int, path: str, n: int, warmup: int = 20) -> dict[str, Any]:
    """Percentiles of ``n`` sequential GETs over one keep-alive connection; every answer must be 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = []
    for i in range(warmup + n):
        start = time.perf_counter()
        status, body = http_get(port, path, conn)
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:200]!r}")
        if i >= warmup:
            samples.append(elapsed)
    conn.close()
    result: dict[str, Any] = {**percentiles(samples)}
    result["bytes"] = len(body)
    result["requests_in_answer"] = len(json.loads(body)) if path.split("?")[0].endswith(".json") else None
    return result


# -- load generation --------------------------------------------------------------------------------

WRK_SCRIPT = """
local bodies = {}
local i = 0
init = function(args)
  if args[1] then for line in io.lines(args[1]) do bodies[#bodies + 1] = line end end
  i = math.random(math.max(#bodies, 1))
end
request = function()
  if #bodies == 0 then return wrk.format("GET") end
  i = i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\\n', summary.requests,
    summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50),
    latency:percentile(95), latency:percentile(99)))
end
"""


def load(port: int, path: str, seconds: int, bodies_file: Path | None = None) -> dict[str, Any]:
    """Requests/s and latency of ``CONNECTIONS`` clients for ``seconds`` (POSTing the bodies, else GET)."""
    if shutil.which("wrk"):
        script = DATA_DIR / "open311-wrk.lua"
        script.write_text(WRK_SCRIPT)
        command = [
            "wrk",
            "-t",
            "2",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{path}",
        ]
        if bodies_file is not None:
            command += ["--", str(bodies_file)]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        line = next(line for line in output.splitlines() if line.startswith("WRKJSON "))
        raw = json.loads(line[len("WRKJSON ") :])
        errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
        return {
            "generator": "wrk",
            "requests": raw["requests"],
            "seconds": round(raw["duration_us"] / 1e6, 2),
            "per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "errors": errors,
            "non_2xx": raw["status"],
            "p50_ms": raw["p50_us"] / 1000,
            "p95_ms": raw["p95_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000,
            "connections": CONNECTIONS,
        }
    return _python_load(port, path, seconds, bodies_file)


def _python_load(port: int, path: str, seconds: int, bodies_file: Path | None) -> dict[str, Any]:
    bodies = bodies_file.read_text().splitlines() if bodies_file else []
    stop = time.perf_counter() + seconds
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = offset
        mine = []
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                if bodies:
                    conn.request(
                        "POST",
                        path,
                        body=bodies[i % len(bodies)],
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                else:
                    conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except OSError:
                ok = False
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - start) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
            i += CONNECTIONS
        with lock:
            samples.extend(mine)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    p = percentiles(samples)
    return {
        "generator": "python threads",
        "requests": len(samples),
        "seconds": round(elapsed, 2),
        "per_s": round(len(samples) / elapsed, 1),
        "errors": errors[0],
        "non_2xx": errors[0],
        "p50_ms": p["p50"],
        "p95_ms": p["p95"],
        "p99_ms": p["p99"],
        "connections": CONNECTIONS,
    }


# -- the benchmark ---------------------------------------------------------------------------------


def _combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several load runs as one: requests/s over their total time, the worst p95, errors summed."""
    requests, seconds = sum(r["requests"] for r in runs), sum(r["seconds"] for r in runs)
    return {
        "generator": runs[0]["generator"],
        "requests": requests,
        "seconds": round(seconds, 2),
        "per_s": round(requests / seconds, 1),
        "errors": sum(r["errors"] for r in runs),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "p95_ms": max(r["p95_ms"] for r in runs),
        "per_round": [r["per_s"] for r in runs],
        "connections": CONNECTIONS,
    }


def filed_by(session: Any, client_id: int) -> int:
    """How many requests the API client has filed (its id is in each request's history)."""
    return session.execute(
        text("SELECT count(*) FROM request_event WHERE kind = 'created' AND data->>'client' = :c"),
        {"c": f"open311:{client_id}"},
    ).scalar()


def run(total: int = 1_000_000, seconds: int = 30, gets: int = 300, seed: int = 311) -> dict[str, Any]:
    """Run the benchmark and write bench/results/open311.{json,md}."""
    ensure_addresses(total, seed)
    database, city = bench_database()
    setup = ensure_history(database, city, total, seed)
    with database.session() as session:
        client, key = issue_client(session, city.key, "Benchmark load generator", per_minute=100_000_000)
        window = session.execute(
            text("SELECT count(*) FROM service_request WHERE city = :c AND requested_at >= now() - interval '90 days'"),
            {"c": city.key},
        ).scalar()
        stored = session.execute(text("SELECT count(*) FROM service_request")).scalar()
    bodies = post_bodies(database, city, key, 3000, seed)
    bodies_file = DATA_DIR / "open311-post-bodies.txt"
    bodies_file.write_text("\n".join(bodies) + "\n")

    port = free_port()
    server = start_server(database.url, port, DATA_DIR / "open311-gunicorn.log")
    try:
        warmup = load(port, "/open311/v2/requests.json", 5, bodies_file)  # every worker's caches, before timing
        if warmup["errors"]:
            raise RuntimeError(f"warm-up POSTs failed: {warmup}; see the gunicorn log in {DATA_DIR}")
        static = load(port, "/static/favicon.svg", 10)
        get_json = time_gets(port, "/open311/v2/requests.json", gets)
        get_xml = time_gets(port, "/open311/v2/requests.xml", gets // 3)
        # The machine is shared: baseline and POST take turns, so that both see the same neighbours.
        rounds: list[dict[str, Any]] = []
        with database.session() as session:
            before = filed_by(session, client.id)
        for _ in range(ROUNDS):
            rounds.append(
                {
                    "health": load(port, "/health", seconds // ROUNDS),
                    "post": load(port, "/open311/v2/requests.json", seconds // ROUNDS, bodies_file),
                    "load_average": round(os.getloadavg()[0], 2),
                }
            )
        with database.session() as session:
            after = filed_by(session, client.id)
    finally:
        stop_server(server)
    baseline = _combined([r["health"] for r in rounds])
    post = _combined([r["post"] for r in rounds])
    post["stored"] = after - before
    # every 2xx answer must be a stored request (requests in flight at the end may be stored, never counted)
    post["missing"] = max(0, post["requests"] - post["non_2xx"] - post["stored"])
    post["errors"] += post["missing"]

    ratio = round(post["per_s"] / baseline["per_s"], 2)
    summary = {
        "setup": setup,
        "stored_requests": stored,
        "in_default_window": window,
        "workers": WORKERS,
        "server": "gunicorn (sync workers)",
        "machine_cores": os.cpu_count(),
        "baseline_health": baseline,
        "baseline_static_file": static,
        "rounds": rounds,
        "post_to_health": ratio,
        "get_requests_json": get_json,
        "get_requests_xml": get_xml,
        "post": post,
        "targets": TARGETS,
        "met": {
            "get_p95_ms": get_json["p95"] <= TARGETS["get_p95_ms"],
            "post_per_s": post["per_s"] >= TARGETS["post_per_s"] and post["errors"] == 0,
        },
    }
    table = [
        (
            f"GET requests.json, default window ({get_json['requests_in_answer']:,} of {window:,} in 90 days; "
            f"{stored:,} stored)",
            f"p50 {get_json['p50']} ms, p95 {get_json['p95']} ms",
            f"p95 <= {TARGETS['get_p95_ms']:g} ms",
            "one client, keep-alive",
        ),
        ("GET requests.xml, default window", f"p50 {get_xml['p50']} ms, p95 {get_xml['p95']} ms", "-", "-"),
        (
            f"POST requests.json ({CONNECTIONS} connections, {ROUNDS} x {seconds // ROUNDS} s, {post['generator']})",
            f"{post['per_s']:,.0f} requests/s ({', '.join(f'{r:.0f}' for r in post['per_round'])}), "
            f"{post['errors']} errors, p95 {post['p95_ms']:.0f} ms",
            f">= {TARGETS['post_per_s']:g}/s, 0 errors",
            f"GET /health in turn: {baseline['per_s']:,.0f}/s ({', '.join(f'{r:.0f}' for r in baseline['per_round'])}), "
            f"{baseline['errors']} errors; POST = {ratio:.2f} x /health",
        ),
        (
            "static file (favicon), same server",
            f"{static['per_s']:,.0f} requests/s, p95 {static['p95_ms']:.0f} ms",
            "-",
            f"load average during the rounds: {', '.join(str(r['load_average']) for r in rounds)}",
        ),
    ]
    write_results("open311", summary, table)
    return summary
