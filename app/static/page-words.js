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

/* A date of an answer (ISO "2026-12-03": a day of the city's calendar) in the words of the page's language
   ("3 dic 2026", "Dec 3, 2026"), written by the browser (Intl) for the page's lang; the ISO text where it cannot. */
window.geo311Date = function (iso) {
  "use strict";
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
  if (!day || typeof Intl === "undefined") { return iso || ""; }
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: "medium", timeZone: "UTC" })
      .format(new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]))));
  } catch (e) {
    return iso;
  }
};
