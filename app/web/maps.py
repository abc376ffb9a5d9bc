"""Ward and district maps, hot spots, emerging hot spots, the heat map, the request list
and the exports: thin views over :mod:`geo`, reading through :func:`~app.web.read_session`
(the replica when one is usable).

Each map is its own HTML document (``.../map.html``, built by folium, with inline
scripts) shown in an ``<iframe>`` by its page; ``?download=1`` on a map gives it as a
standalone file with every asset inside.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, redirect, request, url_for

from accounts.scope import within_scope
from app.web import filtering, read_session, runtime
from app.web.access import current_user, inline_scripts_allowed, requires, staff_user
from app.web.tiles import basemap_config
from core.city import AREA_ROLES, AreaLayerSpec, CityConfig
from core.states import STATE_LABELS
from geo import aggregate, exports, listing, maps
from geo.cache import RESULTS
from geo.emerging import SLICES, emerging_hot_spots
from geo.grid import check_cell_size, density_points
from geo.hotspots import BIN_LABELS, WEIGHTS, HotspotParams, hot_cells_by_area, hot_spots
from geo.layer_registry import LAYERS, LayerOptions, MapLayer, get_layer, tab_layers
from geo.layers import UnknownLayer, area_spec, areas
from geo.sufficiency import month_coverage
from service_requests.selection import (
    FilterChoices,
    FilterError,
    RequestFilter,
    coverage,
    parse_page,
)

bp = Blueprint("maps", __name__, url_prefix="/maps")

#: The URL converter of the area layers' pages (``/maps/wards``, ``/maps/districts``).
AREA_LAYERS = f"any({', '.join(AREA_ROLES)})"
PAGE_SIZE = 50


# --- reading the query string -------------------------------------------------------------


def _hotspot_params() -> HotspotParams:
    try:
        return HotspotParams(
            cell_m=filtering.number("cell", float),
            weights=filtering.choice("weights", WEIGHTS, "distance"),
            band_m=filtering.number("band", float),
            k=filtering.number("k", int, 8),
            fdr=request.args.get("fdr", "1") not in ("0", "false", "no", "off"),
        )
    except FilterError as exc:
        abort(400, str(exc))


def _map_options(external: bool = False) -> maps.MapOptions:
    s = runtime()
    base = request.host_url.rstrip("/") if external else ""
    return maps.MapOptions(
        tile_url=s.settings.tile_url,
        tile_attribution=s.settings.tile_attribution,
        basemap=basemap_config(base),
        area_url=base + url_for("maps.index") + "{layer}/{key}",
        request_url=base + url_for("staff.request_detail", reference="REF").replace("REF", "{ref}"),
    )


def _map_response(kind: str, build: Callable[[maps.MapOptions], str]) -> Response:
    """The map document, or with ``?download=1`` the standalone file; HTML kept per query and data version."""
    download = request.args.get("download") == "1"
    key = (
        "map",
        runtime().city.key,
        kind,
        request.path,
        tuple(sorted((k, tuple(v)) for k, v in request.args.lists() if k != "download")),
        download,
        request.host_url if download else "",
    )
    body = RESULTS.get_or_compute(read_session(), key, lambda: build(_map_options(external=download)))
    if download:
        body = exports.standalone_html(body)
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        name = re.sub(r"[^a-z0-9-]+", "-", f"{runtime().city.key}-{kind}-{stamp}".lower())
        return Response(
            body, mimetype="text/html", headers={"Content-Disposition": f'attachment; filename="{name}.html"'}
        )
    return Response(body, mimetype="text/html")


def _page(template: str, **context: object) -> str:
    return filtering.render_page(template, tabs=map_tabs(runtime().city), **context)


def map_tabs(city: CityConfig) -> list[dict[str, str]]:
    """The map tabs (``key``, ``title``, ``url``): the city's layers that have a page, in registry order."""
    return [
        {"key": layer.key, "title": layer.title(city), "url": url_for(layer.page, **layer.page_args())}
        for layer in tab_layers(city)
        if layer.page is not None
    ]


def _area_field(layer: str) -> str:
    """The filter field that keeps one area of ``layer`` (``ward``, ``district``)."""
    return str(LAYERS[layer].filter_field)


def _area_names(choices: FilterChoices, layer: str) -> dict[str, str]:
    """The areas of ``layer`` by key (the choices hold each area layer under its key)."""
    return getattr(choices, layer)


# --- ward and district pages -----------------------------------------------------------------


