"""The API's optimistic concurrency on one annotation: GET answers its version as an ETag; a
PATCH or DELETE sending an older one in If-Match is refused with 409 and the current version."""

import pytest

from annotations.models import Annotation
from annotations.services import update_annotation

from .api_helpers import annotation_url, assert_error, bearer, send
from .factories import AnnotationFactory

pytestmark = pytest.mark.django_db

NOTE = {"body": [{"type": "TextualBody", "purpose": "commenting", "value": "mine"}]}


@pytest.fixture
def mine(article, editor, claim):
    return AnnotationFactory(article=article, tag=claim, quote="roads", author=editor, note="v1")


def etag_of(client, annotation, user) -> str:
    response = client.get(annotation_url(annotation), headers=bearer(user))
    assert response.status_code == 200
    return response["ETag"]


def test_it_answers_the_annotations_version_as_its_etag(client, viewer, mine, staff):
    assert etag_of(client, mine, viewer) == '"1"'
    update_annotation(mine, note="v2", actor=staff)
    assert etag_of(client, mine, viewer) == '"2"'


def test_it_changes_with_the_current_etag_and_answers_the_next_one(client, editor, mine):
    headers = {**bearer(editor), "If-Match": etag_of(client, mine, editor)}
    response = send(client, "PATCH", annotation_url(mine), NOTE, headers)
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    mine.refresh_from_db()
    assert (mine.note, mine.version) == ("mine", 2)


def test_it_refuses_a_patch_on_an_older_version_with_the_current_one(client, editor, mine, staff):
    seen = etag_of(client, mine, editor)
    update_annotation(mine, note="Theirs", actor=staff)
    headers = {**bearer(editor), "If-Match": seen}
    response = send(client, "PATCH", annotation_url(mine), NOTE, headers)
    data = assert_error(response, 409, "current version is 2")
    assert (data["field"], data["version"]) == ("version", 2)
    assert response["ETag"] == '"2"'
    mine.refresh_from_db()
    assert mine.note == "Theirs"  # their change stands


def test_it_refuses_a_passage_change_on_an_older_version(client, editor, mine, staff, article):
    update_annotation(mine, note="Theirs", actor=staff)
    start = article.body.index("30%")
    data = {
        "target": {
            "source": f"http://testserver/api/articles/{article.source_id}/",
            "selector": [
                {"type": "TextQuoteSelector", "exact": "30%"},
                {"type": "TextPositionSelector", "start": start, "end": start + 3},
            ],
        }
    }
    headers = {**bearer(editor), "If-Match": '"1"'}
    response = send(client, "PATCH", annotation_url(mine), data, headers)
    assert_error(response, 409, "current version is 2")
    mine.refresh_from_db()
    assert (mine.quote, mine.version) == ("roads", 2)


def test_it_refuses_a_delete_on_an_older_version_and_deletes_with_the_current_one(
    client, editor, mine, staff
):
    update_annotation(mine, note="Theirs", actor=staff)
    stale = {**bearer(editor), "If-Match": '"1"'}
    assert_error(send(client, "DELETE", annotation_url(mine), headers=stale), 409, "version is 2")
    assert Annotation.objects.filter(pk=mine.pk).exists()
    current = {**bearer(editor), "If-Match": etag_of(client, mine, editor)}
    assert send(client, "DELETE", annotation_url(mine), headers=current).status_code == 204
    assert not Annotation.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize("value", ["*", ""])
def test_it_checks_nothing_without_a_version_to_match(client, editor, mine, staff, value):
    update_annotation(mine, note="Theirs", actor=staff)
    headers = {**bearer(editor), "If-Match": value}
    assert send(client, "PATCH", annotation_url(mine), NOTE, headers).status_code == 200


@pytest.mark.parametrize("value", ["1", '"one"', '"1", "2"', '"99999999999999"'])
def test_it_refuses_an_if_match_that_is_not_an_etag(client, editor, mine, value):
    headers = {**bearer(editor), "If-Match": value}
    for method, data in (("PATCH", NOTE), ("DELETE", None)):
        response = send(client, method, annotation_url(mine), data, headers)
        assert assert_error(response, 400, "If-Match")["field"] == "If-Match"
    mine.refresh_from_db()
    assert (mine.note, mine.version) == ("v1", 1)
