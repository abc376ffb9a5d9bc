/* The header's menu button (base.html): on a narrow screen the navigation folds away behind it.
   Without this script the menu simply stays open. */
(function () {
  "use strict";
  const header = document.getElementById("site-header");
  const button = document.getElementById("menu-button");
  if (!header || !button) { return; }
  header.classList.add("has-menu");
  button.hidden = false;
  function set(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  }
  button.addEventListener("click", function () { set(button.getAttribute("aria-expanded") !== "true"); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("menu-open")) { set(false); button.focus(); }
  });
}());
