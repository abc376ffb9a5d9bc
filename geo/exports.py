"""Layers to GIS files (GeoJSON, GeoPackage) and maps to standalone HTML files."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

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
            out[column] = series.map(lambda v: None if v is None or (isinstance(v, float) and pd.isna(v))
                                     else (v.isoformat() if hasattr(v, "isoformat") else str(v)))
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
            table = pd.DataFrame({"name": list(metadata), "value": [json.dumps(v, default=str) if not isinstance(v, str)
                                                                    else v for v in metadata.values()]})
            import pyogrio

            pyogrio.write_dataframe(table, path, layer=f"{layer}_parameters", driver="GPKG", append=False)
        return path.read_bytes()


def standalone_html(map_html: str) -> str:
    """A map document with every local asset written into it: one file that opens offline anywhere."""
    check_offline(map_html)
    return inline(map_html)


__all__ = ["FORMATS", "external_references", "standalone_html", "to_geojson", "to_geopackage"]
