/* Phone numbers in a text as tel: links, the rest escaped: the scripts' twin of the pages'
   tel_link filter (app/web/contact_links.py). window.geo311TelLinks(text) -> HTML. */
(function () {
  "use strict";
  function escapeHtml(text) {
    const div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  window.geo311TelLinks = function (text) {
    return String(text).split(/(\+?\(?\d[\d\s().-]*\d)/).map(function (part, i) {
      if (i % 2 === 0 || part.replace(/\D/g, "").length < 3) { return escapeHtml(part); }
      const lead = part.charAt(0) === "(" && part.indexOf(")") < 0 ? "(" : "";
      const number = part.slice(lead.length);
      const dial = (number.charAt(0) === "+" ? "+" : "") + number.replace(/\D/g, "");
      return escapeHtml(lead) + '<a class="tel" href="tel:' + dial + '">' + escapeHtml(number) + "</a>";
    }).join("");
  };
}());
