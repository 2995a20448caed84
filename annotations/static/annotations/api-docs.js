/* What Swagger UI draws, mended for assistive technology, now and after every expand:
 * - it jumps from its title (h1) to h3 for each group of operations and to h4 below them, so
 *   a screen reader's outline skips levels: h3 becomes level 2, h4 level 3, and so on;
 * - every operation's responses table is a region named only "region": it gets the
 *   operation's method and path as its name;
 * - its code examples scroll sideways but cannot be focused: they join the Tab order, so
 *   the keyboard can scroll them.
 * The page's CSP forbids inline scripts: hence this file. */
(() => {
  "use strict";

  const docs = document.getElementById("swagger-ui");
  if (!docs) return;

  function relevel() {
    for (const heading of docs.querySelectorAll("h3, h4, h5, h6")) {
      const level = String(Number(heading.tagName[1]) - 1);
      if (heading.getAttribute("aria-level") !== level) {
        heading.setAttribute("role", "heading");
        heading.setAttribute("aria-level", level);
      }
    }
    for (const table of docs.querySelectorAll("table.responses-table:not([aria-label])")) {
      const summary = table.closest(".opblock")?.querySelector(".opblock-summary");
      const name = summary ? summary.querySelector(".opblock-summary-method")?.textContent +
        " " + summary.querySelector(".opblock-summary-path")?.textContent : "";
      table.setAttribute("aria-label", `Responses of ${name.trim()}`);
    }
    for (const example of docs.querySelectorAll("pre.microlight:not([tabindex])")) {
      example.tabIndex = 0;
    }
  }

  new MutationObserver(relevel).observe(docs, { childList: true, subtree: true });
  relevel();
})();
