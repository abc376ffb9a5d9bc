"""The load test's people (bench/locustfile.py) against a live server: each kind does what it does, with
no failure, so that the five-minute run at ten million measures pages that work.

A short run with the pauses shortened (GEO311_LOAD_PACE), one or two people of each kind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from app.factory import create_app
from bench.load import busiest_ward, places, read_stats, staff_logins, target_of
from core.settings import PROJECT_ROOT
from open311.clients import issue_client
from tests.helpers.browser import live_server

LOCUSTFILE = PROJECT_ROOT / "bench" / "locustfile.py"
PEOPLE = 6


def test_every_kind_of_person_works_without_a_failure(settings, bound_database, la, tmp_path):
    unlimited = "100000/minute"
    app = create_app(
        dataclasses.replace(settings, rate_login=unlimited, rate_public_forms=unlimited, rate_public_api=unlimited),
        database=bound_database,
    )
    with bound_database.session() as session:
        _, key = issue_client(session, "la", "Load test", per_minute=100_000)
        session.commit()
    ward = busiest_ward(bound_database, "la")
    logins = staff_logins(bound_database, "la", ward)
    places_file = places(bound_database, la, 200, tmp_path / "places.json")
    mix = {"CallTaker": 10, "Resident": 14, "App": 8, "Planner": 6, "Manager": 6, "CouncilOffice": 6}
    users = sum(max(1, round(n * PEOPLE / 50)) for n in mix.values())
    with live_server(app) as base:
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                "25s",
                "--host",
                base,
                "--csv",
                str(tmp_path / "load"),
                "--only-summary",
                "--exit-code-on-error",
                "0",
            ],
            env={
                **os.environ,
                "HOME": str(tmp_path),
                "GEO311_LOAD_API_KEY": key,
                "GEO311_LOAD_PLACES": str(places_file),
                "GEO311_LOAD_USERS": json.dumps(logins),
                "GEO311_LOAD_WARD": ward,
                "GEO311_LOAD_USER_COUNT": str(PEOPLE),
                "GEO311_LOAD_PACE": "0.05",
            },
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    stats = {row["name"]: row for row in read_stats(tmp_path / "load")}
    failing = {name: row["failures"] for name, row in stats.items() if row["failures"]}
    failures_csv = (tmp_path / "load_failures.csv").read_text() if (tmp_path / "load_failures.csv").exists() else ""
    assert not failing, failures_csv[-3000:]
    names = " ".join(stats)
    for expected in (
        "address: /api/addresses/suggest",
        "address: /api/addresses/validate",
        "create: /intake/new/<service> (submit)",
        "create: /report/<service> (submit)",
        "create: /open311/v2/requests.json (POST)",
        "/status/<reference>/follow",
        "map: /maps/hotspots",
        "map: /maps/wards/<ward>",
        "report: /reports/ (Summary of Performance)",
        "report: /reports/?ward=<ward>",
    ):
        assert expected in names, f"nobody asked for {expected}: {sorted(stats)}"
    assert target_of("GET address: /api/addresses/suggest") == 300 and target_of("GET map: /around") == 2000
    assert target_of("GET /open311/v2/services.json") is None
