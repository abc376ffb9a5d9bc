"""The map layers, defined once: what each is called, how its GeoDataFrame is built, whether it
is exported, and which page shows it.

A layer is one :class:`MapLayer` in :data:`LAYERS`. Everything else reads the registry: the
web's map tabs and its export route (``/maps/export/<key>.<fmt>``), and the analysts'
:meth:`geo.api.Analyst.layer`, whose named methods (``area_summary``, ``requests``, ...)
are thin wrappers. Adding a layer is one entry here (and its page, if it has one).

The area layers (wards, districts: :data:`core.city.AREA_ROLES`) exist where the city file
configures them; the others in every city.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
from sqlalchemy.orm import Session

from boundaries.queries import layer_geojson
from core.city import AREA_ROLES, CityConfig
from geo import aggregate, listing
from geo.emerging import DEFAULT_SLICES, emerging_hot_spots
from geo.grid import density_points
from geo.hotspots import HotspotParams, hot_spots
from geo.layers import UnknownLayer
from service_requests.selection import FilterError, RequestFilter

#: The filter field (of :class:`RequestFilter`) that keeps one area of each area layer.
AREA_FILTER_FIELDS = {"wards": "ward", "districts": "district"}
#: The cell of the heat map when none is asked for (metres).
HEAT_CELL_M = 150.0


@dataclass(frozen=True)
class LayerOptions:
    """What a layer's frame depends on besides the filter; each layer reads the fields it
    names in :attr:`MapLayer.options` (the web parses only those from the query string)."""

    hotspot: HotspotParams = field(default_factory=HotspotParams)
    slice_by: str = "month"
    slices: int = DEFAULT_SLICES
    heat_cell_m: float = HEAT_CELL_M
    limit: int | None = None


@dataclass(frozen=True)
class LayerFrame:
    """A layer's features and what its export states about them (parameters of the method)."""

    frame: gpd.GeoDataFrame
    metadata: dict[str, object] = field(default_factory=dict)


Build = Callable[[Session, CityConfig, str, RequestFilter, LayerOptions], LayerFrame]


@dataclass(frozen=True)
class MapLayer:
    """One map layer.

    ``key`` names it in URLs (``/maps/<key>``, ``/maps/export/<key>.geojson``) and in the
    analysts' API; ``label`` is its tab (area layers take the city file's label, pluralized);
    ``build(session, city, key, flt, options)`` makes its frame; ``page`` is the web endpoint
    of its page (None: no tab; the web resolves it, geo imports no Flask); ``exportable``
    puts it behind the export route; ``options`` are the :class:`LayerOptions` fields it reads;
    ``per_request`` says its rows are requests, so a staff user's scope applies to them;
    ``area`` marks a ward or district layer (present where the city configures it), and
    ``filter_field`` is the filter field that keeps one of its areas (``ward``, ``district``).
    """

    key: str
    label: str
    build: Build
    page: str | None = None
    exportable: bool = True
    options: tuple[str, ...] = ()
    per_request: bool = False
    area: bool = False
    filter_field: str | None = None

    def available(self, city: CityConfig) -> bool:
        """Whether ``city`` has this layer (an area layer only where its file configures it)."""
        return not self.area or self.key in city.areas

    def title(self, city: CityConfig) -> str:
        """The layer's name on its tab, e.g. ``Wards`` or ``Hot spots``."""
        return f"{city.areas[self.key].label}s" if self.area else self.label

    def page_args(self) -> dict[str, Any]:
        """The URL arguments of :attr:`page` (an area layer's page takes the layer)."""
        return {"layer": self.key} if self.area else {}

    def frame(
        self, session: Session, city: CityConfig, flt: RequestFilter, options: LayerOptions | None = None
    ) -> LayerFrame:
        """The layer's features under ``flt`` (and ``options``)."""
        return self.build(session, city, self.key, flt, options or LayerOptions())


# -- how each layer is built ---------------------------------------------------------------


def _area_summary(session: Session, city: CityConfig, key: str, flt: RequestFilter, _: LayerOptions) -> LayerFrame:
    return LayerFrame(aggregate.area_summary(session, city, key, flt))


