"""gunicorn with gunicorn.conf.py: the embedded cluster belongs to the master, never to a worker.

Workers are killed (SIGTERM, SIGKILL), reloaded (SIGHUP to the master) and recycled
(``--max-requests``) while threads read the database without pause: no answer may be a
5xx and the database server must run throughout. The master stops the cluster at exit
if and only if it started it. The figures go to the test output and to
``bench/results/gunicorn-workers.json``.
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
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from core.cluster import SUPERVISOR_ENV, EmbeddedCluster
from core.database import DEFAULT_DBNAME, upgrade
from core.settings import PROJECT_ROOT

WORKERS = 3
LOAD_SECONDS = 30
RESULTS = PROJECT_ROOT / "bench" / "results" / "gunicorn-workers.json"
PATHS = ("/health", "/open311/v2/services.json", "/api/addresses/suggest?q=200+N+Spring")


@pytest.fixture(scope="module")
def cluster_root() -> Iterator[Path]:
    """A migrated cluster of its own (under the project, reachable by the server's user when root), stopped."""
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    parent = Path(tempfile.mkdtemp(prefix="gunicorn-test-", dir=PROJECT_ROOT / "var"))
    cluster = EmbeddedCluster(parent / "pg")
    try:
        cluster.ensure_running()
        cluster.ensure_database(DEFAULT_DBNAME)
        engine = create_engine(cluster.url(DEFAULT_DBNAME), poolclass=NullPool)
        upgrade(engine)
        engine.dispose()
        cluster.stop()
        yield parent / "pg"
    finally:
        cluster.stop()
        if cluster.root != (parent / "pg").resolve():  # moved under /var/lib/geo311 (see EmbeddedCluster)
            shutil.rmtree(cluster.root, ignore_errors=True)
            Path(cluster.root.parent, f".{cluster.root.name}.lock").unlink(missing_ok=True)
        shutil.rmtree(parent, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> int:
    """The status of GET ``path``; raises OSError (http.client's errors included) when the connection fails."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Server:
    """gunicorn under gunicorn.conf.py as production runs it, in its own process group."""

    def __init__(self, pg_dir: Path, log: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.log = log
        env = {
            **os.environ,
            "GEO311_PG_DIR": str(pg_dir),
            "GEO311_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "GEO311_RATE_PUBLIC_API": "1000000/minute",
            "GEO311_OPEN311_KEYLESS_PER_MINUTE": "1000000",
            **(env or {}),
        }
        env.pop("DATABASE_URL", None)
        env.pop(SUPERVISOR_ENV, None)
        with open(log, "wb") as handle:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(WORKERS),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--log-level",
                    "info",
                    *extra,
                ],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_serving(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if _get(self.port, "/health") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"gunicorn did not serve /health within {seconds} s:\n{self.log.read_text()}")

    def workers(self) -> list[int]:
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        """SIGTERM to the master (a graceful shutdown), as a service manager stops it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_count(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text)


def _postmaster_pid(cluster: EmbeddedCluster) -> int | None:
    try:
        pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def test_workers_killed_reloaded_and_recycled_under_load_never_stop_the_database(cluster_root, tmp_path):
    cluster = EmbeddedCluster(cluster_root)
    assert not cluster.is_running()
    server = Server(
        cluster_root,
        tmp_path / "gunicorn.log",
        "--max-requests",
        "60",
        "--max-requests-jitter",
        "30",
        "--graceful-timeout",
        "20",
    )
    try:
        server.wait_until_serving()
        postmaster = _postmaster_pid(cluster)
        assert postmaster is not None  # the master started it

        statuses: Counter[int] = Counter()
        connection_errors: list[str] = []
        database_gaps: list[float] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(n: int) -> None:
            i = n
            while not stop.is_set():
                path = PATHS[i % len(PATHS)]
                i += 1
                try:
                    status = _get(server.port, path)
                except OSError as exc:
                    with lock:
                        connection_errors.append(f"{path}: {exc!r}")
                    continue
                with lock:
                    statuses[status] += 1

        def watch_database() -> None:
            while not stop.is_set():
                if _postmaster_pid(cluster) != postmaster:
                    database_gaps.append(time.monotonic())
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        threads.append(threading.Thread(target=watch_database))
        for thread in threads:
            thread.start()
        actions = Counter[str]()
        plan = ["SIGTERM", "SIGKILL", "SIGHUP", "SIGTERM", "SIGKILL"]
        started = time.monotonic()
        step = 0
        while time.monotonic() - started < LOAD_SECONDS:
            time.sleep(2.5)
            action = plan[step % len(plan)]
            step += 1
            if action == "SIGHUP":
                server.process.send_signal(signal.SIGHUP)
                actions["reloads"] += 1
                continue
            workers = server.workers()
            if workers:
                os.kill(workers[step % len(workers)], getattr(signal, action))
                actions[f"workers {action}"] += 1
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        seconds = time.monotonic() - started

        figures = {
            "seconds": round(seconds, 1),
            "workers": WORKERS,
            "max_requests": "60 + up to 30 jitter",
            "requests": sum(statuses.values()) + len(connection_errors),
            "statuses": dict(statuses),
            "server_errors": sum(n for status, n in statuses.items() if status >= 500),
            "connection_errors": len(connection_errors),
            "connection_error_detail": connection_errors,
            "workers_sigterm": actions["workers SIGTERM"],
            "workers_sigkill": actions["workers SIGKILL"],
            "reloads_sighup": actions["reloads"],
            "recycles_max_requests": server.log_count("Autorestarting worker after current request"),
            "workers_booted": server.log_count("Booting worker with pid"),
            "database_down_samples": len(database_gaps),
            "postmaster_pid_unchanged": _postmaster_pid(cluster) == postmaster,
        }
        print("\ngunicorn workers under load:", json.dumps(figures, indent=1))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=1) + "\n")

        assert figures["requests"] > 300
        assert figures["server_errors"] == 0, statuses
        assert set(statuses) == {200}, statuses
        # A SIGKILLed sync worker drops the one connection it was serving, and nothing else.
        assert len(connection_errors) <= actions["workers SIGKILL"], connection_errors
        assert not database_gaps and figures["postmaster_pid_unchanged"]
        assert figures["recycles_max_requests"] >= 2 and actions["reloads"] >= 2
        assert actions["workers SIGKILL"] >= 3 and actions["workers SIGTERM"] >= 3
    finally:
        server.stop()
    assert server.process.returncode == 0, server.log.read_text()
    assert not cluster.is_running()  # the master started it: the master stopped it
    assert "database system is shut down" in cluster.log_file.read_text()


