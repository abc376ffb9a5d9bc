/* The staff request page's map: the request's point on the city's base layer, its candidate
   duplicates and other open requests nearby, each marker linking to its request. The data is
   the JSON in #request-map-data (app/templates/_request_map.html). */
(function () {
  "use strict";
  const el = document.getElementById("request-map");
  const source = document.getElementById("request-map-data");
  if (!el || !source || typeof L === "undefined") { return; }
  const data = JSON.parse(source.textContent);
  const map = L.map(el); // SVG markers: each is an element a keyboard or a test can reach
  el.geo311Map = map; // for scripted checks (browser tests)
  window.geo311Basemap(map, data.basemap);
  map.setView([data.point.lat, data.point.lon], 17); // markers need a view before they are added

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function add(item, style, kind) {
    const marker = L.circleMarker([item.lat, item.lon], style).addTo(map);
    marker.bindPopup('<a href="' + escapeHtml(item.url) + '">' + escapeHtml(item.reference) + "</a><br>" +
                     escapeHtml(item.status) + ", " + escapeHtml(item.distance_m) + " m away");
    marker.getElement().classList.add("marker-" + kind);
    return marker;
  }

  const bounds = L.latLngBounds([[data.point.lat, data.point.lon]]);
  (data.nearby || []).forEach((n) => {
    bounds.extend(add(n, { radius: 6, color: "#5b6775", weight: 2, fillOpacity: 0.4 }, "nearby").getLatLng());
  });
  (data.candidates || []).forEach((c) => {
    bounds.extend(add(c, { radius: 8, color: "#c25e00", weight: 2, fillColor: "#f59e0b", fillOpacity: 0.8 }, "candidate").getLatLng());
  });
  const here = L.circleMarker([data.point.lat, data.point.lon],
                              { radius: 10, color: "#7f1d1d", weight: 3, fillColor: "#dc2626", fillOpacity: 0.9 }).addTo(map);
  here.bindPopup(escapeHtml(data.point.reference) + (data.point.address ? "<br>" + escapeHtml(data.point.address) : ""));
  here.getElement().classList.add("marker-here");
  if (!bounds.getNorthEast().equals(bounds.getSouthWest())) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
  }
  el.dataset.candidates = String((data.candidates || []).length);
  el.dataset.nearby = String((data.nearby || []).length);
  el.dataset.ready = "true";
}());
