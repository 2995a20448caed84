"""Two editors on one article, in two browser contexts: each sees the other's changes without
a reload, and nothing they are working on is taken away (Chromium through Playwright)."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import Annotation, ApiToken
from annotations.services import update_annotation

from .factories import ArticleFactory, EditorFactory, tag
from .test_browser_annotating import (
    assert_not_reloaded,
    drag_select,
    open_article,
    select,
    sign_in,
    toolbar,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The page polls every 3 s; a change must show within 5 s of being saved.
LIVE = 5_000


@pytest.fixture
def story(db):
    # A transactional test flushes the data migration's rows: make the tags again.
    for slug in ("claim", "rebuttal", "figure"):
        tag(slug)
    return ArticleFactory(source_id="council", title="Council budget row")


@pytest.fixture
def desk(browser, live_server, story):
    """Editor A (maria) and editor B (tomas), each signed in in a context of their own."""
    a_user, b_user = EditorFactory(username="maria"), EditorFactory(username="tomas")
    pages = []
    for user in (a_user, b_user):
        page = browser.new_context().new_page()
        sign_in(page, live_server, user)
        open_article(page, live_server, story)
        pages.append(page)
    yield pages[0], pages[1], a_user, b_user
    for page in pages:
        page.context.close()


def marks(page, annotation):
    return page.locator(f'#article-body mark[data-annotation="{annotation.pk}"]')


def assert_agree(page, count):
    """The heading's count, the list and the marks tell the same story."""
    expect(page.locator("#count-total")).to_have_text(str(count), timeout=LIVE)
    expect(page.locator("#annotation-items > li")).to_have_count(count)
    ids = {a.pk for a in Annotation.objects.all()}
    drawn = page.eval_on_selector_all(
        "#article-body mark", "ms => [...new Set(ms.map(m => Number(m.dataset.annotation)))]"
    )
    assert set(drawn) == ids


