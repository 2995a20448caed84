"""The desk in real Chromium: review states by keyboard with the source prompt, a reply thread
between two editors with a mention reaching "For you", linking a rebuttal to a claim by clicking
its highlight, the note in the selection toolbar, and the question before a duplicate.
(Shared helpers in tests/browsing.py.)"""

import re

import pytest
from playwright.sync_api import expect

from annotations.models import Annotation, Mention, Reply

from .browsing import (
    assert_not_reloaded,
    drag_select,
    entry,
    open_article,
    select,
    sign_in,
    toolbar,
)
from .factories import AnnotationFactory, EditorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settled(page):
    """Wait until htmx has swapped and wired what it fetched (a click before that would be a
    plain form submit)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def state_button(page, annotation, label):
    return (
        entry(page, annotation)
        .locator(".review-buttons")
        .get_by_role("button", name=label, exact=True)
    )


def test_it_sets_each_state_by_keyboard_and_asks_a_claim_for_its_source(
    live_server, page, author, story, tags, problems
):
    rebuttal = AnnotationFactory(
        article=story, tag=tags["rebuttal"], quote="The mayor denied it", author=author
    )
    claim = AnnotationFactory(
        article=story, tag=tags["claim"], quote="30% of the budget", author=author
    )
    sign_in(page, live_server, author)
    open_article(page, live_server, story)

    for label, value in [
        ("Needs a source", "needs-source"),
        ("Verified", "verified"),
        ("Disputed", "disputed"),
        ("Resolved", "resolved"),
        ("Open", "open"),
    ]:
        state_button(page, rebuttal, label).focus()
        page.keyboard.press("Enter")
        expect(state_button(page, rebuttal, label)).to_have_attribute("aria-pressed", "true")
        expect(entry(page, rebuttal).locator(".review-now")).to_contain_text("by maria")
        settled(page)
        rebuttal.refresh_from_db()
        assert rebuttal.review_state == value

    # A verdict on a claim asks for its source; Escape takes the question back.
    state_button(page, claim, "Verified").focus()
    page.keyboard.press("Enter")
    source = entry(page, claim).get_by_label(re.compile("Source for marking this claim verified"))
    expect(source).to_be_focused()
    page.keyboard.press("Escape")
    expect(source).to_have_count(0)
    settled(page)
    claim.refresh_from_db()
    assert claim.review_state == "open"

    state_button(page, claim, "Verified").focus()
    page.keyboard.press("Enter")
    expect(source).to_be_focused()
    page.keyboard.type("https://example.org/minutes")
    page.keyboard.press("Enter")
    expect(state_button(page, claim, "Verified")).to_have_attribute("aria-pressed", "true")
    expect(
        entry(page, claim).get_by_role("link", name="https://example.org/minutes")
    ).to_be_visible()
    claim.refresh_from_db()
    assert (claim.review_state, claim.review_source) == ("verified", "https://example.org/minutes")

    # The history keeps each change; the list filters by state.
    entry(page, rebuttal).get_by_text("Review history").click()
    expect(entry(page, rebuttal).locator(".review-changes li")).to_have_count(5)
    page.get_by_label("Review", exact=True).select_option("verified")
    page.get_by_role("button", name="Filter").click()
    expect(entry(page, rebuttal)).to_have_count(0)
    expect(entry(page, claim)).to_be_visible()
    assert_not_reloaded(page)
    assert not problems, problems


def test_two_editors_talk_in_a_thread_and_a_mention_reaches_for_you(
    live_server, page, browser, author, story, tags, problems
):
    omar = EditorFactory(username="omar")
    claim = AnnotationFactory(
        article=story, tag=tags["claim"], quote="30% of the budget", author=author
    )
    sign_in(page, live_server, author)
    open_article(page, live_server, story)

    entry(page, claim).get_by_role("button", name=re.compile("^Reply")).focus()
    page.keyboard.press("Enter")
    box = entry(page, claim).get_by_label(re.compile("Your reply"))
    expect(box).to_be_focused()
    page.keyboard.type("Source for 30%? @omar please check")
    page.keyboard.press("Control+Enter")
    expect(entry(page, claim).locator(".reply")).to_have_count(1)
    expect(entry(page, claim).locator(".mention")).to_have_text("@omar")
    assert Mention.objects.get().user == omar

    other = browser.new_page()
    sign_in(other, live_server, omar)
    other.goto(live_server.url + "/")
    expect(other.get_by_role("link", name="For you: 1 unread")).to_be_visible()
    other.get_by_role("link", name="For you: 1 unread").click()
    expect(other.get_by_role("heading", name="For you")).to_be_visible()
    expect(other.locator(".mention-item")).to_contain_text("maria mentioned you in a reply")
    other.get_by_role("button", name=re.compile("Open the claim")).click()
    expect(other).to_have_url(re.compile(f"#annotation-{claim.pk}$"))
    other.wait_for_load_state()
    expect(other.get_by_role("link", name=re.compile("^For you"))).to_have_text("For you")
    entry(other, claim).get_by_role("button", name=re.compile(r"^Replies \(1\)")).click()
    other.get_by_label(re.compile("Your reply")).fill("Council minutes, p. 4. @maria")
    other.get_by_role("button", name="Send reply").click()
    expect(entry(other, claim).locator(".reply")).to_have_count(2)
    assert list(Reply.objects.values_list("author__username", flat=True)) == ["maria", "omar"]
    assert Mention.objects.filter(user=author).exists()
    other.close()
    assert not problems, problems


def test_it_links_a_rebuttal_to_a_claim_by_clicking_its_highlight(
    live_server, page, author, story, tags, problems
):
    claim = AnnotationFactory(
        article=story, tag=tags["claim"], quote="30% of the budget", author=author
    )
    rebuttal = AnnotationFactory(
        article=story, tag=tags["rebuttal"], quote="The mayor denied it", author=author
    )
    sign_in(page, live_server, author)
    open_article(page, live_server, story)

    entry(page, rebuttal).get_by_role("button", name=re.compile("^Answers…")).click()
    expect(entry(page, rebuttal).get_by_label(re.compile("Which claim"))).to_be_visible()
    settled(page)
    page.locator(f'mark[data-annotation="{claim.pk}"]').click()

    expect(entry(page, rebuttal).locator(".answers-to")).to_contain_text("30% of the budget")
    expect(entry(page, claim).locator("ul.answered-by")).to_contain_text("The mayor denied it")
    rebuttal.refresh_from_db()
    assert rebuttal.answers == claim
    # Each links to the other.
    entry(page, claim).locator("ul.answered-by button").click()
    expect(entry(page, rebuttal)).to_have_class(re.compile("is-selected"))
    assert_not_reloaded(page)
    assert not problems, problems


def test_it_saves_a_note_with_the_tag_from_the_toolbar(live_server, page, author, story, problems):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    drag_select(page, "30% of the budget")
    expect(toolbar(page)).to_be_visible()
    note = toolbar(page).get_by_label("Note with the tag (optional)")
    note.click()
    page.keyboard.type("Source for 30%? @omar")
    toolbar(page).get_by_label("Tag to save the note with").select_option("figure")
    note.focus()
    page.keyboard.press("Control+Enter")
    expect(page.locator('mark[data-tag="figure"]')).to_have_count(1)
    annotation = Annotation.objects.get()
    assert (annotation.tag.slug, annotation.note, annotation.quote) == (
        "figure",
        "Source for 30%? @omar",
        "30% of the budget",
    )
    # Escape closes the toolbar and forgets the note.
    drag_select(page, "The council")
    note.click()
    page.keyboard.type("never mind")
    page.keyboard.press("Escape")
    expect(toolbar(page)).to_be_hidden()
    assert Annotation.objects.count() == 1
    assert page.locator("#toolbar-note").input_value() == ""  # hidden with its toolbar
    assert not problems, problems


def test_it_asks_before_saving_the_same_tag_on_the_same_passage(
    live_server, page, author, story, problems
):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    page.locator("#article-body").focus()
    select(page, "30% of the budget")
    page.keyboard.press("r")
    expect(page.locator('mark[data-tag="rebuttal"]')).to_have_count(1)

    select(page, "30% of the budget")
    page.keyboard.press("r")
    question = page.get_by_role("alertdialog")
    expect(question).to_contain_text("already has a rebuttal")
    settled(page)
    question.get_by_role("button", name="Don't save").click()
    expect(question).to_have_count(0)
    assert Annotation.objects.count() == 1

    select(page, "30% of the budget")
    page.keyboard.press("r")
    expect(page.get_by_role("alertdialog")).to_be_visible()
    settled(page)
    page.get_by_role("alertdialog").get_by_role("button", name="Save a second rebuttal").click()
    expect(page.locator('mark[data-tag="rebuttal"]')).to_have_count(2)
    expect(page.get_by_role("alertdialog")).to_have_count(0)
    assert Annotation.objects.count() == 2
    assert_not_reloaded(page)
    assert not problems, problems
