/* Photo inputs (input[type=file][data-max-bytes]): too many or too large a file is said at once, beside the
   input, and the form is not sent with it (a body larger than the server takes would lose everything typed).
   The server checks again whatever this says (service_requests/photos.py). */
(function () {
  "use strict";
  function problem(input) {
    const most = Number(input.dataset.maxCount || 0);
    const largest = Number(input.dataset.maxBytes || 0);
    const files = Array.from(input.files || []);
    if (most && files.length > most) {
      return files.length + " photos were chosen but a request takes at most " + most + ": choose fewer.";
    }
    const big = files.find((f) => largest && f.size > largest);
    if (big) {
      return big.name + " is " + (big.size / 1e6).toFixed(1) + " MB; photos of at most " +
        (largest / 1e6).toFixed(1) + " MB are accepted. Send a smaller one.";
    }
    return "";
  }
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    const message = document.createElement("p");
    message.className = "field-error";
    message.id = input.id + "-check";
    message.setAttribute("role", "alert");
    message.hidden = true;
    input.insertAdjacentElement("afterend", message);
    function check() {
      const text = problem(input);
      message.textContent = text;
      message.hidden = !text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
      return !text;
    }
    input.addEventListener("change", check);
    if (input.form) {
      input.form.addEventListener("submit", (event) => {
        if (!check()) { event.preventDefault(); input.focus(); }
      });
    }
  });
})();
