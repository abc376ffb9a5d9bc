/* Caller history on the staff intake form (only rendered for staff with requests.contact):
   when the phone or the e-mail changes, the caller's earlier requests are listed. */
(function () {
  "use strict";
  const box = document.getElementById("caller-history");
  const phone = document.getElementById("phone");
  const email = document.getElementById("email");
  if (!box || (!phone && !email)) { return; }
  function escapeHtml(text) { const d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; }
  let asked = "";
  function look() {
    const params = new URLSearchParams({ phone: phone ? phone.value : "", email: email ? email.value : "" });
    if (params.toString() === asked) { return; }
    asked = params.toString();
    fetch(box.dataset.url + "?" + asked, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { requests: [] }))
      .then((data) => {
        const items = data.requests || [];
        box.innerHTML = items.length
          ? "<p><strong>This caller's earlier requests (" + items.length + "):</strong></p><ul>" + items.map((e) =>
              '<li><a href="' + encodeURI(e.url) + '">' + escapeHtml(e.reference) + "</a> " + escapeHtml(e.service) +
              ", " + escapeHtml(e.requested) + ", " + escapeHtml(e.status) + "</li>").join("") + "</ul>"
          : "";
      });
  }
  [phone, email].forEach((field) => { if (field) { field.addEventListener("change", look); } });
})();
