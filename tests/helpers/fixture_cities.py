"""Helpers for the fixture cities that tests write into tmp_path: files, loading, an app serving one.

Each test module describes its own city (a city file and its data); writing GeoJSON and
CSV files, loading the city's boundaries, addresses and catalogue, and making an app
that serves it are done here, one way.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from address_db.loader import load_addresses
from app.factory import create_app
from boundaries.loader import load_city as load_boundaries
from core.city import CityConfig
from core.database import BoundDatabase
from core.settings import Settings
from service_requests.catalogue_db import sync_catalogue


def box(west: float, south: float, east: float, north: float) -> dict:
    """A GeoJSON polygon of the box between two longitudes and two latitudes."""
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


def write_geojson(path: Path, features: list[tuple[dict, dict]]) -> None:
    """A FeatureCollection of (properties, geometry) pairs, with no ``crs`` member whatever the coordinates."""
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": props, "geometry": geom} for props, geom in features],
            }
        )
    )


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def load_fixture_city(
    session: Session, city: CityConfig, *, addresses: bool = False, report_dir: Path | None = None
) -> None:
    """Load the city's boundaries (and its address sources), sync its catalogue, and commit."""
    for _ in load_boundaries(session, city):
        pass
    if addresses:
        assert report_dir is not None, "an address load writes its rejected rows: give a report_dir"
        load_addresses(session, city, report_dir=report_dir)
    sync_catalogue(session, city)
    session.commit()


def app_serving(settings: Settings, database: BoundDatabase, key: str, cities: Path, data: Path) -> Flask:
    """The app serving the fixture city ``key`` (its city file in ``cities``, its data in ``data``)."""
    return create_app(dataclasses.replace(settings, city=key, cities_dir=cities, data_dir=data), database=database)


#: The seven intake sources of the cities the issue describes: code -> (the city's name, family).
SEVEN_CHANNELS = {
    "call": ("Call", "phone"),
    "city_app": ("The city's app", "mobile_app"),
    "self_service": ("Self service", "web"),
    "social": ("Social media", "social"),
    "employee": ("Employee generated", "staff"),
    "field_app": ("Field workers' app", "staff"),
    "work_orders": ("Work-order system", "integration"),
}


def channels_toml(channels: dict[str, tuple[str, str]], *, extra: str = "", **settings: str) -> str:
    """A ``[channels]`` section: its settings (``web_form = "..."``, and ``extra`` written as it is)
    and one table per channel."""
    lines = ["[channels]", *(f'{key} = "{value}"' for key, value in settings.items()), *([extra] if extra else [])]
    for code, (name, family) in channels.items():
        lines += ["", f"[channels.{code}]", f'name = "{name}"', f'family = "{family}"']
    return "\n".join(lines) + "\n"
