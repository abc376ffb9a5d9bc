/* A form sent back with an error: the error summary at the top takes the focus (so that a
   screen reader reads it first), and its link puts the cursor in the field to correct
   (a plain link to an id only scrolls there), its label in view. */
(function () {
  "use strict";
  const summary = document.getElementById("error-summary");
  if (!summary) { return; }
  if (document.activeElement !== summary) { summary.focus(); }
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const control = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!control) { return; }
    event.preventDefault();
    const label = document.querySelector("label[for='" + control.id + "']");
    const fieldset = control.closest("fieldset");
    (fieldset && fieldset.querySelector("legend") || label || control).scrollIntoView({ block: "start" });
    control.focus({ preventScroll: true });
  });
})();