@bp.get("/")
@requires("maps.view")
def index():
    """The maps start at the ward map."""
    first = next(iter(runtime().city.areas), None)
    if first is None:
        return redirect(url_for("maps.hotspots_page"))
    return redirect(url_for("maps.layer_page", layer=first))


def _layer_or_404(layer: str) -> AreaLayerSpec:
    try:
        return area_spec(runtime().city, layer)
    except UnknownLayer as exc:
        abort(404, str(exc))


def _measure(summary) -> str:  # noqa: ANN001
    default = "per_1000" if summary["population"].notna().any() else "requests"
    allowed = ("requests", "open", "per_km2") + (("per_1000",) if summary["population"].notna().any() else ())
    return filtering.choice("measure", allowed, default)


@bp.get(f"/<{AREA_LAYERS}:layer>")
@requires("maps.view")
def layer_page(layer: str):
    """The choropleth of a layer with its filters, and the table of its areas."""
    spec = _layer_or_404(layer)
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    flt = filtering.read_filter(choices)
    summary = aggregate.area_summary(session, s.city, layer, flt)
    measure = _measure(summary)
    counted, left = coverage(session, s.city, flt)
    rows = []
    for area in summary.itertuples():
        area_filter = flt.replace(**{_area_field(layer): area.key})
        rows.append(
            {
                "key": area.key,
                "name": area.name,
                "requests": area.requests,
                "open": area.open,
                "area_km2": area.area_km2,
                "population": area.population,
                "per_1000": area.per_1000,
                "per_km2": area.per_km2,
                "page_url": url_for("maps.area_page", layer=layer, key=area.key) + filtering.query(flt),
                "list_url": filtering.list_url(area_filter),
                "open_url": filtering.list_url(area_filter, status="open"),
            }
        )
    return _page(
        "maps_layer.html",
        spec=spec,
        layer=layer,
        flt=flt,
        choices=choices,
        rows=rows,
        measure=measure,
        measures=aggregate.MEASURES,
        has_population=bool(summary["population"].notna().any()),
        counted=counted,
        left=left,
        total_url=filtering.list_url(flt),
        left_url=filtering.list_url(flt, scope="left_out"),
        map_url=url_for("maps.layer_map", layer=layer) + filtering.query(flt, measure=measure),
        exports={fmt: url_for("maps.export", what=layer, fmt=fmt) + filtering.query(flt) for fmt in exports.FORMATS},
        description=flt.describe(choices),
    )


@bp.get(f"/<{AREA_LAYERS}:layer>/map.html")
@requires("maps.view")
@inline_scripts_allowed
def layer_map(layer: str):
    """The choropleth itself (a folium document, shown in an iframe)."""
    _layer_or_404(layer)
    s = runtime()
    session = read_session()
    flt = filtering.read_filter(filtering.choices())
    measure = _measure(areas(session, s.city, layer))

    def build(options: maps.MapOptions) -> str:
        summary = aggregate.area_summary(session, s.city, layer, flt)
        left = coverage(session, s.city, flt)[1]
        note = f"Requests: {flt.describe()}. {left.sentence()}"
        return maps.render(
            maps.choropleth_map(
                session, s.city, layer, summary, measure, options, note=note, query=filtering.query(flt)
            )
        )

    return _map_response(f"{layer}-{measure}", build)


def _area_key(layer: str, key: str, choices: FilterChoices) -> str:
    """The stored key of the area typed as ``key`` (``4`` for ``04``); 404 for an unknown one."""
    found = choices.area_key(layer, key)
    if found is None:
        abort(404, f"There is no {area_spec(runtime().city, layer).label.lower()} {key!r}.")
    return found


def _area_filter(layer: str, key: str, choices: FilterChoices) -> RequestFilter:
    if key not in _area_names(choices, layer):
        abort(404, f"There is no {area_spec(runtime().city, layer).label.lower()} {key!r}.")
    flt = filtering.read_filter(choices)
    return flt.replace(**{_area_field(layer): key})


