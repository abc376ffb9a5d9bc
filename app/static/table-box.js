/* Tables wider than the screen scroll inside their .table-box (app.css). A box that scrolls is made a
   named region in the tab order, so that a keyboard can scroll it too (WCAG 2.1.1; axe's
   scrollable-region-focusable); its name is the table's caption, else the heading before it. A box that
   fits stays out of the tab order. Checked again when the window's width changes. */
(function () {
  "use strict";
  function name(box) {
    const caption = box.querySelector("caption");
    if (caption) { return caption.textContent.trim(); }
    for (let el = box.previousElementSibling; el; el = el.previousElementSibling) {
      if (/^H[1-6]$/.test(el.tagName)) { return el.textContent.trim(); }
    }
    const section = box.closest("section");
    const heading = section && section.querySelector("h1, h2, h3, h4");
    return heading ? heading.textContent.trim() : "";
  }
  function mark() {
    document.querySelectorAll(".table-box").forEach(function (box) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        const label = name(box);
        if (label) { box.setAttribute("aria-label", label); }
      } else if (!scrolls && box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  mark();
  let pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(mark, 150);
  });
}());
