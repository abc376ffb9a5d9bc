/* The intake address widget: as-you-type suggestions (ARIA combobox), validation,
   the redirect dialog for addresses another agency serves, and a map to confirm the
   point or pick one (or take the browser's position: "Use my location"). Fully usable by
   keyboard. Every URL comes from data attributes. A form sent back with an error shows the
   chosen place again from its hidden fields (the outcome and its lines are kept there too). */
(function () {
  "use strict";
  const root = document.getElementById("address-widget");
  if (!root) { return; }
  const cfg = root.dataset;
  const say = window.geo311Words(root); // page-words.js: the widget's sentences in the page's language
  const input = document.getElementById("address-input");
  const list = document.getElementById("address-suggestions");
  const result = document.getElementById("address-result");
  const fields = {
    id: document.getElementById("address-id"),
    lon: document.getElementById("address-lon"),
    lat: document.getElementById("address-lat"),
    confirmed: document.getElementById("address-confirmed"),
    outcome: document.getElementById("address-outcome"),
    summary: document.getElementById("address-summary")
  };
  const dialog = document.getElementById("redirect-dialog");
  let options = [];
  let active = -1;
  let typingTimer = null;
  let lastTyped = "";
  let suggestSeq = 0;  // answers to older requests are dropped, per kind of request
  let checkSeq = 0;

  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  const telLinks = window.geo311TelLinks; // tel-links.js, loaded before this script

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then((r) => r.json());
  }

  /* ---- map ---------------------------------------------------------------------- */
  let map = null;
  let marker = null;
  const mapEl = document.getElementById(cfg.mapId);
  if (mapEl && typeof L !== "undefined") {
    map = L.map(mapEl, { keyboard: true });
    mapEl.geo311Map = map;
    const basemap = JSON.parse(cfg.basemap || "null");
    window.geo311Basemap(map, basemap);
    // Other scripts of the form (nearby-requests.js) draw on this map: it is announced once made.
    document.dispatchEvent(new CustomEvent("address:map", { detail: { map: map } }));
    const crosshair = document.createElement("div");
    crosshair.className = "map-crosshair";
    mapEl.appendChild(crosshair);
    map.setView([0, 0], 2);
    getJson(cfg.jurisdictionUrl).then((data) => {
      // A light fill: the streets under it must stay readable.
      const layer = L.geoJSON(data, { style: { color: "#1d2733", weight: 2, fillColor: "#f3e9d2", fillOpacity: basemap ? 0.12 : 0.5 }, interactive: false }).addTo(map);
      // A place already shown (brought back after an error, or chosen quickly) keeps the view on it.
      if (!marker && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
      mapEl.dataset.ready = "true";
    });
    map.on("click", (event) => pickPoint(event.latlng.lng, event.latlng.lat));
  }

  function showPoint(lon, lat, label) {
    if (!map || lon == null || lat == null) { return; }
    const latlng = [lat, lon];
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, { keyboard: false }).addTo(map); }
    marker.bindTooltip(label || "", { permanent: false });
    map.setView(latlng, Math.max(map.getZoom(), 16));
  }

  /* ---- suggestions (combobox) ------------------------------------------------------ */
  function closeList() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function renderList(items) {
    options = items;
    list.innerHTML = "";
    items.forEach((item, i) => {
      const li = document.createElement("li");
      li.id = "address-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = item.text;
      li.addEventListener("mousedown", (event) => { event.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    if (items.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    } else {
      closeList();
    }
  }

  function highlight(i) {
    const items = list.querySelectorAll("[role=option]");
    items.forEach((el, j) => el.setAttribute("aria-selected", j === i ? "true" : "false"));
    active = i;
    if (i >= 0 && items[i]) {
      input.setAttribute("aria-activedescendant", items[i].id);
      items[i].scrollIntoView({ block: "nearest" });
    }
  }

  function choose(i) {
    const item = options[i];
    closeList();
    if (!item) { return; }
    if (item.kind === "street") {  // a street: keep typing the number
      input.value = item.text.replace(/\s*\(.*\)$/, "") + " ";
      input.focus();
      return;
    }
    input.value = item.text;
    validate(item.text);
  }

  input.addEventListener("input", () => {
    clearTimeout(typingTimer);
    fields.confirmed.value = "";
    if (fields.id.value || fields.lon.value) { setChosen(null); }
    const typed = input.value;
    typingTimer = setTimeout(() => {
      if (typed.trim().length < 2 || typed === lastTyped) { return; }
      lastTyped = typed;
      const seq = ++suggestSeq;
      getJson(cfg.suggestUrl + "?q=" + encodeURIComponent(typed))
        .then((data) => {
          if (seq === suggestSeq && input.value === typed && result.dataset.status !== "checking") {
            renderList(data.suggestions || []);
          }
        })
        .catch(() => closeList());
    }, 120);
  });

  input.addEventListener("keydown", (event) => {
    const open = !list.hidden && options.length > 0;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (open) { highlight((active + 1) % options.length); }
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (open) { highlight(active <= 0 ? options.length - 1 : active - 1); }
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (open && active >= 0) { choose(active); } else { closeList(); validate(input.value); }
    } else if (event.key === "Escape") {
      closeList();
    } else if (event.key === "Tab") {
      closeList();
    }
  });
  input.addEventListener("blur", () => setTimeout(closeList, 150));

  /* ---- validation ----------------------------------------------------------------- */
  // outcome ("valid", "approximate", "picked") and lines: what the result shows, kept with the form.
  function setChosen(candidate, outcome, lines) {
    fields.id.value = candidate ? (candidate.address_id || "") : "";
    fields.lon.value = candidate && candidate.lon != null ? candidate.lon : "";
    fields.lat.value = candidate && candidate.lat != null ? candidate.lat : "";
    fields.outcome.value = candidate && outcome ? outcome : "";
    fields.summary.value = candidate && outcome ? JSON.stringify(lines || []) : "";
    if (!candidate) { fields.confirmed.value = ""; }
    // Pages that hold the widget (request forms) react to the chosen place: duplicates nearby.
    document.dispatchEvent(new CustomEvent("address:chosen", {
      detail: { lon: candidate ? candidate.lon : null, lat: candidate ? candidate.lat : null }
    }));
  }

  function areaText(r) {
    const parts = [];
    if (r.ward) { parts.push(r.ward.name); }
    if (r.district) { parts.push(r.district.name); }
    return parts.join(" · ");
  }

  function candidateButtons(title, items) {
    if (!items || !items.length) { return ""; }
    return "<p>" + escapeHtml(title) + "</p><ul>" + items.map((c, i) =>
      '<li><button type="button" class="suggestion-button" data-index="' + i + '">' + escapeHtml(c.text) +
      (c.note ? " (" + escapeHtml(c.note) + ")" : "") + "</button></li>").join("") + "</ul>";
  }

  function notInCity() { return say("not_in_city", "Not in the {city}", { city: cfg.cityName }); }

  // No dead end: an address that cannot be matched can still be filed at a point on the map.
  const PICK_HINT = '<p class="pick-hint">' + escapeHtml(say("pick_hint",
    "Or click the map where it is (or use the map centre): the request can be filed at that point.")) + "</p>";

  // The outcomes that choose a place: their heading, and whether the place is to be confirmed.
  const CHOSEN = {
    valid: { css: "outcome-valid", title: say("valid", "Valid address"), confirm: true },
    approximate: { css: "outcome-approximate", title: say("approximate", "Approximate location"), confirm: true, hint: true },
    picked: { css: "outcome-valid", title: say("picked", "Point picked on the map"), confirm: false }
  };

  function chosenHtml(status, lines, confirmed) {
    const o = CHOSEN[status];
    return '<p class="outcome ' + o.css + '">' + escapeHtml(o.title) + "</p>" +
      lines.filter((line) => line).map((line) => "<p>" + escapeHtml(line) + "</p>").join("") +
      (o.confirm ? (confirmed ? '<button type="button" id="address-confirm" disabled>' + escapeHtml(say("confirmed", "Location confirmed")) + "</button>"
        : '<button type="button" id="address-confirm">' + escapeHtml(say("confirm", "Confirm this location")) + "</button>") : "") +
      (o.hint ? PICK_HINT : "");
  }

  function wireConfirm() {
    const confirm = document.getElementById("address-confirm");
    if (!confirm || confirm.disabled) { return; }
    confirm.addEventListener("click", () => {
      fields.confirmed.value = "yes";
      confirm.textContent = say("confirmed", "Location confirmed");
      confirm.disabled = true;
      input.focus();
    });
  }

  function render(r) {
    result.dataset.status = r.status;
    let html = "";
    if (r.status === "valid") {
      const lines = [r.match.text + (r.unit ? " (" + r.unit + ")" : ""), areaText(r)];
      html = chosenHtml("valid", lines, false);
      setChosen(r.match, "valid", lines);
      showPoint(r.match.lon, r.match.lat, r.match.text);
    } else if (r.status === "approximate") {
      // No address point has this number: shown where it would be, to confirm on the map.
      const lines = [r.match.text, r.reason, areaText(r)];
      html = chosenHtml("approximate", lines, false);
      setChosen(r.match, "approximate", lines);
      showPoint(r.match.lon, r.match.lat, say("approximate_place", "{place} (approximate)", { place: r.match.text }));
    } else if (r.status === "outside") {
      html = '<p class="outcome outcome-outside">' + escapeHtml(notInCity()) + "</p><p>" +
        escapeHtml(r.reason) + "</p>";
      setChosen(null);
      // Judged by the place typed (no address matched): the typed text, and where the agency is.
      const byPlace = r.match.source_kind === "agency";
      showPoint(r.match.lon, r.match.lat, byPlace ? r.agency.name : r.match.text);
      openRedirect(byPlace ? r.query : r.match.text, r.agency, r.match.lon, r.match.lat, byPlace ? r.basis : null);
    } else if (r.status === "ambiguous") {
      html = '<p class="outcome outcome-ambiguous">' + escapeHtml(say("which", "Which one?")) + "</p><p>" + escapeHtml(r.reason) + "</p>" +
        candidateButtons(say("choose", "Choose the address:"), r.candidates) + PICK_HINT;
      setChosen(null);
    } else if (r.status === "not_found") {
      html = '<p class="outcome outcome-not_found">' + escapeHtml(say("not_found", "Not found")) + "</p><p>" + escapeHtml(r.reason) + "</p>" +
        candidateButtons(say("nearby", "Nearby or similar:"), r.suggestions) + PICK_HINT;
      setChosen(null);
    } else {
      html = '<p class="outcome outcome-invalid">' + escapeHtml(say("invalid", "Not an address")) + "</p><p>" + escapeHtml(r.reason) + "</p>" + PICK_HINT;
      setChosen(null);
    }
    result.innerHTML = html;
    const choices = r.status === "ambiguous" ? r.candidates : r.suggestions;
    result.querySelectorAll(".suggestion-button").forEach((button) => {
      button.addEventListener("click", () => {
        const c = choices[Number(button.dataset.index)];
        input.value = c.text.replace(/\s*\(.*\)$/, "");
        if (c.kind === "street") { input.value += " "; input.focus(); return; }
        validate(input.value);
      });
    });
    wireConfirm();
    const first = result.querySelector(".suggestion-button");
    if (first && (r.status === "ambiguous")) { first.focus(); }
  }

  function validate(text) {
    clearTimeout(typingTimer);  // the answer is coming: no suggestion list over it
    ++suggestSeq;
    closeList();
    if (!text || !text.trim()) {
      render({ status: "invalid", reason: say("type_first", "Type an address first.") });
      return;
    }
    const seq = ++checkSeq;
    result.dataset.status = "checking";
    getJson(cfg.validateUrl + "?q=" + encodeURIComponent(text))
      .then((r) => { if (seq === checkSeq) { render(r); } })
      .catch(() => { result.textContent = say("check_failed", "The check failed; try again."); result.dataset.status = "error"; });
  }

  document.getElementById("address-check").addEventListener("click", () => validate(input.value));

  /* ---- picking a point on the map ---------------------------------------------------------- */
  function pickPoint(lon, lat) {
    const seq = ++checkSeq;
    result.dataset.status = "checking";
    getJson(cfg.reverseUrl + "?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6)).then((r) => {
      if (seq !== checkSeq) { return; }
      const loc = r.location;
      showPoint(lon, lat, r.address ? r.address.text : say("picked_point", "Picked point"));
      if (loc.status === "outside" || loc.status === "unlisted" || loc.status === "unknown") {
        // unlisted: in no layer (a gap between them); loc.agency is then the city's fallback contact.
        result.dataset.status = loc.status;
        result.innerHTML = '<p class="outcome outcome-outside">' + escapeHtml(notInCity()) + "</p>" +
          (loc.reason ? "<p>" + escapeHtml(loc.reason) + "</p>" : "");
        setChosen(null);
        if (loc.agency) { openRedirect(r.address ? r.address.text : say("your_point", "the point you picked"), loc.agency, lon, lat); }
        return;
      }
      if (r.address) { input.value = r.address.text; }
      const lines = [
        r.address ? say("nearest", "Nearest address: {address} ({distance} m)", { address: r.address.text, distance: Math.round(r.distance_m) })
          : say("no_address", "No address within 100 m: the point itself will be used.") +
            (input.value.trim() ? " " + say("typed_kept", "What you typed is kept for staff only; the public sees the place of the point.") : ""),
        areaText(loc)
      ];
      setChosen({ address_id: r.address ? r.address.address_id : "", lon: lon, lat: lat }, "picked", lines);
      result.dataset.status = "picked";
      result.innerHTML = chosenHtml("picked", lines, false);
    }).catch(() => {
      if (seq !== checkSeq) { return; }
      result.textContent = say("lookup_failed", "The lookup of that point failed; try again.");
      result.dataset.status = "error";
    });
  }

  document.getElementById("address-pick-centre").addEventListener("click", () => {
    if (map) { const c = map.getCenter(); pickPoint(c.lng, c.lat); }
  });

  /* ---- "Use my location": the browser's position, then as a point picked on the map ---------- */
  const locate = document.getElementById("address-locate");
  const locateStatus = document.getElementById("address-locate-status");
  const LOCATE_ELSE = " " + say("locate_else", "Type the address or click the map instead.");
  function sayLocate(status, text) {
    locateStatus.dataset.status = status;
    locateStatus.textContent = text;
  }
  if (locate && locateStatus && map && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", () => {
      if (window.isSecureContext === false) {  // browsers give a position to https pages only
        sayLocate("insecure", say("insecure", "Your browser shares your location only with a secure (https) page, and this one is not.") + LOCATE_ELSE);
        return;
      }
      sayLocate("locating", say("locating", "Finding your location…"));
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition((position) => {
        locate.disabled = false;
        const c = position.coords;
        sayLocate("found", c.accuracy
          ? say("found_within", "Your location (to within about {metres} m) is on the map: check the marker, or click the map to move it.", { metres: Math.round(c.accuracy) })
          : say("found", "Your location is on the map: check the marker, or click the map to move it."));
        pickPoint(c.longitude, c.latitude);
      }, (error) => {
        locate.disabled = false;
        if (error.code === error.PERMISSION_DENIED) {
          sayLocate("denied", say("denied", "Your browser did not let this page know your location (you can allow it in the site's settings).") + LOCATE_ELSE);
        } else if (error.code === error.TIMEOUT) {
          sayLocate("timeout", say("timeout", "Finding your location took too long: try again.") + LOCATE_ELSE);
        } else {
          sayLocate("unavailable", say("unavailable", "Your device could not tell its location.") + LOCATE_ELSE);
        }
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
    });
  }

  /* ---- a form sent back with an error: the place chosen before, shown again ------------------- */
  (function restore() {
    const lon = parseFloat(fields.lon.value);
    const lat = parseFloat(fields.lat.value);
    if (!isFinite(lon) || !isFinite(lat)) {
      // a place kept by its address id only (a form sent without the map): checked again, quietly
      if (fields.id.value && input.value.trim()) { validate(input.value); }
      return;
    }
    let lines = [];
    try { lines = JSON.parse(fields.summary.value || "[]"); } catch (e) { lines = []; }
    if (!Array.isArray(lines)) { lines = []; }
    lines = lines.map((line) => String(line));
    const status = CHOSEN[fields.outcome.value] ? fields.outcome.value : "picked";
    fields.outcome.value = status;
    result.dataset.status = status;
    result.innerHTML = chosenHtml(status, lines, fields.confirmed.value === "yes");
    wireConfirm();
    showPoint(lon, lat, input.value || lines[0] || "");
    // After every script of the page has run: the nearby requests listen for the chosen place.
    setTimeout(() => document.dispatchEvent(new CustomEvent("address:chosen", { detail: { lon: lon, lat: lat } })), 0);
  })();

  /* ---- the redirect dialog ----------------------------------------------------------------- */
  let dialogMap = null;
  function openRedirect(addressText, agency, lon, lat, basis) {
    document.getElementById("redirect-address").textContent = addressText;
    // The city's fallback contact (agency.fallback) answers for a place in no known agency area:
    // it is whom to ask, not whose the place is.
    const fallback = Boolean(agency && agency.fallback);
    document.getElementById("redirect-where").textContent = fallback ?
      say("fallback_where", "It is not inside any agency area we know; for help contact") :
      basis ? say("basis_where", "It is not in our address database; {basis} it is probably within the boundaries of", { basis: basis }) :
        say("where", "It lies within the boundaries of");
    document.getElementById("redirect-agency").textContent = agency ? agency.name : say("unknown_agency", "an agency this system does not know");
    const contact = document.getElementById("redirect-contact");
    contact.innerHTML = agency && agency.phone ? escapeHtml(fallback ? say("call", "Call") : say("contact", "Contact them at")) + " <strong>" +
      telLinks(agency.phone) + "</strong>." : escapeHtml(say("no_phone", "No phone number is on file for this agency."));
    if (fallback && agency.note) { contact.innerHTML += " " + escapeHtml(agency.note); }
    if (agency && agency.website) {
      contact.innerHTML += ' <a href="' + encodeURI(agency.website) + '" rel="noopener">' + escapeHtml(agency.website) + "</a>";
    }
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    const el = document.getElementById("redirect-map");
    if (!dialogMap && typeof L !== "undefined") {
      dialogMap = L.map(el, { zoomControl: true });
      window.geo311Basemap(dialogMap, JSON.parse(cfg.basemap || "null"));
    }
    if (!dialogMap) { return; }
    dialogMap.eachLayer((layer) => { if (!(layer instanceof L.GridLayer)) { dialogMap.removeLayer(layer); } });
    dialogMap.invalidateSize();
    // Street scale around the point, with both outlines: where the city line runs is what the caller needs.
    dialogMap.setView([lat, lon], 14);
    const point = L.circleMarker([lat, lon], { radius: 8, color: "#c0002a", fillOpacity: 0.9 });
    const layers = [getJson(cfg.jurisdictionUrl).then((data) => L.geoJSON(data, {
      style: { color: "#1d2733", weight: 3, dashArray: "6 4", fill: false }, interactive: false }).addTo(dialogMap))];
    if (agency && !fallback) {  // the fallback has no area in the agencies layer
      layers.push(getJson(cfg.agencyUrl.replace("__KEY__", encodeURIComponent(agency.key))).then((data) =>
        L.geoJSON(data, { style: { color: "#9a3c00", weight: 2, fillOpacity: 0.15 }, interactive: false }).addTo(dialogMap)));
    }
    Promise.all(layers).then(() => { point.addTo(dialogMap); el.dataset.ready = "true"; });
  }
  document.getElementById("redirect-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => input.focus());
})();
