/* The desk inside the article page's side list (templates/annotations/desk.html): picking the
 * claim a rebuttal answers by clicking its highlight, Ctrl+Enter in a reply, Escape out of a
 * prompt, and the filters by review state. The forms themselves are htmx; this only adds what
 * htmx cannot. Kept apart from annotate.js, which owns the selection and the toolbar.
 * No inline scripts or styles: the page's CSP forbids them.
 */
(() => {
  "use strict";

  const root = document.getElementById("annotating");
  if (!root || typeof htmx === "undefined") return;

  function picker() {
    return document.querySelector("form[data-answer-picker]");
  }

  // While a picker is open, a click on a highlight picks that annotation (a claim under the
  // pointer first, when several highlights overlap there) instead of selecting its entry.
  document.addEventListener("click", (event) => {
    const form = picker();
    const mark = event.target.closest("#article-body mark");
    if (!form || !mark || !document.getSelection().isCollapsed) return;
    let chosen = mark;
    for (let m = mark; m; m = m.parentElement.closest("#article-body mark")) {
      if (m.dataset.tag === "claim") {
        chosen = m;
        break;
      }
    }
    event.preventDefault();
    event.stopPropagation();
    const select = form.querySelector("select[name=answers]");
    const id = chosen.dataset.annotation;
    if (!Array.from(select.options).some((option) => option.value === id)) {
      select.add(new Option(chosen.textContent.trim().slice(0, 70), id));
    }
    select.value = id;
    form.requestSubmit();
  }, true);

  function syncPicking() {
    root.classList.toggle("picking-answer", Boolean(picker()));
  }

  document.addEventListener("keydown", (event) => {
    const field = event.target;
    // Ctrl+Enter (or Cmd+Enter) sends a reply or a source, as in most chat boxes.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      const form = field.closest && field.closest(".reply-form, .source-prompt");
      if (form) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    // Escape closes a source prompt or a picker without saving.
    if (event.key === "Escape") {
      const form = field.closest && field.closest("[data-source-prompt], [data-answer-picker]");
      const cancel = form && form.querySelector("[data-cancel]");
      if (cancel) {
        event.preventDefault();
        event.stopPropagation();
        cancel.click();
      }
    }
  }, true);

  // Filters by review state: a class per hidden state on the root, which no swap replaces.
  function syncStateFilters() {
    for (const box of document.querySelectorAll("[data-state-filter]")) {
      box.checked = !root.classList.contains(`hide-review-${box.dataset.stateFilter}`);
      box.closest("fieldset").hidden = false;
    }
  }

  root.addEventListener("change", (event) => {
    const box = event.target.closest("[data-state-filter]");
    if (box) root.classList.toggle(`hide-review-${box.dataset.stateFilter}`, !box.checked);
  });

  document.body.addEventListener("htmx:afterSettle", () => {
    syncStateFilters();
    syncPicking();
  });
  syncStateFilters();
})();
