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
    // While the editor is in the toolbar (its note field moves the selection), it stays.
    if (!toolbar || mouseDown || toolbar.contains(document.activeElement)) return;
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

  // Readers: selecting text says why no toolbar comes ----------------------------------------

  const READER_MESSAGE = "You can read and export; ask an admin to make you an editor.";
  let readerSelected = "";

  function tellReader() {
    const passage = passageFrom(document.getSelection());
    const where = passage ? `${passage.start}-${passage.end}` : "";
    if (passage && where !== readerSelected) say(READER_MESSAGE);
    readerSelected = where;
  }

  if (!toolbar) {
    document.addEventListener("selectionchange", () => {
      clearTimeout(timer);
      timer = setTimeout(tellReader, 400);
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
    if (ONE_COLUMN.matches) {
      openSheet(entries, mark);
      return;
    }
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

  // One request at a time (hx-sync on #annotating, templates/annotations/article_detail.html):
  // htmx picks a request's target when it sends it, and looks for the out-of-band parts of its
  // answer in the document of the element that sent it. An answer that lands after another one
  // replaced those (the poll's #live, an entry it redrew) would draw nothing, or lose the form
  // the editor asked for. So the page's requests wait their turn, each sent with the version
  // the answer before it left, and the poll is dropped while any other is under way.

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
    // An open form, and the desk's open thread, picker or source prompt (factcheck.js).
    if (element.querySelector(".edit-form, .thread, [data-answer-picker], [data-source-prompt]")) {
      return true;
    }
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
  // so a selection in progress is never redrawn under the mouse, and (hx-sync on #live) while
  // any other request of the page is under way: see "One request at a time" above.
  const POLL_SECONDS = Number(root.dataset.pollSeconds) || 3;

  function busy() {
    const selection = document.getSelection();
    const selecting = selection && !selection.isCollapsed &&
      root.contains(selection.anchorNode);
    return mouseDown || selecting || Boolean(reselecting) || Boolean(toolbar && !toolbar.hidden);
  }

  function poll() {
    if (document.hidden || busy()) return;
    htmx.ajax("GET", live().dataset.changesUrl, { source: live(), target: "#live",
      swap: "outerHTML" });
  }

  setInterval(poll, POLL_SECONDS * 1000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });

  // Phones: the entries of a tapped highlight in a sheet -------------------------------------
  // Where the side list sits below the text (one column), scrolling to an entry would leave
  // the text thousands of pixels behind. There a tapped highlight's entries show in a sheet
  // at the bottom of the screen instead: the very entries, moved there while it is open (their
  // ids, forms and swaps keep working), and put back in their places when it closes.

  const ONE_COLUMN = window.matchMedia("(max-width: 60rem)");
  let sheet = null;
  const places = new Map(); // entry id -> the comment standing in its place in the list

  function makeSheet() {
    sheet = document.createElement("section");
    sheet.className = "entry-sheet";
    sheet.hidden = true;
    sheet.setAttribute("role", "region");
    sheet.setAttribute("aria-label", "Annotations here");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "sheet-close";
    close.textContent = "Close";
    close.addEventListener("click", closeSheet);
    const list = document.createElement("ol");
    list.className = "annotations";
    sheet.append(close, list);
    root.append(sheet);
  }

  function openSheet(entries, mark) {
    closeSheet();
    if (!sheet) makeSheet();
    const list = sheet.querySelector("ol");
    for (const entry of entries) {
      const place = document.createComment(entry.id);
      entry.before(place);
      places.set(entry.id, place);
      list.append(entry);
    }
    sheet.hidden = false;
    root.classList.add("has-sheet");
    entries[0].querySelector(".goto").focus({ preventScroll: true });
    // Keep the tapped words in sight above the sheet.
    const covered = mark.getBoundingClientRect().bottom - sheet.getBoundingClientRect().top;
    if (covered > -16) window.scrollBy(0, covered + 16);
  }

  function closeSheet() {
    if (!sheet || sheet.hidden) return;
    const hadFocus = sheet.contains(document.activeElement);
    const kept = Array.from(places.values()).filter((place) => place.isConnected);
    for (const entry of Array.from(sheet.querySelectorAll("ol > li"))) {
      const place = places.get(entry.id);
      if (place && place.isConnected) place.replaceWith(entry);
      else if (kept.length) kept[0].before(entry); // came in while the sheet was open
      else document.getElementById("annotation-items").append(entry);
    }
    for (const place of places.values()) place.remove();
    places.clear();
    sheet.hidden = true;
    root.classList.remove("has-sheet");
    if (hadFocus && textBody().hasAttribute("tabindex")) textBody().focus({ preventScroll: true });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeSheet();
  });
  root.addEventListener("click", (event) => {
    if (sheet && !sheet.hidden && !sheet.contains(event.target) &&
      !event.target.closest("#article-body mark")) closeSheet();
  });
  ONE_COLUMN.addEventListener("change", closeSheet);
  // A change answered while the sheet is open may put its entries back in the list (a saved
  // entry comes back as a new one): they return to the sheet. Listened to before the focus
  // handling below, so focus lands in the sheet, not in the list far below.
  document.body.addEventListener("htmx:afterSettle", () => {
    if (!sheet || sheet.hidden) return;
    for (const [id, place] of places) {
      const entry = document.getElementById(id);
      if (!entry || sheet.contains(entry)) continue;
      const moved = document.createComment(id);
      entry.before(moved);
      place.remove();
      places.set(id, moved);
      sheet.querySelector("ol").append(entry);
    }
    if (!sheet.querySelector("li")) closeSheet(); // its entries were deleted
  });

  // Room for the notice ------------------------------------------------------------------------
  // The notice and the alert float over the bottom corner, where the side list ends: while
  // one shows, the list and the page get that much room below their end (app.css reads
  // --notice-room), so their last entry scrolls clear of it.

  const messages = document.querySelector(".live");

  function makeRoom() {
    const empty = !alerts.firstChild && !document.getElementById("notice").firstChild;
    const room = empty ? 0 : Math.ceil(window.innerHeight - messages.getBoundingClientRect().top);
    document.documentElement.style.setProperty("--notice-room", `${room}px`);
  }

  if (messages && typeof ResizeObserver !== "undefined") {
    new ResizeObserver(makeRoom).observe(messages);
    new MutationObserver(makeRoom).observe(messages, { childList: true, subtree: true });
  }

  // Focus after each action -------------------------------------------------------------------
  // A swap removes or replaces the element that had focus (a deleted entry, a closed form):
  // focus would fall to <body> and a keyboard user start again from the top. Each request on
  // an annotation says where focus goes once it is answered: after Save or Cancel to the
  // entry's Edit link, after Undo to the restored entry, after Delete (or Accept, which
  // takes an item off the review list) to the next item, else the one before, else the list's
  // heading.

  const plans = new WeakMap(); // xhr -> {id, action, neighbours}
  const unsaved = new Map(); // annotation id -> {tag, note} of a form open when it was deleted
  const ACTION = /\/annotations\/(\d+)\/(?:(update|delete|restore|reselect)\/)?(?:\?(.*))?$/;

  function itemsAround(element) {
    const item = element && element.closest("li[data-annotation]");
    if (!item) return [];
    const siblings = Array.from(item.parentElement.children);
    const at = siblings.indexOf(item);
    return [...siblings.slice(at + 1), ...siblings.slice(0, at).reverse()]
      .filter((li) => li.id)
      .map((li) => li.id);
  }

  function firstControl(item) {
    return item.querySelector(".goto:not(:disabled), a[href], button:not(:disabled)");
  }

  function focusLost() {
    const active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const found = ACTION.exec(event.detail.requestConfig.path);
    if (!found) return;
    const [, id, verb, query] = found;
    const action = verb || (query && query.includes("edit") ? "edit" : "show");
    plans.set(event.detail.xhr, { id, action, neighbours: itemsAround(event.detail.elt) });
    const form = document.querySelector(`#annotation-${id} .edit-form`);
    if (action === "delete" && form) {
      unsaved.set(id, { tag: form.elements.tag.value, note: form.elements.note.value });
    }
  });

  function reopenWithUnsaved(id) {
    const item = document.getElementById(`annotation-${id}`);
    const link = item && item.querySelector("a[hx-get]"); // its Edit link, or its form's Cancel
    if (!link || !unsaved.has(id)) {
      unsaved.delete(id);
      return false;
    }
    // A fresh form, which carries the restored version to save against; the unsaved text
    // goes into it once it is there (refill), however long it waits for its turn.
    const url = `${link.getAttribute("hx-get").split("?")[0]}?edit=1`;
    htmx.ajax("GET", url, { source: link, target: `#${item.id}`, swap: "outerHTML" });
    return true;
  }

  function refill(id) {
    const form = document.querySelector(`#annotation-${id} .edit-form`);
    const kept = unsaved.get(id);
    unsaved.delete(id);
    if (!form || !kept) return;
    form.elements.tag.value = kept.tag;
    form.elements.note.value = kept.note;
    form.elements.note.focus();
    say("Restored, with the note you had not saved: save it or cancel.");
  }

  function focusAfter(plan) {
    const item = document.getElementById(`annotation-${plan.id}`);
    if (plan.action === "restore") {
      if (reopenWithUnsaved(plan.id)) return;
      if (item) firstControl(item).focus();
      return;
    }
    if (plan.action === "edit" && unsaved.has(plan.id)) {
      refill(plan.id);
      return;
    }
    if ((plan.action === "update" || plan.action === "show") && item) {
      (item.querySelector(".controls a.button-link") || firstControl(item)).focus();
      return;
    }
    if (!focusLost()) return;
    for (const id of plan.neighbours) {
      const next = document.getElementById(id);
      const control = next && firstControl(next);
      if (control) {
        control.focus();
        return;
      }
    }
    document.getElementById("annotations-heading").focus();
  }

  document.body.addEventListener("htmx:afterSettle", (event) => {
    const plan = plans.get(event.detail.xhr);
    plans.delete(event.detail.xhr); // once per answer, however many elements it settled
    if (plan && event.detail.xhr.status < 300) focusAfter(plan);
  });

  syncFilters();
})();
