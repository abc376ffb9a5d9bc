/* Before a request is sent: open requests of the same service nearby, so that a caller can
   follow the existing one instead of reporting the problem again. */
(function () {
  "use strict";
  const box = document.getElementById("nearby-requests");
  if (!box) { return; }
  function escapeHtml(text) { const d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; }
  document.addEventListener("address:chosen", (event) => {
    const p = event.detail;
    if (p.lon == null || p.lat == null) { box.innerHTML = ""; return; }
    const url = box.dataset.url + "?service=" + encodeURIComponent(box.dataset.service) + "&lon=" + p.lon + "&lat=" + p.lat +
      (box.dataset.staff ? "&staff=1" : "");
    fetch(url).then((r) => r.json()).then((data) => {
      const items = data.nearby || [];
      box.dataset.count = String(items.length);
      if (!items.length) { box.innerHTML = ""; return; }
      box.innerHTML = "<p><strong>Already reported within " + escapeHtml(box.dataset.radius) + " m:</strong> " +
        "if it is the same problem, follow that request instead.</p><ul>" + items.map((n) =>
          '<li><a href="' + encodeURI(n.url) + '">' + escapeHtml(n.reference) + "</a> " + escapeHtml(n.service) +
          ", " + escapeHtml(n.status) + ", " + escapeHtml(n.address || "") + " (" + Math.round(n.distance_m) + " m)</li>").join("") + "</ul>";
    });
  });
})();
