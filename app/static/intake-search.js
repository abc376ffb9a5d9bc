// The service search of the catalogue pages: filters the list as one types (name, keywords,
// then description, as service_requests/catalogue_search.py ranks them on the server for ?q=),
// ArrowDown/ArrowUp choose, Enter opens the chosen service (or the best match).
(function () {
  "use strict";
  const input = document.getElementById("service-search");
  const form = document.getElementById("service-search-form");
  const lists = document.getElementById("service-lists");
  const empty = document.getElementById("service-search-empty");
  if (!input || !form || !lists) return;
  const items = Array.from(lists.querySelectorAll("li[data-name]"));
  let shown = items;
  let active = -1;

  const words = (text) => (text || "").toLowerCase().match(/[a-z0-9]+/g) || [];
  // Assistive technology sees each list as a listbox whose options are the services' links (an option
  // may not hold a link); the list items stay for the highlight.
  const option = (li) => li.querySelector("a");
  lists.querySelectorAll("ul").forEach((ul) => {
    ul.setAttribute("role", "listbox");
    const heading = ul.previousElementSibling;
    if (heading && heading.matches("h2")) { ul.setAttribute("aria-label", heading.textContent); }
  });
  items.forEach((li, i) => {
    li.setAttribute("role", "none");
    option(li).id = option(li).id || "service-option-" + i;
    option(li).setAttribute("role", "option");
    li.dataset.order = String(i);
  });

  function rank(li, wanted) {
    const name = words(li.dataset.name);
    const keywords = words(li.dataset.keywords);
    const described = words(li.dataset.description);
    const found = (ws) => wanted.every((q) => ws.some((w) => w.startsWith(q)));
    if (name.join(" ").startsWith(wanted.join(" "))) return 0;
    if (found(name)) return 1;
    if (found(name.concat(keywords))) return 2;
    if (found(name.concat(keywords, described))) return 3;
    return -1;
  }

  function highlight(index) {
    items.forEach((li) => { li.classList.remove("active"); option(li).removeAttribute("aria-selected"); });
    active = index;
    if (index >= 0 && shown[index]) {
      shown[index].classList.add("active");
      option(shown[index]).setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option(shown[index]).id);
      shown[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function filter() {
    const wanted = words(input.value);
    items.forEach((li) => option(li).removeAttribute("aria-selected"));
    if (!wanted.length) {
      items.forEach((li) => (li.hidden = false));
      shown = items;
    } else {
      const ranked = [];
      items.forEach((li) => {
        const r = rank(li, wanted);
        li.hidden = r < 0;
        if (r >= 0) ranked.push([r, Number(li.dataset.order), li]);
      });
      ranked.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      shown = ranked.map((entry) => entry[2]);
    }
    lists.querySelectorAll("ul").forEach((ul) => {
      const visible = Array.from(ul.children).some((li) => !li.hidden);
      ul.hidden = !visible;
      const heading = ul.previousElementSibling;
      if (heading && heading.classList.contains("service-group")) heading.hidden = !visible;
    });
    if (empty) {
      // The sentences come from the page (data-one, data-many, data-none), in its language.
      const words = empty.dataset;
      empty.textContent = wanted.length
        ? shown.length
          ? (shown.length === 1 ? words.one : words.many).replace("{n}", shown.length)
          : words.none.replace("{query}", input.value)
        : "";
    }
    highlight(wanted.length && shown.length ? 0 : -1);
  }

  input.addEventListener("input", filter);
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown.length) return;
      // keyboard order is the ranked order shown highlighted; wraps around
      const next = event.key === "ArrowDown" ? active + 1 : active - 1;
      highlight((next + shown.length) % shown.length);
    } else if (event.key === "Enter") {
      const chosen = shown[active >= 0 ? active : 0];
      if (chosen && input.value.trim()) {
        event.preventDefault();
        window.location.href = chosen.querySelector("a").href;
      }
    }
  });
  if (input.value) filter();
})();
