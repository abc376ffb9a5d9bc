/* The work queue's map: the points of the table's current page, from the queue's own endpoint
   (data-points-url on #queue-map), each with a popup of its reference and service. */
(function () {
  "use strict";
  const el = document.getElementById("queue-map");
  if (!el || typeof L === "undefined") { return; }
  const map = L.map(el); // SVG markers: each is an element a keyboard or a test can reach
  el.geo311Map = map; // for scripted checks (browser tests)
  window.geo311Basemap(map, JSON.parse(el.dataset.basemap || "null"));
  map.setView([0, 0], 2);

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  fetch(el.dataset.pointsUrl, { credentials: "same-origin" })
    .then((response) => { if (!response.ok) { throw new Error("HTTP " + response.status); } return response.json(); })
    .then((data) => {
      const layer = L.geoJSON(data, {
        pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, color: "#0b5cad", weight: 2, fillOpacity: 0.6 }),
        onEachFeature: (feature, marker) => {
          const p = feature.properties;
          marker.bindPopup('<a href="' + escapeHtml(p.url) + '">' + escapeHtml(p.label || p.reference) + "</a><br>" + escapeHtml(p.service));
        }
      }).addTo(map);
      el.dataset.markers = String(data.features.length);
      if (data.features.length) { map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 16 }); }
      el.dataset.ready = "true";
    })
    .catch((err) => { el.dataset.ready = "error"; el.setAttribute("title", "The map could not load: " + err.message); });
}());
