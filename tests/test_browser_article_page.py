"""The article page in real Chromium against the live server: the tag filter, what a
non-editor gets, errors (a stale quote, a failing server, a lost network), reviewing fuzzy and
orphaned annotations, and the README's screenshot (helpers in tests/browsing.py).
"""

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from annotations.models import AnchorStatus, Annotation
from annotations.services import replace_article_text
from newsroom.models import BlockKind, BlockText

from .browsing import (
    PASSWORD,
    ROOT,
    assert_not_reloaded,
    drag_select,
    entry,
    open_article,
    sign_in,
    toolbar,
)
from .factories import AnnotationFactory, ArticleFactory, EditorFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    """The seed file's title and blocks, by the seed format's rules (docs/seed-format.md),
    as far as this one file needs them."""
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
