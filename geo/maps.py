"""Maps as standalone HTML documents, built with folium, every asset local.

Each function returns a ``folium.Map``; :func:`render` turns one into HTML (assets
rewritten to the app's ``/vendor/`` files, checked to load nothing from outside). The base
layer is :class:`BaseLayer` (the city's own streets, a basemap file or a tile server, as the
app's pages draw it); without one the city's own boundaries are the base. Links (an area's
page, a request's staff page) come in as URL templates, so the maps know nothing of the
web app.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import FastMarkerCluster, HeatMap
from jinja2 import Template
from sqlalchemy.orm import Session

from core.city import AREA_ROLES, CityConfig
from core.states import STATE_LABELS
from geo.aggregate import MEASURES
from geo.assets import check_offline, localize, static_script
from geo.emerging import EmergingResult
from geo.hotspots import BIN_LABELS, NOT_COMPUTED, NOT_TESTED, HotspotResult, p_text
from geo.layers import areas, jurisdiction

#: Hot and cold spot colours (the ArcGIS convention), by bin.
BIN_COLORS = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: "#ffffbf", -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5"}
PATTERN_COLORS = {
    "new hot spot": "#f4a582",
    "intensifying hot spot": "#b2182b",
    "persistent hot spot": "#d6604d",
    "diminishing hot spot": "#fddbc7",
    "sporadic hot spot": "#ffd92f",
    "new cold spot": "#92c5de",
    "intensifying cold spot": "#2166ac",
    "persistent cold spot": "#4393c3",
    "diminishing cold spot": "#d1e5f0",
    "sporadic cold spot": "#80cdc1",
    "oscillating": "#984ea3",
    "no pattern": "#ffffff",
}
CHOROPLETH_COLORS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
STATUS_COLORS = {"open": "#d95f02", "closed": "#1b9e77"}
SERVICE_COLORS = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]
OTHER_COLOR = "#444444"
#: The heat map's ramp: viridis (sequential, perceptually uniform, readable with colour blindness).
HEAT_GRADIENT = {0.0: "#440154", 0.25: "#3b528b", 0.5: "#21918c", 0.75: "#5ec962", 1.0: "#fde725"}
BASE_FILL = "#f3f1ea"

_STYLE = """
<link rel="icon" href="data:,">
<style>
  .leaflet-container { background: #dfe5ea; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  .geo311-box { background: #fff; padding: 6px 9px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
                max-width: 22rem; max-height: 45vh; overflow-y: auto; color: #1d2733; }
  .geo311-box h2 { font-size: 14px; margin: 0 0 4px; }
  .geo311-box p { margin: 4px 0; }
  .geo311-box .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px;
                        border: 1px solid #777; }
  .geo311-box .note { color: #5b6775; font-size: 12px; }
  .geo311-box details summary { cursor: pointer; font-weight: 600; }
  .geo311-box .geo311-warning { background: #fff4d6; border-left: 3px solid #b7791f; padding: 3px 6px; }
  .geo311-box .geo311-ramp { height: 12px; border: 1px solid #777; margin: 4px 0 2px; }
  .geo311-box .geo311-ramp-labels { display: flex; justify-content: space-between; font-size: 12px; }
  .marker-cluster.geo311-cluster div { margin: 0; width: 40px; height: 40px; border-radius: 50%; display: flex; align-items: center;
                        justify-content: center; box-shadow: 0 0 0 2px #fff, 0 1px 4px rgba(0,0,0,.5); }
  .marker-cluster.geo311-cluster span { background: rgba(255,255,255,.9); color: #1d2733; border-radius: 8px; padding: 0 2px;
                         font: 600 10px/14px system-ui, sans-serif; }
</style>
"""


class InfoBox(MacroElement):
    """A Leaflet control holding HTML (legend, method, notes)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var box = L.control({position: {{ this.position|tojson }}});
            box.onAdd = function () {
                var div = L.DomUtil.create('div', 'geo311-box');
                div.innerHTML = {{ this.html|tojson }};
                // A long box scrolls: reachable by keyboard, and named for screen readers.
                div.tabIndex = 0;
                div.setAttribute('role', 'region');
                div.setAttribute('aria-label', 'Map key and notes');
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            box.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, html_content: str, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "InfoBox"
        self.html = html_content
        self.position = position


class BaseLayer(JSCSSMixin, MacroElement):
    """The map's base layer as the app's pages draw it (``app/static/basemap.js``, carried inline).

    ``config`` is what :func:`app.web.tiles.basemap_config` gives: the city's own streets,
    a local basemap file or a tile server.
    """

    default_js = [("protomaps-leaflet", "/vendor/protomaps-leaflet/protomaps-leaflet.js")]
    _template = Template("""
        {% macro header(this, kwargs) %}<script>{{ this.code }}</script>{% endmacro %}
        {% macro script(this, kwargs) %}
        geo311Basemap({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
    """)

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._name = "BaseLayer"
        self.config = config
        self.code = static_script("basemap.js")


@dataclass(frozen=True)
class MapOptions:
    """What every map shares: its base layer (or an optional tile server) and where links go.

    ``basemap`` is the base layer's description for ``basemap.js`` (None: none, or the
    plain tile server ``tile_url`` when one is given).

    ``area_url`` is a template with ``{layer}`` and ``{key}`` (an area's page),
    ``request_url`` one with ``{ref}`` (a request's staff page); ``link_target`` is the
    window links open in (``_top`` leaves the iframe the map is shown in).
    """

    tile_url: str | None = None
    tile_attribution: str = ""
    basemap: dict | None = None
    area_url: str = "/maps/{layer}/{key}"
    request_url: str = "/staff/requests/{ref}"
    link_target: str = "_top"


def render(m: folium.Map, title: str = "Map of requests") -> str:
    """The map as one HTML document, assets local (raises if anything would load from outside).

    The document names its language and has a title, as every page must for screen readers (it is
    opened on its own as well as in the pages' iframes).
    """
    localize(m)
    root = cast(Figure, m.get_root())
    root.title = root.title or title
    return check_offline(root.render().replace("<html>", '<html lang="en">', 1))


def geojson(frame: gpd.GeoDataFrame, columns: Sequence[str], digits: int = 6) -> dict:
    """``frame`` as a GeoJSON FeatureCollection with ``columns``, coordinates rounded to ``digits``."""
    geometry = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.round(xy, digits))
    features = []
    records = frame[list(columns)].astype(object).where(frame[list(columns)].notna(), None).to_dict("records")
    for record, geom in zip(records, geometry):
        properties = {k: _plain(v) for k, v in record.items()}
        features.append({"type": "Feature", "properties": properties, "geometry": shapely.geometry.mapping(geom)})
    return {"type": "FeatureCollection", "features": features}


def _plain(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else round(float(value), 4)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def base_map(
    session: Session,
    city: CityConfig,
    options: MapOptions,
    outline: gpd.GeoDataFrame | None = None,
    overlays: Sequence[str] = AREA_ROLES,
) -> folium.Map:
    """A map of the city (or fitted to ``outline``): the tile server if configured, else the
    jurisdiction drawn as the base; the area layers' outlines (wards, districts) as switchable
    overlays, the first (wards) shown and drawn heavier."""
    city_outline = jurisdiction(session, city)
    bounds = (outline if outline is not None else city_outline).total_bounds
    # Clustering needs the map's zoom range, which tiles would otherwise give.
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, zoom_snap=0.25, maxZoom=19, minZoom=8)
    cast(Figure, m.get_root()).header.add_child(Element(_STYLE), name="geo311_style")  # a map's root is its Figure
    if options.basemap:
        BaseLayer(options.basemap).add_to(m)
    elif options.tile_url:
        folium.TileLayer(
            tiles=options.tile_url, attr=options.tile_attribution or "Basemap", name="Basemap", control=False
        ).add_to(m)
    # The city drawn as the base without a base layer; over the city's own streets, a light tint.
    kind = (options.basemap or {}).get("kind") or ("url" if options.tile_url else None)
    fill = {None: 1.0, "streets": 0.25}.get(kind, 0.0)
    folium.GeoJson(
        geojson(city_outline, ["name"]),
        name=city.name,
        control=False,
        interactive=False,
        style_function=lambda _: {"fillColor": BASE_FILL, "fillOpacity": fill, "color": "#3b4754", "weight": 1.5},
    ).add_to(m)
    for role in overlays:
        if role in city.areas:
            spec = city.areas[role]
            folium.GeoJson(
                geojson(areas(session, city, role), ["key", "name"]),
                name=f"{spec.label}s",
                show=role == AREA_ROLES[0],
                interactive=False,
                style_function=lambda _, first=role == AREA_ROLES[0]: {
                    "fill": False,
                    "color": "#3b4754" if first else "#8795a3",
                    "weight": 1.6 if first else 0.8,
                    "dashArray": None if first else "3 3",
                },
            ).add_to(m)
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def _finish(m: folium.Map) -> folium.Map:
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


def _legend(title: str, entries: Sequence[tuple[str, str]], note: str = "") -> str:
    rows = "".join(
        f'<div><span class="swatch" style="background:{color}"></span>{html.escape(label)}</div>'
        for color, label in entries
    )
    return f"<h2>{html.escape(title)}</h2>{rows}" + (f'<p class="note">{html.escape(note)}</p>' if note else "")


def _notices_html(skipped: str | None, notices: Sequence[str]) -> str:
    """The why-not and the warnings of a result, as paragraphs of the legend."""
    parts = [f'<p class="geo311-warning"><strong>{html.escape(skipped)}</strong></p>'] if skipped else []
    parts += [f'<p class="geo311-warning">{html.escape(n)}</p>' for n in notices]
    return "".join(parts)


def class_breaks(values: np.ndarray, classes: int = 5) -> list[float]:
    """Upper bounds of up to ``classes`` quantile classes of the positive ``values``."""
    positive = np.sort(values[np.isfinite(values) & (values > 0)])
    if len(positive) == 0:
        return []
    breaks = sorted(set(np.quantile(positive, np.linspace(0, 1, classes + 1)[1:]).round(6).tolist()))
    return breaks


def _class_color(value: float, breaks: list[float]) -> str:
    if value is None or not np.isfinite(value):
        return "#cccccc"
    if value <= 0 or not breaks:
        return "#f7f7f7"
    index = int(np.searchsorted(breaks, value, side="left"))
    colors = CHOROPLETH_COLORS[-len(breaks) :] if len(breaks) < len(CHOROPLETH_COLORS) else CHOROPLETH_COLORS
    return colors[min(index, len(colors) - 1)]


def _fmt(value: float, measure: str) -> str:
    return f"{value:,.0f}" if measure in ("requests", "open") else f"{value:,.2f}"


def choropleth_map(
    session: Session,
    city: CityConfig,
    layer: str,
    summary: gpd.GeoDataFrame,
    measure: str,
    options: MapOptions,
    note: str = "",
    query: str = "",
) -> folium.Map:
    """The areas of ``layer`` shaded by ``measure`` (a column of :func:`geo.aggregate.area_summary`).

    Hovering shows the figures; clicking an area opens its page (``options.area_url``,
    with ``query`` appended, e.g. the filter).
    """
    spec = city.areas[layer]
    m = base_map(session, city, options, overlays=[r for r in AREA_ROLES if r != layer])
    values = summary[measure].to_numpy(dtype=float)
    breaks = class_breaks(values)
    frame = summary.copy()
    frame["color"] = [_class_color(v, breaks) for v in values]
    frame["url"] = [options.area_url.format(layer=layer, key=k) + query for k in frame["key"]]
    frame["value"] = [_fmt(v, measure) if np.isfinite(v) else "no data" for v in values]
    frame["name"] = [html.escape(str(n)) for n in frame["name"]]  # tooltips render HTML: names come from files
    on_click = folium.JsCode(
        "function (feature, layer) { layer.on('click', function () { "
        f"window.open(feature.properties.url, {json.dumps(options.link_target)}); }}); }}"
    )
    folium.GeoJson(
        geojson(frame, ["key", "name", "requests", "open", "value", "color", "url"]),
        name=f"{spec.label}s: {MEASURES[measure]}",
        style_function=lambda f: {
            "fillColor": f["properties"]["color"],
            "fillOpacity": 0.75,
            "color": "#333",
            "weight": 1,
        },
        highlight_function=lambda _: {"weight": 3, "color": "#0b5cad"},
        tooltip=folium.GeoJsonTooltip(
            ["name", "value", "requests", "open"], aliases=[spec.label, MEASURES[measure], "Requests", "Open"]
        ),
        on_each_feature=on_click,
    ).add_to(m)
    lower = [0.0, *breaks[:-1]]
    colors = CHOROPLETH_COLORS[-len(breaks) :] if breaks else []
    entries = [("#f7f7f7", "none")] + [
        (c, f"{_fmt(lo, measure)} to {_fmt(hi, measure)}") for c, lo, hi in zip(colors, lower, breaks)
    ]
    if np.isnan(values).any():
        entries.append(("#cccccc", "no population figure"))
    InfoBox(_legend(MEASURES[measure], entries, note + " Quantile classes. Click an area to open its page.")).add_to(m)
    return _finish(m)


def area_map(
    session: Session,
    city: CityConfig,
    layer: str,
    key: str,
    points: gpd.GeoDataFrame,
    total: int,
    color_by: str,
    options: MapOptions,
    note: str = "",
) -> folium.Map:
    """One area with its requests as clustered points coloured by ``status`` or ``service``;
    each point's popup links to the request's staff page."""
    outline = areas(session, city, layer)
    outline = outline[outline["key"] == key]
    m = base_map(session, city, options, outline=outline, overlays=[r for r in AREA_ROLES if r != layer])
    folium.GeoJson(
        geojson(outline, ["key", "name"]),
        name=outline["name"].iloc[0] if len(outline) else key,
        control=False,
        interactive=False,
        style_function=lambda _: {"fillColor": "#0b5cad", "fillOpacity": 0.06, "color": "#0b5cad", "weight": 3},
    ).add_to(m)
    if color_by == "service":
        top = points["service_name"].value_counts().index[: len(SERVICE_COLORS)].tolist()
        legend = [(SERVICE_COLORS[i], name) for i, name in enumerate(top)]
        if points["service_name"].nunique() > len(top):
            legend.append((OTHER_COLOR, "other services"))
        colors = {name: SERVICE_COLORS[i] for i, name in enumerate(top)}
        point_colors = [colors.get(name, OTHER_COLOR) for name in points["service_name"]]
    else:
        legend = [(STATUS_COLORS["open"], "open"), (STATUS_COLORS["closed"], "closed")]
        point_colors = [STATUS_COLORS["open" if o else "closed"] for o in points["is_open"]]
    services = sorted(points["service_name"].dropna().unique().tolist())
    service_index = {s: i for i, s in enumerate(services)}
    statuses = sorted(points["status"].unique().tolist())
    status_index = {s: i for i, s in enumerate(statuses)}
    data = [
        [
            round(p.y, 6),
            round(p.x, 6),
            color,
            ref,
            service_index.get(service, -1),
            status_index[status],
            when.strftime("%Y-%m-%d") if when is not None else "",
        ]
        for p, color, ref, service, status, when in zip(
            points.geometry,
            point_colors,
            points["public_ref"],
            points["service_name"],
            points["status"],
            points["requested_at"].dt.tz_convert(city.timezone) if len(points) else [],
        )
    ]
    callback = Template("""
        function (row) {
            var services = {{ services|tojson }}, statuses = {{ statuses|tojson }};
            var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
                {radius: 6, color: '#333', weight: 1, fillColor: row[2], fillOpacity: 0.9});
            var box = document.createElement('div');
            var link = document.createElement('a');
            link.href = {{ request_url|tojson }}.replace('{ref}', encodeURIComponent(row[3]));
            link.target = {{ target|tojson }};
            link.textContent = row[3];
            var lines = [services[row[4]] || '', statuses[row[5]] || '', 'requested ' + row[6]];
            box.appendChild(link);
            lines.forEach(function (text) { var p = document.createElement('div'); p.textContent = text; box.appendChild(p); });
            marker.bindPopup(box);
            return marker;
        }""").render(
        services=services,
        statuses=[STATE_LABELS.get(s, s) for s in statuses],
        request_url=options.request_url,
        target=options.link_target,
    )
    FastMarkerCluster(
        data,
        callback=callback,
        name=f"Requests ({len(points):,})",
        options={"maxClusterRadius": 50, "disableClusteringAtZoom": 17},
        icon_create_function=CLUSTER_ICON,
    ).add_to(m)
    shown = (
        f"{len(points):,} of {total:,} requests shown (the newest)." if total > len(points) else f"{total:,} requests."
    )
    InfoBox(_legend(f"Requests by {color_by}", legend, f"{shown} {note}")).add_to(m)
    return _finish(m)


#: A cluster drawn as a pie of its markers' colours (the legend's categories), its count inside.
CLUSTER_ICON = """
    function (cluster) {
        var counts = {}, order = [], total = 0;
        cluster.getAllChildMarkers().forEach(function (marker) {
            var color = marker.options.fillColor;
            if (!(color in counts)) { counts[color] = 0; order.push(color); }
            counts[color] += 1; total += 1;
        });
        order.sort(function (a, b) { return counts[b] - counts[a]; });
        var stops = [], at = 0;
        order.forEach(function (color) {
            var next = at + 100 * counts[color] / total;
            stops.push(color + ' ' + at.toFixed(2) + '% ' + next.toFixed(2) + '%');
            at = next;
        });
        var title = order.map(function (c) { return Math.round(100 * counts[c] / total) + '%'; }).join(' / ');
        return L.divIcon({
            html: '<div style="background: conic-gradient(' + stops.join(', ') + ')" data-colors="' + order.join(' ') +
                  '" data-dominant="' + order[0] + '" title="' + title + '"><span>' + total + '</span></div>',
            className: 'marker-cluster geo311-cluster', iconSize: new L.Point(40, 40)
        });
    }"""


def hotspot_map(session: Session, city: CityConfig, result: HotspotResult, options: MapOptions) -> folium.Map:
    """Gi* hot and cold cells with the method and its parameters stated on the map."""
    m = base_map(session, city, options)
    cells = result.cells.copy()
    cells["color"] = cells["bin"].map(BIN_COLORS)
    cells["z"] = cells["z"].round(2)
    cells["p_text"] = [p_text(p) for p in cells["p"]]
    cells.loc[cells["label"].isin([NOT_TESTED, NOT_COMPUTED]), "color"] = "#bbbbbb"
    folium.GeoJson(
        geojson(cells, ["count", "z", "p_text", "label", "color"], digits=5),
        name=f"Hot and cold spots ({result.hot} hot, {result.cold} cold of {len(cells):,} cells)",
        style_function=lambda f: {
            "fillColor": f["properties"]["color"],
            "color": "#666",
            "fillOpacity": 0.8 if f["properties"]["label"] not in (BIN_LABELS[0], NOT_TESTED) else 0.1,
            "weight": 0.3,
        },
        tooltip=folium.GeoJsonTooltip(
            ["count", "z", "p_text", "label"], aliases=["Requests", "Gi* z-score", "p (two-sided)", "Result"]
        ),
    ).add_to(m)
    counts = cells["bin"].value_counts()
    entries = [
        (BIN_COLORS[b], f"{BIN_LABELS[b]} ({int(counts.get(b, 0)) - (result.edge_cells if b == 0 else 0)})")
        for b in (3, 2, 1, 0, -1, -2, -3)
    ]
    if result.skipped:
        entries = [("#bbbbbb", f"{NOT_COMPUTED} ({len(cells) - result.edge_cells})")]
    if result.edge_cells:
        entries.append(("#bbbbbb", f"{NOT_TESTED} ({result.edge_cells})"))
    InfoBox(_legend("Getis-Ord Gi* hot spots", entries) + _notices_html(result.skipped, result.notices)).add_to(m)
    InfoBox(
        f"<details><summary>Method and parameters</summary><p>{html.escape(result.method())}</p></details>",
        position="bottomleft",
    ).add_to(m)
    return _finish(m)


def emerging_map(session: Session, city: CityConfig, result: EmergingResult, options: MapOptions) -> folium.Map:
    """Cells labelled new, intensifying, persistent, diminishing or sporadic (hot or cold)."""
    m = base_map(session, city, options)
    cells = result.cells[~result.cells["pattern"].isin(["no pattern", NOT_TESTED, NOT_COMPUTED])].copy()
    cells["trend_tau"], cells["trend_p"] = cells["trend_tau"].astype(float), cells["trend_p"].astype(float)
    cells["color"] = cells["pattern"].map(PATTERN_COLORS)
    cells["trend"] = [
        f"tau {t:.2f}, p {p:.3f}" if np.isfinite(t) else "" for t, p in zip(cells["trend_tau"], cells["trend_p"])
    ]
    cells["slices_text"] = [
        f"{h} hot, {c} cold of {len(result.slices)}" for h, c in zip(cells["hot_slices"], cells["cold_slices"])
    ]
    if len(cells):  # a tooltip needs at least one feature to read its fields from
        folium.GeoJson(
            geojson(cells, ["pattern", "count", "slices_text", "trend", "color"], digits=5),
            name=f"Emerging hot and cold spots ({len(cells)} cells)",
            style_function=lambda f: {
                "fillColor": f["properties"]["color"],
                "fillOpacity": 0.85,
                "color": "#555",
                "weight": 0.4,
            },
            tooltip=folium.GeoJsonTooltip(
                ["pattern", "count", "slices_text", "trend"],
                aliases=["Pattern", "Requests", "Significant slices", "Mann-Kendall"],
            ),
        ).add_to(m)
    counts = result.cells["pattern"].value_counts()
    entries = [
        (color, f"{pattern} ({int(counts.get(pattern, 0))})")
        for pattern, color in PATTERN_COLORS.items()
        if pattern != "no pattern" and counts.get(pattern, 0)
    ]
    InfoBox(
        _legend(
            "Emerging hot spots",
            entries or [("#ffffff", "not computed" if result.skipped else "no pattern in any cell")],
        )
        + _notices_html(result.skipped, result.notices)
    ).add_to(m)
    InfoBox(
        f"<details><summary>Method and parameters</summary><p>{html.escape(result.method())}</p></details>",
        position="bottomleft",
    ).add_to(m)
    return _finish(m)


def heat_map(
    session: Session, city: CityConfig, points: gpd.GeoDataFrame, options: MapOptions, note: str = ""
) -> folium.Map:
    """A kernel-density heat map of requests (from :func:`geo.grid.density_points`): a quick look,
    not a statistical test, and the map says so."""
    m = base_map(session, city, options)
    top = float(points["count"].quantile(0.99)) if len(points) else 1.0
    weights = np.minimum(1.0, points["count"].to_numpy() / top).round(3)
    data = np.column_stack([points.geometry.y.round(5), points.geometry.x.round(5), weights]).tolist()
    HeatMap(
        data, name="Density of requests", radius=14, blur=18, min_opacity=0.25, max_zoom=14, gradient=HEAT_GRADIENT
    ).add_to(m)
    stops = ", ".join(f"{color} {100 * at:.0f}%" for at, color in HEAT_GRADIENT.items())
    InfoBox(
        f"<h2>Requests per {points.attrs.get('cell_m', 150):g} m cell</h2>"
        f'<div class="geo311-ramp" style="background: linear-gradient(to right, {stops})"></div>'
        f'<div class="geo311-ramp-labels"><span>few</span><span>{top / 2:,.1f}</span>'
        f"<span>{top:,.0f} or more</span></div>"
        '<p class="note">Relative density (viridis): nearby cells add up, so a colour is a density, '
        "not an exact count. The top is the 99th percentile of the cell counts.</p>",
        position="bottomright",
    ).add_to(m)
    InfoBox(
        "<h2>Heat map: density, not a statistical test</h2>"
        "<p>Where requests are dense, smoothed for a quick look. It says nothing about whether a concentration "
        "is more than chance: use the hot spot analysis for that.</p>"
        f'<p class="note">{html.escape(note)}</p>',
        position="bottomleft",
    ).add_to(m)
    return _finish(m)
