"""The result cache every worker shares (core/shared_results.py), on the real PostgreSQL.

Two :class:`ResultCache` objects with the same shared name stand for two worker processes
(each has its own in-process tier); threads with sessions of their own ask at the same moment,
as workers do; a second Python process reads what this one stored.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text

from core import shared_results
from core.caching import POLICY, ResultCache
from core.database import Database
from core.settings import PROJECT_ROOT


@pytest.fixture
def name() -> str:
    """A shared cache of the test's own (the table is shared by the whole test database)."""
    return f"test-{secrets.token_hex(4)}"


def worker(name: str, version: list[object]) -> ResultCache:
    return ResultCache(lambda session: version[0], shared=name, max_age=0)


def rows(database: Database, name: str) -> list[tuple[str, int]]:
    with database.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT version, size_bytes FROM result_cache WHERE key LIKE :p"), {"p": f"{name}:%"}
            ).all()
        ]


def test_a_result_computed_by_one_worker_is_served_to_another(database, name):
    version: list[object] = [("db", "7")]
    first, second = worker(name, version), worker(name, version)
    computed: list[str] = []

    def compute() -> dict[str, int]:
        computed.append("once")
        return {"requests": 42}

    with database.session() as session:
        assert first.get_or_compute(session, ("summary", "la"), compute) == {"requests": 42}
        assert second.get_or_compute(session, ("summary", "la"), compute) == {"requests": 42}
        assert computed == ["once"] and second.shared is not None and second.shared.hits == 1
        [(stored_version, size)] = rows(database, name)
        assert stored_version.startswith(repr(("db", "7")) + " since ") and size > 0

        version[0] = ("db", "8")  # a write to the analysed tables: computed again, and stored for all
        third = worker(name, version)
        assert third.get_or_compute(session, ("summary", "la"), compute) == {"requests": 42}
        assert computed == ["once", "once"]
        assert rows(database, name)[0][0].startswith(repr(("db", "8")))
        assert worker(name, version).get_or_compute(session, ("summary", "la"), compute) == {"requests": 42}
        assert len(computed) == 2

        second.clear()  # clearing one clears the shared tier for every worker
        assert rows(database, name) == []


def test_workers_asking_at_once_wait_for_the_one_computing(database, name):
    version: list[object] = [("db", "1")]
    computed: list[int] = []
    answers: list[int] = []

    def compute() -> int:
        computed.append(1)
        time.sleep(1.0)  # a slow figure: the others ask while it is being computed
        return 2024

    def ask() -> None:
        with database.session() as session:
            answers.append(worker(name, version).get_or_compute(session, "hot spots", compute))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert answers == [2024] * 4 and len(computed) == 1


def test_an_older_result_is_served_while_young_and_the_age_is_kept(database, name):
    version: list[object] = [("db", "1")]
    first = ResultCache(lambda session: version[0], shared=name, max_age=3600)
    with database.session() as session:
        assert first.get_or_compute(session, "k", lambda: "computed at version 1") == "computed at version 1"
        version[0] = ("db", "2")
        later = ResultCache(lambda session: version[0], shared=name, max_age=3600)
        assert later.get_or_compute(session, "k", lambda: "version 2") == "computed at version 1"
        strict = ResultCache(lambda session: version[0], shared=name, max_age=0)
        assert strict.get_or_compute(session, "k", lambda: "version 2") == "version 2"


def test_what_cannot_be_shared_is_computed_and_kept_in_the_process(database, name, monkeypatch):
    version: list[object] = [("db", "1")]
    with database.session() as session:
        first = worker(name, version)
        unpicklable = first.get_or_compute(session, "lock", threading.Lock)
        assert first.get_or_compute(session, "lock", threading.Lock) is unpicklable  # kept in the process
        assert rows(database, name) == []
        monkeypatch.setattr(POLICY, "shared_max_bytes", 100)
        assert len(first.get_or_compute(session, "big", lambda: "x" * 1000)) == 1000
        assert rows(database, name) == []  # larger than the bound: not stored
        monkeypatch.setattr(POLICY, "shared_results", 0)  # turned off
        assert worker(name, version).get_or_compute(session, "small", lambda: "s") == "s"
        assert rows(database, name) == []


def test_a_result_of_other_code_is_not_served(database, name, monkeypatch):
    version: list[object] = [("db", "1")]
    with database.session() as session:
        assert worker(name, version).get_or_compute(session, "k", lambda: "old code") == "old code"
        monkeypatch.setattr(shared_results, "code_fingerprint", lambda: "a-new-deployment")
        assert worker(name, version).get_or_compute(session, "k", lambda: "new code") == "new code"


def test_a_result_stored_by_one_process_is_read_by_another(database, name):
    version = ("db", "42")
    with database.session() as session:
        worker(name, [version]).get_or_compute(session, ("map", "wards"), lambda: {"wards": 15})
    script = f"""
import sys
from core.caching import POLICY, ResultCache
from core.database import Database
database = Database(url={database.url!r})
cache = ResultCache(lambda session: {version!r}, shared={name!r}, max_age=0)
with database.session() as session:
    value = cache.get_or_compute(session, ("map", "wards"), lambda: sys.exit("computed again in the other process"))
print(value, cache.shared.hits)
database.dispose()
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "{'wards': 15} 1"


def test_a_shared_tier_that_cannot_be_reached_steps_aside(name):
    unreachable = Database(url="postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1")
    cache = worker(name, [("db", "1")])
    session = unreachable.session()
    try:
        assert cache.get_or_compute(session, "k", lambda: "computed anyway") == "computed anyway"
    finally:
        session.close()
        unreachable.dispose()
