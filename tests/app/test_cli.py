"""The flask commands, as an administrator uses them."""

from __future__ import annotations

import geopandas as gpd
import pytest
from sqlalchemy import select

from boundaries.models import LayerVersion


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def current_wards(session) -> tuple[int, int]:
    version = session.scalar(
        select(LayerVersion).where(LayerVersion.city == "la", LayerVersion.role == "wards", LayerVersion.is_current)
    )
    return version.id, version.version


def test_load_a_shapefile_as_a_new_version(runner, session, la, tmp_path):
    frame = gpd.read_file(la.areas["wards"].source.path)
    frame["WARD"] = frame["name"]
    path = tmp_path / "wards.shp"
    frame[["WARD", "geometry"]].to_crs("EPSG:2229").to_file(path)
    before = current_wards(session)

    result = runner.invoke(
        args=["boundaries", "load", "wards", str(path), "--id-field", "WARD", "--name-field", "WARD"]
    )

    assert result.exit_code == 0, result.output
    assert f"la wards: version {before[1] + 1}, 15 feature(s)" in result.output
    assert current_wards(session)[1] == before[1] + 1
    from accounts.models import AuditEntry

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "config.boundaries")).all()[-1]
    assert entry.target == "wards" and entry.actor.startswith("cli:") and entry.detail["version"] == before[1] + 1


def test_a_broken_file_fails_cleanly_and_changes_nothing(runner, session, tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": ')
    before = current_wards(session)

    result = runner.invoke(args=["boundaries", "load", "wards", str(broken)])

    assert result.exit_code == 1
    assert result.output.startswith("Error: broken.geojson cannot be read")
    assert "Traceback" not in result.output
    assert current_wards(session) == before


def test_load_city_skips_unchanged_layers(runner):
    result = runner.invoke(args=["boundaries", "load-city"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_versions_and_locate(runner):
    versions = runner.invoke(args=["boundaries", "versions"])
    assert "* wards" in versions.output and "* jurisdiction" in versions.output

    outside = runner.invoke(args=["boundaries", "locate", "-118.3965", "34.0211"])
    assert outside.exit_code == 0
    assert "City of Culver City, phone (310) 253-6000" in outside.output

    bad = runner.invoke(args=["boundaries", "locate", "-118.3", "NaN"])
    assert bad.exit_code == 1 and "finite numbers" in bad.output


def test_db_current_names_both_revisions(runner):
    result = runner.invoke(args=["db", "current"])
    assert result.exit_code == 0
    assert result.output.startswith("database: 0") and "code: 0" in result.output


def test_db_start_and_stop_refuse_a_server_that_is_not_ours(settings, bound_database):
    import dataclasses

    from app.factory import create_app
    from core.database import Database

    app = create_app(
        dataclasses.replace(settings, database_url="postgresql://u@db.example/x"),
        database=Database(url="postgresql://u@db.example/x"),
    )
    for action in ("start", "stop"):
        result = app.test_cli_runner().invoke(args=["db", action])
        assert result.exit_code == 1 and f"not ours to {action}" in result.output
