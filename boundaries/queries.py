"""Read-side queries over the boundary tables: layer versions and map-ready GeoJSON."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from boundaries.models import LayerVersion
from boundaries.rules import current_layers


def layer_versions(session: Session, city: str, current_only: bool = False) -> list[LayerVersion]:
    """The loaded versions of the layers of ``city``, newest first within each role."""
    query = select(LayerVersion).where(LayerVersion.city == city)
    if current_only:
        query = query.where(LayerVersion.is_current)
    return list(session.scalars(query.order_by(LayerVersion.role, LayerVersion.version.desc())))


def layer_geojson(
    session: Session, city: str, role: str, tolerance: float = 0.0, key: str | None = None
) -> dict[str, Any]:
    """The current ``role`` layer of ``city`` (or its feature ``key``) as a GeoJSON FeatureCollection.

    ``tolerance`` (degrees) simplifies the outlines for display, keeping topology.
    """
    collection = session.scalar(
        text(
            f"""
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
            WHERE {current_layers("v", role_param="role")}
              AND (CAST(:key AS text) IS NULL OR f.key = :key)
            """
        ),
        {"city": city, "role": role, "tolerance": tolerance, "key": key},
    )
    return collection if isinstance(collection, dict) else json.loads(collection)


def stage_current_pieces(session: Session, city: str) -> None:
    """A temporary, GiST-indexed table ``current_pieces(geom, role, key)`` of the current pieces of ``city``.

    For set-based area lookups of many points at once (imports, reassignment after a
    boundary change); use it with :func:`areas_at`. It lives until the transaction ends.
    """
    session.execute(text("DROP TABLE IF EXISTS current_pieces"))
    session.execute(
        text(
            f"""
        CREATE TEMP TABLE current_pieces ON COMMIT DROP AS
        SELECT p.geom, v.role, f.key FROM boundary_piece p
        JOIN boundary_layer_version v ON v.id = p.version_id AND {current_layers("v")}
        JOIN boundary_feature f ON f.id = p.feature_id
        """
        ),
        {"city": city},
    )
    session.execute(text("CREATE INDEX ON current_pieces USING gist (geom)"))
    session.execute(text("ANALYZE current_pieces"))


def areas_at(point: str) -> str:
    """SQL of a subquery (one row) giving ``inside``, ``agency``, ``ward``, ``district`` of the
    point expression ``point``, from :func:`stage_current_pieces`'s table.

    A point covered by two features of a layer gets the smaller key, the rule of
    :func:`boundaries.lookup.resolve`. ``inside`` is NULL for a NULL point.
    """
    return f"""
        SELECT bool_or(c.role = 'jurisdiction') AS inside,
               min(c.key) FILTER (WHERE c.role = 'agencies') AS agency,
               min(c.key) FILTER (WHERE c.role = 'wards') AS ward,
               min(c.key) FILTER (WHERE c.role = 'districts') AS district
        FROM current_pieces c WHERE ST_Intersects(c.geom, {point})
    """


def feature_names(session: Session, city: str, role: str) -> list[tuple[str, str]]:
    """(key, name) of the features of the current ``role`` layer of ``city``, in natural key order."""
    rows = session.execute(
        text(
            f"""
        SELECT f.key, coalesce(f.name, f.key) FROM boundary_feature f
        JOIN boundary_layer_version v ON v.id = f.version_id
        WHERE {current_layers("v", role_param="role")}
        ORDER BY length(f.key), f.key
        """
        ),
        {"city": city, "role": role},
    ).all()
    return [(key, name) for key, name in rows]
