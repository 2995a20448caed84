"""What the browser tests share: fixtures (registered for every test module by
tests/conftest.py), signing in by session cookie, selecting text the way a person does, and
finding the toolbar and the side-list entries."""

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from newsroom.models import BlockKind, BlockText
from tests.factories import ArticleFactory, EditorFactory, tag

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"

EMOJI_BLOCKS = [
    BlockText(BlockKind.PARAGRAPH, "Turnout 😀 rose to 45% 🎉 in the district."),
    BlockText(BlockKind.HEADING, "Mayor Responds"),
    BlockText(BlockKind.PARAGRAPH, "She said the 🎉 was premature."),
]

# Select the `nth` occurrence of `text` inside one block, by the DOM's own (UTF-16) offsets,
# exactly as a browser selection would hold it.
SELECT_JS = """([text, nth]) => {
  let seen = 0;
  for (const block of document.querySelectorAll('#article-body .block')) {
    let from = block.textContent.indexOf(text);
    while (from !== -1 && seen < nth) {
      seen += 1;
      from = block.textContent.indexOf(text, from + 1);
    }
    if (from === -1) continue;
    const point = (index, isEnd) => {
      const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
      let at = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (isEnd ? index <= at + node.length : index < at + node.length) return [node, index - at];
        at += node.length;
      }
    };
    const [a, b] = [point(from, false), point(from + text.length, true)];
    document.getSelection().setBaseAndExtent(a[0], a[1], b[0], b[1]);
    return;
  }
  throw new Error('not found: ' + text);
}"""

# The viewport box of the first or last character of `text` (first occurrence).
CHAR_BOX_JS = """([text, last]) => {
  for (const block of document.querySelectorAll('#article-body .block')) {
    const from = block.textContent.indexOf(text);
    if (from === -1) continue;
    const index = last ? from + text.length - 1 : from;
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    let at = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (index < at + node.length) {
        const range = document.createRange();
        range.setStart(node, index - at);
        range.setEnd(node, index - at + 1);
        // A mouse can only press on what is on screen.
        if (!last) node.parentElement.scrollIntoView({block: 'nearest'});
        const r = range.getBoundingClientRect();
        return {left: r.left, right: r.right, y: r.top + r.height / 2};
      }
      at += node.length;
    }
  }
  throw new Error('not found: ' + text);
}"""


@pytest.fixture
def tags(db):
    # A transactional test flushes the data migration's rows: make the tags again.
    return {slug: tag(slug) for slug in ("claim", "rebuttal", "figure")}


@pytest.fixture
def author(tags):
    return EditorFactory(username="maria")


@pytest.fixture
def story(tags):
    return ArticleFactory(source_id="council", title="Council budget row")


@pytest.fixture
def problems(page):
    """Console errors and uncaught exceptions seen by the page."""
    seen = []
    page.on("console", lambda m: m.type == "error" and seen.append(m.text))
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def sign_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )


def open_article(page, live_server, article):
    page.goto(live_server.url + article.get_absolute_url())
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page):
    assert page.evaluate("window.__marker") == 1


def drag_select(page, first_text, last_text=None):
    """Select from the first character of `first_text` to the last of `last_text` by mouse."""
    start = page.evaluate(CHAR_BOX_JS, [first_text, False])
    end = page.evaluate(CHAR_BOX_JS, [last_text or first_text, True])
    page.mouse.move(start["left"] + 1, start["y"])
    page.mouse.down()
    page.mouse.move((start["left"] + end["right"]) / 2, end["y"], steps=4)
    page.mouse.move(end["right"] - 1, end["y"], steps=4)
    page.mouse.up()


def select(page, text, nth=0):
    page.evaluate(SELECT_JS, [text, nth])


def toolbar(page):
    return page.get_by_role("toolbar", name="Tag the selection")


def entry(page, annotation):
    return page.locator(f"#annotation-{annotation.pk}")
