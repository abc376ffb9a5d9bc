"""Reading boundary files: GeoJSON, Shapefile and GeoPackage through pyogrio.

:func:`read_polygons` returns the features of a layer in EPSG:4326, or raises a
:class:`~core.errors.DataFileError` that names the file, the problem and the fix:
missing or unreadable file, empty layer, missing CRS, coordinates that cannot be
longitudes and latitudes, non-polygon or empty geometries.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from core.city import FieldFilter, LayerSource
from core.errors import DataFileError

STORAGE_CRS = "EPSG:4326"
GEOJSON_SUFFIXES = {".geojson", ".json"}
POLYGONAL = {"Polygon", "MultiPolygon"}


def read_polygons(source: LayerSource) -> gpd.GeoDataFrame:
    """The polygon features of ``source`` in EPSG:4326, filtered by ``source.where``."""
    path = source.path
    if not path.is_file():
        raise DataFileError(
            f"The boundary file {path} does not exist; check the data folder (GEO311_DATA_DIR) "
            "and the source path in the city file."
        )
    if path.stat().st_size == 0:
        raise DataFileError(
            f"{path.name} is empty (0 bytes): copy or export the layer again, complete, and load that file."
        )
    layer = source.layer or _only_layer(path)
    options = {}
    if path.suffix.lower() in GEOJSON_SUFFIXES:
        # Nested properties ({"metadata": {"DISTRICT": "10"}}) become "metadata.DISTRICT".
        options = {"FLATTEN_NESTED_ATTRIBUTES": "YES", "NESTED_ATTRIBUTE_SEPARATOR": "."}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(path, layer=layer, **options)
    except Exception as exc:  # pyogrio/GDAL raise many kinds for a damaged file
        raise DataFileError(
            f"{path.name} cannot be read as a GeoJSON, Shapefile or GeoPackage layer "
            f"({_first_line(exc)}); check that the file is complete and in one of those formats."
        ) from exc

    if len(frame) == 0:
        raise DataFileError(f"{path.name} has no features; load a layer that has some.")
    frame = _with_crs(frame, source, path)
    if source.where is not None:
        frame = frame[_matches(frame, source.where, path)]
        if len(frame) == 0:
            raise DataFileError(
                f"No feature of {path.name} has {source.where.field} in {list(source.where.values)}; "
                "fix the where filter in the city file."
            )
    _check_geometries(frame, path)
    frame = frame.to_crs(STORAGE_CRS)
    _check_lon_lat_range(frame, path)
    return frame.reset_index(drop=True)


def column(frame: pd.DataFrame, field: str, path: Path) -> pd.Series:
    """The column ``field`` (exact, else case-insensitive), or an error listing the fields."""
    if field in frame.columns:
        return frame[field]
    folded = [c for c in frame.columns if str(c).lower() == field.lower()]
    if len(folded) == 1:
        return frame[folded[0]]
    fields = ", ".join(str(c) for c in frame.columns if c != "geometry")
    raise DataFileError(
        f"{path.name} has no field {field!r} (its fields: {fields}); "
        "fix the field name in the city file or pass the right one."
    )


def file_sha256(path: Path) -> str:
    """A digest of the file and, for a Shapefile, of its .dbf/.shx/.prj companions."""
    digest = hashlib.sha256()
    parts = [path]
    if path.suffix.lower() == ".shp":
        parts += sorted(p for p in path.parent.glob(path.stem + ".*") if p.suffix.lower() in {".dbf", ".shx", ".prj"})
    for part in parts:
        with open(part, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Repair:
    """An invalid geometry that was made valid, and why it was invalid."""

    feature: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"feature": self.feature, "reason": self.reason}


def valid_multipolygon(geometry: BaseGeometry, label: str, path: Path) -> tuple[MultiPolygon, Repair | None]:
    """``geometry`` as a valid MultiPolygon, repaired if need be (and the repair reported)."""
    repair = None
    if not geometry.is_valid:
        repair = Repair(label, shapely.is_valid_reason(geometry))
        geometry = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    polygons = _polygons(geometry)
    if not polygons:
        raise DataFileError(
            f"Feature {label} of {path.name} has no area left once repaired "
            f"({repair.reason if repair else 'empty geometry'}); fix or remove it in the file."
        )
    return MultiPolygon(polygons), repair


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    parts = getattr(geometry, "geoms", [])
    return [p for part in parts for p in _polygons(part)]


def _only_layer(path: Path) -> str | None:
    if path.suffix.lower() != ".gpkg":
        return None
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise DataFileError(
            f"{path.name} cannot be read as a GeoPackage ({_first_line(exc)}); check the file."
        ) from exc
    if len(layers) > 1:
        raise DataFileError(
            f"{path.name} holds several layers ({', '.join(layers)}); name the one to load "
            '(layer = "..." in the city file, or --layer).'
        )
    return layers[0] if layers else None


def _with_crs(frame: gpd.GeoDataFrame, source: LayerSource, path: Path) -> gpd.GeoDataFrame:
    return with_crs(frame, source.crs, path)


def with_crs(frame: gpd.GeoDataFrame, crs: str | None, path: Path, what: str = "layer") -> gpd.GeoDataFrame:
    """``frame`` with the CRS its coordinates are in.

    A ``crs`` given in the city file or on the command line is authoritative: the
    coordinates are read as that CRS (set, not transformed), whatever the file declares
    or GDAL assumes (GDAL reads every GeoJSON without a ``crs`` member as WGS84). Without
    one, the file's CRS is used, and coordinates it cannot hold (state-plane feet in a
    file read as degrees) are refused with the fix.
    """
    if crs:
        frame = frame.set_crs(crs, allow_override=True)
    elif frame.crs is None:
        raise DataFileError(
            f"{path.name} does not say which coordinate reference system it uses (a Shapefile without "
            '.prj?); add crs = "EPSG:...." to the layer in the city file or pass --crs.'
        )
    problem = implausible_coordinates(frame.total_bounds, frame.crs, given=bool(crs), what=what)
    if problem:
        raise DataFileError(f"{path.name}: {problem}.")
    return frame


def implausible_coordinates(bounds: Any, crs: Any, given: bool = False, what: str = "layer") -> str | None:
    """Why coordinates with these ``bounds`` (minx, miny, maxx, maxy) cannot be in ``crs``, or None.

    Coordinates beyond longitude/latitude range in a geographic CRS look projected;
    coordinates that land wholly outside the area a projected CRS is made for (degrees
    read as feet) are in another CRS.
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
        return None
    crs = pyproj.CRS.from_user_input(crs)
    name = crs.to_string()
    fix = f'give crs = "EPSG:...." for this {what}' + ("" if given else " in the city file (or pass --crs)")
    if crs.is_geographic:
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            if given:
                return (
                    f"coordinates look projected (e.g. {minx:.0f}, {miny:.0f}), not the longitudes and latitudes "
                    f"of the crs given ({name}): {fix}, naming the CRS they are in"
                )
            return (
                f"coordinates look projected (e.g. {minx:.0f}, {miny:.0f}), not the longitudes and latitudes of "
                f"{name} that the file declares (GDAL assumes it for a GeoJSON without a crs member): {fix}; "
                "the file's CRS is probably wrong"
            )
        return None
    area = crs.area_of_use
    if area is None:
        return None
    try:
        transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        west, south, east, north = transformer.transform_bounds(minx, miny, maxx, maxy)
    except (pyproj.exceptions.ProjError, ValueError):
        return None
    margin = 2.0  # degrees: data may spill over the edge of a CRS's area
    if not all(map(math.isfinite, (west, south, east, north))) or (
        east < area.west - margin
        or west > area.east + margin
        or north < area.south - margin
        or south > area.north + margin
    ):
        return (
            f"coordinates (e.g. {minx:.6g}, {miny:.6g}) do not lie in the area {name} is made for "
            f"({area.name}): they are in another CRS; {fix}"
        )
    return None


