/* Lays changed highlights over the article text the page already shows.
 *
 * An answer to a change, or to the page's "anything new?", names in `#live` the annotations
 * whose marks come out of the text (`data-clear`) and carries an empty mark for each one to
 * draw again, with its place in the body (`data-start`, `data-end`, code points as in
 * docs/anchoring.md). Sending those few marks instead of the paragraphs they touch keeps the
 * answer small however many highlights share the paragraph.
 *
 * A mark is laid like the server draws one (annotations/highlighting.py): around every run
 * of nodes it covers whole, going into a node it covers only in part, so it is cut only at
 * other marks' edges, and each piece carries the highlight's data-tag and data-annotation.
 * The text nodes still add up to each block's text, which annotate.js counts offsets from.
 */
(() => {
  "use strict";

  if (typeof htmx === "undefined") return;

  function codePoints(text) {
    let n = 0;
    for (const _ of text) n += 1;
    return n;
  }

  // The UTF-16 index of the `count`th code point of `text` (splitText counts UTF-16 units).
  function unitIndex(text, count) {
    let index = 0;
    let n = 0;
    for (const ch of text) {
      if (n === count) break;
      index += ch.length;
      n += 1;
    }
    return index;
  }

  function clear(body, id) {
    for (const mark of body.querySelectorAll(`mark[data-annotation="${CSS.escape(id)}"]`)) {
      mark.replaceWith(...mark.childNodes);
    }
  }

  // Wraps the text of `parent` from code point `from` to `to` in copies of `model`.
  function wrap(parent, from, to, model) {
    let at = 0;
    let run = [];
    const flush = () => {
      if (run.length === 0) return;
      const mark = model.cloneNode(false);
      run[0].before(mark);
      mark.append(...run);
      run = [];
    };
    for (const node of Array.from(parent.childNodes)) {
      const start = at;
      const end = at + codePoints(node.textContent);
      at = end;
      if (start >= from && end <= to) {
        run.push(node); // covered whole
      } else if (end <= from || start >= to) {
        flush();
      } else if (node.nodeType === Node.TEXT_NODE) {
        let inside = node;
        if (from > start) inside = node.splitText(unitIndex(node.data, from - start));
        if (to < end) inside.splitText(unitIndex(inside.data, to - Math.max(start, from)));
        run.push(inside);
        if (to < end) flush();
      } else {
        flush();
        wrap(node, Math.max(from - start, 0), Math.min(to, end) - start, model);
      }
    }
    flush();
  }

  function lay(body, model) {
    const start = Number(model.dataset.start);
    const end = Number(model.dataset.end);
    model.removeAttribute("data-start");
    model.removeAttribute("data-end");
    for (const block of body.querySelectorAll(".block")) {
      const blockStart = Number(block.dataset.start);
      const length = codePoints(block.textContent);
      const from = Math.max(start, blockStart) - blockStart;
      const to = Math.min(end, blockStart + length) - blockStart;
      if (from < to) wrap(block, from, to, model);
    }
  }

  function apply() {
    const live = document.getElementById("live");
    const body = document.getElementById("article-body");
    if (!live || !body || !live.dataset.clear) return;
    for (const id of live.dataset.clear.split(" ")) clear(body, id);
    for (const model of Array.from(live.querySelectorAll("mark[data-start]"))) lay(body, model);
    body.normalize(); // unwrapping leaves neighbouring text nodes: join them again
    live.replaceChildren(); // done: no stray marks left outside the text
    delete live.dataset.clear;
  }

  // After the swap of `#live` (an outerHTML swap may report it on the old element, so the
  // settle is watched too; a second call finds nothing left to do).
  document.body.addEventListener("htmx:afterSwap", apply);
  document.body.addEventListener("htmx:afterSettle", apply);
})();
