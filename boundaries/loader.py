"""Loading a city's boundary layers into versioned tables.

A load reads and checks every file first (nothing touches the database until all of
them are good), then writes each layer as a new version in one transaction: the new
version becomes current, the previous one stays on record. Any failure rolls the whole
load back, leaving the previously loaded layers untouched.

A load that changes the jurisdiction or the agencies layer reports the gaps between
them (:mod:`boundaries.gaps`) on the report of the last of the two it stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from boundaries.gaps import GapsReport, find_gaps
from boundaries.models import Feature, LayerVersion
from boundaries.rules import current_layers
from boundaries.sources import Repair, column, file_sha256, read_polygons, valid_multipolygon
from core.city import AgenciesSpec, AreaLayerSpec, CityConfig, JurisdictionSpec, LayerSource
from core.errors import DataFileError, UserError

#: ST_Subdivide's vertex budget per piece: small pieces make index probes cheap.
PIECE_MAX_VERTICES = 128


@dataclass
class LayerFeature:
    """One feature ready to store."""

    key: str
    name: str
    geometry: MultiPolygon
    phone: str | None = None
    website: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class BuiltLayer:
    """A layer read, checked and repaired, not yet stored.

    ``config_digest`` fingerprints the configuration it was built with, so that a
    reload can tell an unchanged layer (same file, same settings) from a changed one.
    """

    role: str
    source: Path
    features: list[LayerFeature]
    repairs: list[Repair]
    config_digest: str = ""


@dataclass(frozen=True)
class LoadReport:
    """What one layer load stored."""

    city: str
    role: str
    version: int
    feature_count: int
    source: str
    repairs: tuple[Repair, ...]
    gaps: GapsReport | None = None

    def summary(self) -> str:
        """One line on the version stored, its repairs and, if computed, the gaps."""
        text = f"{self.city} {self.role}: version {self.version}, {self.feature_count} feature(s) from {self.source}"
        if self.repairs:
            text += f"; {len(self.repairs)} repair(s): " + "; ".join(f"{r.feature} ({r.reason})" for r in self.repairs)
        if self.gaps is not None:
            text += f"\n{self.gaps.summary()}"
        return text


# -- building layers from files ---------------------------------------------------------


def build_area_layer(spec: AreaLayerSpec) -> BuiltLayer:
    """A ward or district layer: one feature per id (features sharing an id are merged)."""
    path = spec.source.path
    frame = read_polygons(spec.source)
    ids = column(frame, spec.id_field, path)
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        rows = ", ".join(str(i + 1) for i in frame.index[blank][:10])
        raise DataFileError(
            f"{path.name}: {int(blank.sum())} feature(s) have no {spec.id_field} (feature number {rows}); "
            "every ward or district needs an id."
        )
    names = column(frame, spec.name_field, path) if spec.name_field else None
    features: dict[str, LayerFeature] = {}
    repairs: list[Repair] = []
    for i in range(len(frame)):
        key = _text(ids.iloc[i])
        name_value = _text(names.iloc[i]) if names is not None else key
        name = spec.name_template.format(id=key, name=name_value)
        geometry, repair = valid_multipolygon(frame.geometry.iloc[i], f"{spec.id_field}={key}", path)
        if repair:
            repairs.append(repair)
        if key in features:  # one area drawn as several features, or two areas sharing an id
            if features[key].name != name:
                raise DataFileError(
                    f"{path.name}: {features[key].name!r} and {name!r} share {spec.id_field} {key!r}; "
                    "ids must tell areas apart: choose another id_field in the city file."
                )
            features[key].geometry = _union([features[key].geometry, geometry])
        else:
            features[key] = LayerFeature(key, name, geometry, properties=_properties(frame, i))
    return BuiltLayer(spec.role, path, list(features.values()), repairs)


def build_jurisdiction(city: CityConfig, source: LayerSource | None = None) -> BuiltLayer:
    """The home jurisdiction: the union of its source's features."""
    source = source or city.jurisdiction.source
    frame = read_polygons(source)
    geometries, repairs = _valid_geometries(frame, source.path, "feature")
    area = _union(geometries)
    threshold = city.jurisdiction.fill_holes_below_m2
    if threshold > 0:
        area, filled = _fill_small_holes(area, threshold, city.projected_crs)
        if filled:
            repairs.append(Repair(city.key, f"filled {filled} sliver hole(s) under {threshold:g} m² left by the union"))
    contact = city.jurisdiction.contact
    feature = LayerFeature(city.key, contact.name, area, contact.phone, contact.website)
    return BuiltLayer("jurisdiction", source.path, [feature], repairs)


