"""The embedded PostgreSQL cluster: created on first use, reused, stopped cleanly."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from core.cluster import EmbeddedCluster
from core.settings import PROJECT_ROOT


@pytest.fixture
def cluster_root():
    # Under the project (reachable by the server's user when the tests run as root).
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="cluster-test-", dir=PROJECT_ROOT / "var"))
    yield root / "pg"
    # A checkout the server's user cannot reach keeps its clusters under /var/lib/geo311: remove that too.
    moved = EmbeddedCluster(root / "pg")
    moved.stop()
    if moved.root != (root / "pg").resolve():
        shutil.rmtree(moved.root, ignore_errors=True)
        Path(moved.root.parent, f".{moved.root.name}.lock").unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)


def test_created_on_first_use_reused_and_stopped_cleanly(cluster_root):
    cluster = EmbeddedCluster(cluster_root)
    try:
        assert not cluster.is_initialized()
        assert cluster.ensure_running() is True  # created and started
        cluster.ensure_database("city")
        with psycopg.connect(cluster.conninfo("city"), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (311)")
            assert conn.execute("CREATE EXTENSION postgis").statusmessage == "CREATE EXTENSION"

        again = EmbeddedCluster(cluster_root)  # another process finds it running
        assert again.ensure_running() is False
        again.stop_if_started_here()  # it did not start it: leaves it running
        assert cluster.is_running()

        cluster.stop()
        assert not cluster.is_running()
        assert not (cluster.data_dir / "postmaster.pid").exists()
        assert "database system is shut down" in cluster.log_file.read_text()

        assert cluster.ensure_running() is True  # reused: same data
        with psycopg.connect(cluster.conninfo("city")) as conn:
            assert conn.execute("SELECT n FROM kept").fetchone() == (311,)
    finally:
        cluster.stop()


def test_reachable_only_through_a_private_socket(cluster_root):
    cluster = EmbeddedCluster(cluster_root)
    try:
        cluster.ensure_running()
        conf = (cluster.data_dir / "postgresql.conf").read_text()
        assert "listen_addresses = ''" in conf
        assert oct(cluster.socket_dir.stat().st_mode & 0o777) == "0o700"
        assert oct(cluster.root.stat().st_mode & 0o777) == "0o700"
    finally:
        cluster.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_as_root_the_server_runs_as_an_unprivileged_user(cluster_root):
    cluster = EmbeddedCluster(cluster_root)
    try:
        cluster.ensure_running()
        pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
        assert os.stat(f"/proc/{pid}").st_uid != 0
        assert cluster.user in ("postgres", "geo311")
    finally:
        cluster.stop()


@pytest.mark.db  # starts a PostgreSQL cluster of its own
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another user")
def test_as_root_a_folder_the_server_user_cannot_reach_is_moved(tmp_path):
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    cluster = EmbeddedCluster(private / "pg")
    try:
        assert str(cluster.root).startswith("/var/lib/geo311/")
        assert cluster.ensure_running() is True
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
        Path(cluster.root.parent, f".{cluster.root.name}.lock").unlink(missing_ok=True)


def test_the_app_stops_the_server_it_started_when_terminated(cluster_root):
    """`flask run` starts the embedded server on first use and stops it on SIGTERM."""
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GEO311_PG_DIR": str(cluster_root), "GEO311_ENV": "development"}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cluster = EmbeddedCluster(cluster_root)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except urllib.error.HTTPError:
                break  # 503 (schema not migrated) still means the server answered
            except OSError:
                time.sleep(0.3)
        assert cluster.is_running()

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        assert not cluster.is_running()
        assert "database system is shut down" in cluster.log_file.read_text().splitlines()[-1]
    finally:
        server.kill()
        cluster.stop()


def test_memory_settings_follow_the_machine():
    from core.cluster import memory_settings

    small = memory_settings(2 * 2**30)
    assert small["shared_buffers"] == "512MB" and small["effective_cache_size"] == "1024MB"
    assert memory_settings(512 * 2**20)["shared_buffers"] == "256MB"  # never below the old fixed value
    big = memory_settings(64 * 2**30)
    assert big["shared_buffers"] == "4096MB" and big["maintenance_work_mem"] == "1024MB"


def test_a_second_ctrl_c_does_not_interrupt_the_stop(tmp_path, monkeypatch):
    """Ctrl-C pressed again while the server stops must not leave it running."""
    import signal

    cluster = EmbeddedCluster(tmp_path / "pg")
    cluster.started_here = True
    stopped = []

    def stop() -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the impatient second Ctrl-C, mid-stop
        stopped.append(True)

    monkeypatch.setattr(cluster, "stop", stop)
    # As in a terminal, Ctrl-C raises KeyboardInterrupt (a run started in the background inherits
    # SIGINT ignored, which would hide what this test checks).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cluster.stop_if_started_here()  # no KeyboardInterrupt
        assert stopped == [True]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored afterwards
    finally:
        signal.signal(signal.SIGINT, inherited)


def test_under_a_supervisor_the_app_only_connects(cluster_root, monkeypatch):
    """A gunicorn worker (the master set SUPERVISOR_ENV) never starts the embedded server, so never stops it."""
    from sqlalchemy.exc import OperationalError

    from core.cluster import SUPERVISOR_ENV
    from core.database import Database

    monkeypatch.setenv(SUPERVISOR_ENV, "1")
    database = Database(cluster=EmbeddedCluster(cluster_root))
    with pytest.raises(OperationalError), database.engine.connect():
        pass
    database.dispose()
    assert not EmbeddedCluster(cluster_root).is_initialized()


def test_the_supervisor_stops_only_what_it_started(cluster_root, monkeypatch):
    from dataclasses import replace

    from sqlalchemy import text

    from core.cluster import SUPERVISOR_ENV
    from core.database import Database, end_supervision, supervise_cluster
    from core.settings import Settings

    monkeypatch.delenv(SUPERVISOR_ENV, raising=False)
    settings = replace(Settings.from_env(env="test"), pg_dir=cluster_root, database_url=None)
    cluster = supervise_cluster(settings)
    try:
        assert cluster is not None and cluster.started_here
        assert os.environ[SUPERVISOR_ENV] == str(os.getpid())
        worker = Database.from_settings(settings)  # as a forked worker builds it
        with worker.engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar() == "geo311"
        worker.dispose()
        end_supervision()
        assert not cluster.is_running() and SUPERVISOR_ENV not in os.environ

        cluster.ensure_running()  # now started by someone else (`flask db start`)
        cluster.started_here = False
        assert supervise_cluster(settings).started_here is False
        end_supervision()
        assert cluster.is_running()
    finally:
        end_supervision()
        cluster.stop()
    assert supervise_cluster(replace(settings, database_url="postgresql://elsewhere/db")) is None
    assert SUPERVISOR_ENV not in os.environ
