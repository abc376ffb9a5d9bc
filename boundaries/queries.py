"""Read-side queries over the boundary tables: layer versions and map-ready GeoJSON."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from boundaries.models import LayerVersion


def layer_versions(session: Session, city: str, current_only: bool = False) -> list[LayerVersion]:
    """The loaded versions of the layers of ``city``, newest first within each role."""
    query = select(LayerVersion).where(LayerVersion.city == city)
    if current_only:
        query = query.where(LayerVersion.is_current)
    return list(session.scalars(query.order_by(LayerVersion.role, LayerVersion.version.desc())))


def layer_geojson(session: Session, city: str, role: str, tolerance: float = 0.0,
                  key: str | None = None) -> dict[str, Any]:
    """The current ``role`` layer of ``city`` (or its feature ``key``) as a GeoJSON FeatureCollection.

    ``tolerance`` (degrees) simplifies the outlines for display, keeping topology.
    """
    collection = session.scalar(
        text(
            """
            SELECT json_build_object(
                'type', 'FeatureCollection',
                'features', coalesce(json_agg(json_build_object(
                    'type', 'Feature',
                    'id', f.key,
                    'properties', json_build_object('key', f.key, 'name', f.name,
                                                    'phone', f.phone, 'website', f.website),
                    'geometry', ST_AsGeoJSON(
                        CASE WHEN :tolerance > 0 THEN ST_SimplifyPreserveTopology(f.geom, :tolerance)
                             ELSE f.geom END, 6)::json
                ) ORDER BY f.key), '[]'::json))
            FROM boundary_feature f
            JOIN boundary_layer_version v ON v.id = f.version_id
            WHERE v.city = :city AND v.role = :role AND v.is_current
              AND (CAST(:key AS text) IS NULL OR f.key = :key)
            """
        ),
        {"city": city, "role": role, "tolerance": tolerance, "key": key},
    )
    return collection if isinstance(collection, dict) else json.loads(collection)
