// On a narrow screen the filters start folded away, behind their "Filters" heading.
"use strict";

(function () {
  const filters = document.querySelector(".facets details");
  if (filters && window.matchMedia("(max-width: 52rem)").matches) filters.open = false;
})();
