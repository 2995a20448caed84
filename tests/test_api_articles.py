"""The API's articles: where to start, the article list, one article, and an article's
annotations as a W3C AnnotationPage."""

import pytest
from django.urls import NoReverseMatch, reverse

from .api_helpers import (
    ARTICLES,
    CONTEXT,
    annotations_url,
    assert_error,
    bearer,
)
from .factories import AnnotationFactory, ArticleFactory, EditorFactory

pytestmark = pytest.mark.django_db


# Articles -----------------------------------------------------------------------------------------


def test_it_links_to_where_to_start(client, viewer):
    response = client.get("/api/", headers=bearer(viewer))
    assert response.json() == {
        "articles": "http://testserver/api/articles/",
        "openapi": "http://testserver/api/openapi.json",
        "docs": "http://testserver/api/docs",
    }


def test_it_lists_articles_newest_first_with_their_annotation_counts(client, viewer, article):
    older = ArticleFactory(source_id="older", date=article.date.replace(year=2020))
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=article, quote="budget")

    response = client.get(ARTICLES, headers=bearer(viewer))

    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 2 and data["page"] == 1 and data["pages"] == 1
    assert "next" not in data and "prev" not in data
    assert [a["source_id"] for a in data["items"]] == ["council_budget", "older"]
    first = data["items"][0]
    assert first == {
        "id": "http://testserver/api/articles/council_budget/",
        "source_id": "council_budget",
        "title": "Council budget row",
        "date": "2025-08-08",
        "url": "http://testserver" + reverse("article_detail", args=["council_budget"]),
        "annotations": "http://testserver/api/articles/council_budget/annotations/",
        "annotation_count": 2,
    }
    assert data["items"][1]["annotation_count"] == 0 and older


def test_it_pages_the_article_list(client, viewer):
    for n in range(5):
        ArticleFactory(source_id=f"story_{n}", title=f"Story {n}")
    headers = bearer(viewer)

    page2 = client.get(ARTICLES + "?page=2&per_page=2", headers=headers).json()

    assert page2["total"] == 5 and page2["pages"] == 3 and len(page2["items"]) == 2
    assert page2["next"] == "http://testserver/api/articles/?page=3&per_page=2"
    assert page2["prev"] == "http://testserver/api/articles/?page=1&per_page=2"
    last = client.get(page2["next"], headers=headers).json()
    assert len(last["items"]) == 1 and "next" not in last
    assert_error(
        client.get(ARTICLES + "?page=4&per_page=2", headers=headers),
        404,
        "no page 4",
        "last page is 3",
    )


def test_it_shows_an_article_with_its_plain_text_body_and_block_offsets(client, viewer, article):
    response = client.get(f"/api/articles/{article.source_id}/", headers=bearer(viewer))

    assert response.status_code == 200
    data = response.json()
    assert data["body"] == article.body
    assert data["title"] == "Council budget row"
    blocks = data["blocks"]
    assert [b["kind"] for b in blocks] == ["paragraph", "photo_credit", "heading", "paragraph"]
    assert [article.body[b["start"] : b["end"]] for b in blocks] == [
        b.text for b in article.blocks.all()
    ]


@pytest.mark.parametrize("source_id", ["no_such_story", "x" * 300])
def test_it_answers_404_json_for_a_missing_article(client, viewer, source_id):
    headers = bearer(viewer)
    assert_error(client.get(f"/api/articles/{source_id}/", headers=headers), 404, "no")
    assert_error(client.get(f"/api/articles/{source_id}/annotations/", headers=headers), 404)


def test_it_names_the_missing_article(client, viewer):
    assert_error(
        client.get("/api/articles/gone/", headers=bearer(viewer)), 404, "There is no article 'gone'"
    )


def test_the_article_page_route_exists_for_target_sources():
    # Annotation targets point at the article page; the page area owns that route.
    try:
        reverse("article_detail", args=["x"])
    except NoReverseMatch:  # pragma: no cover - only while the page area is not merged
        pytest.fail("The article page route 'article_detail' is missing")