def build_agencies(spec: AgenciesSpec, source: LayerSource | None = None) -> BuiltLayer:
    """Neighboring agencies: features grouped by ``group_field``, with their contacts."""
    source = source or spec.source
    path = source.path
    frame = read_polygons(source)
    if spec.exclude is not None:
        excluded = column(frame, spec.exclude.field, path).fillna("").astype(str).isin(spec.exclude.values)
        frame = frame[~excluded].reset_index(drop=True)
    ids = column(frame, spec.id_field, path).fillna("").astype(str)
    names = column(frame, spec.name_field, path).fillna("").astype(str)
    groups = (
        column(frame, spec.group_field, path).fillna("").astype(str)
        if spec.group_field
        else pd.Series([""] * len(frame))
    )
    geometries, repairs = _valid_geometries(frame, path, spec.id_field, ids)

    members: dict[str, list[int]] = {}
    for i in range(len(frame)):
        key = groups.iloc[i] or ids.iloc[i]
        if not key:
            raise DataFileError(
                f"{path.name}: feature number {i + 1} has no {spec.id_field}; every agency needs an id."
            )
        members.setdefault(key, []).append(i)

    features = []
    for key, rows in members.items():
        first = rows[0]
        grouped = len(rows) > 1 or bool(groups.iloc[first])
        feature_name = key.replace("-", " ").title() if grouped else names.iloc[first]
        properties = _properties(frame, first)
        contact = spec.contact_for(key, feature_name, properties)
        if grouped:
            properties = {"members": [ids.iloc[i] for i in rows]}
        features.append(
            LayerFeature(
                key, contact.name, _union([geometries[i] for i in rows]), contact.phone, contact.website, properties
            )
        )
    return BuiltLayer("agencies", path, features, repairs)


def build_layer(
    city: CityConfig,
    role: str,
    source: LayerSource | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
) -> BuiltLayer:
    """Build the layer ``role`` of ``city`` from its configured source or from ``source``."""
    spec = layer_spec(city, role, source, id_field, name_field)
    if role == "jurisdiction":
        built = build_jurisdiction(city, source)
    elif role == "agencies":
        built = build_agencies(spec, source)  # type: ignore[arg-type]
    else:
        built = build_area_layer(spec)  # type: ignore[arg-type]
    built.config_digest = hashlib.sha256(repr((spec, source)).encode()).hexdigest()
    return built


def layer_spec(
    city: CityConfig,
    role: str,
    source: LayerSource | None = None,
    id_field: str | None = None,
    name_field: str | None = None,
) -> JurisdictionSpec | AgenciesSpec | AreaLayerSpec:
    """The configuration of the layer ``role`` of ``city``, with the given overrides."""
    if role == "jurisdiction":
        return city.jurisdiction
    if role == "agencies":
        if city.agencies is None:
            raise UserError(f"The city {city.key} configures no agencies layer; add [agencies] to {city.path.name}.")
        spec = city.agencies
        return dataclasses.replace(spec, id_field=id_field or spec.id_field, name_field=name_field or spec.name_field)
    if role not in city.areas:
        known = ", ".join(city.roles())
        raise UserError(
            f"The city {city.key} has no {role!r} layer (it has: {known}); add [layers.{role}] to {city.path.name}."
        )
    area = city.areas[role]
    return dataclasses.replace(
        area,
        source=source or area.source,
        id_field=id_field or area.id_field,
        name_field=name_field or area.name_field,
        name_template=area.name_template if (name_field is None or area.name_field) else "{name}",
    )


# -- storing ------------------------------------------------------------------------------


def store_layer(session: Session, city: str, built: BuiltLayer) -> LoadReport:
    """Write ``built`` as the new current version of its layer (the caller commits)."""
    # One loader at a time per layer: version numbers stay dense and one stays current.
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"boundaries:{city}:{built.role}"))))
    _check_near_jurisdiction(session, city, built)
    previous = session.scalar(
        select(func.max(LayerVersion.version)).where(LayerVersion.city == city, LayerVersion.role == built.role)
    )
    session.execute(
        update(LayerVersion)
        .where(LayerVersion.city == city, LayerVersion.role == built.role, LayerVersion.is_current)
        .values(is_current=False)
    )
    version = LayerVersion(
        city=city,
        role=built.role,
        version=(previous or 0) + 1,
        is_current=True,
        source=str(built.source),
        source_sha256=file_sha256(built.source),
        config_digest=built.config_digest,
        feature_count=len(built.features),
        repairs=[r.as_dict() for r in built.repairs],
    )
    session.add(version)
    session.flush()
    session.execute(
        insert(Feature),
        [
            {
                "version_id": version.id,
                "key": f.key,
                "name": f.name,
                "phone": f.phone,
                "website": f.website,
                "properties": f.properties,
                "geom": from_shape(f.geometry, srid=4326),
            }
            for f in built.features
        ],
    )
    session.execute(
        text(
            """
            INSERT INTO boundary_piece (feature_id, version_id, geom)
            SELECT f.id, f.version_id, piece.geom
            FROM boundary_feature f,
                 LATERAL (SELECT (ST_Dump(ST_Subdivide(f.geom, :vertices))).geom) AS piece
            WHERE f.version_id = :version_id AND ST_Dimension(piece.geom) = 2
            """
        ),
        {"version_id": version.id, "vertices": PIECE_MAX_VERTICES},
    )
    return LoadReport(city, built.role, version.version, len(built.features), str(built.source), tuple(built.repairs))


