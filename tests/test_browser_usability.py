"""What a new user ran into, in real Chromium: a refusal under DEBUG that wiped the page, the
keyboard (where focus goes after each action, how far Delete is from Save, what Undo brings
back), a reader who selects text, the notice over the list's last entry, and a phone (helpers
in tests/browsing.py)."""

import re

import pytest
from playwright.sync_api import expect

from annotations.models import AnchorStatus, Annotation

from .browsing import assert_not_reloaded, entry, open_article, select, sign_in, toolbar
from .factories import AnnotationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused(page):
    """The focused element's id, or its tag name when it has none."""
    return page.evaluate("() => document.activeElement.id || document.activeElement.tagName")


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
