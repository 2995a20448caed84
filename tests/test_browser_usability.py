"""What a new user ran into, in real Chromium: a refusal under DEBUG that wiped the page, the
keyboard (where focus goes after each action, how far Delete is from Save, what Undo brings
back), a reader who selects text, the notice over the list's last entry, and a phone (helpers
in tests/browsing.py)."""

import pytest
from playwright.sync_api import expect

from annotations.live import PAGE_SIZE
from annotations.models import AnchorStatus, Annotation

from .browsing import (
    assert_not_reloaded,
    drag_select,
    entry,
    open_article,
    select,
    sign_in,
    toolbar,
)
from .factories import AnnotationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Refusals under DEBUG ------------------------------------------------------------------------


def test_it_shows_a_refusal_in_the_alert_region_with_debug_on(
    live_server, page, author, story, tags, settings, problems
):
    settings.DEBUG = True  # as under `make run`: django-htmx adds its debug error handler
    annotation = AnnotationFactory(article=story, tag=tags["claim"], quote="30%", author=author)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    expect(page.locator('script[src*="django-htmx"]')).to_have_count(1)
    item = entry(page, annotation)
    item.get_by_role("link", name="Edit").click()
    item.get_by_label("Note").fill("A colleague deletes this meanwhile.")
    Annotation.objects.filter(pk=annotation.pk).delete()
    item.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("no longer exists")
    expect(page.get_by_role("heading", name="Council budget row")).to_be_visible()
    expect(page.locator("link[rel=stylesheet]")).to_have_count(1)
    assert_not_reloaded(page)
    assert all("404" in p or "htmx:responseError" in p for p in problems), problems


# The keyboard --------------------------------------------------------------------------------


@pytest.fixture
def three(story, tags, author):
    """Three of the author's annotations, in the text's order."""
    return [
        AnnotationFactory(article=story, tag=tags["claim"], quote=quote, author=author)
        for quote in ("The council", "30% of the budget", "went to roads")
    ]


