"""The analysts' Python API: one city's requests, boundaries and addresses as GeoDataFrames,
the web's aggregation and hot spot methods, its folium maps, and files for desktop GIS.

A thin facade over :mod:`geo` (nothing here re-implements a query or a statistic)::

    from geo import connect

    city = connect()                                   # DATABASE_URL, or the embedded database
    graffiti = city.requests(services="graffiti", status="open", period=("2020-01-01", "2020-06-30"))
    wards = city.area_summary("wards", services="graffiti")
    result = city.hot_spots(services="graffiti", cell_m=400)
    city.hot_spot_map(result)                          # a folium.Map, as on /maps/hotspots
    city.export_requests("graffiti.shp", crs="projected", services="graffiti")
    city.layer("heat", services="graffiti")           # any map layer, as /maps/export/heat.geojson has it

Filters are keyword arguments with the web's meaning (see :data:`FILTER_KEYWORDS`): the
same :class:`~service_requests.selection.RequestFilter`, checked against the city's codes as the web
checks them. Request frames hold the columns of the web's request list (no requester's
name or contact: those live in another table that this API never reads).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.channels import FAMILIES
from core.city import CityConfig, load_city
from core.database import Database, Replica
from core.settings import Settings
from geo import aggregate, exports, maps
from geo.emerging import EmergingResult, emerging_hot_spots
from geo.hotspots import HotspotParams, HotspotResult, hot_cells_by_area, hot_spots
from geo.layer_registry import LayerFrame, LayerOptions, city_layers, get_layer
from geo.layers import area_spec, areas
from service_requests.selection import (
    FilterError,
    FilterField,
    LeftOut,
    RequestFilter,
    check_filter,
    coverage,
    filter_choices,
    filter_fields,
)

#: The analysts' keyword that gives both dates of a filter in one argument.
PERIOD_HELP = "(date_from, date_to) in one argument"


def filter_keywords(filter_type: type[RequestFilter] = RequestFilter) -> dict[str, str]:
    """The keyword arguments that make a ``filter_type`` and what they take: one per field
    (:func:`~service_requests.selection.filter_fields`, named as the attribute), and ``period``."""
    keywords: dict[str, str] = {}
    for spec in filter_fields(filter_type):
        keywords[spec.name] = spec.help
        if spec.name == "date_to":
            keywords["period"] = PERIOD_HELP
    return keywords


#: Keyword arguments that make a filter, and what they take.
FILTER_KEYWORDS = filter_keywords()
BOUNDARY_ROLES = ("jurisdiction", "wards", "districts", "agencies")
#: ``crs=`` of the exports: EPSG:4326, or the city's projected CRS.
CRS_CHOICES = ("EPSG:4326", "projected")
ADDRESS_COLUMNS = [
    "address_id",
    "standardized",
    "kind",
    "house_number",
    "predir",
    "street_name",
    "suffix",
    "postdir",
    "unit_type",
    "unit",
    "postal_city",
    "zipcode",
    "in_jurisdiction",
    "agency_key",
    "synthetic",
]


def _codes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _day(name: str, value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise FilterError(f"{name} must be a date or a text YYYY-MM-DD, not {value!r}.") from None


def _keyword_value(spec: FilterField, value: Any) -> Any:
    """A field's value from an analyst's Python value (a code or codes, a date or its text, a truth value)."""
    if spec.kind == "codes":
        return _codes(value)
    if spec.kind == "date":
        return _day(spec.name, value)
    if spec.kind == "flag":
        return bool(value)
    if spec.kind == "choice":
        return value or spec.default
    return value


def build_filter(filter_type: type[RequestFilter] = RequestFilter, **filters: Any) -> RequestFilter:
    """A ``filter_type`` from keyword arguments (:func:`filter_keywords`); see :func:`make_filter`."""
    keywords = filter_keywords(filter_type)
    unknown = sorted(set(filters) - set(keywords))
    if unknown:
        raise FilterError(f"There is no filter {unknown[0]!r}; the filters are {', '.join(keywords)}.")
    period = filters.pop("period", None)
    if period is not None:
        if isinstance(period, str) or len(period) != 2:
            raise FilterError("period must be a pair (date_from, date_to), e.g. ('2020-01-01', '2020-03-31').")
        if filters.get("date_from") or filters.get("date_to"):
            raise FilterError("Give period or date_from/date_to, not both.")
        filters["date_from"], filters["date_to"] = period
    return filter_type(
        **{
            spec.name: _keyword_value(spec, filters[spec.name])
            for spec in filter_fields(filter_type)
            if spec.name in filters
        }
    )


def make_filter(**filters: Any) -> RequestFilter:
    """A :class:`RequestFilter` from keyword arguments (:data:`FILTER_KEYWORDS`).

    Raises :class:`FilterError` naming a keyword that does not exist or a bad value.
    """
    return build_filter(RequestFilter, **filters)


class StandaloneMap:
    """A map rendered as one offline HTML document (every asset inlined), shown by Jupyter in an iframe."""

    def __init__(self, m: folium.Map, height: int = 520) -> None:
        self.html = exports.standalone_html(maps.render(m))
        self.height = height

    def save(self, path: str | Path) -> Path:
        """Write the document to ``path`` (opens in any browser, offline)."""
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        import html

        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width:100%;height:{self.height}px;'
            'border:0" sandbox="allow-scripts"></iframe>'
        )


@dataclass
class Analyst:
    """One city's data through one database session. Build it with :func:`connect`, or
    directly from a session and a :class:`CityConfig` (e.g. inside a transaction of yours).

    Every method taking ``**filters`` accepts the keywords of :data:`FILTER_KEYWORDS`.
    """

    session: Session
    city: CityConfig
    database: Database | None = None
    options: maps.MapOptions = field(default_factory=maps.MapOptions)
    #: The streaming replica ``session`` reads, when :func:`connect` was given one and it was usable.
    replica: Replica | None = None
    #: Why the session reads the primary though a replica was asked for (it was behind or down), else None.
    note: str | None = None

    # -- filters -----------------------------------------------------------------------

    def filter(self, **filters: Any) -> RequestFilter:
        """The :class:`RequestFilter` of ``filters``, its codes checked against the city's
        (as the web checks them: an unknown service or ward is an error naming known ones)."""
        return check_filter(make_filter(**filters), filter_choices(self.session, self.city))

    def choices(self) -> dict[str, dict[str, str]]:
        """The codes filters may use: ``services``, ``groups``, ``departments``, ``channels`` (the city's),
        ``wards``, ``districts`` (those a filter field is checked against) and ``families`` (code -> name)."""
        found = filter_choices(self.session, self.city)
        known = {spec.choices: getattr(found, spec.choices) for spec in filter_fields() if spec.choices}
        return {**known, "families": dict(FAMILIES)}

    def left_out(self, **filters: Any) -> LeftOut:
        """How many requests of the selection no map or figure shows, by reason."""
        return coverage(self.session, self.city, self.filter(**filters))[1]

    # -- data ------------------------------------------------------------------------------

    def requests(self, limit: int | None = None, **filters: Any) -> gpd.GeoDataFrame:
        """The mapped requests of the selection as points (EPSG:4326), newest first.

        Columns: ``public_ref``, ``service_code``, ``service_name``, ``status``, ``is_open``,
        ``requested_at``, ``closed_at``, ``due_at`` (UTC), ``address``, ``ward_key``,
        ``district_key`` and the point: those of the web's request list and its exports.
        """
        return self.layer("requests", LayerOptions(limit=limit), **filters)

    def boundaries(self, role: str = "wards") -> gpd.GeoDataFrame:
        """The current boundary layer ``role`` (EPSG:4326).

        ``wards`` / ``districts``: ``key``, ``name``, ``area_km2``, ``population`` and the
        outline simplified for display (about 5 m), as on the maps. ``jurisdiction`` and
        ``agencies``: ``key``, ``name``, ``phone``, ``website``, full-precision outlines.
        """
        if role in ("wards", "districts"):
            return areas(self.session, self.city, role).copy()
        if role not in BOUNDARY_ROLES:
            raise FilterError(f"There is no boundary layer {role!r}; the layers are {', '.join(BOUNDARY_ROLES)}.")
        return self.layer(role)

    def addresses(
        self,
        zipcode: str | None = None,
        street: str | None = None,
        in_jurisdiction: bool | None = None,
        limit: int | None = None,
    ) -> gpd.GeoDataFrame:
        """The city's address points (EPSG:4326), ordered by standardized address.

        ``street``: a street name as stored (upper case, e.g. ``"MAIN"``); ``in_jurisdiction``:
        True for the city's own addresses, False for its neighbours'. Columns:
        :data:`ADDRESS_COLUMNS` and the point.
        """
        clauses, params = ["a.city = :city"], {"city": self.city.key, "limit": limit}
        if zipcode:
            clauses.append("a.zipcode = :zipcode")
            params["zipcode"] = zipcode
        if street:
            clauses.append("a.street_name = upper(:street)")
            params["street"] = street
        if in_jurisdiction is not None:
            clauses.append("a.in_jurisdiction IS " + ("TRUE" if in_jurisdiction else "NOT TRUE"))
        rows = self.session.execute(
            text(
                f"""
            SELECT {", ".join("a." + c for c in ADDRESS_COLUMNS)}, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat
            FROM address_point a WHERE {" AND ".join(clauses)} ORDER BY a.standardized, a.id LIMIT :limit
            """
            ),
            params,
        ).all()
        frame = pd.DataFrame(rows, columns=[*ADDRESS_COLUMNS, "lon", "lat"])
        return gpd.GeoDataFrame(
            frame.drop(columns=["lon", "lat"]),
            geometry=shapely.points(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)),
            crs="EPSG:4326",
        )

    # -- map layers ----------------------------------------------------------------------------

    def layers(self) -> list[str]:
        """The keys :meth:`layer` takes: the city's map layers (:data:`geo.layer_registry.LAYERS`)."""
        return [layer.key for layer in city_layers(self.city)]

    def layer(self, key: str, options: LayerOptions | None = None, **filters: Any) -> gpd.GeoDataFrame:
        """The features of the map layer ``key`` under the filter, as the web's maps and exports
        have them (``/maps/export/<key>.geojson``); ``options`` (a :class:`LayerOptions`) sets the
        hot spot parameters, time slices, heat cell or row limit of the layers that read them."""
        return self._layer(key, self.filter(**filters), options).frame

    def _layer(self, key: str, flt: RequestFilter, options: LayerOptions | None = None) -> LayerFrame:
        return get_layer(self.city, key).frame(self.session, self.city, flt, options)

    # -- figures and statistics ---------------------------------------------------------------

    def area_summary(self, layer: str = "wards", **filters: Any) -> gpd.GeoDataFrame:
        """Every area of ``layer`` with requests, open, closed, area, population, per 1,000 and per km²
        (:func:`geo.aggregate.area_summary`, the ward and district maps' figures)."""
        area_spec(self.city, layer)  # an area layer: the error names the city's
        return self.layer(layer, **filters)

    def area_facts(self, **filters: Any) -> aggregate.AreaFacts:
        """Requests, open, overdue, closed and days to close (median, mean) of the selection."""
        return aggregate.area_facts(self.session, self.city, self.filter(**filters))

    def top_services(self, limit: int = 10, **filters: Any) -> pd.DataFrame:
        """The services with most requests in the selection (as on an area's page)."""
        return aggregate.top_services(self.session, self.city, self.filter(**filters), limit)

    def trend(self, by: str | None = None, **filters: Any) -> pd.DataFrame:
        """Requests per ``week`` or ``month`` (``by``; default: chosen by the span) of the selection."""
        return aggregate.trend(self.session, self.city, self.filter(**filters), by)

    def hot_spots(
        self,
        cell_m: float | None = None,
        weights: str = "distance",
        band_m: float | None = None,
        k: int = 8,
        fdr: bool = True,
        **filters: Any,
    ) -> HotspotResult:
        """Getis-Ord Gi* hot and cold spots of the selection (:func:`geo.hotspots.hot_spots`).

        ``cell_m``: hexagon edge in metres (default: chosen for about ten requests a cell);
        ``weights``: ``distance`` (band ``band_m``, default two rings of cells) or ``knn``
        (``k`` nearest cells); ``fdr``: false discovery rate correction. The result has
        ``cells`` (GeoDataFrame in the city's projected CRS), ``method()`` and ``parameters()``.
        """
        params = HotspotParams(cell_m=cell_m, weights=weights, band_m=band_m, k=k, fdr=fdr)
        return hot_spots(self.session, self.city, self.filter(**filters), params)

    def hot_cells_by_area(self, result: HotspotResult, layer: str = "wards") -> pd.DataFrame:
        """Per area of ``layer``: its cells and how many are hot or cold at each confidence level."""
        return hot_cells_by_area(self.session, self.city, result, layer)

    def emerging_hot_spots(
        self, slice_by: str = "month", slices: int = 12, cell_m: float | None = None, **filters: Any
    ) -> EmergingResult:
        """Emerging hot spots: Gi* per time slice and the Mann-Kendall trend of each cell."""
        return emerging_hot_spots(
            self.session, self.city, self.filter(**filters), HotspotParams(cell_m=cell_m), slice_by, slices
        )

    # -- maps --------------------------------------------------------------------------------

    def ward_map(self, measure: str = "requests", layer: str = "wards", **filters: Any) -> folium.Map:
        """The choropleth of ``/maps/wards`` (or ``districts``): ``measure`` is one of
        :data:`geo.aggregate.MEASURES`."""
        if measure not in aggregate.MEASURES:
            raise FilterError(f"measure must be one of {', '.join(aggregate.MEASURES)}, not {measure!r}.")
        flt = self.filter(**filters)
        area_spec(self.city, layer)
        summary = self._layer(layer, flt).frame
        return maps.choropleth_map(self.session, self.city, layer, summary, measure, self.options, flt.describe())

    def hot_spot_map(self, result: HotspotResult | None = None, **kwargs: Any) -> folium.Map:
        """The map of ``/maps/hotspots`` for ``result`` (or for ``hot_spots(**kwargs)``)."""
        result = result if result is not None else self.hot_spots(**kwargs)
        return maps.hotspot_map(self.session, self.city, result, self.options)

    def heat_map(self, cell_m: float = 150.0, **filters: Any) -> folium.Map:
        """The kernel-density heat map of ``/maps/heat`` (a quick look, not a test)."""
        flt = self.filter(**filters)
        points = self._layer("heat", flt, LayerOptions(heat_cell_m=cell_m)).frame
        return maps.heat_map(self.session, self.city, points, self.options, flt.describe())

    @staticmethod
    def standalone(m: folium.Map, height: int = 520) -> StandaloneMap:
        """``m`` as one offline HTML document: displays in Jupyter, ``.save(path)`` writes it."""
        return StandaloneMap(m, height)

    # -- files -------------------------------------------------------------------------------

    def export_requests(self, path: str | Path, crs: str = "EPSG:4326", **filters: Any) -> Path:
        """Write the selection's requests with their attributes to a GeoPackage (``.gpkg``) or a
        Shapefile (``.shp``), in ``EPSG:4326`` or the city's ``projected`` CRS.

        Times are ISO 8601 text; a Shapefile's long field names are shortened as
        :data:`geo.exports.SHAPEFILE_FIELDS` says (``service_code`` -> ``srv_code``, ...).
        """
        return exports.write_file(self.requests(**filters), path, layer="requests", crs=self.target_crs(crs))

    def target_crs(self, crs: str) -> str:
        """``EPSG:4326`` or the city's projected CRS for ``crs`` (``"projected"`` or its code)."""
        if crs.upper() in ("EPSG:4326", "WGS84"):
            return "EPSG:4326"
        if crs == "projected" or crs.upper() == self.city.projected_crs.upper():
            return self.city.projected_crs
        raise exports.ExportError(
            f"crs must be 'EPSG:4326' or 'projected' ({self.city.projected_crs} for {self.city.name}), not {crs!r}."
        )

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the session (and the connections of a database :func:`connect` opened)."""
        self.session.close()
        if self.replica is not None:
            self.replica.dispose()
        if self.database is not None:
            self.database.dispose()

    def __enter__(self) -> Analyst:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    city: str | None = None,
    database_url: str | None = None,
    settings: Settings | None = None,
    replica_url: str | None = None,
) -> Analyst:
    """An :class:`Analyst` of ``city`` (default ``GEO311_CITY`` or ``la``) on the database of
    ``database_url``, else ``DATABASE_URL``, else the embedded cluster (started if needed).

    With ``replica_url``, else ``DATABASE_REPLICA_URL``, the session reads that streaming
    replica while it is usable (read-only; a hexagon grid it builds is stored on the primary);
    a replica behind or down gives a session on the primary instead, and ``note`` says why.
    The session only reads unless you write; close it with ``close()`` or a ``with`` block.
    """
    settings = settings or Settings.from_env()
    if database_url or replica_url:
        settings = replace(
            settings,
            database_url=database_url or settings.database_url,
            database_replica_url=replica_url or settings.database_replica_url,
        )
        settings.check()
    config = load_city(city or settings.city, settings.cities_dir, settings.data_dir)
    database = Database.from_settings(settings)
    replica = Replica.from_settings(settings, primary=database)
    if replica is None:
        return Analyst(database.session(), config, database)
    state = replica.state()
    if state.usable:
        return Analyst(replica.session(), config, database, replica=replica)
    replica.dispose()
    return Analyst(database.session(), config, database, note=state.sentence())


__all__ = [
    "ADDRESS_COLUMNS",
    "BOUNDARY_ROLES",
    "CRS_CHOICES",
    "FILTER_KEYWORDS",
    "Analyst",
    "LayerOptions",
    "StandaloneMap",
    "connect",
    "make_filter",
]
