"""Streets on the maps in headless Chromium, with every request off this machine refused.

Each map is zoomed to Colorado Avenue in Santa Monica; the test reads the base layer's
canvases: street lines (light pixels) and labels (the dark text colour of street names and
house numbers) must be drawn there, from the app's own tiles alone.
"""

from __future__ import annotations

import pytest

from app.factory import create_app
from core.settings import PROJECT_ROOT
from tests.helpers.browser import chromium, live_server, log_in_page, watch
from tests.helpers.staff import make_user
from tests.helpers.street_data import SPOT, load_santa_monica

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"

# Pixels of the base layer's tile canvases: street fill (near white, opaque) and label text
# (dark: street names #2d333b, house numbers #5b6775). Boundaries are drawn in other panes.
_PIXELS = """(container) => {
  const root = container || document;
  let street = 0, text = 0;
  for (const canvas of root.querySelectorAll(".leaflet-tile-pane canvas.leaflet-tile")) {
    if (!canvas.width || !canvas.height) { continue; }
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 200) { continue; }
      if (data[i] > 245 && data[i + 1] > 245 && data[i + 2] > 245) { street++; }
      else if (data[i] < 100 && data[i + 1] < 110 && data[i + 2] < 125) { text++; }
    }
  }
  return { street, text };
}"""


def blocked_outside(page, base: str) -> list[str]:
    """Refuse every request that leaves the app (the machine is offline, as far as the page knows)."""
    refused: list[str] = []

    def handle(route) -> None:
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return refused


def wait_for_streets(frame, map_expression: str, zoom: int = 17) -> dict[str, int]:
    """Zoom the map to the Santa Monica spot and wait until its streets and labels are drawn."""
    frame.evaluate(f"() => {{ ({map_expression}).setView([{SPOT[1]}, {SPOT[0]}], {zoom}); }}")
    frame.wait_for_function(
        f"() => ({_PIXELS})(null).text > 300 && ({_PIXELS})(null).street > 5000", timeout=30_000, polling=250
    )
    frame.wait_for_timeout(500)  # labels placed across tiles are redrawn once more
    return frame.evaluate(f"() => ({_PIXELS})(null)")


@pytest.fixture
def santa_monica(bound_database, data_dir):
    with bound_database.session() as session:
        load_santa_monica(session, data_dir)
        session.commit()


def test_the_landing_map_and_the_resident_form_show_streets_and_names_offline(settings, bound_database, santa_monica):
    app = create_app(settings, database=bound_database)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        watched = watch(page)
        refused = blocked_outside(page, base)

        page.goto(base + "/")
        page.wait_for_selector('#map[data-ready="true"]')
        drawn = wait_for_streets(page, "document.getElementById('map').geo311Map")
        assert drawn["street"] > 5000 and drawn["text"] > 300
        page.screenshot(path=str(SCREENSHOTS / "streets-landing.png"))

        page.goto(base + "/report/graffiti")
        page.wait_for_selector('#intake-map[data-ready="true"]')
        page.locator("#intake-map").scroll_into_view_if_needed()
        drawn = wait_for_streets(page, "document.getElementById('intake-map').geo311Map", zoom=18)
        assert drawn["street"] > 5000 and drawn["text"] > 300
        page.locator("#intake-map").screenshot(path=str(SCREENSHOTS / "streets-resident-form.png"))

    tiles = [url for url in watched.requests if "/tiles/streets/" in url]
    assert tiles and all(url.startswith(base) for url in tiles)
    assert refused == [] and watched.outside(base) == []
    assert watched.errors == []


