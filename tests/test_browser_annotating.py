"""The annotating UI in real Chromium against the live server: tagging by mouse and keyboard,
overlaps, emoji offsets, selections across blocks, editing, deleting and Undo.

Each test signs a user in by session cookie (django-axes guards the form), opens an article,
and drives the page as a person does: mouse drags, the keyboard, the toolbar's buttons. After
each change the database is checked, and `window.__marker` proves the page never reloaded.
Console errors fail the happy paths (the shared helpers are in tests/browsing.py).
"""

import re

import pytest
from playwright.sync_api import expect

from annotations.models import Annotation

from .browsing import (
    EMOJI_BLOCKS,
    assert_not_reloaded,
    drag_select,
    entry,
    open_article,
    select,
    sign_in,
    toolbar,
)
from .factories import AnnotationFactory, ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    # Only the figure, which crosses the claim's end, is cut; the claim stays one mark.
    expect(page.locator(f'mark[data-annotation="{claim.pk}"]')).to_have_count(1)
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
    # The marks the page laid over its text are the ones the server draws on a fresh load.
    laid = page.evaluate(MARKS_SCRIPT)
    page.reload()
    assert page.evaluate(MARKS_SCRIPT) == laid
    assert not problems, problems


# Each mark of the text in document order: its annotation, tag, text and nesting depth.
MARKS_SCRIPT = """() => [...document.querySelectorAll('#article-body mark')].map((m) => [
  m.dataset.annotation, m.dataset.tag, m.textContent,
  [...document.querySelectorAll('#article-body mark')].filter((o) => o.contains(m)).length,
])"""


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
