"""Reading a W3C Web Annotation a client sends: its bodies (the tag and the note), its
selectors, and its target's source. The schemas have checked the shape; these check meaning."""

import pytest
from django.urls import reverse

from annotations.api import schemas
from annotations.services import AnnotationError
from annotations.webannotation import Links

from .factories import ArticleFactory

LINKS = Links("https://news.example.org")


def body(purpose: str, value: str) -> dict:
    return {"type": "TextualBody", "purpose": purpose, "value": value}


def test_it_reads_the_tag_and_the_note_from_the_bodies():
    assert schemas.read_bodies([body("tagging", "claim"), body("commenting", "why")]) == (
        "claim",
        "why",
    )
    assert schemas.read_bodies([body("tagging", "claim")]) == ("claim", None)
    assert schemas.read_bodies([]) == (None, None)


def test_it_refuses_two_tags():
    with pytest.raises(AnnotationError, match="at most one body with purpose 'tagging'"):
        schemas.read_bodies([body("tagging", "claim"), body("tagging", "figure")])


def selector_quote(exact="roads"):
    return {
        "type": "TextQuoteSelector",
        "exact": exact,
        "prefix": None,
        "suffix": None,
        "start": None,
        "end": None,
    }


def selector_position(start=1, end=6):
    return {
        "type": "TextPositionSelector",
        "exact": None,
        "prefix": None,
        "suffix": None,
        "start": start,
        "end": end,
    }


def test_it_reads_a_selection_from_both_selectors_in_any_order():
    target = {"source": None, "selector": [selector_position(3, 8), selector_quote("roads")]}
    assert schemas.read_selection(target) == schemas.Selection(start=3, end=8, exact="roads")


def test_it_ignores_other_selector_types():
    other = {**selector_quote(), "type": "XPathSelector"}
    target = {"source": None, "selector": [other, selector_quote("roads"), selector_position()]}
    assert schemas.read_selection(target).exact == "roads"


@pytest.mark.parametrize(
    ("selectors", "message"),
    [
        ([selector_quote()], "needs a TextPositionSelector"),
        ([selector_position()], "needs a TextQuoteSelector"),
        ([], "needs a TextQuoteSelector and a TextPositionSelector"),
        ([selector_quote(), selector_quote(), selector_position()], "several of a kind"),
        ([selector_quote(None), selector_position()], "needs `exact`"),
        ([selector_quote(), selector_position(None, 4)], "needs `start` and `end`"),
    ],
)
def test_it_says_what_is_missing_from_a_target(selectors, message):
    with pytest.raises(AnnotationError, match=message):
        schemas.read_selection({"source": None, "selector": selectors})


def test_it_accepts_a_target_source_naming_the_article_on_any_host(article):
    page = reverse("article_detail", args=[article.source_id])
    schemas.check_target_source(None, article, LINKS)
    schemas.check_target_source("https://news.example.org" + page, article, LINKS)
    schemas.check_target_source("http://localhost:8000" + page, article, LINKS)
    schemas.check_target_source(LINKS.article_api(article.source_id), article, LINKS)


def test_it_refuses_a_target_source_naming_another_article(article):
    other = ArticleFactory(source_id="other_story")
    with pytest.raises(AnnotationError, match="is not the article 'council_budget'"):
        schemas.check_target_source(LINKS.article_page(other.source_id), article, LINKS)