def test_a_folium_map_shows_the_streets_under_its_wards(settings, bound_database, santa_monica):
    app = create_app(settings, database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        watched = watch(page)
        refused = blocked_outside(page, base)
        with bound_database.session() as session:
            log_in_page(page, base, make_user(session, "planner"), "/maps/wards")
        page.frame_locator("iframe.maps-frame").locator(".geo311-box").first.wait_for(timeout=60_000)
        frame = next(f for f in page.frames if "map.html" in f.url)
        name = frame.evaluate("() => Object.keys(window).find((k) => /^map_[0-9a-f]+$/.test(k))")
        drawn = wait_for_streets(frame, f"window.{name}")
        assert drawn["street"] > 5000 and drawn["text"] > 300
        page.screenshot(path=str(SCREENSHOTS / "streets-ward-map.png"))
    assert refused == [] and watched.outside(base) == []
    assert watched.errors == []


def test_a_raster_basemap_file_is_the_base_instead(settings, bound_database, tmp_path):
    import dataclasses

    from tests.helpers.street_data import tile_of
    from tests.helpers.tile_files import solid_png, write_mbtiles

    x, y = tile_of(*SPOT, 14)
    path = tmp_path / "basemap.mbtiles"
    write_mbtiles(
        path,
        "png",
        {(14, x + dx, y + dy): solid_png((120, 190, 120)) for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2)},
    )
    app = create_app(dataclasses.replace(settings, basemap_file=path), database=bound_database)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 700})
        watched = watch(page)
        refused = blocked_outside(page, base)
        page.goto(base + "/")
        page.wait_for_selector('#map[data-ready="true"]')
        page.evaluate(f"() => {{ document.getElementById('map').geo311Map.setView([{SPOT[1]}, {SPOT[0]}], 15); }}")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded')]
            .filter((img) => img.src.includes('/tiles/basemap/14/') && img.naturalWidth === 256).length >= 4""",
            timeout=30_000,
        )
        page.screenshot(path=str(SCREENSHOTS / "basemap-file.png"))
    assert not [url for url in watched.requests if "/tiles/streets/" in url]  # the file replaces the street layer
    assert refused == [] and watched.outside(base) == [] and watched.errors == []


def test_a_vector_basemap_file_is_drawn_in_the_browser(settings, bound_database, tmp_path):
    import dataclasses
    import gzip

    import mapbox_vector_tile

    from tests.helpers.street_data import tile_of
    from tests.helpers.tile_files import write_mbtiles

    # Layers of the Protomaps basemap schema, which the vector basemap is drawn as.
    tile = gzip.compress(
        mapbox_vector_tile.encode(
            [
                {
                    "name": "earth",
                    "features": [
                        {"geometry": "POLYGON ((0 0, 4096 0, 4096 4096, 0 4096, 0 0))", "properties": {"kind": "earth"}}
                    ],
                },
                {
                    "name": "roads",
                    "features": [
                        {
                            "geometry": "LINESTRING (0 0, 4096 4096)",
                            "properties": {"kind": "major_road", "name": "Test Avenue"},
                        }
                    ],
                },
            ]
        )
    )
    x, y = tile_of(*SPOT, 14)
    path = tmp_path / "vector.mbtiles"
    write_mbtiles(path, "pbf", {(14, x + dx, y + dy): tile for dx in (-1, 0, 1) for dy in (-1, 0, 1)})
    app = create_app(dataclasses.replace(settings, basemap_file=path), database=bound_database)
    colours = """() => {
      const seen = new Set();
      for (const canvas of document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile')) {
        if (!canvas.width) { continue; }
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < data.length; i += 4 * 97) { if (data[i + 3] > 200) { seen.add(data[i] + ',' + data[i + 1] + ',' + data[i + 2]); } }
      }
      return seen.size;
    }"""
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 900, "height": 700})
        watched = watch(page)
        refused = blocked_outside(page, base)
        page.goto(base + "/")
        page.wait_for_selector('#map[data-ready="true"]')
        page.evaluate(f"() => {{ document.getElementById('map').geo311Map.setView([{SPOT[1]}, {SPOT[0]}], 14); }}")
        page.wait_for_function(f"() => ({colours})() >= 3", timeout=30_000, polling=250)
        page.screenshot(path=str(SCREENSHOTS / "basemap-vector-file.png"))
    assert [url for url in watched.requests if "/tiles/basemap/14/" in url]
    assert not [url for url in watched.requests if "/tiles/streets/" in url]
    assert refused == [] and watched.outside(base) == [] and watched.errors == []
