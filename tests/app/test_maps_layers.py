"""The map-layer registry (geo/layer_registry.py) is the one definition of a layer: the map tabs,
the export route's names and the analysts' API all read it. No database: a layer added here
must appear everywhere without another edit."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import pytest
import shapely
from flask import Flask, render_template_string
from werkzeug.exceptions import BadRequest

from app.web import maps as web_maps
from core.city import AREA_ROLES, CityConfig
from core.settings import PROJECT_ROOT
from geo import layer_registry
from geo.api import Analyst
from geo.layer_registry import LAYERS, LayerFrame, LayerOptions, MapLayer, export_keys, get_layer, tab_layers
from geo.layers import UnknownLayer
from service_requests.selection import FilterChoices, RequestFilter


@pytest.fixture
def maps_app() -> Flask:
    """The maps blueprint alone, with the real templates: enough to build URLs and render the tabs."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "app" / "templates"))
    app.register_blueprint(web_maps.bp)
    return app


def rendered_tabs(app: Flask, city: CityConfig, active: str) -> str:
    with app.test_request_context():
        return render_template_string(
            '{% import "_maps.html" as m %}{{ m.tabs(tabs, active) }}', tabs=web_maps.map_tabs(city), active=active
        )


def test_the_tabs_are_the_registered_layers_with_a_page(maps_app, la):
    html = rendered_tabs(maps_app, la, "heat")
    titles = [layer.title(la) for layer in tab_layers(la)]
    assert titles == [f"{la.areas[r].label}s" for r in AREA_ROLES if r in la.areas] + [
        "Hot spots",
        "Emerging hot spots",
        "Heat map",
        "Request list",
    ]
    for title in titles:
        assert f">{title}</a>" in html
    for url in ("/maps/wards", "/maps/hotspots", "/maps/emerging", "/maps/heat", "/maps/requests"):
        assert f'href="{url}"' in html
    assert '<a href="/maps/heat" aria-current="page">Heat map</a>' in html
    assert html.count("aria-current") == 1


def test_every_page_and_area_layer_is_routed(maps_app):
    endpoints = set(maps_app.view_functions)
    assert {layer.page for layer in LAYERS.values() if layer.page} <= endpoints
    assert f"any({', '.join(k for k, layer in LAYERS.items() if layer.area)})" == web_maps.AREA_LAYERS
    assert all(layer.filter_field in RequestFilter.__dataclass_fields__ for layer in LAYERS.values() if layer.area)


def test_the_export_names_are_the_exportable_layers(la):
    assert export_keys() == ["wards", "districts", "hotspots", "emerging", "heat", "requests"]
    assert get_layer(la, "hotspots", exportable=True).options == ("hotspot",)
    with pytest.raises(UnknownLayer, match=r"no layer 'parcels' to export; try wards, .*, heat or requests\.$"):
        get_layer(la, "parcels", exportable=True)
    with pytest.raises(UnknownLayer, match="no layer 'jurisdiction' to export"):
        get_layer(la, "jurisdiction", exportable=True)  # the analysts' API has it, the export route not


def test_an_export_reads_only_the_options_of_its_layer(maps_app):
    with maps_app.test_request_context("/maps/export/x.geojson?cell=abc&slice=quarter"):
        assert web_maps._layer_options(LAYERS["wards"]) == LayerOptions()
        with pytest.raises(BadRequest, match="cell must be a number"):
            web_maps._layer_options(LAYERS["heat"])
    with maps_app.test_request_context("/maps/export/x.geojson?cell=400&slice=quarter&slices=8"):
        options = web_maps._layer_options(LAYERS["emerging"])
        assert (options.slice_by, options.slices, options.hotspot.cell_m) == ("quarter", 8, 400.0)
        assert options.heat_cell_m == LayerOptions().heat_cell_m


def test_an_area_layer_the_city_does_not_configure_is_unknown(la):
    without_districts = replace(la, areas={"wards": la.areas["wards"]})
    with pytest.raises(UnknownLayer):
        get_layer(without_districts, "districts", exportable=True)
    assert "districts" not in [layer.key for layer in tab_layers(without_districts)]


def _parcels(session, city, key, flt, options: LayerOptions) -> LayerFrame:
    frame = gpd.GeoDataFrame({"key": ["p1"], "cell": [options.heat_cell_m]}, geometry=[shapely.Point(0, 0)])
    return LayerFrame(frame, {"asked": key, "status": flt.status})


def test_a_new_layer_is_one_registry_entry(monkeypatch, maps_app, la):
    """Demonstration: register ``parcels`` and it is a tab, an export name and an analysts' layer."""
    parcels = MapLayer("parcels", "Parcels", _parcels, page="maps.heat_page", options=("heat_cell_m",))
    monkeypatch.setitem(layer_registry.LAYERS, "parcels", parcels)

    assert ">Parcels</a>" in rendered_tabs(maps_app, la, "parcels")
    assert "parcels" in export_keys() and get_layer(la, "parcels", exportable=True) is parcels

    monkeypatch.setattr("geo.api.filter_choices", lambda session, city: FilterChoices())
    analyst = Analyst(session=None, city=la)
    assert "parcels" in analyst.layers()
    frame = analyst.layer("parcels", LayerOptions(heat_cell_m=75.0), status="open")
    assert list(frame["key"]) == ["p1"] and list(frame["cell"]) == [75.0]
    built = parcels.frame(None, la, RequestFilter(status="closed"))
    assert built.metadata == {"asked": "parcels", "status": "closed"} and list(built.frame["cell"]) == [150.0]
