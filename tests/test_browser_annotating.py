"""The annotating UI in real Chromium against the live server (issue 3).

Each test signs a user in by session cookie (django-axes guards the form; one test uses the
form), opens an article, and drives the page as a person does: mouse drags, the keyboard,
the toolbar's buttons. After each change the database is checked, and `window.__marker`
proves the page never reloaded. Console errors fail the happy paths.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from annotations.models import AnchorStatus, Annotation
from annotations.services import replace_article_text
from newsroom.models import BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, UserFactory, tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

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


def test_it_tags_a_mouse_selection_with_the_toolbar(live_server, page, author, story, problems):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    expect(toolbar(page)).to_be_hidden()
    drag_select(page, "30% of the budget")
    expect(toolbar(page)).to_be_visible()
    claim = toolbar(page).get_by_role("button", name="Claim", exact=True)
    expect(claim).to_have_attribute("aria-keyshortcuts", "c")
    claim.click()
    expect(page.locator('mark[data-tag="claim"]')).to_have_count(1)
    expect(page.locator("mark")).to_have_text("30% of the budget")
    annotation = Annotation.objects.get()
    assert (annotation.start, annotation.end, annotation.quote) == (17, 34, "30% of the budget")
    assert annotation.author == author
    expect(entry(page, annotation)).to_contain_text("30% of the budget")
    expect(entry(page, annotation)).to_contain_text("maria")
    expect(page.get_by_role("status")).to_contain_text("Tagged “30% of the budget” as Claim.")
    expect(toolbar(page)).to_be_hidden()
    # An earlier passage goes above it: the side list follows the text.
    drag_select(page, "The council")
    toolbar(page).get_by_role("button", name="Rebuttal").click()
    expect(page.locator(".annotation .quote")).to_have_text(["The council", "30% of the budget"])
    expect(page.get_by_role("heading", name="Annotations 2")).to_be_visible()
    assert_not_reloaded(page)
    assert not problems, problems


def test_it_tags_a_keyboard_selection_with_a_shortcut_key(
    live_server, page, author, story, problems
):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    text = page.get_by_label("Article text")
    text.focus()  # as Tab would
    page.keyboard.press("Control+ArrowRight")  # "The|"
    page.keyboard.press("Control+ArrowRight")  # "The council|"
    page.keyboard.press("Control+ArrowRight")  # "The council said|"
    page.keyboard.press("ArrowRight")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    expect(toolbar(page)).to_be_visible()
    page.keyboard.press("f")
    expect(page.locator('mark[data-tag="figure"]')).to_have_text("30%")
    assert Annotation.objects.get().quote == "30%"
    # Again, through the toolbar this time: Tab from the text reaches it, arrows move in it.
    expect(text).to_be_focused()
    page.keyboard.press("End")
    for _ in range(6):
        page.keyboard.press("Shift+ArrowLeft")
    expect(toolbar(page)).to_be_visible()
    page.keyboard.press("Tab")
    expect(toolbar(page).get_by_role("button", name="Claim", exact=True)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(toolbar(page).get_by_role("button", name="Rebuttal")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator('mark[data-tag="rebuttal"]')).to_have_text("roads.")
    assert Annotation.objects.get(tag__slug="rebuttal").quote == "roads."
    assert_not_reloaded(page)
    assert not problems, problems


def test_it_offers_nothing_outside_the_text_or_for_white_space(
    live_server, page, author, story, problems
):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    page.get_by_role("heading", name="Council budget row").dblclick()  # the title
    page.wait_for_timeout(300)
    expect(toolbar(page)).to_be_hidden()
    select(page, " ")
    page.wait_for_timeout(300)
    expect(toolbar(page)).to_be_hidden()
    page.keyboard.press("c")
    page.get_by_role("heading", name="Annotations").dblclick()
    page.wait_for_timeout(300)
    expect(toolbar(page)).to_be_hidden()
    assert not Annotation.objects.exists()
    assert not problems, problems


def test_it_keeps_overlapping_claim_and_figure_visible_and_reachable(
    live_server, page, author, story, problems
):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    drag_select(page, "30% of the budget")
    page.keyboard.press("c")
    expect(page.locator('mark[data-tag="claim"]')).to_have_count(1)
    # Starts inside the claim's mark, ends outside it.
    drag_select(page, "the budget went to roads")
    page.keyboard.press("f")
    expect(page.locator('mark[data-tag="figure"]')).to_have_count(2)
    claim, figure = Annotation.objects.order_by("id")
    assert figure.quote == "the budget went to roads" == story.body[figure.start : figure.end]
    expect(page.locator(f'mark[data-annotation="{claim.pk}"]')).to_have_count(2)
    # Each is drawn: the figure inside the claim's mark has its own underline colour.
    nested = page.locator(
        f'mark[data-annotation="{claim.pk}"] > mark[data-annotation="{figure.pk}"]'
    )
    expect(nested).to_have_text("the budget")
    colours = nested.evaluate(
        "m => [m, m.parentElement].map(e => getComputedStyle(e).borderBottomColor)"
    )
    assert colours == ["rgb(29, 78, 216)", "rgb(180, 83, 9)"]
    # A click on the shared words selects both annotations in the side list.
    nested.click()
    expect(page.locator(".annotation.is-selected")).to_have_count(2)
    expect(page.get_by_role("status")).to_contain_text(
        "2 annotations cover this spot: Claim, Figure."
    )
    # A click on the list scrolls to its mark and flashes it.
    entry(page, figure).get_by_role("button", name=re.compile("Figure")).click()
    expect(page.locator(f'mark[data-annotation="{figure.pk}"]').first).to_have_class(
        re.compile("flash")
    )
    expect(page.locator(".annotation.is-selected")).to_have_count(1)
    assert_not_reloaded(page)
    assert not problems, problems


def test_it_counts_code_points_after_and_on_an_emoji(live_server, page, author, tags, problems):
    article = ArticleFactory(blocks=EMOJI_BLOCKS)
    sign_in(page, live_server, author)
    open_article(page, live_server, article)
    select(page, "rose to 45% 🎉")  # after one emoji, ending on another
    expect(toolbar(page)).to_be_visible()
    page.keyboard.press("f")
    expect(page.locator('mark[data-tag="figure"]')).to_have_text("rose to 45% 🎉")
    annotation = Annotation.objects.get()
    assert (annotation.start, annotation.end) == (10, 23)  # code points, not UTF-16 units
    assert article.body[annotation.start : annotation.end] == annotation.quote
    # Past two emoji and a block boundary, then a single emoji alone.
    select(page, "🎉", nth=1)
    page.keyboard.press("c")
    expect(page.locator('mark[data-tag="claim"]')).to_have_text("🎉")
    claim = Annotation.objects.get(tag__slug="claim")
    assert article.body[claim.start : claim.end] == "🎉" and claim.start == article.body.rindex(
        "🎉"
    )
    assert_not_reloaded(page)
    assert not problems, problems


def test_it_tags_a_selection_across_blocks_with_the_separator_in_the_quote(
    live_server, page, author, story, problems
):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    drag_select(page, "went to roads.", "Photo: example.org")
    page.keyboard.press("r")
    expect(page.locator('mark[data-tag="rebuttal"]')).to_have_count(2)
    annotation = Annotation.objects.get()
    assert annotation.quote == "went to roads.\n\nPhoto: example.org"
    assert story.body[annotation.start : annotation.end] == annotation.quote
    assert_not_reloaded(page)
    assert not problems, problems


def test_it_edits_the_note_and_tag_deletes_and_undoes_and_keeps_it_after_reload(
    live_server, page, author, story, tags, problems
):
    annotation = AnnotationFactory(article=story, tag=tags["claim"], quote="30%", author=author)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    item = entry(page, annotation)
    item.get_by_role("link", name="Edit").click()
    expect(item.get_by_label("Note")).to_be_focused()
    item.get_by_label("Note").fill("Budget papers say 28%.")
    item.get_by_label("Tag").select_option("Figure")
    item.get_by_role("button", name="Save").click()
    expect(entry(page, annotation)).to_contain_text("Budget papers say 28%.")
    expect(page.locator(f'mark[data-annotation="{annotation.pk}"]')).to_have_attribute(
        "data-tag", "figure"
    )
    annotation.refresh_from_db()
    assert (annotation.note, annotation.tag.slug) == ("Budget papers say 28%.", "figure")

    entry(page, annotation).get_by_role("button", name="Delete").click()
    expect(page.locator("mark")).to_have_count(0)
    expect(entry(page, annotation)).to_have_count(0)
    assert not Annotation.objects.exists()
    page.get_by_role("status").get_by_role("button", name="Undo").click()
    expect(page.locator(f'mark[data-annotation="{annotation.pk}"]')).to_have_text("30%")
    restored = Annotation.objects.get()
    assert (restored.pk, restored.note, restored.tag.slug) == (
        annotation.pk,
        "Budget papers say 28%.",
        "figure",
    )
    assert_not_reloaded(page)

    page.reload()
    expect(
        page.locator(f'mark[data-annotation="{annotation.pk}"][data-tag="figure"]')
    ).to_have_text("30%")
    expect(entry(page, annotation)).to_contain_text("Budget papers say 28%.")
    assert not problems, problems


def test_it_hides_a_tag_and_its_entries_with_the_filter(
    live_server, page, author, story, tags, problems
):
    AnnotationFactory(article=story, tag=tags["claim"], quote="30%", author=author)
    AnnotationFactory(article=story, tag=tags["figure"], quote="12%", author=author)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    shown = page.get_by_role("group", name="Show highlights")
    shown.get_by_role("checkbox", name=re.compile("Claim")).uncheck()
    expect(page.locator('.annotation[data-tag="claim"]')).to_be_hidden()
    expect(page.locator('.annotation[data-tag="figure"]')).to_be_visible()
    background = page.locator('mark[data-tag="claim"]').evaluate(
        "m => getComputedStyle(m).backgroundColor"
    )
    assert background == "rgba(0, 0, 0, 0)"
    # The filter survives a change that re-renders the list.
    drag_select(page, "went to roads")
    page.keyboard.press("f")
    expect(page.locator('.annotation[data-tag="figure"]')).to_have_count(2)
    expect(page.locator('.annotation[data-tag="claim"]')).to_be_hidden()
    expect(shown.get_by_role("checkbox", name=re.compile("Claim"))).not_to_be_checked()
    assert not problems, problems


def test_a_non_editor_gets_no_toolbar_and_a_forged_post_is_refused(
    live_server, page, story, problems
):
    UserFactory(username="reader", password=PASSWORD)
    page.goto(live_server.url + story.get_absolute_url())
    page.get_by_label("Username").fill("reader")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Council budget row")).to_be_visible()
    drag_select(page, "30% of the budget")
    page.wait_for_timeout(300)
    expect(page.get_by_role("toolbar")).to_have_count(0)
    page.keyboard.press("c")
    status = page.evaluate(
        """async () => {
          const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
          const body = new URLSearchParams(
            {start: 17, end: 34, quote: '30% of the budget', tag: 'claim'});
          const response = await fetch(document.getElementById('annotating').dataset.createUrl,
            {method: 'POST', body, headers: {'X-CSRFToken': token, 'HX-Request': 'true'}});
          return response.status;
        }"""
    )
    assert status == 403
    assert not Annotation.objects.exists()
    # The refused fetch is the only thing the console reports.
    assert all("403" in p for p in problems), problems


def test_it_shows_a_stale_quote_as_an_error_and_stays_usable(
    live_server, page, author, story, tags, problems
):
    kept = AnnotationFactory(article=story, tag=tags["figure"], quote="12%", author=author)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    # Someone corrects the article while the page is open.
    replace_article_text(
        story,
        date=story.date,
        title=story.title,
        blocks=[
            BlockText(BlockKind.PARAGRAPH, "The council said 32% of the budget went to roads."),
            *[BlockText(b.kind, b.text) for b in story.blocks.all()[1:]],
        ],
    )
    drag_select(page, "30% of the budget")
    page.keyboard.press("c")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("no longer matches the article")
    expect(alert).to_contain_text("Reload the page")
    assert not Annotation.objects.filter(tag__slug="claim").exists()
    # Still usable: the list works, and the message can be dismissed.
    entry(page, kept).get_by_role("button", name=re.compile("Figure")).click()
    expect(page.locator(f'mark[data-annotation="{kept.pk}"]')).to_have_class(re.compile("flash"))
    alert.get_by_role("button", name="Dismiss").click()
    expect(page.locator("#alerts")).to_be_empty()
    assert_not_reloaded(page)
    assert all("409" in p or "htmx:responseError" in p for p in problems), problems


def test_it_reports_a_server_failure_and_a_lost_network(live_server, page, author, story, tags):
    annotation = AnnotationFactory(article=story, tag=tags["claim"], quote="30%", author=author)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    page.route("**/annotations/**", lambda route: route.fulfill(status=500, body="boom"))
    drag_select(page, "went to roads")
    page.keyboard.press("f")
    expect(page.get_by_role("alert")).to_contain_text(
        "The server failed (error 500); nothing was saved."
    )
    page.unroute("**/annotations/**")
    page.route("**/annotations/**", lambda route: route.abort("internetdisconnected"))
    entry(page, annotation).get_by_role("button", name="Delete").click()
    expect(page.get_by_role("alert")).to_contain_text("Could not reach the server")
    assert Annotation.objects.count() == 1
    page.unroute("**/annotations/**")
    entry(page, annotation).get_by_role("button", name="Delete").click()
    expect(page.locator("#alerts")).to_be_empty()  # a success clears the message
    expect(page.locator("mark")).to_have_count(0)
    assert_not_reloaded(page)


def test_it_lets_the_author_accept_a_fuzzy_match_and_reattach_an_orphan(
    live_server, page, author, story, tags, problems
):
    fuzzy = AnnotationFactory(article=story, tag=tags["figure"], quote="12%", author=author)
    orphan = AnnotationFactory(article=story, tag=tags["claim"], quote="30%", author=author)
    Annotation.objects.filter(pk=fuzzy.pk).update(status=AnchorStatus.FUZZY, quote="13%")
    Annotation.objects.filter(pk=orphan.pk).update(status=AnchorStatus.ORPHANED)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    review = page.get_by_role("region", name="2 annotations need review")
    expect(review.locator(f"#review-{fuzzy.pk} dd")).to_have_text(["13%", "12%"])  # was, now
    expect(page.locator(f'mark[data-annotation="{orphan.pk}"]')).to_have_count(0)
    expect(page.locator(f'mark[data-annotation="{fuzzy.pk}"]')).to_have_attribute(
        "data-status", "fuzzy"
    )

    review.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("region", name="1 annotation needs review")).to_be_visible()
    fuzzy.refresh_from_db()
    assert (fuzzy.status, fuzzy.quote) == (AnchorStatus.ANCHORED, "12%")

    page.get_by_role("button", name="Re-attach").click()
    expect(page.get_by_role("status")).to_contain_text("Select the new passage for “30%”")
    drag_select(page, "30% of the budget")
    attach = toolbar(page).get_by_role("button", name="Attach here")
    expect(attach).to_be_visible()
    expect(toolbar(page).get_by_role("button", name="Claim", exact=True)).to_be_hidden()
    attach.click()
    expect(page.locator(f'mark[data-annotation="{orphan.pk}"]')).to_have_text("30% of the budget")
    orphan.refresh_from_db()
    assert (orphan.status, orphan.quote) == (AnchorStatus.ANCHORED, "30% of the budget")
    expect(page.locator("#review")).to_be_hidden()
    assert_not_reloaded(page)
    assert not problems, problems


# The picture in the README -----------------------------------------------------------------


def seed_blocks(path: Path) -> tuple[str, list[BlockText]]:
    """The seed file's title and blocks, by SPEC §2's rules (enough for this one file)."""
    header, _, rest = path.read_text(encoding="utf-8").strip().partition("\n")
    title = header.strip().split(" ", 2)[2]
    blocks = []
    for text in (" ".join(chunk.split()) for chunk in re.split(r"\n\s*\n", rest) if chunk.strip()):
        if text.startswith("Photo:"):
            kind = BlockKind.PHOTO_CREDIT
        elif len(text) <= 100 and not text.rstrip("'\"”’)]").endswith(
            (".", "!", "?", ",", ";", ":")
        ):
            kind = BlockKind.HEADING
        else:
            kind = BlockKind.PARAGRAPH
        blocks.append(BlockText(kind, text))
    return title, blocks


def test_it_takes_the_screenshot_for_the_readme(live_server, page, author, tags, problems):
    title, blocks = seed_blocks(next((ROOT / "seeds").glob("*.txt")))
    article = ArticleFactory(source_id="000_a83f44b084c319d9", title=title, blocks=blocks)
    colleague = EditorFactory(username="tomas")
    for slug, quote, note, who in [
        (
            "rebuttal",
            "“Russophobia and double standards,”",
            "The coalition's statement names no country's people.",
            colleague,
        ),
        ("claim", "dismissing its recent statement as politically motivated", "", colleague),
        (
            "claim",
            "the coalition’s declaration is not aimed at aiding children",
            "Attributed to Zakharova: keep as claim.",
            colleague,
        ),
        (
            "rebuttal",
            "“not only does not obstruct but actively facilitates”",
            "Contradicted by the coalition's statement.",
            author,
        ),
        ("figure", "339 Ukrainian children", "Source: coalition list, June 2.", colleague),
        ("figure", "June 2", "", colleague),
        ("figure", "30% of the names", "Ask the ministry for the breakdown.", author),
    ]:
        AnnotationFactory(article=article, tag=tags[slug], quote=quote, note=note, author=who)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, author)
    open_article(page, live_server, article)
    # A claim around the rebuttal already there: nested highlights, both visible.
    drag_select(page, "Maria Zakharova has accused", "double standards,”")
    page.keyboard.press("c")
    expect(page.locator('.annotation[data-tag="claim"]')).to_have_count(3)
    item = entry(page, Annotation.objects.get(quote__startswith="Maria"))
    item.get_by_role("link", name="Edit").click()
    item.get_by_label("Note").fill("Check the ministry's transcript for the exact wording.")
    item.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_be_empty(timeout=10_000)  # the notice fades
    # The same times in every run, so the committed picture only changes when the page does.
    Annotation.objects.update(created=datetime.datetime(2025, 8, 8, 9, 30, tzinfo=datetime.UTC))
    page.reload()
    expect(entry(page, Annotation.objects.get(quote__startswith="Maria"))).to_contain_text(
        "8 Aug 2025, 09:30"
    )
    drag_select(page, "depoliticized cooperation between ombudsmen")
    expect(toolbar(page)).to_be_visible()
    page.wait_for_timeout(300)
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    page.screenshot(path=str(docs / "screenshot.png"))
    assert (docs / "screenshot.png").stat().st_size > 20_000
    assert not problems, problems
