"""The W3C JSON-LD downloads (annotations/export.py): all annotations, or one article's."""

import json

import pytest
from django.urls import reverse

from .factories import AnnotationFactory, ArticleFactory

pytestmark = pytest.mark.django_db


def download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    assert (
        response["Content-Type"]
        == 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    )
    return response, json.loads(b"".join(response.streaming_content))


def test_it_downloads_all_annotations_as_json_ld(client, viewer, article):
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=ArticleFactory(), quote="budget")
    client.force_login(viewer)

    response, data = download(client, reverse("export_jsonld_all"))

    assert response["Content-Disposition"] == 'attachment; filename="annotations.jsonld"'
    assert data["type"] == "AnnotationCollection" and data["total"] == 2
    assert data["id"] == "http://testserver/export/annotations.jsonld"


def test_it_downloads_one_articles_annotations_as_json_ld(client, viewer, article):
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=ArticleFactory(), quote="budget")
    client.force_login(viewer)

    response, data = download(client, reverse("export_jsonld_article", args=[article.source_id]))

    assert (
        response["Content-Disposition"]
        == 'attachment; filename="council_budget-annotations.jsonld"'
    )
    assert data["total"] == 1


def test_it_sends_anonymous_downloaders_to_the_login_page(client, article):
    response = client.get(reverse("export_jsonld_all"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_answers_404_for_the_download_of_a_missing_article(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("export_jsonld_article", args=["gone"])).status_code == 404


@pytest.mark.parametrize("count", [2, 40])
def test_it_downloads_in_constant_queries(
    client, viewer, article, count, django_assert_max_num_queries
):
    for _ in range(count):
        AnnotationFactory(article=article, quote="roads")
    client.force_login(viewer)

    # session, user, annotations, and for each chunk of them its articles, tags, authors
    # and replies
    with django_assert_max_num_queries(7):
        response = client.get(reverse("export_jsonld_all"))
        text = b"".join(response.streaming_content)
    assert json.loads(text)["total"] == count
