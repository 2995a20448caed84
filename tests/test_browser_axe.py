"""axe-core (from axe-playwright-python) over the pages in real Chromium: the article list,
the desk, the article page (as an editor, with nested highlights, a fuzzy and an orphaned
annotation, an open edit form; and as a reader) and the API's docs, closed and open.

Any violation fails, with axe's own report. So does anything axe could not decide ("needs
review"), except colour contrast, which it cannot judge over images and overlapping boxes.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from annotations.models import AnchorStatus, Annotation

from .browsing import entry, open_article, sign_in
from .factories import AnnotationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNDECIDABLE = {"color-contrast"}


@pytest.fixture
def annotated(story, tags, author):
    AnnotationFactory(article=story, tag=tags["claim"], quote="30% of the budget", author=author)
    AnnotationFactory(article=story, tag=tags["figure"], quote="30%", author=author, note="Check.")
    fuzzy = AnnotationFactory(article=story, tag=tags["figure"], quote="12%", author=author)
    orphan = AnnotationFactory(article=story, tag=tags["rebuttal"], quote="roads", author=author)
    Annotation.objects.filter(pk=fuzzy.pk).update(status=AnchorStatus.FUZZY, quote="13%")
    Annotation.objects.filter(pk=orphan.pk).update(status=AnchorStatus.ORPHANED)
    return story


def assert_no_violations(page):
    found = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    problems = found["violations"] + [
        rule for rule in found["incomplete"] if rule["id"] not in UNDECIDABLE
    ]
    report = [
        f"{rule['id']}: {rule['help']}: {node['html'][:200]} "
        + "; ".join(c["message"] for c in node["any"] + node["all"] + node["none"])
        for rule in problems
        for node in rule["nodes"]
    ]
    assert not report, "\n".join(report)


# The pages without arguments. "desk" and "for_you" are checked once the desk is built.
@pytest.mark.parametrize("name", ["article_list", "desk", "for_you"])
def test_it_finds_no_violation_on_a_page(live_server, page, author, annotated, name):
    try:
        url = reverse(name)
    except NoReverseMatch:
        pytest.skip(f"no page named {name!r} yet")
    sign_in(page, live_server, author)
    page.goto(live_server.url + url)
    assert_no_violations(page)


def test_it_finds_no_violation_on_the_article_page_of_an_editor(
    live_server, page, author, annotated
):
    sign_in(page, live_server, author)
    open_article(page, live_server, annotated)
    expect(page.locator("mark")).not_to_have_count(0)
    assert_no_violations(page)
    # Each highlight tells a screen reader its tag, and a fuzzy one that it is approximate.
    for a in Annotation.objects.exclude(status=AnchorStatus.ORPHANED):
        fuzzy = a.status == AnchorStatus.FUZZY
        described = a.tag.label + (" (placed approximately)" if fuzzy else "")
        for mark in page.locator(f'mark[data-annotation="{a.pk}"]').all():
            expect(mark).to_have_accessible_description(described)
    first = entry(page, Annotation.objects.order_by("start", "pk").first())
    first.get_by_role("link", name="Edit").click()
    expect(first.get_by_label("Note")).to_be_focused()
    assert_no_violations(page)


def test_it_finds_no_violation_on_the_article_page_of_a_reader(live_server, page, annotated):
    sign_in(page, live_server, UserFactory(username="reader"))
    open_article(page, live_server, annotated)
    assert_no_violations(page)


def test_it_finds_no_violation_on_the_api_docs(live_server, page, author):
    sign_in(page, live_server, author)
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert_no_violations(page)
    # And with every operation open: parameters, request bodies, responses and examples.
    controls = page.locator(".opblock-summary-control")
    for n in range(controls.count()):
        controls.nth(n).click()
    expect(page.locator(".swagger-ui .responses-wrapper")).to_have_count(controls.count())
    assert_no_violations(page)
