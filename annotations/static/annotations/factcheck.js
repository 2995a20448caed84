/* The desk inside the article page's side list (templates/annotations/factcheck.html): picking the
 * claim a rebuttal answers by clicking its highlight, Ctrl+Enter in a reply, Escape out of a
 * prompt, the note in the selection toolbar and the question before a duplicate. The forms
 * themselves are htmx; this only adds what htmx cannot. Kept apart from annotate.js, which owns the selection and the toolbar.
 * No inline scripts or styles: the page's CSP forbids them.
 */
(() => {
  "use strict";

  const root = document.getElementById("annotating");
  if (!root || typeof htmx === "undefined") return;

  // Submit a desk form through htmx directly: one swapped in a moment ago may not be wired
  // yet, and a plain submit would leave the page.
  function submit(form) {
    htmx.ajax("POST", form.getAttribute("hx-post"), {
      source: form,
      target: form.getAttribute("hx-target"),
      swap: "outerHTML",
    });
  }

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
    submit(form);
  }, true);

  function syncPicking() {
    root.classList.toggle("picking-answer", Boolean(picker()));
  }

  document.addEventListener("keydown", (event) => {
    const field = event.target;
    // Ctrl+Enter (or Cmd+Enter) sends a reply or a source, as in most chat boxes.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      const form = field.closest && field.closest(".reply-form, .source-prompt");
      if (form && form.reportValidity()) {
        event.preventDefault();
        submit(form);
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
        // Asked directly, not by clicking: the prompt may have come in a moment ago, before
        // htmx has wired its buttons.
        htmx.ajax("GET", cancel.getAttribute("hx-get"), {
          source: cancel, // takes its turn with the page's other requests (annotate.js)
          target: cancel.getAttribute("hx-target"),
          swap: "outerHTML",
        });
      }
    }
  }, true);

  // The toolbar's note: it rides along with the tag the toolbar saves the passage with.
  const note = document.querySelector("[data-toolbar-note]");
  const noteTag = document.querySelector("[data-toolbar-note-tag]");
  const toolbar = document.getElementById("tag-toolbar");

  if (note && toolbar) {
    document.body.addEventListener("htmx:configRequest", (event) => {
      if (event.detail.elt !== toolbar || event.detail.path !== root.dataset.createUrl) return;
      if (note.value.trim()) event.detail.parameters.note = note.value;
      note.value = "";
    });
    // The toolbar keeps the selection by refusing mouse presses; the note field and its tag
    // take them (annotate.js leaves the toolbar open while the focus is in it).
    for (const field of [note, noteTag]) {
      field.addEventListener("mousedown", (event) => event.stopPropagation());
    }
    note.addEventListener("keydown", (event) => {
      // Ctrl+Enter as in the desk's other fields; a plain Enter too, the field being one line.
      if (event.key === "Enter") {
        event.preventDefault();
        event.stopPropagation();
        const button = toolbar.querySelector(`button[data-tag="${CSS.escape(noteTag.value)}"]`);
        if (button) button.click();
      } else if (event.key === "Escape") {
        note.value = ""; // annotate.js closes the toolbar
        document.getElementById("article-body").focus({ preventScroll: true });
      }
    });
  }

  // A question in the prompt region (a duplicate): "Don't save" or Escape clears it.
  const prompt = document.getElementById("desk-prompt");
  if (prompt) {
    prompt.addEventListener("click", (event) => {
      if (event.target.closest("[data-dismiss-prompt]")) prompt.replaceChildren();
    });
    prompt.addEventListener("keydown", (event) => {
      if (event.key === "Escape") prompt.replaceChildren();
    });
    document.body.addEventListener("htmx:afterRequest", (event) => {
      // Whatever was saved meanwhile answers the question.
      if (event.detail.successful && event.detail.target && event.detail.target.id === "live") {
        prompt.replaceChildren();
      }
    });
  }

  document.body.addEventListener("htmx:afterSettle", syncPicking);
})();
