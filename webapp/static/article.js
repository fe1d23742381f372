// The article page: step through the query's matches, copy the citation, and switch the
// related stories between earlier ones and all without reloading the article.
"use strict";

(function () {
  const nav = document.querySelector("nav.matches");
  const marks = Array.from(document.querySelectorAll("article.story h1 mark, article.story .body mark"));
  if (nav && marks.length) {
    const status = nav.querySelector(".match-status");
    let current = -1;
    marks.forEach((mark) => mark.setAttribute("tabindex", "-1"));
    function go(step) {
      if (current >= 0) marks[current].classList.remove("current");
      current = (current + step + marks.length) % marks.length;
      const mark = marks[current];
      mark.classList.add("current");
      mark.scrollIntoView({ block: "center" });
      status.textContent = "Match " + (current + 1) + " of " + marks.length;
    }
    nav.querySelectorAll("button[data-step]").forEach((button) => {
      button.addEventListener("click", () => go(Number(button.dataset.step)));
    });
    status.textContent = marks.length + " match" + (marks.length === 1 ? "" : "es");
    nav.hidden = false;
  }

  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    const announce = document.getElementById("announce");
    button.addEventListener("click", async () => {
      const text = source.textContent.trim();
      try {
        await navigator.clipboard.writeText(text);
        announce.textContent = "Citation copied";
        button.textContent = "Copied";
      } catch (error) {
        // No clipboard: select the citation so that it can be copied by hand.
        window.getSelection().selectAllChildren(source);
        announce.textContent = "Citation selected: press Ctrl+C to copy it";
      }
    });
    button.hidden = false;
  });

  document.addEventListener("click", async (event) => {
    const link = event.target.closest("section.related a[data-part=related]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    const url = new URL(link.href);
    url.searchParams.set("part", "related");
    const section = link.closest("section.related");
    section.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(response.statusText);
      const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = parsed.querySelector("section.related");
      section.replaceWith(fresh);
      history.replaceState(null, "", link.href);
      fresh.querySelector("a[data-part=related]")?.focus();
    } catch (error) {
      window.location.assign(link.href); // the whole page then, as without JavaScript
    }
  });
})();
