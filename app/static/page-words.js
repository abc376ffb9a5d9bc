/* The sentences a script shows, in the page's language: the template writes them, translated, as a
   JSON object in the element's data-words attribute; "{name}" in a sentence is filled in from values.
   A key the page did not write falls back to the script's English (the words of the source language). */
window.geo311Words = function (el) {
  "use strict";
  const words = JSON.parse((el && el.dataset.words) || "{}");
  return function say(key, fallback, values) {
    let text = words[key] || fallback;
    Object.keys(values || {}).forEach((name) => { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  };
};
