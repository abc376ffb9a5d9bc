/* The request page's reply form: choosing a template puts its filled-in text in the text box
   (the text stays editable; the page's own first template is there without JavaScript). */
(function () {
  "use strict";
  const select = document.getElementById("reply-template");
  const box = document.getElementById("reply-text");
  if (!select || !box) { return; }
  select.addEventListener("change", () => {
    const option = select.options[select.selectedIndex];
    if (option && option.dataset.text !== undefined) { box.value = option.dataset.text; box.focus(); }
  });
}());
