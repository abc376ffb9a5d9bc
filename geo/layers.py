"""The city's boundary layers as GeoDataFrames: wards and districts with area and population,
and the home jurisdiction. Read once per layer version and kept in memory (the policy of
:mod:`core.caching`: keyed by the layer version id, at most ``POLICY.frames`` frames, bypassed
by a session that has written boundaries itself).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from boundaries.rules import current_layers
from core.caching import BOUNDARY_TABLES, FrameCache, database_identity
from core.city import AREA_ROLES, AreaLayerSpec, CityConfig, PopulationSpec
from core.errors import ConfigError, DataFileError, UserError

#: Outline simplification for maps (degrees, about 5 m), topology kept.
DISPLAY_TOLERANCE = 0.00005

_frames: FrameCache[gpd.GeoDataFrame] = FrameCache(BOUNDARY_TABLES)


class UnknownLayer(UserError):
    """A layer name that the city does not configure."""


def area_spec(city: CityConfig, layer: str) -> AreaLayerSpec:
    """The ward or district layer ``layer`` of ``city``; a sentence naming the known ones if absent."""
    spec = city.areas.get(layer)
    if spec is None:
        known = ", ".join(city.areas) or "none"
        raise UnknownLayer(f"{city.name} has no {layer!r} layer; its area layers are: {known}.")
    return spec


def layer_version(session: Session, city: CityConfig, role: str) -> int | None:
    """The id of the current version of ``role`` (None when not loaded)."""
    return session.execute(
        text(f"SELECT id FROM boundary_layer_version WHERE {current_layers(None, role_param='role')}"),
        {"city": city.key, "role": role},
    ).scalar()


def areas(session: Session, city: CityConfig, layer: str) -> gpd.GeoDataFrame:
    """The areas of ``layer`` (``wards`` or ``districts``): ``key``, ``name``, ``area_km2``
    (on the ellipsoid), ``population`` (NaN where not configured) and the outline
    simplified for display, in EPSG:4326, ordered by name.
    """
    spec = area_spec(city, layer)
    version = layer_version(session, city, layer)
    if version is None:
        raise UserError(f"The {spec.label.lower()} layer is not loaded yet: run `flask boundaries load-city`.")
    population_stamp = _population_stamp(spec.population)
    cache_key = (database_identity(session), city.key, layer, version, spec.population, population_stamp)
    return _frames.get_or_build(session, cache_key, lambda: _areas(session, city, spec, version))


def _areas(session: Session, city: CityConfig, spec: AreaLayerSpec, version: int) -> gpd.GeoDataFrame:
    rows = session.execute(
        text(
            """
        SELECT f.key, f.name, ST_Area(f.geom::geography) / 1e6 AS area_km2, f.properties,
               ST_AsBinary(ST_SimplifyPreserveTopology(f.geom, :tolerance)) AS geom
        FROM boundary_feature f WHERE f.version_id = :version
        """
        ),
        {"version": version, "tolerance": DISPLAY_TOLERANCE},
    ).all()
    frame = gpd.GeoDataFrame(
        {"key": [r.key for r in rows], "name": [r.name for r in rows], "area_km2": [float(r.area_km2) for r in rows]},
        geometry=shapely.from_wkb([bytes(r.geom) for r in rows]),
        crs="EPSG:4326",
    )
    frame["population"] = (
        _population(spec, city, {r.key: r.properties or {} for r in rows}).reindex(frame["key"]).to_numpy(dtype=float)
    )
    return frame.sort_values("name", key=_natural).reset_index(drop=True)


def jurisdiction(session: Session, city: CityConfig, simplified: bool = True) -> gpd.GeoDataFrame:
    """The home jurisdiction (one row), simplified for display unless ``simplified`` is False."""
    version = layer_version(session, city, "jurisdiction")
    if version is None:
        raise UserError("The city limit is not loaded yet: run `flask boundaries load-city`.")
    cache_key = (database_identity(session), city.key, "jurisdiction", version, simplified)
    return _frames.get_or_build(session, cache_key, lambda: _jurisdiction(session, version, simplified))


def _jurisdiction(session: Session, version: int, simplified: bool) -> gpd.GeoDataFrame:
    row = session.execute(
        text(
            """
        SELECT f.name, ST_Area(f.geom::geography) / 1e6 AS area_km2,
               ST_AsBinary(CASE WHEN :simplified THEN ST_SimplifyPreserveTopology(f.geom, :tolerance) ELSE f.geom END) AS geom
        FROM boundary_feature f WHERE f.version_id = :version
        """
        ),
        {"version": version, "tolerance": DISPLAY_TOLERANCE, "simplified": simplified},
    ).one()
    return gpd.GeoDataFrame(
        {"name": [row.name], "area_km2": [float(row.area_km2)]},
        geometry=[shapely.from_wkb(bytes(row.geom))],
        crs="EPSG:4326",
    )


def projected_srid(city: CityConfig) -> int:
    """The EPSG code of the city's projected CRS (what PostGIS needs)."""
    import pyproj

    code = pyproj.CRS.from_user_input(city.projected_crs).to_epsg()
    if code is None:
        raise ConfigError(
            f"{city.path.name}: projected_crs {city.projected_crs!r} has no EPSG code; "
            'name the CRS by its EPSG code (e.g. "EPSG:32611").'
        )
    return int(code)


def _natural(names: pd.Series) -> pd.Series:
    """Sort "District 2" before "District 10"."""
    return names.str.replace(r"\d+", lambda m: m.group(0).zfill(8), regex=True).str.lower()


def _population_stamp(spec: PopulationSpec | None) -> object:
    if spec is None or spec.path is None:
        return None
    try:
        return spec.path.stat().st_mtime_ns
    except OSError:
        return "missing"


def _population(spec: AreaLayerSpec, city: CityConfig, properties: dict[str, dict]) -> pd.Series:
    """Residents by area key (NaN where unknown)."""
    population = spec.population
    if population is None:
        return pd.Series(dtype=float)
    if population.field:
        values = {key: props.get(population.field) for key, props in properties.items()}
        return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    return _population_file(population.path, population, city)  # type: ignore[arg-type]


def _population_file(path: Path, spec: PopulationSpec, city: CityConfig) -> pd.Series:
    try:
        table = pd.read_csv(path, dtype={spec.key_column: str})
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{city.path.name}: the population file {path} cannot be read ({exc}).") from exc
    for column in (spec.key_column, spec.value_column):
        if column not in table.columns:
            raise DataFileError(
                f"{path.name} has no column {column!r} (it has {', '.join(table.columns)}); "
                "set key_column / value_column in the city file."
            )
    return pd.to_numeric(table.set_index(table[spec.key_column].str.strip())[spec.value_column], errors="coerce")


__all__ = ["AREA_ROLES", "areas", "area_spec", "jurisdiction", "layer_version", "projected_srid"]
