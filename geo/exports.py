"""Layers to GIS files (GeoJSON, GeoPackage, Shapefile) and maps to standalone HTML files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from core.errors import UserError
from geo.assets import check_offline, external_references, inline

FORMATS = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}


def _plain_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GIS drivers can write: dates as ISO text, objects as text."""
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series):
            out[column] = series.map(lambda v: None if pd.isna(v) else v.isoformat())
        elif series.dtype == object:
            out[column] = series.map(
                lambda v: (
                    None
                    if v is None or (isinstance(v, float) and pd.isna(v))
                    else (v.isoformat() if hasattr(v, "isoformat") else str(v))
                )
            )
    return out


def to_geojson(frame: gpd.GeoDataFrame, metadata: dict | None = None) -> bytes:
    """``frame`` as a GeoJSON FeatureCollection in EPSG:4326 (RFC 7946), with ``metadata``
    (e.g. the analysis parameters) as a top-level member."""
    collection = json.loads(_plain_columns(frame.to_crs("EPSG:4326")).to_json(drop_id=True, na="null"))
    if metadata:
        collection["metadata"] = metadata
    return json.dumps(collection, separators=(",", ":"), default=str).encode("utf-8")


def to_geopackage(frame: gpd.GeoDataFrame, layer: str, metadata: dict | None = None) -> bytes:
    """``frame`` as a GeoPackage file with one layer named ``layer`` (and its CRS).

    ``metadata`` goes to a second, geometry-less table ``<layer>_parameters`` (name, value).
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{layer}.gpkg"
        _plain_columns(frame).to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        if metadata:
            table = pd.DataFrame(
                {
                    "name": list(metadata),
                    "value": [json.dumps(v, default=str) if not isinstance(v, str) else v for v in metadata.values()],
                }
            )
            import pyogrio

            pyogrio.write_dataframe(table, path, layer=f"{layer}_parameters", driver="GPKG", append=False)
        return path.read_bytes()


#: File suffix -> OGR driver of :func:`write_file`.
DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile"}
#: Shapefile field names may have 10 characters at most: the longer columns are renamed so.
#: Columns not named here and longer than 10 characters are refused (add them here).
SHAPEFILE_FIELDS = {
    "service_code": "srv_code",
    "service_name": "srv_name",
    "requested_at": "requested",
    "district_key": "district",
    "department_code": "dept_code",
    "location_quality": "loc_qual",
}


class ExportError(UserError):
    """A file that cannot be written as asked; the message says what to change."""


def shapefile_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with field names a Shapefile holds (:data:`SHAPEFILE_FIELDS`) and booleans as 0/1."""
    geometry = frame.geometry.name
    too_long = [c for c in frame.columns if c != geometry and len(SHAPEFILE_FIELDS.get(c, c)) > 10]
    if too_long:
        raise ExportError(
            f"Shapefile field names have 10 characters at most: {', '.join(too_long)} "
            "need a short name in geo.exports.SHAPEFILE_FIELDS (or write a .gpkg)."
        )
    out = frame.rename(columns=SHAPEFILE_FIELDS)
    for column in out.columns:
        if column != geometry and pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("int16")
    return out


def write_file(frame: gpd.GeoDataFrame, path: str | Path, layer: str | None = None, crs: str | None = None) -> Path:
    """Write ``frame`` to ``path``: a GeoPackage (``.gpkg``) or a Shapefile (``.shp``), by suffix.

    ``crs``: reproject first (default: the frame's own). Dates and times are written as
    ISO 8601 text; a Shapefile gets short field names (:func:`shapefile_columns`), its
    ``.prj`` and a UTF-8 ``.cpg``. ``layer`` names the GeoPackage layer (default: the
    file's stem). An existing file is replaced. Returns the path.
    """
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise ExportError(
            f"{path.name}: write a .gpkg (GeoPackage) or a .shp (Shapefile), not {path.suffix or 'no suffix'!r}."
        )
    if frame.crs is None:
        raise ExportError("The frame has no CRS; set one (frame.set_crs(...)) before writing it.")
    out = _plain_columns(frame.to_crs(crs) if crs else frame)
    if driver == "ESRI Shapefile":
        out = shapefile_columns(out)
        for sidecar in path.parent.glob(f"{path.stem}.*"):
            if sidecar.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                sidecar.unlink()
        out.to_file(path, driver=driver, engine="pyogrio", encoding="UTF-8")
    else:
        path.unlink(missing_ok=True)
        out.to_file(path, layer=layer or path.stem, driver=driver, engine="pyogrio")
    return path


def standalone_html(map_html: str) -> str:
    """A map document with every local asset written into it: one file that opens offline anywhere."""
    check_offline(map_html)
    return inline(map_html)


__all__ = [
    "DRIVERS",
    "FORMATS",
    "SHAPEFILE_FIELDS",
    "ExportError",
    "external_references",
    "shapefile_columns",
    "standalone_html",
    "to_geojson",
    "to_geopackage",
    "write_file",
]
