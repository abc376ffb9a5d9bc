/* Before a request is sent: open requests of the same service nearby, so that a caller can
   follow the existing one instead of reporting the problem again. They are listed (date,
   status, distance) and drawn on the form's map; on the staff form each offers "Add this
   caller to that request" (it sends the form with follow=the reference; a plain button, so that
   Enter in a field still files a new request rather than following the first one nearby).
   API kept for other pages: a #nearby-requests box with data-url, data-service, data-staff,
   data-radius, filled on the document's "address:chosen" event. */
(function () {
  "use strict";
  const box = document.getElementById("nearby-requests");
  if (!box) { return; }
  const say = window.geo311Words(box); // page-words.js: the box's sentences in the page's language
  let map = null;
  let layer = null;
  document.addEventListener("address:map", (event) => { map = event.detail.map; });
  // The widget's script runs first and may have announced its map before this one listened.
  const widget = document.getElementById("address-widget");
  const mapEl = widget && document.getElementById(widget.dataset.mapId);
  if (mapEl && mapEl.geo311Map) { map = mapEl.geo311Map; }
  function escapeHtml(text) { const d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; }
  function draw(items) {
    if (!map || !window.L) { return; }
    if (layer) { layer.remove(); }
    layer = window.L.layerGroup(items.filter((n) => n.lon != null && n.lat != null).map((n) =>
      window.L.circleMarker([n.lat, n.lon], { radius: 7, color: "#b35900", fillColor: "#ffb347", fillOpacity: 0.9 })
        .bindTooltip(escapeHtml(n.short_reference || n.reference) + " · " + escapeHtml(n.status) + " · " + escapeHtml(window.geo311Date(n.requested)))
    )).addTo(map);
  }
  box.addEventListener("click", (event) => {
    const button = event.target.closest("button.follow");
    const form = box.closest("form");
    if (!button || !form) { return; }
    let field = form.querySelector("input[name=follow]");
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "follow";
      form.appendChild(field);
    }
    field.value = button.dataset.reference;
    form.submit();
  });
  document.addEventListener("address:chosen", (event) => {
    const p = event.detail;
    if (p.lon == null || p.lat == null) { box.innerHTML = ""; draw([]); return; }
    const url = box.dataset.url + "?service=" + encodeURIComponent(box.dataset.service) + "&lon=" + p.lon + "&lat=" + p.lat +
      (box.dataset.staff ? "&staff=1" : "");
    fetch(url).then((r) => r.json()).then((data) => {
      const items = data.nearby || [];
      box.dataset.count = String(items.length);
      draw(items);
      if (!items.length) { box.innerHTML = ""; return; }
      box.innerHTML = "<p><strong>" + escapeHtml(say("already", "Already reported within {radius} m", { radius: box.dataset.radius })) +
        "</strong> " + escapeHtml(box.dataset.staff
        ? say("same_staff", "(orange on the map): if it is the same problem, add this caller to that request instead.")
        : say("same", "(orange on the map): if it is the same problem, follow that request instead.")) + "</p><ul>" +
        items.map((n) =>
          '<li><a href="' + encodeURI(n.url) + '">' + escapeHtml(n.short_reference || n.reference) + "</a> " +
          escapeHtml(say("item", "{service}, {status}, reported {date}, {place} ({distance} m)", {
            service: n.service, status: n.status, date: window.geo311Date(n.requested), place: n.address || "", distance: Math.round(n.distance_m)
          })) +
          (box.dataset.staff
            ? ' <button type="button" class="follow" data-reference="' + escapeHtml(n.reference) + '">' +
              escapeHtml(say("add_caller", "Add this caller to that request")) + "</button>"
            : "") + "</li>").join("") + "</ul>";
    });
  });
})();