def _matches(frame: gpd.GeoDataFrame, where: FieldFilter, path: Path) -> pd.Series:
    values = column(frame, where.field, path).fillna("").astype(str)
    return values.isin(where.values)


def _check_geometries(frame: gpd.GeoDataFrame, path: Path) -> None:
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if missing.any():
        rows = ", ".join(str(i + 1) for i in frame.index[missing][:10])
        raise DataFileError(
            f"{path.name} has {int(missing.sum())} feature(s) without a geometry (feature number {rows}); "
            "fix or remove them."
        )
    kinds = frame.geometry.geom_type
    wrong = ~kinds.isin(POLYGONAL)
    if wrong.any():
        found = ", ".join(sorted(set(kinds[wrong])))
        raise DataFileError(
            f"{path.name} is not a polygon layer: {int(wrong.sum())} feature(s) are {found}; "
            "boundaries must be polygons or multipolygons."
        )


def _check_lon_lat_range(frame: gpd.GeoDataFrame, path: Path) -> None:
    minx, miny, maxx, maxy = frame.total_bounds
    finite = all(map(pd.notna, (minx, miny, maxx, maxy)))
    if not finite or minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise DataFileError(
            f"{path.name} has coordinates that are not longitudes and latitudes once reprojected "
            f"from {frame.crs} (bounds {minx:.6g}, {miny:.6g}, {maxx:.6g}, {maxy:.6g}); "
            "the file's declared CRS is probably wrong: fix the .prj or pass the right --crs."
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
