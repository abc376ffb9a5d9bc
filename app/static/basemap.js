/* The base layer of every map, one definition for the pages' maps and the folium maps.
   geo311Basemap(map, cfg) adds what cfg (from app/web/tiles.py, basemap_config) names:
   - "streets": the city's own streets and house numbers, vector tiles from the app
     (/tiles/streets/...), drawn and labelled by protomaps-leaflet on canvas with the
     browser's own fonts, so nothing is loaded from outside the app;
   - "vector": a local vector basemap file (Protomaps basemap schema), drawn the same way;
   - "raster": a local raster basemap file; "url": a tile server (GEO311_TILE_URL).
   The layer sits in Leaflet's tile pane, under every boundary and marker. */
(function () {
  "use strict";
  const COLORS = {
    casing: "#b3aa9a", street: "#ffffff", major: "#f6c96b", majorCasing: "#c98d2a", minor: "#cfc7b8",
    label: "#2d333b", halo: "#ffffff", number: "#5b6775", point: "#8a96a3"
  };

  function isClass(name) { return (z, feature) => feature.props["class"] === name; }

  function streetRules(P, addressZoom) {
    const street = P.exp(1.6, [[12, 0.8], [15, 4], [17, 10], [19, 26]]);
    const major = P.exp(1.6, [[10, 1.2], [14, 5], [17, 13], [19, 30]]);
    const paintRules = [
      { dataLayer: "streets", filter: isClass("minor"),
        symbolizer: new P.LineSymbolizer({ color: COLORS.minor, width: P.exp(1.6, [[14, 0.6], [17, 4], [19, 10]]) }) },
      { dataLayer: "streets", filter: isClass("street"),
        symbolizer: new P.LineSymbolizer({ color: COLORS.casing, width: (z) => street(z) + 1.5, lineCap: "round" }) },
      { dataLayer: "streets", filter: isClass("major"),
        symbolizer: new P.LineSymbolizer({ color: COLORS.majorCasing, width: (z) => major(z) + 1.5, lineCap: "round" }) },
      { dataLayer: "streets", filter: isClass("street"),
        symbolizer: new P.LineSymbolizer({ color: COLORS.street, width: street, lineCap: "round" }) },
      { dataLayer: "streets", filter: isClass("major"),
        symbolizer: new P.LineSymbolizer({ color: COLORS.major, width: major, lineCap: "round" }) },
      { dataLayer: "addresses", minzoom: addressZoom + 1,
        symbolizer: new P.CircleSymbolizer({ radius: 1.5, fill: COLORS.point }) }
    ];
    const labelRules = [
      { dataLayer: "streets", minzoom: 13,
        symbolizer: new P.LineLabelSymbolizer({ labelProps: ["name"], fill: COLORS.label, stroke: COLORS.halo, width: 3,
                                                font: "600 12px sans-serif", repeatDistance: 400 }) },
      { dataLayer: "addresses", minzoom: addressZoom,
        symbolizer: new P.CenteredTextSymbolizer({ labelProps: ["number"], fill: COLORS.number, stroke: COLORS.halo,
                                                   width: 2, font: "10px sans-serif" }) }
    ];
    return { paintRules: paintRules, labelRules: labelRules };
  }

  function vectorLayer(cfg, options) {
    const P = window.protomapsL;
    if (!P) { throw new Error("protomaps-leaflet is not loaded: the map cannot draw its streets."); }
    const common = { url: cfg.url, attribution: cfg.attribution || "", maxZoom: 19, levelDiff: 0 };
    return P.leafletLayer(Object.assign(common, options(P)));
  }

  window.geo311Basemap = function (map, cfg) {
    if (!cfg || !cfg.kind) { return null; }
    let layer;
    if (cfg.kind === "streets") {
      layer = vectorLayer(cfg, (P) => Object.assign({ maxDataZoom: cfg.maxDataZoom || 16 },
                                                    streetRules(P, cfg.addressZoom || 16)));
    } else if (cfg.kind === "vector") {
      layer = vectorLayer(cfg, () => ({ flavor: "light", maxDataZoom: cfg.maxZoom || 15 }));
    } else if (cfg.kind === "raster") {
      layer = L.tileLayer(cfg.url, { attribution: cfg.attribution || "", minNativeZoom: cfg.minZoom || 0,
                                     maxNativeZoom: cfg.maxZoom || 19, maxZoom: 19 });
    } else {
      layer = L.tileLayer(cfg.url, { attribution: cfg.attribution || "", maxZoom: 19 });
    }
    layer.addTo(map);
    return layer;
  };
})();
