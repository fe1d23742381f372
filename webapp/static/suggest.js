// Suggestions under the search box as a query is typed: a combobox (WAI-ARIA pattern)
// over /api/suggest. Without JavaScript the box is a plain search form.
"use strict";

(function () {
  const form = document.querySelector("form[role=search][data-suggest]");
  if (!form) return;
  const input = form.querySelector("input[name=q]");
  const list = form.querySelector("#suggestions");
  const announce = document.getElementById("announce");
  const DELAY = 150;
  let timer = null;
  let asked = 0;
  let active = -1;
  let items = [];

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-describedby", "q-hint");

  function close() {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    const options = list.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index < 0) {
      input.removeAttribute("aria-activedescendant");
    } else {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    }
  }

  function choose(index) {
    const item = items[index];
    if (!item) return;
    close();
    if (item.kind === "query") {
      input.value = item.text;
      form.requestSubmit();
    } else {
      window.location.assign(item.href);
    }
  }

  function show(found) {
    close();
    items = found;
    if (!items.length) return;
    items.forEach((item, i) => {
      const option = document.createElement("li");
      option.id = "suggestion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.className = item.kind;
      const typed = input.value;
      if (item.kind === "query" && item.text.toLowerCase().startsWith(typed.toLowerCase())) {
        const completion = document.createElement("strong"); // what the suggestion adds
        completion.textContent = item.text.slice(typed.length);
        option.append(item.text.slice(0, typed.length), completion);
      } else {
        option.textContent = item.text;
      }
      if (item.kind === "article") {
        const kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = " article";
        option.append(kind);
      }
      option.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep the focus in the box
        choose(i);
      });
      list.append(option);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    announce.textContent = items.length + " suggestion" + (items.length === 1 ? "" : "s");
  }

  async function fetchSuggestions() {
    const text = input.value;
    const ticket = ++asked;
    if (!text.trim()) return close();
    try {
      const response = await fetch(form.dataset.suggest + "?q=" + encodeURIComponent(text));
      const data = await response.json();
      if (ticket === asked && document.activeElement === input) show(data.suggestions || []);
    } catch (error) {
      close(); // suggestions are a convenience: the search itself still works
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, DELAY);
  });

  input.addEventListener("keydown", (event) => {
    if (list.hidden) {
      if (event.key === "ArrowDown" && input.value.trim()) fetchSuggestions();
      return;
    }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight((active + 1) % items.length);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  input.addEventListener("blur", () => setTimeout(close, 100));

  // "/" anywhere but in a text field goes to the search box, as in other search products.
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey ||
        target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    event.preventDefault();
    input.focus();
    input.select();
  });
  form.addEventListener("submit", () => { asked++; clearTimeout(timer); });
})();
