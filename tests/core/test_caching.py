"""The one cache policy (core/caching.py), without a database: bounds, versions, freshness, bypass."""

from __future__ import annotations

import pytest

from core import caching
from core.caching import POLICY, CachePolicy, FrameCache, LRUStore, ResultCache, VersionedCache


def test_a_store_keeps_the_most_recently_used():
    size = [2]
    store: LRUStore[str] = LRUStore(lambda: size[0])
    store.put("a", "A")
    store.put("b", "B")
    assert store.get("a") == "A"  # a is now the most recent
    store.put("c", "C")
    assert (store.get("a"), store.get("b"), store.get("c")) == ("A", None, "C")
    size[0] = 1  # the bound is read when a value is kept
    store.put("d", "D")
    assert len(store) == 1 and store.get("d") == "D"


def test_results_follow_the_version_and_their_age(monkeypatch):
    version = ["v1"]
    cache = ResultCache(lambda session: version[0], size=8, max_age=0)
    computed = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert cache.get_or_compute(None, "k", compute) == 1
    assert cache.get_or_compute(None, "k", compute) == 1
    version[0] = "v2"
    assert cache.get_or_compute(None, "k", compute) == 2
    cache.max_age = 3600  # an older version is served while young
    version[0] = "v3"
    assert cache.get_or_compute(None, "k", compute) == 2
    version[0] = None  # the session wrote the tables behind it: computed, not kept
    assert cache.get_or_compute(None, "k", compute) == 3
    version[0] = "v3"
    assert cache.get_or_compute(None, "k", compute) == 2
    assert (cache.hits, cache.misses) == (3, 2)  # the bypass is neither


def test_the_results_take_their_size_and_age_from_the_policy(monkeypatch):
    monkeypatch.setattr(caching, "POLICY", CachePolicy())
    caching.POLICY.configure(45)
    cache = ResultCache(lambda session: "v")
    assert (cache.max_age, cache.size) == (45.0, caching.POLICY.results)
    from geo.cache import RESULTS

    assert RESULTS.max_age == 45.0  # the shared cache reads the policy too


def test_an_index_is_built_for_a_session_with_its_own_writes(monkeypatch):
    writes = [False]
    monkeypatch.setattr(caching, "own_writes", lambda session, tables: writes[0])
    builds = []
    cache: VersionedCache[int] = VersionedCache(
        lambda session, key: builds.append(key) or len(builds), lambda session, key: "v", max_age=0, tables=("t",)
    )
    assert cache.get(None, "la") == 1
    assert cache.get(None, "la") == 1
    writes[0] = True
    assert cache.get(None, "la") == 2
    writes[0] = False
    assert cache.get(None, "la") == 1  # the shared value was left alone


def test_a_frame_is_built_for_a_session_with_its_own_writes(monkeypatch):
    writes = [True]
    monkeypatch.setattr(caching, "own_writes", lambda session, tables: writes[0])
    cache: FrameCache[object] = FrameCache(("t",), size=lambda: 4)
    first = cache.get_or_build(None, "k", object)
    assert len(cache) == 0 and cache.get_or_build(None, "k", object) is not first
    writes[0] = False
    kept = cache.get_or_build(None, "k", object)
    assert cache.get_or_build(None, "k", object) is kept and len(cache) == 1


@pytest.mark.parametrize(
    "module, name",
    [
        ("boundaries.index", "IndexCache"),
        ("address_db.streets", "StreetIndexCache"),
        ("address_db.typed_place", "PlaceIndexCache"),
    ],
)
def test_every_index_cache_names_its_tables_and_takes_the_policys_age(module, name):
    import importlib

    cls = getattr(importlib.import_module(module), name)
    cache = cls("Town", None) if name == "PlaceIndexCache" else cls()
    assert cache.max_age == POLICY.index_max_age
    assert cache.tables and set(cache.tables) <= set(caching.BOUNDARY_TABLES + caching.ADDRESS_TABLES)
