"""Faults: the database restarted under load, imports killed midway.

These tests need a database of their own (a copy of the session database) because they
commit for real and restart the server or kill writers; it is dropped afterwards.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.factory import create_app
from core.cluster import EmbeddedCluster
from core.database import Database, normalize_url
from core.settings import PROJECT_ROOT
from tests.conftest import TEST_DBNAME

FAULT_DBNAME = f"geo311_fault_{os.getpid()}"


@pytest.fixture(scope="module")
def fault_database(database, settings) -> Iterator[tuple[Database, str]]:
    """A copy of the session database that these tests may commit to; yields it and its URL."""
    database.dispose()  # a template database must have no other connections
    if settings.database_url:
        server = normalize_url(settings.database_url)
        url = make_url(server).set(database=FAULT_DBNAME).render_as_string(hide_password=False)
        admin = create_engine(server, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    else:
        cluster = EmbeddedCluster(settings.pg_dir)
        url = cluster.url(FAULT_DBNAME)
        admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{FAULT_DBNAME}" TEMPLATE "{TEST_DBNAME}"'))
    copy = Database(url=url)
    try:
        yield copy, url
    finally:
        copy.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{FAULT_DBNAME}" WITH (FORCE)'))
        admin.dispose()


class Resident:
    """A resident's browser: fetches the form (cookie and CSRF token), submits, retries the same form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )
        self.token: str | None = None

    def call(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.headers.get("Location", ""), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            return 0, "", str(error)

    def submit(self, key: str) -> tuple[int, str, str]:
        if self.token is None:
            status, _, page = self.call("/report/graffiti")
            found = re.search(r'name="csrf_token" value="([^"]+)"', page)
            if status != 200 or not found:
                return status, "", page
            self.token = found.group(1)
        return self.call(
            "/report/graffiti",
            {
                "csrf_token": self.token,
                "lon": "-118.2668",
                "lat": "34.0732",
                "attribute[surface]": "wall",
                "description": "Load test",
                "idempotency_key": key,
            },
        )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


@pytest.mark.exclusive  # it restarts the one embedded server: another worker's tests would lose it
def test_database_restart_under_load_loses_and_doubles_nothing(fault_database, settings):
    if settings.database_url:
        pytest.skip("restarting the server needs the embedded cluster (DATABASE_URL names another server)")
    from tests.helpers.browser import live_server

    copy, _ = fault_database
    cluster = EmbeddedCluster(settings.pg_dir)
    app = create_app(
        replace(settings, rate_public_forms="100000/minute", rate_public_api="100000/minute"), database=copy
    )
    run = uuid.uuid4().hex[:8]
    acknowledged: dict[str, str] = {}
    outcomes: list[tuple[float, float, int, str]] = []  # (sent, answered, status, body)
    health_down: list[tuple[int, str]] = []
    stop = threading.Event()
    lock = threading.Lock()

    def resident(worker: int, base: str) -> None:
        person = Resident(base)
        n = 0
        while not stop.is_set():
            key = f"fault-{run}-{worker}-{n}"
            while True:  # an app retries the same form until it is acknowledged
                sent = time.monotonic()
                status, location, body = person.submit(key)
                with lock:
                    outcomes.append((sent, time.monotonic(), status, "" if status == 303 else body))
                if status == 303:
                    with lock:
                        acknowledged[key] = location.split("/status/")[1].split("?")[0]
                    break
                person.token = None if status in (0, 400) else person.token
                time.sleep(0.1)
            n += 1

    with live_server(app, threaded=True) as base:
        workers = [threading.Thread(target=resident, args=(w, base)) for w in range(4)]
        for w in workers:
            w.start()
        time.sleep(3)
        before_restart = len(acknowledged)
        cluster.stop()
        down_at = time.monotonic()
        time.sleep(1.5)
        checker = Resident(base)
        health_down.append(checker.call("/health")[::2])
        starting_at = time.monotonic()  # from here on the server may answer before start() returns
        cluster.start()
        time.sleep(4)
        stop.set()
        for w in workers:
            w.join(timeout=60)
        health_up = Resident(base).call("/health")

    assert before_restart > 5 and len(acknowledged) > before_restart + 5  # it worked before and after
    # Sent and answered while the server was down (a request sent before may commit and be answered late,
    # and one sent while it was starting may be served before start() has returned).
    during = [
        (status, body) for sent, answered, status, body in outcomes if down_at + 0.2 < sent and answered < starting_at
    ]
    assert during and all(status == 503 for status, _ in during), {s for s, _ in during}
    assert any("try again" in body for _, body in during)  # a clear message, not a stack trace
    assert health_down[0][0] == 503 and "unreachable" in health_down[0][1]
    assert health_up[0] == 200  # recovered by itself once the server was back
    assert not any(status >= 500 and status != 503 for _, _, status, _ in outcomes)

    with copy.session() as session:
        rows = session.execute(
            text("SELECT idempotency_key, public_ref FROM service_request WHERE idempotency_key LIKE :p"),
            {"p": f"fault-{run}-%"},
        ).all()
    stored = dict(rows)
    assert len(rows) == len(stored)  # none twice
    assert all(stored.get(key) == ref for key, ref in acknowledged.items())  # every acknowledged one is there
    assert set(stored) <= set(acknowledged) | {f"fault-{run}-{w}-{n}" for w in range(4) for n in range(10_000)}


#: (command, SQL text that shows the import is writing, query of the state it must leave intact)
IMPORTS = {
    "history": (
        ["requests", "import"],
        "INSERT INTO service_request",
        "SELECT count(*), md5(string_agg(public_ref || status || updated_at::text, ',' ORDER BY id)) "
        "FROM service_request",
    ),
    "addresses": (
        ["addresses", "load"],
        "INSERT INTO address_point",
        "SELECT count(*), max(load_id), md5(string_agg(standardized, ',' ORDER BY id)) FROM address_point",
    ),
    "boundaries": (
        ["boundaries", "load-city", "--force"],
        "INSERT INTO boundary_piece",
        "SELECT string_agg(id || ':' || is_current, ',' ORDER BY id) FROM boundary_layer_version",
    ),
}


@pytest.mark.parametrize("kind", list(IMPORTS))
def test_an_import_killed_midway_leaves_the_data_and_can_run_again(kind, fault_database, settings):
    copy, url = fault_database
    args, marker, state = IMPORTS[kind]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "app",
        "GEO311_CITY": "la",
        "GEO311_DATA_DIR": str(settings.data_dir),
    }
    flask = [sys.executable, "-m", "flask", *args]
    with copy.session() as session:
        before = session.execute(text(state)).one()

    process = subprocess.Popen(flask, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    writing = False
    with copy.session() as session:
        while time.monotonic() < deadline and process.poll() is None:
            writing = session.execute(
                text(
                    "SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE :m"
                ),
                {"m": f"%{marker}%"},
            ).scalar()
            session.rollback()
            if writing:
                break
            time.sleep(0.05)
    assert writing, (
        f"the {kind} import never reached its writes: {process.stdout.read().decode()[-800:] if process.poll() is not None else ''}"
    )
    process.send_signal(signal.SIGKILL)  # no chance to clean up
    process.wait(timeout=30)

    time.sleep(0.5)  # the server notices the closed connection and rolls back
    with copy.session() as session:
        after_kill = session.execute(text(state)).one()
    assert after_kill == before

    rerun = subprocess.run(flask, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout[-800:] + rerun.stderr[-800:]


#: What an outage's causes hold and no visitor may read: folders, server log lines, how to rebuild.
OPERATOR_WORDS = re.compile(
    r"/(?:work|var|tmp|nonexistent|usr|root|home)\b|delete|afresh|LOG:|FATAL|\.s\.PGSQL|pg_ctl", re.IGNORECASE
)


def _broken_cluster_root() -> Path:
    """A cluster folder whose server cannot start (a data folder without its files), with log lines in its log."""
    root = PROJECT_ROOT / "var" / f"broken-{uuid.uuid4().hex[:8]}"
    (root / "data").mkdir(parents=True)
    (root / "data" / "PG_VERSION").write_text("15\n")
    (root / "server.log").write_text(
        "2026-12-01 23:00:00 UTC [4242] LOG:  starting PostgreSQL\n"
        '2026-12-01 23:00:01 UTC [4242] FATAL:  could not open file "global/pg_control"\n'
    )
    return root


@pytest.mark.db  # starts a PostgreSQL cluster of its own (in a broken folder)
@pytest.mark.parametrize("outage", ["cluster does not start", "server not listening"])
def test_an_outage_page_tells_visitors_to_try_again_and_logs_the_cause(outage, settings, caplog):
    import shutil

    from core.errors import DatabaseUnavailable

    root = _broken_cluster_root()
    if outage == "cluster does not start":
        database = Database(cluster=EmbeddedCluster(root))
    else:
        database = Database(url="postgresql+psycopg://geo311@/geo311?host=/nonexistent-geo311-socket&port=5432")
    try:
        if outage == "cluster does not start":  # the cause really is full of operator words
            with pytest.raises(DatabaseUnavailable, match="delete"):
                database.session()
        client = create_app(settings, database=database).test_client()
        for path in (
            "/report/graffiti",
            "/health",
            "/open311/v2/services.json",
            "/api/addresses/suggest?q=200+N+Spring+St",
        ):
            response = client.get(path)
            body = response.get_data(as_text=True)
            assert response.status_code == 503, (path, body[:300])
            assert not OPERATOR_WORDS.search(body), (path, OPERATOR_WORDS.search(body))
        page = client.get("/report/graffiti").get_data(as_text=True)
        assert "The service is temporarily unavailable; please try again in a few minutes, or call 311" in page
    finally:
        database.dispose()
        shutil.rmtree(root, ignore_errors=True)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "database unavailable on GET /report/graffiti" in logged
    assert ("delete" in logged) if outage == "cluster does not start" else ("nonexistent-geo311-socket" in logged)
