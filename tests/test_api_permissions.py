"""Who may do what through the API: viewers read, editors annotate and change their own
annotations, staff everything. (test_permission_matrix.py walks every route and role.)"""

import pytest

from annotations.models import Annotation

from .api_helpers import (
    ARTICLES,
    annotation_url,
    annotations_url,
    assert_error,
    bearer,
    new_annotation,
    send,
)
from .factories import AnnotationFactory

pytestmark = pytest.mark.django_db


NOTE = {"body": {"type": "TextualBody", "purpose": "commenting", "value": "changed"}}


@pytest.fixture
def editors_annotation(article, editor):
    return AnnotationFactory(article=article, quote="roads", author=editor)


def test_a_viewer_reads_everything(client, viewer, editors_annotation, article):
    headers = bearer(viewer)
    for url in (
        ARTICLES,
        f"/api/articles/{article.source_id}/",
        annotations_url(article),
        annotation_url(editors_annotation),
    ):
        assert client.get(url, headers=headers).status_code == 200, url


def test_a_viewer_may_not_annotate(client, viewer, article, claim):
    response = send(
        client, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(viewer)
    )
    assert_error(response, 403, "Only editors may annotate")
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "other_editor"])
def test_only_the_author_or_staff_change_or_delete(client, request, editors_annotation, who):
    headers = bearer(request.getfixturevalue(who))

    assert_error(
        send(client, "PATCH", annotation_url(editors_annotation), NOTE, headers),
        403,
        "author or staff",
    )
    assert_error(
        client.delete(annotation_url(editors_annotation), headers=headers), 403, "author or staff"
    )
    editors_annotation.refresh_from_db()
    assert editors_annotation.note == ""


@pytest.mark.parametrize("who", ["editor", "staff"])
def test_the_author_and_staff_change_and_delete(client, request, editors_annotation, who):
    headers = bearer(request.getfixturevalue(who))

    assert (
        send(client, "PATCH", annotation_url(editors_annotation), NOTE, headers).status_code == 200
    )
    editors_annotation.refresh_from_db()
    assert editors_annotation.note == "changed"
    assert client.delete(annotation_url(editors_annotation), headers=headers).status_code == 204
    assert not Annotation.objects.exists()


def test_staff_annotate_without_being_editors(client, staff, article, claim):
    response = send(
        client, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(staff)
    )
    assert response.status_code == 201


def test_an_editor_removed_from_the_group_loses_the_right_to_change(
    client, editor, editors_annotation
):
    headers = bearer(editor)
    editor.groups.clear()
    assert_error(send(client, "PATCH", annotation_url(editors_annotation), NOTE, headers), 403)
