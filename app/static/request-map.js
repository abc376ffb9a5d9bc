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

  // The view first (vector markers need one), framing the request and every marker, with no animation.
  const nearby = data.nearby || [];
  const candidates = data.candidates || [];
  const bounds = L.latLngBounds([[data.point.lat, data.point.lon]]);
  nearby.concat(candidates).forEach((item) => bounds.extend([item.lat, item.lon]));
  if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
    map.setView(bounds.getCenter(), 17, { animate: false });
  } else {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17, animate: false });
  }
  // The request's own ring is drawn first and wider: a candidate at the same place shows inside it.
  const here = L.circleMarker([data.point.lat, data.point.lon],
                              { radius: 13, color: "#7f1d1d", weight: 3, fillColor: "#dc2626", fillOpacity: 0.9 }).addTo(map);
  here.bindPopup(escapeHtml(data.point.reference) + (data.point.address ? "<br>" + escapeHtml(data.point.address) : ""));
  here.getElement().classList.add("marker-here");
  nearby.forEach((n) => add(n, { radius: 6, color: "#5b6775", weight: 2, fillOpacity: 0.4 }, "nearby"));
  candidates.forEach((c) => add(c, { radius: 8, color: "#c25e00", weight: 2, fillColor: "#f59e0b", fillOpacity: 0.8 }, "candidate"));
  el.dataset.candidates = String(candidates.length);
  el.dataset.nearby = String(nearby.length);
  el.dataset.ready = "true";
}());