@bp.get(f"/<{AREA_LAYERS}:layer>/<key>")
@requires("maps.view")
def area_page(layer: str, key: str):
    """One ward or district: its map, top services, backlog, overdue, days to close and trend."""
    spec = _layer_or_404(layer)
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    stored = _area_key(layer, key, choices)
    if stored != key:  # /maps/wards/4 is ward 04: one address per area
        query = f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
        return redirect(url_for("maps.area_page", layer=layer, key=stored) + query, 302)
    flt = _area_filter(layer, key, choices)
    period = request.args.get("period") or None
    if period not in (None, *aggregate.PERIODS):
        abort(400, f"period must be week or month, not {period!r}.")
    color = filtering.choice("color", ("status", "service"), "status")
    facts = aggregate.area_facts(session, s.city, flt)
    top = aggregate.top_services(session, s.city, flt)
    trend = aggregate.trend(session, s.city, flt, period)
    left = coverage(session, s.city, flt)[1]
    peak = max([1, *trend["requests"].tolist()])
    trend_rows = [
        {
            "start": t.start,
            "end": t.end,
            "requests": t.requests,
            "open": t.open,
            "width": round(100 * t.requests / peak, 1),
            "url": filtering.list_url(
                flt, date_from=max(t.start, flt.date_from or t.start), date_to=min(t.end, flt.date_to or t.end)
            ),
        }
        for t in trend.itertuples()
    ]
    top_rows = [
        {
            "code": t.service_code,
            "name": t.service_name,
            "requests": t.requests,
            "open": t.open,
            "share": t.share,
            "url": filtering.list_url(flt, services=(t.service_code,)),
        }
        for t in top.itertuples()
    ]
    unfiltered = flt.replace(**{_area_field(role): None for role in AREA_ROLES})
    return _page(
        "maps_area.html",
        spec=spec,
        layer=layer,
        key=key,
        name=_area_names(choices, layer)[key],
        flt=flt,
        choices=choices,
        facts=facts,
        top=top_rows,
        trend=trend_rows,
        left=left,
        color=color,
        period=period
        or ("week" if len(trend) and (trend["start"].iloc[-1] - trend["start"].iloc[0]).days <= 183 else "month"),
        urls={
            "all": filtering.list_url(flt),
            "open": filtering.list_url(flt, status="open"),
            "overdue": filtering.list_url(flt, overdue=True),
            "closed": filtering.list_url(flt, status="closed"),
            "left": filtering.list_url(flt, scope="left_out"),
            "layer": url_for("maps.layer_page", layer=layer) + filtering.query(unfiltered),
        },
        map_url=url_for("maps.area_map", layer=layer, key=key) + filtering.query(unfiltered, color=color),
        download_url=url_for("maps.area_map", layer=layer, key=key)
        + filtering.query(unfiltered, color=color, download=1),
        exports={
            fmt: url_for("maps.export", what="requests", fmt=fmt) + filtering.query(flt) for fmt in exports.FORMATS
        },
        description=flt.describe(choices),
    )


@bp.get(f"/<{AREA_LAYERS}:layer>/<key>/map.html")
@requires("maps.view")
@inline_scripts_allowed
def area_map(layer: str, key: str):
    """One area's map: its outline and its requests, clustered, coloured by status or service."""
    _layer_or_404(layer)
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    key = _area_key(layer, key, choices)
    flt = _area_filter(layer, key, choices)
    color = filtering.choice("color", ("status", "service"), "status")

    def build(options: maps.MapOptions) -> str:
        points, total = listing.request_points(session, s.city, flt)
        left = coverage(session, s.city, flt)[1]
        return maps.render(
            maps.area_map(session, s.city, layer, key, points, total, color, options, note=left.sentence())
        )

    return _map_response(f"{layer}-{key}", build)


# --- hot spots, emerging hot spots, heat map ----------------------------------------------------


@bp.get("/hotspots")
@requires("maps.view")
def hotspots_page():
    """Gi* hot spots: the map, its method, and the hot cells per ward and district."""
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    flt = filtering.read_filter(choices)
    params = _hotspot_params()
    result = hot_spots(session, s.city, flt, params)
    by_area = {}
    for layer in s.city.areas:  # the city's area layers, as in the tabs
        table = hot_cells_by_area(session, s.city, result, layer)
        rows = []
        for area in table.itertuples():
            area_filter = flt.replace(**{_area_field(layer): area.key})
            rows.append(
                {
                    **area._asdict(),
                    "page_url": url_for("maps.area_page", layer=layer, key=area.key) + filtering.query(flt),
                    "list_url": filtering.list_url(area_filter),
                }
            )
        by_area[layer] = rows
    query = filtering.query(flt, **_param_args(params))
    return _page(
        "maps_hotspots.html",
        flt=flt,
        choices=choices,
        result=result,
        params=params,
        by_area=by_area,
        bin_labels=BIN_LABELS,
        weights=WEIGHTS,
        description=flt.describe(choices),
        map_url=url_for("maps.hotspots_map") + query,
        download_url=url_for("maps.hotspots_map") + (query + "&" if query else "?") + "download=1",
        exports={fmt: url_for("maps.export", what="hotspots", fmt=fmt) + query for fmt in exports.FORMATS},
        total_url=filtering.list_url(flt),
        left_url=filtering.list_url(flt, scope="left_out"),
    )


