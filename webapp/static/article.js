// The article page: step through the query's matches, and copy the citation.
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
})();