def test_it_shows_a_colleagues_changes_without_a_reload(desk, live_server, story):
    a, b, _, b_user = desk
    # B tags a passage on the page.
    drag_select(b, "30% of the budget")
    toolbar(b).get_by_role("button", name="Claim", exact=True).click()
    expect(b.locator("#count-total")).to_have_text("1")
    created = Annotation.objects.get()
    expect(marks(a, created)).to_have_count(1, timeout=LIVE)
    expect(a.locator(f"#annotation-{created.pk}")).to_contain_text("30% of the budget")
    expect(a.get_by_role("status")).to_contain_text("1 new annotation by tomas")
    assert_agree(a, 1)
    # A clicks B's highlight: it leads to B's entry.
    marks(a, created).first.click()
    expect(a.locator(f"#annotation-{created.pk}")).to_have_class("annotation is-selected")
    # B changes the note and the tag through the page.
    b.locator(f"#annotation-{created.pk}").get_by_role("link", name="Edit").click()
    b.get_by_label("Note", exact=True).fill("Budget papers say 28%.")
    b.locator(f"#tag-{created.pk}").select_option("figure")
    b.get_by_role("button", name="Save").click()
    expect(a.locator(f"#annotation-{created.pk} .note")).to_have_text(
        "Budget papers say 28%.", timeout=LIVE
    )
    expect(marks(a, created)).to_have_attribute("data-tag", "figure")
    assert_agree(a, 1)
    # B deletes it through the API.
    raw = ApiToken.issue(user=b_user, name="script")[1]
    url = reverse("api:annotation", args=[created.pk])
    response = Client().delete(url, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 204
    expect(marks(a, created)).to_have_count(0, timeout=LIVE)
    expect(a.locator(f"#annotation-{created.pk}")).to_have_count(0)
    expect(a.get_by_role("status")).to_contain_text("1 annotation removed by tomas")
    assert_agree(a, 0)
    assert_not_reloaded(a)


def test_it_keeps_a_selection_and_an_open_form_through_an_update(desk, live_server, story):
    a, b, a_user, _ = desk
    # A's own annotation, with its edit form open and a note being typed.
    drag_select(a, "12%")
    toolbar(a).get_by_role("button", name="Figure").click()
    expect(a.locator("#count-total")).to_have_text("1")
    mine = Annotation.objects.get()
    a.locator(f"#annotation-{mine.pk}").get_by_role("link", name="Edit").click()
    a.get_by_label("Note", exact=True).fill("Half typed")
    # B tags something: A's list and text update, the form and its text stay.
    drag_select(b, "30% of the budget")
    toolbar(b).get_by_role("button", name="Claim", exact=True).click()
    expect(a.locator("#count-total")).to_have_text("2", timeout=LIVE)
    expect(a.get_by_label("Note", exact=True)).to_have_value("Half typed")
    expect(a.get_by_label("Note", exact=True)).to_be_focused()
    a.get_by_role("link", name="Cancel").click()
    # A selects a passage and keeps it while B tags another one.
    select(a, "went to roads")
    expect(toolbar(a)).to_be_visible()
    drag_select(b, "The mayor denied it")
    toolbar(b).get_by_role("button", name="Rebuttal").click()
    a.wait_for_timeout(LIVE)
    assert a.evaluate("document.getSelection().toString()") == "went to roads"
    expect(toolbar(a)).to_be_visible()
    # Once A is done selecting, the change arrives.
    a.keyboard.press("Escape")
    a.evaluate("document.getSelection().removeAllRanges()")
    expect(a.locator("#count-total")).to_have_text("3", timeout=LIVE)
    assert_agree(a, 3)
    assert_not_reloaded(a)


def test_it_refuses_an_edit_of_a_note_changed_meanwhile(desk, live_server, story):
    a, b, a_user, b_user = desk
    b_user.is_staff = True  # staff may change anyone's annotation
    b_user.save()
    drag_select(a, "30% of the budget")
    toolbar(a).get_by_role("button", name="Claim", exact=True).click()
    expect(a.locator("#count-total")).to_have_text("1")
    annotation = Annotation.objects.get()
    entry_a = a.locator(f"#annotation-{annotation.pk}")
    entry_a.get_by_role("link", name="Edit").click()
    a.get_by_label("Note", exact=True).fill("Mine: check the audit")
    # B, meanwhile, changes the note.
    b.reload()
    b.locator(f"#annotation-{annotation.pk}").get_by_role("link", name="Edit").click()
    b.get_by_label("Note", exact=True).fill("Theirs: 28% per the papers")
    b.get_by_role("button", name="Save").click()
    expect(b.locator(f"#annotation-{annotation.pk} .note")).to_have_text(
        "Theirs: 28% per the papers"
    )
    # A's form stayed open through the update; saving is refused with both texts shown.
    a.wait_for_timeout(LIVE)
    entry_a.get_by_role("button", name="Save").click()
    expect(entry_a.locator("[data-conflict]")).to_contain_text("changed by tomas")
    expect(entry_a.locator(".current-note")).to_have_text("Theirs: 28% per the papers")
    expect(a.get_by_label("Your note (not saved)")).to_have_value("Mine: check the audit")
    annotation.refresh_from_db()
    assert annotation.note == "Theirs: 28% per the papers"
    # Saving again, on the version now shown, replaces theirs.
    entry_a.get_by_role("button", name="Save").click()
    expect(entry_a.locator(".note")).to_have_text("Mine: check the audit")
    # B sees A's note, and who edited it last.
    expect(b.locator(f"#annotation-{annotation.pk} .note")).to_have_text(
        "Mine: check the audit", timeout=LIVE
    )
    annotation.refresh_from_db()
    assert annotation.edited_by == a_user
    expect(a.locator(f"#annotation-{annotation.pk} .edited")).to_have_count(0)  # author's own
    assert_not_reloaded(a)


def test_it_says_edited_by_when_the_last_editor_is_not_the_author(desk, live_server, story):
    a, b, a_user, b_user = desk
    b_user.is_staff = True
    b_user.save()
    drag_select(a, "12%")
    toolbar(a).get_by_role("button", name="Figure").click()
    expect(a.locator("#count-total")).to_have_text("1")
    annotation = Annotation.objects.get()
    b.reload()
    b.locator(f"#annotation-{annotation.pk}").get_by_role("link", name="Edit").click()
    b.get_by_label("Note", exact=True).fill("Checked")
    b.get_by_role("button", name="Save").click()
    expect(a.locator(f"#annotation-{annotation.pk} .edited")).to_contain_text(
        "edited by tomas", timeout=LIVE
    )
    expect(a.locator(f"#annotation-{annotation.pk} .byline")).to_contain_text("maria")


# One request at a time ------------------------------------------------------------------------
# Each answer redraws the page from the version its request was sent from, in the elements the
# page showed then: one that lands after another answer replaced them finds nothing to draw on.


def hold(page, pattern):
    """Keeps the page's requests whose URL matches `pattern` waiting; returns the list of those
    waiting and the function that lets them go (in the order sent) and holds no more."""
    waiting = []
    matches = re.compile(pattern)
    page.route(matches, lambda route: waiting.append(route))

    def release():
        for route in waiting:
            route.continue_()
        page.unroute(matches)

    return waiting, release


def console_errors(page):
    seen = []
    page.on("console", lambda m: m.type == "error" and seen.append(m.text))
    return seen


def test_it_opens_the_form_once_and_keeps_it_through_a_change_to_its_entry(desk, live_server):
    a, b, a_user, b_user = desk
    b_user.is_staff = True  # staff may change anyone's annotation
    b_user.save()
    errors = console_errors(a)
    drag_select(a, "30% of the budget")
    toolbar(a).get_by_role("button", name="Claim", exact=True).click()
    expect(a.locator("#count-total")).to_have_text("1")
    mine = Annotation.objects.get()
    forms = []
    a.on("request", lambda request: "edit=1" in request.url and forms.append(request.url))
    # B changes the note just as A asks for the form, whose answer is slow to come: a poll in
    # the meantime would redraw the entry the form is on its way to.
    update_annotation(mine, note="Theirs", actor=b_user)
    _, release = hold(a, r"/annotations/\d+/\?edit=1")
    entry = a.locator(f"#annotation-{mine.pk}")
    entry.get_by_role("link", name="Edit").click()
    a.wait_for_timeout(LIVE)
    release()
    note = a.get_by_label("Note", exact=True)
    expect(note).to_be_focused()
    expect(note).to_have_value("Theirs")  # the form was asked for after B's change
    note.fill("Mine, typed while B's change comes in")
    # B's change reaches the page: the entry being edited, its form and its text stay.
    expect(a.get_by_role("status")).to_contain_text("1 annotation changed by tomas", timeout=LIVE)
    a.wait_for_timeout(500)  # what the poll brought is settled
    expect(note).to_have_value("Mine, typed while B's change comes in")
    expect(note).to_be_focused()
    assert len(forms) == 1, forms
    entry.get_by_role("button", name="Save").click()
    expect(entry.locator(".note")).to_have_text("Mine, typed while B's change comes in")
    assert Annotation.objects.get().note == "Mine, typed while B's change comes in"
    assert len(forms) == 1, forms
    assert not errors, errors
    assert_not_reloaded(a)


def test_it_sends_a_change_once_the_poll_under_way_is_answered(desk, live_server):
    a, b, _, _ = desk
    errors = console_errors(a)
    drag_select(a, "30% of the budget")
    toolbar(a).get_by_role("button", name="Claim", exact=True).click()
    expect(a.locator("#count-total")).to_have_text("1")
    mine = Annotation.objects.get()
    drag_select(b, "12%")
    toolbar(b).get_by_role("button", name="Figure").click()
    expect(b.locator("#count-total")).to_have_text("2")
    # A's page asks whether anything changed, and the answer is slow to come; meanwhile A
    # deletes her claim.
    polls, release = hold(a, r"/changes/")
    a.wait_for_timeout(LIVE)
    assert polls
    a.locator(f"#annotation-{mine.pk}").get_by_role("button", name="Delete").click()
    a.wait_for_timeout(500)
    release()
    expect(a.get_by_role("status")).to_contain_text("Deleted the claim")
    expect(a.get_by_role("status").get_by_role("button", name="Undo")).to_be_visible()
    assert_agree(a, 1)
    a.wait_for_timeout(LIVE)  # and the polls after it agree
    assert_agree(a, 1)
    assert not errors, errors
    assert_not_reloaded(a)