def _param_args(params: HotspotParams) -> dict[str, object]:
    return {
        "cell": _num_text(params.cell_m),
        "weights": params.weights if params.weights != "distance" else None,
        "band": _num_text(params.band_m),
        "k": params.k if params.weights == "knn" else None,
        "fdr": None if params.fdr else 0,
    }


def _num_text(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


@bp.get("/hotspots/map.html")
@requires("maps.view")
@inline_scripts_allowed
def hotspots_map():
    """The Gi* map (a folium document)."""
    s = runtime()
    session = read_session()
    flt = filtering.read_filter(filtering.choices())
    params = _hotspot_params()
    return _map_response(
        "hotspots",
        lambda options: maps.render(
            maps.hotspot_map(session, s.city, hot_spots(session, s.city, flt, params), options)
        ),
    )


def _emerging_args() -> tuple[str, int]:
    """The slice and the number of slices asked for (a number out of range is fitted, not refused)."""
    return filtering.choice("slice", SLICES, "month"), max(-1, min(10_000, filtering.number("slices", int, 12)))


@bp.get("/emerging")
@requires("maps.view")
def emerging_page():
    """Emerging hot spots: new, intensifying, persistent, diminishing cells across time slices."""
    s = runtime()
    session = read_session()
    choices = filtering.choices()
    flt = filtering.read_filter(choices)
    params = _hotspot_params()
    slice_by, slices = _emerging_args()
    try:
        result = emerging_hot_spots(session, s.city, flt, params, slice_by, slices)
    except FilterError as exc:
        abort(400, str(exc))
    query = filtering.query(
        flt,
        slice=slice_by if slice_by != "month" else None,
        slices=slices if slices != 12 else None,
        **_param_args(params),
    )
    counts = result.cells["pattern"].value_counts()
    return _page(
        "maps_emerging.html",
        flt=flt,
        choices=choices,
        result=result,
        params=params,
        slice_by=result.slice_by,
        slices=min(max(slices, 4), 60),
        slice_names=SLICES,
        weights=WEIGHTS,
        description=flt.describe(choices),
        patterns=[(p, int(counts[p])) for p in maps.PATTERN_COLORS if p != "no pattern" and counts.get(p, 0)],
        colors=maps.PATTERN_COLORS,
        map_url=url_for("maps.emerging_map") + query,
        download_url=url_for("maps.emerging_map") + (query + "&" if query else "?") + "download=1",
        exports={fmt: url_for("maps.export", what="emerging", fmt=fmt) + query for fmt in exports.FORMATS},
        window_url=filtering.list_url(result.filter),
    )


@bp.get("/emerging/map.html")
@requires("maps.view")
@inline_scripts_allowed
def emerging_map():
    """The emerging hot spot map (a folium document)."""
    s = runtime()
    session = read_session()
    flt = filtering.read_filter(filtering.choices())
    params = _hotspot_params()
    slice_by, slices = _emerging_args()

    def build(options: maps.MapOptions) -> str:
        try:
            result = emerging_hot_spots(session, s.city, flt, params, slice_by, slices)
        except FilterError as exc:
            abort(400, str(exc))
        return maps.render(maps.emerging_map(session, s.city, result, options))

    return _map_response("emerging", build)


def _heat_cell() -> float:
    cell = filtering.number("cell", float, 150.0)
    try:
        return check_cell_size(cell)
    except FilterError as exc:
        abort(400, str(exc))


@bp.get("/heat")
@requires("maps.view")
def heat_page():
    """The heat map (kernel density): a quick look, set apart from the statistical results."""
    choices = filtering.choices()
    flt = filtering.read_filter(choices)
    cell = _heat_cell()
    query = filtering.query(flt, cell=_num_text(cell) if cell != 150.0 else None)
    counted, left = coverage(read_session(), runtime().city, flt)
    sparse = month_coverage(read_session(), runtime().city, flt).warning()
    return _page(
        "maps_heat.html",
        flt=flt,
        choices=choices,
        description=flt.describe(choices),
        cell=cell,
        counted=counted,
        left=left,
        notices=[sparse] if sparse else [],
        map_url=url_for("maps.heat_map") + query,
        download_url=url_for("maps.heat_map") + (query + "&" if query else "?") + "download=1",
        exports={fmt: url_for("maps.export", what="heat", fmt=fmt) + query for fmt in exports.FORMATS},
    )


@bp.get("/heat/map.html")
@requires("maps.view")
@inline_scripts_allowed
def heat_map():
    """The heat map document."""
    s = runtime()
    session = read_session()
    flt = filtering.read_filter(filtering.choices())
    cell = _heat_cell()

    def build(options: maps.MapOptions) -> str:
        points = density_points(session, s.city, flt, cell)
        return maps.render(
            maps.heat_map(
                session,
                s.city,
                points,
                options,
                note=f"{int(points['count'].sum()):,} requests on a {cell:g} m grid. "
                f"{points.attrs['left_out'].sentence()}",
            )
        )

    return _map_response("heat", build)


# --- the requests behind a figure -------------------------------------------------------------


@bp.get("/requests")
@requires("requests.view")
def request_list():
    """The requests under a filter, newest first, a page at a time, each linked to its staff page."""
    s = runtime()
    choices = filtering.choices()
    flt = within_scope(current_user(), filtering.read_filter(choices))
    try:
        page = listing.request_page(read_session(), s.city, flt, parse_page(request.args.get("page")), PAGE_SIZE)
    except FilterError as exc:
        abort(400, str(exc))
    records = page.rows.astype(object).where(page.rows.notna(), None).to_dict("records")
    rows = [
        {
            **r,
            "status_label": STATE_LABELS.get(r["status"], r["status"]),
            "url": url_for("staff.request_detail", reference=r["public_ref"]),
        }
        for r in records
    ]

    def page_url(n: int) -> str:
        return url_for("maps.request_list") + filtering.query(flt, page=n if n > 1 else None)

    return _page(
        "maps_requests.html",
        flt=flt,
        choices=choices,
        page=page,
        rows=rows,
        page_url=page_url,
        description=flt.describe(choices),
        labels=STATE_LABELS,
        exports={
            fmt: url_for("maps.export", what="requests", fmt=fmt) + filtering.query(flt) for fmt in exports.FORMATS
        },
    )


# --- exports ------------------------------------------------------------------------------------


def _layer_options(layer: MapLayer) -> LayerOptions:
    """The options ``layer`` reads, from the query string (only those: another layer's bad
    ``cell`` does not refuse this one)."""
    wanted = set(layer.options)
    values: dict[str, object] = {}
    if wanted & {"slice_by", "slices"}:
        values["slice_by"], values["slices"] = _emerging_args()
    if "hotspot" in wanted:
        values["hotspot"] = _hotspot_params()
    if "heat_cell_m" in wanted:
        values["heat_cell_m"] = _heat_cell()
    return LayerOptions(**values)  # type: ignore[arg-type]


@bp.get("/export/<what>.<fmt>")
@requires("data.export")
def export(what: str, fmt: str):
    """A layer as GeoJSON or GeoPackage: any exportable layer of :data:`geo.layer_registry.LAYERS`
    (``wards``, ``districts``, ``hotspots``, ``emerging``, ``heat``: small hexagon counts,
    ``requests``: the points)."""
    if fmt not in exports.FORMATS:
        abort(404, f"Exports are {' or '.join(exports.FORMATS)}, not {fmt!r}.")
    s = runtime()
    session = read_session()
    flt = filtering.read_filter(filtering.choices())
    metadata: dict[str, object] = {"city": s.city.name, "filter": flt.args(), "description": flt.describe()}
    try:
        layer = get_layer(s.city, what, exportable=True)
    except UnknownLayer as exc:
        abort(404, str(exc))
    options = _layer_options(layer)
    if layer.per_request:
        flt = within_scope(staff_user(), flt)
    built = layer.frame(session, s.city, flt, options)
    frame = built.frame
    metadata.update(built.metadata)
    counted, left = coverage(session, s.city, flt)
    metadata["left_out"] = left.sentence()
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"{s.city.key}-{what}-{stamp}.{fmt}"
    body = exports.to_geojson(frame, metadata) if fmt == "geojson" else exports.to_geopackage(frame, what, metadata)
    return Response(
        body, mimetype=exports.FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
