"""The cache policy against PostgreSQL: a session's own writes to the tables behind a value
bypass its cache, and writes elsewhere do not."""

from __future__ import annotations

from sqlalchemy import text

from boundaries.index import IndexCache
from core.caching import BOUNDARY_TABLES, own_writes
from geo import layers
from geo.cache import data_version


def _touch_boundaries(session) -> None:
    session.execute(text("UPDATE boundary_layer_version SET is_current = is_current WHERE city = 'la'"))


def test_own_writes_are_told_by_table(session):
    assert not own_writes(session, BOUNDARY_TABLES) and data_version(session) is not None  # nothing written yet
    session.execute(text("CREATE TEMP TABLE scratch (x int)"))
    session.execute(text("CREATE TEMP TABLE untouched (x int)"))
    session.execute(text("INSERT INTO scratch VALUES (1)"))
    assert own_writes(session, ("scratch",)) and not own_writes(session, ("untouched",))
    _touch_boundaries(session)
    assert own_writes(session, BOUNDARY_TABLES) and own_writes(session, ("boundary_layer_version",))
    assert data_version(session) is None  # the analyses' results are computed for this session only


def test_a_session_that_wrote_boundaries_gets_its_own_index_and_outlines(session, la):
    cache = IndexCache(max_age=0, cities=[la])
    shared = cache.get(session, "la")
    wards = layers.areas(session, la, "wards")
    assert cache.get(session, "la") is shared and layers.areas(session, la, "wards") is wards
    _touch_boundaries(session)
    assert cache.get(session, "la") is not shared  # built for this session, not kept
    assert layers.areas(session, la, "wards") is not wards
    assert layers.areas(session, la, "wards")["key"].tolist() == wards["key"].tolist()
