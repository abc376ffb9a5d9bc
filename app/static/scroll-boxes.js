/* Tables wider than the screen scroll inside their box (.table-box and its kin in app.css). A box
   that does scroll is made reachable by keyboard, so that the arrow keys can scroll it (WCAG 2.1.1),
   and named by its table's caption or the heading before it for screen readers. Boxes that fit
   are left out of the tab order. Checked again when the window is resized or turned. */
(function () {
  "use strict";
  const BOXES = ".table-box, .queue-table-box, .supervision-table-box";
  let made = 0;

  function labelFor(box) {
    let source = box.querySelector("caption");
    if (!source) {
      let node = box.previousElementSibling;
      while (node && !/^H[1-6]$/.test(node.tagName)) { node = node.previousElementSibling; }
      source = node;
    }
    if (!source) { source = document.querySelector("main h1"); }
    if (!source) { return null; }
    if (!source.id) { made += 1; source.id = "scroll-box-label-" + made; }
    return source.id;
  }

  function update() {
    document.querySelectorAll(BOXES).forEach(function (box) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        const label = labelFor(box);
        if (label) { box.setAttribute("aria-labelledby", label); }
        box.dataset.scrollBox = "on";
      } else if (!scrolls && box.dataset.scrollBox === "on") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-labelledby");
        delete box.dataset.scrollBox;
      }
    });
  }

  let pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.cancelAnimationFrame(pending); }
    pending = window.requestAnimationFrame(update);
  });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", update); } else { update(); }
}());
