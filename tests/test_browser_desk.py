"""The desk page in real Chromium: results follow the typing without a reload, the URL keeps
the search so a shared link opens the same results, and a result leads to its highlight."""

import re

import pytest
from playwright.sync_api import expect

from .browsing import sign_in
from .factories import AnnotationFactory, ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def found(tags, author, story):
    harbour = ArticleFactory(source_id="harbour", title="Harbour dredging")
    return {
        "budget": AnnotationFactory(
            article=story, tag=tags["claim"], quote="30% of the budget", author=author
        ),
        "cafe": AnnotationFactory(
            article=harbour,
            tag=tags["figure"],
            quote="12%",
            note="The café owners disagree",
            author=author,
        ),
    }


def test_it_searches_as_you_type_and_keeps_the_search_in_the_url(
    page, live_server, author, found, problems
):
    sign_in(page, live_server, author)
    page.goto(live_server.url + "/desk/")
    page.evaluate("window.__marker = 1")
    results = page.locator("#results")
    expect(results.locator("li")).to_have_count(2)

    page.get_by_label("Search quotes, notes and replies").press_sequentially("CAFE", delay=40)

    expect(results.locator("li")).to_have_count(1)
    expect(results.locator("mark.hit")).to_have_text("café")
    expect(page).to_have_url(re.compile(r"/desk/\?q=CAFE"))
    assert page.evaluate("window.__marker") == 1  # htmx swapped the results, no reload
    page.get_by_role("checkbox", name="Claim").check()
    expect(results).to_contain_text("No annotation matches.")
    expect(page).to_have_url(re.compile(r"q=CAFE.*tag=claim"))
    assert problems == []


def test_a_shared_link_opens_the_same_results_and_leads_to_the_highlight(
    page, live_server, author, found, story
):
    sign_in(page, live_server, author)

    page.goto(live_server.url + "/desk/?q=budget&tag=claim")

    expect(page.get_by_label("Search quotes, notes and replies")).to_have_value("budget")
    expect(page.get_by_role("checkbox", name="Claim")).to_be_checked()
    expect(page.locator("#results li")).to_have_count(1)
    page.locator("#results").get_by_role("link", name=re.compile("30% of the budget")).click()
    expect(page).to_have_url(
        re.compile(rf"/articles/{story.source_id}/#annotation-{found['budget'].pk}$")
    )
    expect(page.locator(f"#annotation-{found['budget'].pk}")).to_be_visible()
