/* The landing map: city limit, wards and districts, and point lookup on click.
   Every URL comes from data attributes on #map; nothing is loaded from outside the app. */
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  const cfg = el.dataset;
  // The page's sentences in its language (data-words, written by index.html; page-words.js).
  const say = window.geo311Words(el);
  const map = L.map(el, { preferCanvas: true });
  el.geo311Map = map; // for scripted checks (browser tests, kiosk pages)
  const basemap = window.geo311Basemap(map, JSON.parse(cfg.basemap || "null"));
  const styles = {
    // A light fill over a base layer, so that its streets stay readable.
    jurisdiction: { color: "#1d2733", weight: 3, fillColor: "#f3e9d2", fillOpacity: basemap ? 0.15 : 0.55 },
    wards: { color: "#0b5cad", weight: 2, fill: false },
    districts: { color: "#8a5a00", weight: 1, dashArray: "4 3", fill: false }
  };
  const overlays = {};
  // On a phone the open list would cover the zoom buttons: there it folds into its button.
  const narrow = window.matchMedia("(max-width: 700px)").matches;
  const control = L.control.layers(null, null, { collapsed: narrow }).addTo(map);

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  const telLinks = window.geo311TelLinks; // tel-links.js, loaded before this script

  function addLayer(role, url, label, onTop) {
    if (!url) { return Promise.resolve(); }
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then((r) => { if (!r.ok) { throw new Error(label + ": HTTP " + r.status); } return r.json(); })
      .then((data) => {
        const layer = L.geoJSON(data, {
          style: styles[role],
          interactive: false
        });
        layer.addTo(map);
        if (onTop) { layer.bringToFront(); }
        overlays[role] = layer;
        control.addOverlay(layer, label + " (" + data.features.length + ")");
        el.dataset[role + "Count"] = String(data.features.length);
        return layer;
      });
  }

  const result = document.getElementById("locate-result");
  let marker = null;

  // "Council District 13" needs no "Council district:" before it; "ECHO PARK NC" does.
  function areaLine(label, area) {
    const name = String(area.name);
    const labelled = label && !name.toLowerCase().startsWith(label.toLowerCase());
    return "<br>" + (labelled ? escapeHtml(label) + ": " : "") + escapeHtml(name);
  }

  function describe(loc) {
    if (loc.status === "inside") {
      let html = '<span class="status-inside">' + escapeHtml(say("inside", "Inside the city.")) + "</span>";
      if (loc.ward) { html += areaLine(cfg.wardLabel || say("ward", "Ward"), loc.ward); }
      if (loc.district) { html += areaLine(cfg.districtLabel || say("district", "District"), loc.district); }
      return html;
    }
    if (loc.status === "outside") {
      const a = loc.agency;
      let html = '<span class="status-outside">' + escapeHtml(say("outside", "Not in the city.")) + "</span> " +
        escapeHtml(say("agency", "This point lies within the boundaries of {agency}.", { agency: "\u0000" }))
          .replace("\u0000", "<strong>" + escapeHtml(a.name) + "</strong>");
      html += "<br>" + (a.phone
        ? escapeHtml(say("phone", "Contact them at {phone}.", { phone: "\u0000" })).replace("\u0000", telLinks(a.phone))
        : escapeHtml(say("no_phone", "No phone number on file for this agency.")));
      if (a.website) { html += '<br><a href="' + encodeURI(a.website) + '" rel="noopener">' + escapeHtml(a.website) + "</a>"; }
      return html;
    }
    return '<span class="status-unknown">' + escapeHtml(say("unknown", "Outside the city and every known agency.")) + "</span>";
  }

  map.on("click", (event) => {
    const lon = event.latlng.lng.toFixed(6), lat = event.latlng.lat.toFixed(6);
    if (marker) { marker.setLatLng(event.latlng); } else { marker = L.circleMarker(event.latlng, { radius: 7, color: "#c0002a" }).addTo(map); }
    fetch(cfg.locateUrl + "?lon=" + lon + "&lat=" + lat)
      .then((r) => r.json())
      .then((loc) => {
        result.innerHTML = loc.error ? escapeHtml(loc.error.description) : describe(loc) +
          '<br><small>' + lat + ", " + lon + "</small>";
        result.dataset.status = loc.status || "error";
      })
      .catch((err) => { result.textContent = say("lookup_failed", "The lookup failed: {error}", { error: err.message }); });
  });

  // Keyboard: with the map focused, Enter looks up its centre as a click would (arrows move it).
  el.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === el) { map.fire("click", { latlng: map.getCenter() }); }
  });

  addLayer("jurisdiction", cfg.jurisdictionUrl, say("city_limit", "City limit"))
    .then((layer) => {
      if (layer && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); } else { map.setView([0, 0], 2); }
      return Promise.all([
        addLayer("districts", cfg.districtsUrl, cfg.districtLabel || say("districts", "Districts")),
        addLayer("wards", cfg.wardsUrl, cfg.wardLabel || say("wards", "Wards"), true)
      ]);
    })
    .then(() => { el.dataset.ready = "true"; })
    .catch((err) => { result.textContent = say("layers_failed", "The map could not load its layers: {error}", { error: err.message }); el.dataset.ready = "error"; });
})();
