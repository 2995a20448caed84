/* The article page: select a passage, tag it, and move between highlights and the side list.
 *
 * Offsets (docs/anchoring.md): the server counts Unicode code points of the article body, whose blocks
 * are joined by "\n\n". Each block element carries `data-start`, its offset in that body, and
 * renders its text exactly, so a DOM point's offset is the block's start plus the code points
 * of the block's text nodes before it. Range.toString() is never used: it drops the
 * separators between blocks and counts UTF-16 units.
 *
 * Requests go through htmx (the CSRF token rides in hx-headers on <body>). Every request says
 * which version of the article's annotations the page shows (`since`), how far its list is
 * loaded (`after`) and its filter; the server answers with what changed since, out-of-band:
 * the highlights that changed (highlights.js lays them over the text), the list entries, the
 * counts and a notice. The page
 * polls for others' changes the same way (see "Live" below). Errors land in the alert region
 * (role=alert), never silently dropped.
 * No inline scripts or styles: the page's CSP forbids them.
 */
(() => {
  "use strict";

  const root = document.getElementById("annotating");
  if (!root || typeof htmx === "undefined") return;

  const SEPARATOR = "\n\n";
  const toolbar = document.getElementById("tag-toolbar"); // only rendered for editors
  const alerts = document.getElementById("alerts");

  let pending = null; // the passage the toolbar would tag: {start, end, quote}
  let reselecting = null; // {url, quote} while an editor picks a new passage for an annotation
  let mouseDown = false;
  let timer = 0;

  // Messages ------------------------------------------------------------------------------

  function showError(message) {
    const text = document.createElement("p");
    text.textContent = message;
    const dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.textContent = "Dismiss";
    dismiss.addEventListener("click", () => alerts.replaceChildren());
    alerts.replaceChildren(text, dismiss);
  }

  // A notice fades after a while; one offering Undo stays as long as Undo is offered.
  const NOTICE_SECONDS = 5;
  let noticeTimer = 0;

  function fadeNoticeLater() {
    const notice = document.getElementById("notice");
    if (!notice.firstChild || notice.dataset.fading) return;
    notice.dataset.fading = "true";
    const undo = notice.querySelector("form[data-expires]");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => {
      if (notice.isConnected) notice.replaceChildren();
    }, (undo ? Number(undo.dataset.expires) : NOTICE_SECONDS) * 1000);
  }

  // A message in the status region; `lasting` ones stay until replaced (instructions).
  function say(message, { lasting = false } = {}) {
    const notice = document.getElementById("notice");
    const text = document.createElement("p");
    text.textContent = message;
    notice.replaceChildren(text);
    clearTimeout(noticeTimer);
    if (lasting) {
      notice.dataset.fading = "lasting";
    } else {
      delete notice.dataset.fading;
      fadeNoticeLater();
    }
  }

  const STATUS_MESSAGES = {
    400: "The server could not accept this change.",
    403: "The server refused this: only editors annotate, and only an annotation's author " +
      "or staff may change it. If you were signed out, reload the page.",
    404: "That annotation or article no longer exists. Reload the page.",
    409: "The article changed since you opened it. Reload the page and try again.",
    413: "That was too large to send.",
  };

  function messageFor(xhr) {
    const body = xhr.responseText || "";
    if (body.includes("data-error-message")) {
      // Parsed, never inserted: DOMParser runs no scripts and we only read text.
      const found = new DOMParser().parseFromString(body, "text/html")
        .querySelector("[data-error-message]");
      if (found && found.textContent.trim()) return found.textContent.trim();
    }
    if (STATUS_MESSAGES[xhr.status]) return STATUS_MESSAGES[xhr.status];
    if (xhr.status >= 500) {
      return `The server failed (error ${xhr.status}); nothing was saved. Try again in a moment.`;
    }
    return `The request failed (status ${xhr.status}); nothing was saved.`;
  }

  document.body.addEventListener("htmx:responseError", (event) => {
    showError(messageFor(event.detail.xhr));
  });
  for (const name of ["htmx:sendError", "htmx:timeout"]) {
    document.body.addEventListener(name, () => {
      showError("Could not reach the server: check your connection. Nothing was saved.");
    });
  }
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful) alerts.replaceChildren();
  });

  // Offsets -------------------------------------------------------------------------------

  function codePoints(text) {
    let n = 0;
    for (const _ of text) n += 1; // iterating a string walks code points, not UTF-16 units
    return n;
  }

  function blocks() {
    return Array.from(document.querySelectorAll("#article-body .block"));
  }

  // Code points of `block`'s text before the DOM point (node, offset).
  function offsetIn(block, node, offset) {
    const point = document.createRange();
    point.setStart(node, offset);
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    let count = 0;
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
      if (text === node) return count + codePoints(text.data.slice(0, offset));
      const where = point.comparePoint(text, text.length);
      if (where > 0) break; // this text ends after the point
      count += codePoints(text.data);
      if (where === 0) break;
    }
    return count;
  }

  // The selection as body offsets and quote, or null when it offers nothing to tag.
  function passageFrom(selection) {
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    const all = blocks();
    const hit = all.filter((block) => range.intersectsNode(block));
    if (hit.length === 0) return null;
    const first = hit[0];
    const last = hit[hit.length - 1];
    const texts = all.map((block) => block.textContent);
    const body = Array.from(texts.join(SEPARATOR));
    // A selection starting or ending outside the text (the title, the margin) is clipped
    // to the first or last block it touches.
    let start = Number(first.dataset.start);
    if (first.contains(range.startContainer)) {
      start += offsetIn(first, range.startContainer, range.startOffset);
    }
    let end = Number(last.dataset.start);
    end += last.contains(range.endContainer)
      ? offsetIn(last, range.endContainer, range.endOffset)
      : codePoints(last.textContent);
    // Leave surrounding white space out: a double-click often takes the space after a word.
    while (start < end && /\s/u.test(body[start])) start += 1;
    while (end > start && /\s/u.test(body[end - 1])) end -= 1;
    if (start >= end) return null;
    return { start, end, quote: body.slice(start, end).join("") };
  }

  // The toolbar ---------------------------------------------------------------------------

  function hideToolbar() {
    if (toolbar) toolbar.hidden = true;
    pending = null;
  }

  function place(range) {
    const rects = range.getClientRects();
    const rect = rects.length ? rects[rects.length - 1] : range.getBoundingClientRect();
    const viewport = document.documentElement.clientWidth;
    const left = Math.max(8, Math.min(rect.left, viewport - toolbar.offsetWidth - 8));
    // CSSOM properties, not a style attribute: allowed under the page's CSP.
    toolbar.style.left = `${window.scrollX + left}px`;
    toolbar.style.top = `${window.scrollY + rect.bottom + 8}px`;
  }

  function updateToolbar() {
    if (!toolbar || mouseDown) return;
    const selection = document.getSelection();
    const passage = passageFrom(selection);
    if (!passage) {
      hideToolbar();
      return;
    }
    pending = passage;
    for (const button of toolbar.querySelectorAll("button")) {
      button.hidden = Boolean(button.dataset.action) !== Boolean(reselecting);
    }
    toolbar.hidden = false;
    place(selection.getRangeAt(0));
  }

  function post(url, values) {
    htmx.ajax("POST", url, {
      source: toolbar,
      target: "#live",
      swap: "outerHTML",
      values,
    });
  }

  function tagPassage(slug) {
    const passage = pending;
    if (!passage) return;
    if (toolbar.contains(document.activeElement)) textBody().focus({ preventScroll: true });
    hideToolbar();
    document.getSelection().removeAllRanges();
    post(root.dataset.createUrl, { ...passage, tag: slug });
  }

  function startReselect(button) {
    if (!toolbar) {
      showError("Only editors can pick a passage.");
      return;
    }
    reselecting = { url: button.dataset.reselect, quote: button.dataset.quote };
    say(`Select the new passage for “${reselecting.quote}” in the article, then choose ` +
      "“Attach here”. Escape cancels.", { lasting: true });
    document.getElementById("article-body").scrollIntoView({ block: "start" });
  }

  function endReselect() {
    reselecting = null;
    hideToolbar();
  }

  function attach() {
    const passage = pending;
    if (!reselecting || !passage) return;
    const url = reselecting.url;
    if (toolbar.contains(document.activeElement)) textBody().focus({ preventScroll: true });
    endReselect();
    document.getSelection().removeAllRanges();
    post(url, passage);
  }

  // Keyboard selection ----------------------------------------------------------------------
  // Browsers extend a selection with Shift+arrows only in editable text (or with caret
  // browsing on). For editors the article text is focusable: there the arrows move a caret
  // (drawn by us, browsers draw none in read-only text) and Shift+arrows select.

  const MOVES = {
    ArrowLeft: ["backward", "character"],
    ArrowRight: ["forward", "character"],
    ArrowUp: ["backward", "line"],
    ArrowDown: ["forward", "line"],
    Home: ["backward", "lineboundary"],
    End: ["forward", "lineboundary"],
  };
  let caret = null;

  function textBody() {
    return document.getElementById("article-body");
  }

  function selectionInText(selection) {
    const body = textBody();
    return selection.rangeCount > 0 && body.contains(selection.anchorNode) &&
      body.contains(selection.focusNode);
  }

  function drawCaret() {
    if (!caret) return;
    const selection = document.getSelection();
    const body = textBody();
    const show = document.activeElement === body && selection.isCollapsed &&
      selectionInText(selection);
    const rect = show ? selection.getRangeAt(0).getBoundingClientRect() : null;
    caret.hidden = !rect || rect.height === 0;
    if (caret.hidden) return;
    caret.style.left = `${window.scrollX + rect.left}px`;
    caret.style.top = `${window.scrollY + rect.top}px`;
    caret.style.height = `${rect.height}px`;
  }

  function readingKeys(event) {
    const body = textBody();
    if (event.target !== body) return;
    if (event.key === "Tab" && !event.shiftKey && toolbar && !toolbar.hidden) {
      event.preventDefault(); // from the selection straight into its toolbar
      toolbar.querySelector("button:not([hidden])").focus();
      return;
    }
    const move = MOVES[event.key];
    if (!move || event.metaKey) return;
    const selection = document.getSelection();
    if (!selectionInText(selection)) {
      const first = document.createTreeWalker(body, NodeFilter.SHOW_TEXT, {
        acceptNode: (node) => (node.parentElement.closest(".block")
          ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP),
      }).nextNode();
      if (!first) return;
      selection.collapse(first, 0);
    }
    const byWord = (event.ctrlKey || event.altKey) && move[1] === "character";
    selection.modify(event.shiftKey ? "extend" : "move", move[0], byWord ? "word" : move[1]);
    event.preventDefault();
    drawCaret();
  }

  function toolbarKeys(event) {
    const buttons = Array.from(toolbar.querySelectorAll("button:not([hidden])"));
    const at = buttons.indexOf(document.activeElement);
    if (at === -1) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (step) {
      event.preventDefault(); // a toolbar moves between its buttons with the arrows
      buttons[(at + step + buttons.length) % buttons.length].focus();
    } else if (event.key === "Escape") {
      textBody().focus();
    }
  }

  if (toolbar) {
    caret = document.createElement("span");
    caret.className = "reading-caret";
    caret.hidden = true;
    caret.setAttribute("aria-hidden", "true");
    document.body.append(caret);
    document.addEventListener("keydown", readingKeys);
    toolbar.addEventListener("keydown", toolbarKeys);
    document.addEventListener("focusin", drawCaret);
    document.addEventListener("focusout", () => setTimeout(drawCaret, 0));
    window.addEventListener("resize", drawCaret);

    document.addEventListener("selectionchange", () => {
      drawCaret();
      clearTimeout(timer);
      timer = setTimeout(updateToolbar, 120);
    });
    document.addEventListener("mousedown", (event) => {
      if (!toolbar.contains(event.target)) mouseDown = true;
    });
    document.addEventListener("mouseup", () => {
      mouseDown = false;
      setTimeout(updateToolbar, 0);
    });
    // Pressing a toolbar button must not clear the selection it acts on.
    toolbar.addEventListener("mousedown", (event) => event.preventDefault());
    toolbar.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.action === "cancel") endReselect();
      else if (button.dataset.action === "attach") attach();
      else if (button.dataset.tag) tagPassage(button.dataset.tag);
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        if (reselecting) say("Re-selecting cancelled.");
        endReselect();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || reselecting) return;
      if (event.target.closest("input, textarea, select, [contenteditable]")) return;
      const key = event.key.toLowerCase();
      const button = Array.from(toolbar.querySelectorAll("button[data-shortcut]"))
        .find((b) => b.dataset.shortcut === key);
      if (!button) return;
      const passage = passageFrom(document.getSelection());
      if (!passage) return;
      event.preventDefault();
      pending = passage;
      tagPassage(button.dataset.tag);
    });
  }

  // Marks and the side list ---------------------------------------------------------------

  function marksOf(id) {
    return document.querySelectorAll(`#article-body mark[data-annotation="${CSS.escape(id)}"]`);
  }

  function selectEntries(ids) {
    for (const entry of document.querySelectorAll(".annotation.is-selected")) {
      entry.classList.remove("is-selected");
      entry.removeAttribute("aria-current");
    }
    const entries = ids.map((id) => document.getElementById(`annotation-${id}`)).filter(Boolean);
    for (const entry of entries) {
      entry.classList.add("is-selected");
      entry.setAttribute("aria-current", "true");
    }
    return entries;
  }

  function showMark(id) {
    const marks = marksOf(id);
    selectEntries([id]);
    if (marks.length === 0) return;
    marks[0].scrollIntoView({ block: "center" });
    for (const mark of marks) {
      mark.classList.remove("flash");
      void mark.offsetWidth; // restart the animation
      mark.classList.add("flash");
    }
  }

  // A click on a spot covered by several marks selects every annotation there.
  function showEntriesAt(mark) {
    const ids = [];
    for (let m = mark; m; m = m.parentElement.closest("#article-body mark")) {
      if (!root.classList.contains(`hide-${m.dataset.tag}`)) ids.push(m.dataset.annotation);
    }
    const entries = selectEntries(ids.reverse());
    if (entries.length === 0) return;
    entries[0].scrollIntoView({ block: "nearest" });
    entries[0].querySelector(".goto").focus({ preventScroll: true });
    if (entries.length > 1) {
      const names = entries.map((e) => e.querySelector(".tag-chip").textContent.trim());
      say(`${entries.length} annotations cover this spot: ${names.join(", ")}.`);
    }
  }

  root.addEventListener("click", (event) => {
    const reselect = event.target.closest("[data-reselect]");
    if (reselect) {
      startReselect(reselect);
      return;
    }
    const goto = event.target.closest("[data-goto]");
    if (goto) {
      showMark(goto.dataset.goto);
      return;
    }
    const mark = event.target.closest("#article-body mark");
    if (mark && document.getSelection().isCollapsed) showEntriesAt(mark);
  });

  // Filters: a class per hidden tag on the root, which no swap replaces -----------------

  function syncFilters() {
    for (const box of document.querySelectorAll("[data-filter]")) {
      box.checked = !root.classList.contains(`hide-${box.dataset.filter}`);
      box.closest("fieldset").hidden = false;
    }
  }

  root.addEventListener("change", (event) => {
    const box = event.target.closest("[data-filter]");
    if (box) root.classList.toggle(`hide-${box.dataset.filter}`, !box.checked);
  });

  // After each swap -----------------------------------------------------------------------

  document.body.addEventListener("htmx:afterSettle", () => {
    syncFilters();
    fadeNoticeLater();
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.requestConfig && event.detail.requestConfig.verb === "post") hideToolbar();
  });

  // Live: what the page shows, sent with every request --------------------------------------

  function live() {
    return document.getElementById("live");
  }

  document.body.addEventListener("htmx:configRequest", (event) => {
    const params = event.detail.parameters;
    const path = event.detail.path;
    if (!root.contains(event.detail.elt) && event.detail.elt !== toolbar &&
      event.detail.elt !== document.body) return;
    if (path.includes("/entries/") || event.detail.elt.id === "annotation-filter") return;
    params.since = live().dataset.version;
    const more = document.getElementById("annotation-more");
    if (more) params.after = more.dataset.after;
    // The list's filter is the page's URL (the filter form pushes it there).
    params.filter = window.location.search.replace(/^\?/, "");
  });

  let swapping = null; // the element whose request is being answered

  // A change made on an older version of an annotation comes back as 409 with the entry to
  // show (the current version beside the unsaved text) and its target: swap it, no alert.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.status === 409 && xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    swapping = event.detail.requestConfig ? event.detail.requestConfig.elt : null;
  });

  // An incoming change never takes away what the editor is working on: an open edit form or
  // a field being typed in stays, unless this very request came from it (its own Save).

  function inUse(element) {
    if (!element || element.nodeType !== Node.ELEMENT_NODE) return false;
    if (swapping && element.contains(swapping)) return false;
    if (element.querySelector(".edit-form")) return true;
    const active = document.activeElement;
    return Boolean(active && active.matches("input, textarea, select") && element.contains(active));
  }

  document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
    const target = event.detail.target;
    const fragment = event.detail.fragment;
    const incoming = fragment instanceof DocumentFragment ? fragment.firstElementChild : fragment;
    if (incoming && incoming.id === target.id) {
      // Replacing or removing the target itself.
      if (inUse(target)) event.detail.shouldSwap = false;
      return;
    }
    // An entry going in whose old copy stayed (kept above): don't list it twice.
    const entry = incoming && incoming.querySelector("li.annotation[id]");
    if (entry && document.getElementById(entry.id)) event.detail.shouldSwap = false;
  });

  // Polling: every few seconds while the tab is visible, "anything since version N?". An
  // empty 204 when nothing changed. Skipped while the editor selects text or picks a passage,
  // so a selection in progress is never redrawn under the mouse.
  const POLL_SECONDS = Number(root.dataset.pollSeconds) || 3;
  let polling = false;

  function busy() {
    const selection = document.getSelection();
    const selecting = selection && !selection.isCollapsed &&
      root.contains(selection.anchorNode);
    return mouseDown || selecting || Boolean(reselecting) || Boolean(toolbar && !toolbar.hidden);
  }

  function poll() {
    if (polling || document.hidden || busy()) return;
    polling = true;
    htmx.ajax("GET", live().dataset.changesUrl, { source: live(), target: "#live",
      swap: "outerHTML" }).finally(() => { polling = false; });
  }

  setInterval(poll, POLL_SECONDS * 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });

  syncFilters();
})();