def test_it_keeps_delete_out_of_reach_of_save_and_focus_on_the_entry(
    live_server, page, author, story, three, problems
):
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    first, second = three[0], three[1]
    entry(page, second).get_by_role("link", name="Edit").focus()
    page.keyboard.press("Enter")
    note = entry(page, second).get_by_label("Note")
    expect(note).to_be_focused()
    note.fill("Typed, then tabbed on")
    page.keyboard.press("Tab")
    expect(entry(page, second).get_by_role("button", name="Save")).to_be_focused()
    page.keyboard.press("Tab")
    expect(entry(page, second).get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")  # past Cancel: the next entry, not a Delete button
    expect(page.locator(f"#goto-{three[2].pk}")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")  # Cancel: focus back on the entry's Edit link
    expect(entry(page, second).get_by_role("link", name="Edit")).to_be_focused()
    assert Annotation.objects.count() == 3
    # Save, by keyboard: focus again on the Edit link of the saved entry.
    page.keyboard.press("Enter")
    expect(note).to_be_focused()
    note.fill("Saved by keyboard")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(entry(page, second).locator(".note")).to_have_text("Saved by keyboard")
    expect(entry(page, second).get_by_role("link", name="Edit")).to_be_focused()
    # Delete: focus on the next entry; the last one's goes to the one before.
    entry(page, first).get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    expect(entry(page, first)).to_have_count(0)
    expect(page.locator(f"#goto-{second.pk}")).to_be_focused()
    entry(page, three[2]).get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    expect(entry(page, three[2])).to_have_count(0)
    expect(page.locator(f"#goto-{second.pk}")).to_be_focused()
    # Undo, reached by keyboard: the restored entry takes focus.
    page.get_by_role("status").get_by_role("button", name="Undo").focus()
    page.keyboard.press("Enter")
    expect(entry(page, three[2])).to_have_count(1)
    expect(page.locator(f"#goto-{three[2].pk}")).to_be_focused()
    # The last one left: focus on the list's heading.
    for annotation in (second, three[2]):
        entry(page, annotation).get_by_role("button", name="Delete").focus()
        page.keyboard.press("Enter")
        expect(entry(page, annotation)).to_have_count(0)
    expect(page.locator("#annotations-heading")).to_be_focused()
    assert_not_reloaded(page)
    assert not problems, problems


def test_it_brings_back_unsaved_text_with_undo(live_server, page, author, story, tags, problems):
    orphan = AnnotationFactory(article=story, tag=tags["claim"], quote="30%", author=author)
    Annotation.objects.filter(pk=orphan.pk).update(status=AnchorStatus.ORPHANED)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    entry(page, orphan).get_by_role("link", name="Edit").click()
    entry(page, orphan).get_by_label("Tag").select_option("figure")
    entry(page, orphan).get_by_label("Note").fill("Half a thought")
    # Deleted from the review list while its form is open in the side list.
    page.locator(f"#review-{orphan.pk}").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_contain_text("Deleted the claim")
    assert not Annotation.objects.exists()
    page.get_by_role("status").get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("the note you had not saved")
    note = entry(page, orphan).get_by_label("Note")
    expect(note).to_have_value("Half a thought")
    expect(note).to_be_focused()
    expect(entry(page, orphan).get_by_label("Tag")).to_have_value("figure")
    assert Annotation.objects.get().note == ""  # restored as it was; the text awaits Save
    entry(page, orphan).get_by_role("button", name="Save").click()
    expect(entry(page, orphan).locator(".note")).to_have_text("Half a thought")
    restored = Annotation.objects.get()
    assert (restored.note, restored.tag.slug) == ("Half a thought", "figure")
    assert not problems, problems


# A reader --------------------------------------------------------------------------------------


def test_it_tells_a_reader_who_selects_text_why_no_toolbar_comes(
    live_server, page, story, tags, problems
):
    sign_in(page, live_server, UserFactory(username="reader"))
    open_article(page, live_server, story)
    expect(page.get_by_role("status")).to_be_empty()
    drag_select(page, "30% of the budget")
    expect(page.get_by_role("status")).to_have_text(
        "You can read and export; ask an admin to make you an editor."
    )
    expect(page.get_by_role("toolbar")).to_have_count(0)
    assert not problems, problems


# The notice ------------------------------------------------------------------------------------

LONG_QUOTE = "said 30% of the budget went to roads"  # a notice two lines high
OVERLAP_JS = """([a, b]) => {
  const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
  return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
}"""


@pytest.mark.parametrize("width", [1440, 1024, 800, 390])
def test_it_leaves_the_last_entrys_buttons_clear_of_the_notice(
    live_server, page, author, story, tags, width
):
    others = [
        AnnotationFactory(
            article=story,
            tag=tags["figure"],
            quote="said 30% of the budget went to roads",
            author=author,
        )
        for _ in range(PAGE_SIZE - 1)  # the whole list on the first page, taller than the screen
    ]
    last = AnnotationFactory(article=story, tag=tags["claim"], quote="12%", author=author)
    page.set_viewport_size({"width": width, "height": 700})
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    entry(page, last).get_by_role("link", name="Edit").click()
    entry(page, last).get_by_label("Note").fill("The lowest entry")
    entry(page, last).get_by_role("button", name="Save").click()
    expect(entry(page, last).locator(".note")).to_have_text("The lowest entry")
    entry(page, others[0]).get_by_role("button", name="Delete").click()
    notice = page.locator("#notice")
    expect(notice.get_by_role("button", name="Undo")).to_be_visible()  # the tallest notice
    # Scrolled to the very end, as far as the page and the list go.
    page.evaluate("() => document.querySelector('.side').scrollTo(0, 1e6)")
    page.mouse.wheel(0, 100_000)
    page.wait_for_timeout(300)
    for button in (
        entry(page, last).get_by_role("link", name="Edit"),
        entry(page, last).get_by_role("button", name="Delete"),
    ):
        assert not page.evaluate(OVERLAP_JS, [button.element_handle(), notice.element_handle()])


# A phone ---------------------------------------------------------------------------------------


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, has_touch=True, is_mobile=True
    )
    yield context.new_page()
    context.close()


def test_it_shows_a_tapped_highlights_entry_in_a_sheet_on_a_phone(
    live_server, phone, author, story, tags
):
    page = phone
    figure = AnnotationFactory(article=story, tag=tags["figure"], quote="12%", author=author)
    for _ in range(8):
        AnnotationFactory(article=story, tag=tags["claim"], quote="The council", author=author)
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    mark = page.locator(f'mark[data-annotation="{figure.pk}"]')
    mark.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    mark.tap()
    sheet = page.get_by_role("region", name="Annotations here")
    expect(sheet).to_be_visible()
    expect(sheet.locator(f"#annotation-{figure.pk}")).to_be_in_viewport()
    expect(mark).to_be_in_viewport()  # no jump to the list far below
    assert abs(page.evaluate("window.scrollY") - scrolled) < 400
    # The entry works in the sheet: edit and save it there.
    sheet.get_by_role("link", name="Edit").tap()
    sheet.get_by_label("Note").fill("Checked on the phone")
    sheet.get_by_role("button", name="Save").tap()
    expect(sheet.locator(".note")).to_have_text("Checked on the phone")
    assert Annotation.objects.get(pk=figure.pk).note == "Checked on the phone"
    # Closed, the entry is back in its place in the list (after the claims, as in the text).
    sheet.get_by_role("button", name="Close").tap()
    expect(sheet).to_be_hidden()
    expect(page.locator("#annotation-items > li").last).to_have_id(f"annotation-{figure.pk}")


def test_it_hides_key_hints_without_a_keyboard(live_server, phone, author, story, tags):
    page = phone
    sign_in(page, live_server, author)
    open_article(page, live_server, story)
    assert page.evaluate("matchMedia('(hover: none) and (pointer: coarse)').matches")
    select(page, "30%")
    expect(toolbar(page)).to_be_visible()
    expect(toolbar(page).get_by_role("button", name="Claim")).to_be_visible()
    expect(toolbar(page).locator("kbd").first).to_be_hidden()
    expect(page.locator("#reading-help kbd").first).to_be_hidden()
    expect(page.locator("#reading-help")).to_contain_text("Select a passage, then choose a tag")
