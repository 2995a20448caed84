"""Two editors on one article, in two browser contexts: each sees the other's changes without
a reload, and nothing they are working on is taken away (Chromium through Playwright)."""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from annotations.models import Annotation, ApiToken

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
    b.get_by_label("Note").fill("Budget papers say 28%.")
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
    a.get_by_label("Note").fill("Half typed")
    # B tags something: A's list and text update, the form and its text stay.
    drag_select(b, "30% of the budget")
    toolbar(b).get_by_role("button", name="Claim", exact=True).click()
    expect(a.locator("#count-total")).to_have_text("2", timeout=LIVE)
    expect(a.get_by_label("Note")).to_have_value("Half typed")
    expect(a.get_by_label("Note")).to_be_focused()
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
    a.get_by_label("Note").fill("Mine: check the audit")
    # B, meanwhile, changes the note.
    b.reload()
    b.locator(f"#annotation-{annotation.pk}").get_by_role("link", name="Edit").click()
    b.get_by_label("Note").fill("Theirs: 28% per the papers")
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
    b.get_by_label("Note").fill("Checked")
    b.get_by_role("button", name="Save").click()
    expect(a.locator(f"#annotation-{annotation.pk} .edited")).to_contain_text(
        "edited by tomas", timeout=LIVE
    )
    expect(a.locator(f"#annotation-{annotation.pk} .byline")).to_contain_text("maria")
