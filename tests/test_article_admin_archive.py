"""Taking an article down in the admin (newsroom/admin.py): deleting one that has annotations
is refused (they would be lost for good), archiving hides it from the lists instead."""

import pytest
from django.urls import reverse

from annotations import services
from newsroom.models import Article

from .api_helpers import ARTICLES, bearer
from .factories import AnnotationFactory, ArticleFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:newsroom_article_changelist")


def delete_url(article: Article) -> str:
    return reverse("admin:newsroom_article_delete", args=[article.pk])


@pytest.fixture
def story(db):
    return ArticleFactory(source_id="council", title="Council budget row")


def test_it_refuses_to_delete_an_article_with_annotations_and_says_how_many(admin_client, story):
    AnnotationFactory(article=story, quote="roads")
    AnnotationFactory(article=story, quote="budget")

    page = admin_client.get(delete_url(story)).content.decode()
    admin_client.post(delete_url(story), {"post": "yes"})

    assert "“Council budget row” has 2 annotations" in page
    assert "Archive it instead" in page
    assert Article.objects.filter(pk=story.pk).exists()
    assert story.annotations.count() == 2


def test_it_refuses_while_deleted_annotations_could_still_be_restored(admin_client, story):
    services.delete_annotation(AnnotationFactory(article=story, quote="roads"))

    page = admin_client.get(delete_url(story)).content.decode()
    admin_client.post(delete_url(story), {"post": "yes"})

    assert "has 1 deleted annotation (restorable from the admin)" in page
    assert Article.objects.filter(pk=story.pk).exists()


def test_it_refuses_the_bulk_delete_of_such_an_article_too(admin_client, story):
    AnnotationFactory(article=story, quote="roads")
    data = {"action": "delete_selected", "_selected_action": [story.pk], "post": "yes"}

    admin_client.post(CHANGELIST, data)

    assert Article.objects.filter(pk=story.pk).exists()


def test_it_deletes_an_article_that_never_had_annotations(admin_client, story):
    admin_client.post(delete_url(story), {"post": "yes"})
    assert not Article.objects.filter(pk=story.pk).exists()


def test_it_archives_and_unarchives_articles_with_an_action(admin_client, story):
    AnnotationFactory(article=story, quote="roads")

    response = admin_client.post(
        CHANGELIST, {"action": "archive", "_selected_action": [story.pk]}, follow=True
    )
    story.refresh_from_db()
    assert story.archived
    assert "Archived 1 article." in response.content.decode()

    admin_client.post(CHANGELIST, {"action": "unarchive", "_selected_action": [story.pk]})
    story.refresh_from_db()
    assert not story.archived


def test_an_archived_article_leaves_the_lists_and_keeps_its_page(client, editor, story):
    AnnotationFactory(article=story, quote="roads")
    kept = ArticleFactory(source_id="kept", title="Kept on the list")
    Article.objects.filter(pk=story.pk).update(archived=True)
    client.force_login(editor)

    listing = client.get("/").content.decode()
    api = client.get(ARTICLES, headers=bearer(editor)).json()

    assert "Council budget row" not in listing and kept.title in listing
    assert [item["source_id"] for item in api["items"]] == ["kept"]
    assert client.get(story.get_absolute_url()).status_code == 200
    assert (
        client.get(f"{ARTICLES}council/annotations/", headers=bearer(editor)).json()["partOf"][
            "total"
        ]
        == 1
    )
