/* The public map of reports (/around) and its filter.
   - The filter (a plain GET form, which works without this script) is sent when a choice changes.
   - The map draws the reports of data-reports-url (GeoJSON: approximate points, no personal data)
     in clusters whose ring shows the legend's colours by their shares (open / closed), over the
     outline of data-outline-url (the city, or the chosen ward or district). When the city holds
     more reports than one answer carries (truncated), zooming in asks again for the view's box.
   Every URL comes from data attributes; nothing is loaded from outside the app. */
(function () {
  "use strict";

  document.querySelectorAll(".around-filter [data-submit-on-change]").forEach(function (input) {
    input.addEventListener("change", function () {
      const form = input.form;
      if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
    });
  });

  const el = document.getElementById("around-map");
  if (!el || typeof L === "undefined") { return; }
  const cfg = el.dataset;
  const say = window.geo311Words(el); // page-words.js: the map's sentences in the page's language
  const COLORS = { open: "#d95f02", closed: "#1b9e77" };
  const LABELS = { open: say("open", "open"), closed: say("closed_one", "closed") };
  const BOX_ZOOM = 13; // from this zoom a truncated answer is asked again for the view's box
  const summary = document.getElementById("around-summary");
  const baseSummary = summary ? summary.textContent.replace(/\.$/, "") : "";

  const map = L.map(el, { zoomControl: true });
  el.geo311Map = map; // for scripted checks (browser tests)
  window.geo311Basemap(map, JSON.parse(cfg.basemap || "null"));
  map.setView([0, 0], 2);

  function clusterIcon(cluster) {
    const counts = { open: 0, closed: 0 };
    cluster.getAllChildMarkers().forEach(function (marker) { counts[marker.options.family] += 1; });
    const total = counts.open + counts.closed;
    const share = total ? (100 * counts.open) / total : 0;
    const ring = document.createElement("div");
    ring.className = "around-cluster around-cluster-" + (counts.open >= counts.closed ? "open" : "closed");
    // CSSOM, not a style attribute: the page's policy forbids inline styles in markup.
    ring.style.background = "conic-gradient(" + COLORS.open + " 0 " + share.toFixed(1) + "%, " +
      COLORS.closed + " " + share.toFixed(1) + "% 100%)";
    ring.dataset.open = String(counts.open);
    ring.dataset.closed = String(counts.closed);
    ring.title = say("shares", "{open} open, {closed} closed", { open: counts.open, closed: counts.closed });
    const count = document.createElement("span");
    count.textContent = String(total);
    ring.appendChild(count);
    return L.divIcon({ html: ring, className: "around-cluster-icon", iconSize: L.point(40, 40) });
  }

  const clusters = L.markerClusterGroup({
    iconCreateFunction: clusterIcon,
    maxClusterRadius: 50,
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true
  }).addTo(map);

  function line(parent, text, className) {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) { p.className = className; }
    parent.appendChild(p);
    return p;
  }

  function popup(p) {
    const box = document.createElement("div");
    box.className = "around-popup";
    line(box, p.service, "around-popup-service");
    line(box, p.status + " · " + p.reference);
    if (p.place) { line(box, p.place); }
    line(box, say("reported", "Reported {date}", { date: window.geo311Date(p.requested) }) +
      (p.closed ? "; " + say("closed", "closed {date}", { date: window.geo311Date(p.closed) }) : ""));
    if (p.description) { line(box, p.description); }
    const link = document.createElement("a");
    link.href = p.url;
    link.textContent = say("status_page", "Its status page");
    line(box, "").appendChild(link);
    return box;
  }

  // A report is a marker with an HTML icon, not a circle drawn on the map: Leaflet's markers are in the
  // page's tab order (role=button, Enter opens the popup), its circles are not reachable by keyboard.
  function dotIcon(p, name) {
    const dot = document.createElement("span");
    dot.className = "around-dot around-dot-" + p.family;
    const words = document.createElement("span");
    words.className = "around-dot-name";
    words.textContent = name;  // the button's accessible name
    dot.appendChild(words);
    return L.divIcon({ html: dot, className: "around-dot-icon", iconSize: L.point(24, 24) });
  }

  function marker(feature, latlng) {
    const p = feature.properties;
    const name = p.service + " (" + LABELS[p.family] + ")";
    const m = L.marker(latlng, { icon: dotIcon(p, name), keyboard: true, family: p.family });
    m.bindPopup(function () { return popup(p); });
    m.bindTooltip(name);
    m.on("popupopen", function () { m.closeTooltip(); });
    return m;
  }

  let truncated = false;
  let asked = null;

  function show(data, bbox) {
    clusters.clearLayers();
    const layer = L.geoJSON(data, { pointToLayer: marker });
    clusters.addLayers(layer.getLayers());
    const open = data.features.filter(function (f) { return f.properties.family === "open"; }).length;
    el.dataset.markers = String(data.features.length);
    el.dataset.open = String(open);
    el.dataset.truncated = String(Boolean(data.truncated));
    if (summary) {
      const counts = { selection: baseSummary, count: data.features.length, open: open, closed: data.features.length - open };
      summary.textContent = (bbox ? say("summary_view", "{selection} in this part of the map: {count} ({open} open, {closed} closed)", counts)
        : say("summary", "{selection}: {count} ({open} open, {closed} closed)", counts)) +
        (data.truncated ? ", " + say("truncated", "the newest {limit}; zoom in or choose a service to see others.", { limit: data.limit }) : ".");
      summary.classList.toggle("around-truncated", Boolean(data.truncated));
    }
  }

  function fetchReports(bbox) {
    const url = cfg.reportsUrl + (bbox ? (cfg.reportsUrl.indexOf("?") >= 0 ? "&" : "?") + "bbox=" + bbox : "");
    asked = url;
    el.dataset.ready = "loading";
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) { return r.json().then(function (e) { throw new Error(e.error || "HTTP " + r.status); }); }
        return r.json();
      })
      .then(function (data) {
        if (asked !== url) { return data; } // a newer request is on its way
        show(data, bbox);
        el.dataset.ready = "true";
        return data;
      })
      .catch(function (err) {
        el.dataset.ready = "error";
        if (summary) { summary.textContent = say("load_failed", "The reports could not be loaded ({error}). The list shows them too.", { error: err.message }); }
      });
  }

  // The view's box, widened to a grid of 0.02 degrees so that nearby views ask the same (cached) question.
  function viewBox() {
    const b = map.getBounds(), step = 0.02;
    const down = function (v) { return (Math.floor(v / step) * step).toFixed(2); };
    const up = function (v) { return (Math.ceil(v / step) * step).toFixed(2); };
    return [down(b.getWest()), down(b.getSouth()), up(b.getEast()), up(b.getNorth())].join(",");
  }

  let lastBox = null;
  map.on("moveend", function () {
    if (!truncated) { return; }
    const box = map.getZoom() >= BOX_ZOOM ? viewBox() : null;
    if (box === lastBox) { return; }
    lastBox = box;
    fetchReports(box);
  });

  const outline = fetch(cfg.outlineUrl, { headers: { Accept: "application/geo+json" } })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      const layer = L.geoJSON(data, {
        interactive: false, style: { color: "#1d2733", weight: 2, fillColor: "#f3e9d2", fillOpacity: 0.12 }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); }
      return true;
    })
    .catch(function () { return false; });

  Promise.all([outline, fetchReports(null)]).then(function (done) {
    const data = done[1];
    truncated = Boolean(data && data.truncated);
    if (!done[0] && data && data.features.length) {
      map.fitBounds(L.geoJSON(data).getBounds(), { padding: [20, 20], maxZoom: 16 });
    }
  });
}());