def load_layers(session: Session, city: CityConfig, layers: list[BuiltLayer]) -> list[LoadReport]:
    """Store ``layers`` for ``city`` in one transaction: all of them, or none."""
    try:
        reports = [store_layer(session, city.key, layer) for layer in layers]
        owners = [i for i, report in enumerate(reports) if report.role in ("jurisdiction", "agencies")]
        if owners:
            reports[owners[-1]] = dataclasses.replace(reports[owners[-1]], gaps=find_gaps(session, city))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return reports


def load_city(
    session: Session, city: CityConfig, roles: tuple[str, ...] | None = None, force: bool = False
) -> list[LoadReport]:
    """Load the configured layers of ``city`` (all of them by default) as new versions.

    Layers whose current version came from the same file with the same configuration
    are left alone unless ``force``; the reports list only what was loaded.
    """
    roles = roles or city.roles()
    built = [build_layer(city, role) for role in roles]  # every file checked before any write
    if not force:
        built = [layer for layer in built if not _unchanged(session, city.key, layer)]
    return load_layers(session, city, built)


def _unchanged(session: Session, city: str, built: BuiltLayer) -> bool:
    current = session.scalar(
        select(LayerVersion).where(LayerVersion.city == city, LayerVersion.role == built.role, LayerVersion.is_current)
    )
    return (
        current is not None
        and current.config_digest == built.config_digest
        and current.source_sha256 == file_sha256(built.source)
    )


# -- helpers ------------------------------------------------------------------------------


def _valid_geometries(
    frame: gpd.GeoDataFrame, path: Path, label_field: str, labels: pd.Series | None = None
) -> tuple[list[MultiPolygon], list[Repair]]:
    geometries, repairs = [], []
    for i in range(len(frame)):
        label = f"{label_field}={labels.iloc[i]}" if labels is not None else f"{label_field} {i + 1}"
        geometry, repair = valid_multipolygon(frame.geometry.iloc[i], label, path)
        geometries.append(geometry)
        if repair:
            repairs.append(repair)
    return geometries, repairs


def _union(geometries: list[MultiPolygon]) -> MultiPolygon:
    merged = shapely.union_all(geometries)
    if merged.geom_type == "Polygon":
        return MultiPolygon([merged])
    return MultiPolygon([g for g in getattr(merged, "geoms", []) if g.geom_type == "Polygon"])


def _fill_small_holes(area: MultiPolygon, threshold_m2: float, projected_crs: str) -> tuple[MultiPolygon, int]:
    """``area`` without the holes smaller than ``threshold_m2`` (measured in ``projected_crs``)."""
    transformer = pyproj.Transformer.from_crs("EPSG:4326", projected_crs, always_xy=True)

    def to_metres(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

    filled = 0
    polygons = []
    for polygon in area.geoms:
        kept = []
        for ring in polygon.interiors:
            if shapely.transform(Polygon(ring), to_metres).area < threshold_m2:
                filled += 1
            else:
                kept.append(ring)
        polygons.append(Polygon(polygon.exterior, kept))
    return MultiPolygon(polygons), filled


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an id read as 10.0 from a Shapefile is "10"
    return str(value).strip()


def _properties(frame: gpd.GeoDataFrame, i: int) -> dict[str, Any]:
    row = frame.drop(columns=frame.geometry.name).iloc[i]
    return {str(k): _json_value(v) for k, v in row.items() if not _is_missing(v)}


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def _json_value(value: object) -> object:
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    return str(value)


def _check_near_jurisdiction(session: Session, city: str, built: BuiltLayer) -> None:
    """Refuse a ward or district layer that lies nowhere near the city: a wrong CRS, or another city."""
    if built.role not in ("wards", "districts"):
        return
    bounds = shapely.union_all([f.geometry.envelope for f in built.features]).bounds
    near = session.scalar(
        text(
            f"""
            SELECT ST_Intersects(f.geom, ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326))
            FROM boundary_feature f JOIN boundary_layer_version v ON v.id = f.version_id
            WHERE {current_layers("v", ("jurisdiction",))}
            """
        ),
        {"city": city, "minx": bounds[0], "miny": bounds[1], "maxx": bounds[2], "maxy": bounds[3]},
    )
    if near is False:
        raise DataFileError(
            f"The {built.role} layer {built.source.name} lies nowhere near the city's jurisdiction "
            f"(its bounds: {', '.join(f'{b:.4f}' for b in bounds)}); its CRS is probably wrong, "
            "or it belongs to another city."
        )
