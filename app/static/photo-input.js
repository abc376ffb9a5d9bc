/* Photo inputs (input[type=file][data-max-bytes]): too many or too large a file is said at once, beside the
   input, and the form is not sent with it (a body larger than the server takes would lose everything typed).
   The server checks again whatever this says (service_requests/photos.py). */
(function () {
  "use strict";
  function megabytes(count) { return (count / 1e6).toFixed(1) + " MB"; }
  // The sentences are the server's (the input's data-words, in the page's language: page-words.js).
  function problem(input, say) {
    const most = Number(input.dataset.maxCount || 0);
    const largest = Number(input.dataset.maxBytes || 0);
    const files = Array.from(input.files || []);
    if (most && files.length > most) {
      return say("too_many", "{chosen} photos were chosen but a request takes at most {most}: choose at most {room}.",
        { chosen: files.length, most: most, room: most });
    }
    const big = files.find((f) => largest && f.size > largest);
    if (big) {
      return say("too_large", "{name} is {size}; photos of at most {most} are accepted. Send a smaller one " +
        "(a phone's share or e-mail option usually offers a smaller size).",
        { name: big.name, size: megabytes(big.size), most: megabytes(largest) });
    }
    return "";
  }
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    const say = window.geo311Words(input);
    const message = document.createElement("p");
    message.className = "field-error";
    message.id = input.id + "-check";
    message.setAttribute("role", "alert");
    message.hidden = true;
    input.insertAdjacentElement("afterend", message);
    function check() {
      const text = problem(input, say);
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