def _hot_spots(session: Session, city: CityConfig, key: str, flt: RequestFilter, options: LayerOptions) -> LayerFrame:
    result = hot_spots(session, city, flt, options.hotspot)
    return LayerFrame(result.cells.drop(columns=["i", "j"]), result.parameters())


def _emerging(session: Session, city: CityConfig, key: str, flt: RequestFilter, options: LayerOptions) -> LayerFrame:
    result = emerging_hot_spots(session, city, flt, options.hotspot, options.slice_by, options.slices)
    return LayerFrame(result.cells.drop(columns=["i", "j"]), result.parameters())


def _heat(session: Session, city: CityConfig, key: str, flt: RequestFilter, options: LayerOptions) -> LayerFrame:
    return LayerFrame(density_points(session, city, flt, options.heat_cell_m))


def _requests(session: Session, city: CityConfig, key: str, flt: RequestFilter, options: LayerOptions) -> LayerFrame:
    points, _total = listing.request_points(session, city, flt, limit=options.limit)
    return LayerFrame(points)


def _outlines(session: Session, city: CityConfig, key: str, flt: RequestFilter, _: LayerOptions) -> LayerFrame:
    """A boundary layer at full precision: ``key``, ``name``, ``phone``, ``website`` (the filter has no say)."""
    collection = layer_geojson(session, city.key, key)
    if not collection["features"]:
        raise FilterError(f"{city.name} has no {key} layer loaded: run `flask boundaries load-city`.")
    frame = gpd.GeoDataFrame.from_features(collection["features"], crs="EPSG:4326")
    return LayerFrame(frame[["key", "name", "phone", "website", "geometry"]])


#: Every map layer, in the order of the map tabs.
LAYERS: dict[str, MapLayer] = {
    layer.key: layer
    for layer in (
        *(
            MapLayer(
                role,
                role.title(),
                _area_summary,
                page="maps.layer_page",
                area=True,
                filter_field=AREA_FILTER_FIELDS[role],
            )
            for role in AREA_ROLES
        ),
        MapLayer("hotspots", "Hot spots", _hot_spots, page="maps.hotspots_page", options=("hotspot",)),
        MapLayer(
            "emerging",
            "Emerging hot spots",
            _emerging,
            page="maps.emerging_page",
            options=("slice_by", "slices", "hotspot"),
        ),
        MapLayer("heat", "Heat map", _heat, page="maps.heat_page", options=("heat_cell_m",)),
        MapLayer("requests", "Request list", _requests, page="maps.request_list", per_request=True),
        MapLayer("jurisdiction", "City limit", _outlines, exportable=False),
        MapLayer("agencies", "Agencies", _outlines, exportable=False),
    )
}


def city_layers(city: CityConfig) -> Iterator[MapLayer]:
    """The layers ``city`` has, in tab order."""
    return (layer for layer in LAYERS.values() if layer.available(city))


def tab_layers(city: CityConfig) -> list[MapLayer]:
    """The layers with a page: the map tabs, in order."""
    return [layer for layer in city_layers(city) if layer.page is not None]


def export_keys() -> list[str]:
    """The names the export route knows (whether or not a given city has each)."""
    return [key for key, layer in LAYERS.items() if layer.exportable]


def get_layer(city: CityConfig, key: str, exportable: bool = False) -> MapLayer:
    """The layer ``key`` of ``city`` (an exportable one if ``exportable``); :class:`UnknownLayer` if none."""
    layer = LAYERS.get(key)
    if layer is None or not layer.available(city) or (exportable and not layer.exportable):
        names = export_keys() if exportable else [layer.key for layer in city_layers(city)]
        known = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else "".join(names)
        what = "to export" if exportable else f"in {city.name}"
        raise UnknownLayer(f"There is no layer {key!r} {what}; try {known}.")
    return layer


__all__ = [
    "AREA_FILTER_FIELDS",
    "LAYERS",
    "LayerFrame",
    "LayerOptions",
    "MapLayer",
    "city_layers",
    "export_keys",
    "get_layer",
    "tab_layers",
]
