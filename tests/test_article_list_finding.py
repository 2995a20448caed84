"""The article list finds articles: words of the title or text, a date range, "has open
claims", sorted by date or by annotations, paged by 50 with the state in the links."""

import datetime
import re

import pytest

from newsroom.models import BlockText

from .factories import AnnotationFactory, ArticleFactory, tag

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(
        r'<th scope="row" class="title">\s*<a href="[^"]+">([^<]+)</a>', response.content.decode()
    )


@pytest.fixture
def articles(db):
    harbour = ArticleFactory(
        title="Harbour dredging starts",
        date=datetime.date(2025, 3, 1),
        blocks=[BlockText("paragraph", "The café by the quay will close for the works.")],
    )
    budget = ArticleFactory(
        title="Council budget row",
        date=datetime.date(2025, 6, 1),
        blocks=[BlockText("paragraph", "Roads took 30% of the budget, said the council.")],
    )
    schools = ArticleFactory(
        title="Schools reopen",
        date=datetime.date(2025, 9, 1),
        blocks=[BlockText("paragraph", "Pupils returned on Monday to the harbour school.")],
    )
    return {"harbour": harbour, "budget": budget, "schools": schools}


def test_it_finds_articles_by_words_of_the_title(client, viewer, articles):
    client.force_login(viewer)

    assert titles(client.get("/", {"q": "dredging"})) == ["Harbour dredging starts"]


def test_it_finds_articles_by_words_of_the_text_with_accents_folded(client, viewer, articles):
    client.force_login(viewer)

    assert titles(client.get("/", {"q": "CAFE quay"})) == ["Harbour dredging starts"]


def test_it_ranks_a_title_match_above_a_text_match(client, viewer, articles):
    client.force_login(viewer)

    assert titles(client.get("/", {"q": "harbour"})) == [
        "Harbour dredging starts",
        "Schools reopen",
    ]


def test_it_filters_by_date(client, viewer, articles):
    client.force_login(viewer)

    found = titles(client.get("/", {"start": "2025-05-01", "end": "2025-08-31"}))

    assert found == ["Council budget row"]


def test_it_filters_articles_with_open_claims(client, viewer, articles):
    AnnotationFactory(article=articles["budget"], tag=tag("claim"), quote="30% of the budget")
    AnnotationFactory(
        article=articles["harbour"], tag=tag("claim"), quote="quay", review_state="verified"
    )
    AnnotationFactory(article=articles["schools"], tag=tag("figure"), quote="Monday")
    client.force_login(viewer)

    assert titles(client.get("/", {"open_claims": "on"})) == ["Council budget row"]


def test_it_sorts_by_date_or_by_annotation_count(client, viewer, articles):
    for quote in ("Roads", "budget"):
        AnnotationFactory(article=articles["budget"], quote=quote)
    AnnotationFactory(article=articles["harbour"], quote="quay")
    client.force_login(viewer)

    assert titles(client.get("/")) == [
        "Schools reopen",
        "Council budget row",
        "Harbour dredging starts",
    ]
    assert titles(client.get("/", {"sort": "oldest"}))[0] == "Harbour dredging starts"
    assert titles(client.get("/", {"sort": "most-annotated"})) == [
        "Council budget row",
        "Harbour dredging starts",
        "Schools reopen",
    ]


def test_it_keeps_the_search_in_the_page_links(client, viewer):
    for i in range(51):
        ArticleFactory(title=f"Ferry report {i}", date=datetime.date(2025, 1, 1))
    client.force_login(viewer)

    response = client.get("/", {"q": "ferry", "sort": "oldest"})

    assert 'href="?q=ferry&amp;sort=oldest&amp;page=2"' in response.content.decode()
    assert len(titles(client.get("/", {"q": "ferry", "sort": "oldest", "page": 2}))) == 1


def test_it_says_so_when_nothing_matches_and_refuses_a_bad_date(client, viewer, articles):
    client.force_login(viewer)

    assert "No article matches" in client.get("/", {"q": "zeppelin"}).content.decode()
    response = client.get("/", {"start": "someday"})
    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def test_it_finds_in_constant_queries(client, viewer, articles, django_assert_max_num_queries):
    for article in articles.values():
        AnnotationFactory(article=article, quote=article.body[:5])
    client.force_login(viewer)

    with django_assert_max_num_queries(8):
        client.get("/", {"q": "the", "open_claims": "on", "sort": "most-annotated"})