# An article's annotations -------------------------------------------------------------------------


def test_it_lists_an_articles_annotations_as_a_w3c_annotation_page(client, viewer, article):
    roads = AnnotationFactory(article=article, quote="roads", note="Which roads?")
    budget = AnnotationFactory(article=article, quote="budget")
    AnnotationFactory(article=ArticleFactory(), quote="budget")  # another article's

    response = client.get(annotations_url(article), headers=bearer(viewer))

    assert response.status_code == 200
    page = response.json()
    collection = "http://testserver" + annotations_url(article)
    assert page["@context"] == CONTEXT
    assert page["type"] == "AnnotationPage"
    assert page["id"] == collection + "?page=1"
    assert page["partOf"] == {
        "id": collection,
        "type": "AnnotationCollection",
        "label": "Annotations of “Council budget row”",
        "total": 2,
        "first": collection + "?page=1",
        "last": collection + "?page=1",
    }
    assert page["startIndex"] == 0
    assert "next" not in page and "prev" not in page
    # In body order; the page carries the context once for all its items.
    assert [item["id"] for item in page["items"]] == [
        f"http://testserver/api/annotations/{budget.pk}/",
        f"http://testserver/api/annotations/{roads.pk}/",
    ]
    assert all("@context" not in item for item in page["items"])
    assert page["items"][1]["body"][1] == {
        "type": "TextualBody",
        "purpose": "commenting",
        "value": "Which roads?",
        "format": "text/plain",
    }


def test_it_pages_annotations_with_next_and_prev(client, viewer, article):
    for _ in range(5):
        AnnotationFactory(article=article, quote="roads")
    headers = bearer(viewer)
    url = "http://testserver" + annotations_url(article)

    page = client.get(annotations_url(article) + "?page=2&per_page=2", headers=headers).json()

    assert page["id"] == url + "?page=2&per_page=2"
    assert page["startIndex"] == 2
    assert len(page["items"]) == 2
    assert page["next"] == url + "?page=3&per_page=2"
    assert page["prev"] == url + "?page=1&per_page=2"
    assert page["partOf"]["total"] == 5
    assert page["partOf"]["last"] == url + "?page=3&per_page=2"
    last = client.get(page["next"], headers=headers).json()
    assert len(last["items"]) == 1 and "next" not in last
    assert_error(client.get(annotations_url(article) + "?page=4&per_page=2", headers=headers), 404)


def test_it_answers_an_empty_page_for_an_article_without_annotations(client, viewer, article):
    page = client.get(annotations_url(article), headers=bearer(viewer)).json()
    assert page["items"] == [] and page["partOf"]["total"] == 0


# Query counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 40])
def test_it_lists_annotations_in_constant_queries(
    client, viewer, article, count, django_assert_max_num_queries
):
    authors = [EditorFactory() for _ in range(3)]
    for n in range(count):
        AnnotationFactory(article=article, quote="roads", author=authors[n % 3], note=f"n{n}")
    headers = bearer(viewer)
    client.get(ARTICLES, headers=headers)  # the token's first use records it (last_used)

    # token lookup, article, page (a page that is not full needs no count), the page's
    # articles, tags, users
    with django_assert_max_num_queries(6):
        response = client.get(annotations_url(article) + "?per_page=200", headers=headers)
    assert len(response.json()["items"]) == count


@pytest.mark.parametrize("count", [2, 40])
def test_it_lists_articles_in_constant_queries(
    client, viewer, count, django_assert_max_num_queries
):
    for _ in range(count):
        AnnotationFactory(article=ArticleFactory(), quote="roads")
    headers = bearer(viewer)

    with django_assert_max_num_queries(4):  # token, last_used, count, page
        response = client.get(ARTICLES + "?per_page=200", headers=headers)
    assert len(response.json()["items"]) == count