def test_the_master_leaves_running_a_cluster_it_did_not_start(cluster_root, tmp_path):
    cluster = EmbeddedCluster(cluster_root)
    cluster.ensure_running()  # as `flask db start` does
    cluster.started_here = False
    server = Server(cluster_root, tmp_path / "gunicorn.log")
    try:
        server.wait_until_serving()
        assert server.log_count("was running; left running when this server exits") == 1
    finally:
        server.stop()
    try:
        assert server.process.returncode == 0, server.log.read_text()
        assert cluster.is_running()
    finally:
        cluster.stop()


def test_the_master_refuses_to_start_without_a_usable_setting(cluster_root, tmp_path):
    """A setting that cannot work stops gunicorn at once with the sentence, before any worker."""
    env = {**os.environ, "GEO311_PG_DIR": str(cluster_root), "GEO311_ENV": "production"}
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{_free_port()}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr
    assert not EmbeddedCluster(cluster_root).is_running()


@pytest.mark.parametrize("secure_cookies", ["0", ""])
def test_staff_log_in_over_plain_http_with_the_demo_settings(secure_cookies, cluster_root, tmp_path):
    """scripts/demo.sh serves production settings on http://127.0.0.1 with GEO311_SECURE_COOKIES=0.

    Without it the session cookie is Secure, a client over plain http does not send it
    back (as Python's cookie jar and Safari do not), and the login goes round in circles.
    """
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
            return None

    server = Server(cluster_root, tmp_path / "gunicorn.log", env={"GEO311_SECURE_COOKIES": secure_cookies})
    cluster = EmbeddedCluster(cluster_root)
    try:
        server.wait_until_serving()
        env = {**os.environ, "GEO311_PG_DIR": str(cluster_root)}
        env.pop("DATABASE_URL", None)
        username = f"demo{secrets.token_hex(4)}"
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "users",
                "create-admin",
                username,
                "--name",
                "Demo",
                "--password-stdin",
            ],
            input="a long demo passphrase 311\n",
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )
        base = f"http://127.0.0.1:{server.port}"

        def call(path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
            body = urllib.parse.urlencode(data).encode() if data is not None else None
            try:
                with browser.open(base + path, data=body, timeout=60) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        status, form = call("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert status == 200 and token
        status, page = call(
            "/login", {"csrf_token": token.group(1), "username": username, "password": "a long demo passphrase 311"}
        )
        if secure_cookies == "0":
            assert status == 303, page[:500]
            assert call("/admin/users")[0] == 200  # logged in: the session cookie came back
        else:  # production's default: the cookie is Secure and never comes back over http
            assert status == 400 and "The form expired" in page, page[:500]
    finally:
        server.stop()
        cluster.stop()


def test_secure_cookies_follow_the_environment_unless_set():
    from core.errors import ConfigError
    from core.settings import Settings

    production = {"GEO311_ENV": "production", "SECRET_KEY": "x" * 64}
    assert Settings.from_env(production).session_cookie_secure is True
    assert Settings.from_env({**production, "GEO311_SECURE_COOKIES": "0"}).session_cookie_secure is False
    assert Settings.from_env({}).session_cookie_secure is False
    assert Settings.from_env({"GEO311_SECURE_COOKIES": "yes"}).session_cookie_secure is True
    with pytest.raises(ConfigError, match="GEO311_SECURE_COOKIES is 'maybe'; give 1 or 0"):
        Settings.from_env({"GEO311_SECURE_COOKIES": "maybe"})
