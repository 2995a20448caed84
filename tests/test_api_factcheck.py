"""The desk in the API: the `review` of an annotation, the linking body (what it answers), and
the replies as W3C annotations with the motivation `replying` (docs/api.md)."""

import pytest

from annotations.models import Annotation, Mention, Reply

from .api_helpers import (
    CONTEXT,
    annotation_url,
    annotations_url,
    assert_error,
    bearer,
    new_annotation,
    send,
)
from .factories import AnnotationFactory, ArticleFactory
from .test_webannotation import check_conformance

pytestmark = pytest.mark.django_db


def replies_url(annotation) -> str:
    return f"/api/annotations/{annotation.pk}/replies/"


def reply_url(reply) -> str:
    return f"/api/replies/{reply.pk}/"


def linking(annotation) -> dict:
    return {
        "type": "SpecificResource",
        "purpose": "linking",
        "source": f"http://testserver{annotation_url(annotation)}",
    }


def reply_body(text: str) -> dict:
    return {
        "type": "Annotation",
        "motivation": "replying",
        "body": {"type": "TextualBody", "value": text},
    }


@pytest.fixture
def answer(article, editor, rebuttal):
    return AnnotationFactory(
        article=article, tag=rebuttal, quote="The mayor denied it", author=editor
    )


# Review -------------------------------------------------------------------------------------------


def test_it_shows_the_review_of_an_annotation(client, viewer, mine):
    data = client.get(annotation_url(mine), headers=bearer(viewer)).json()
    assert data["review"] == {"state": "open", "source": ""}


def test_any_editor_patches_the_review_state(client, mine, other_editor):
    review = {"state": "verified", "source": "https://example.org/minutes"}

    response = send(client, "PATCH", annotation_url(mine), {"review": review}, bearer(other_editor))

    assert response.status_code == 200, response.content
    data = response.json()["review"]
    assert data["state"] == "verified" and data["by"] == "other_editor"
    assert data["source"] == "https://example.org/minutes" and data["at"].endswith("Z")
    mine.refresh_from_db()
    assert (mine.review_state, mine.reviewed_by.username) == ("verified", "other_editor")


def test_it_refuses_a_verdict_on_a_claim_without_a_source(client, mine, editor):
    response = send(
        client, "PATCH", annotation_url(mine), {"review": {"state": "disputed"}}, bearer(editor)
    )
    assert assert_error(response, 400, "needs a source")["field"] == "source"
    mine.refresh_from_db()
    assert mine.review_state == "open"


def test_it_refuses_an_unknown_state_by_the_schema(client, mine, editor):
    response = send(
        client, "PATCH", annotation_url(mine), {"review": {"state": "maybe"}}, bearer(editor)
    )
    assert_error(response, 400, "review.state")


def test_a_viewer_may_not_review_and_an_editor_may_not_rewrite_anothers_note(
    client, mine, viewer, other_editor
):
    review = {"review": {"state": "resolved"}}
    assert_error(send(client, "PATCH", annotation_url(mine), review, bearer(viewer)), 403)
    note_too = {**review, "body": {"type": "TextualBody", "purpose": "commenting", "value": "x"}}
    assert_error(
        send(client, "PATCH", annotation_url(mine), note_too, bearer(other_editor)),
        403,
        "author or staff",
    )
    mine.refresh_from_db()
    assert (mine.review_state, mine.note) == ("open", "")


# Linking ----------------------------------------------------------------------------------------


def test_it_creates_an_answer_with_a_linking_body(client, editor, article, mine, rebuttal):
    data = new_annotation(article, "The mayor denied it", tag="rebuttal")
    data["body"].append(linking(mine))

    response = send(client, "POST", annotations_url(article), data, bearer(editor))

    assert response.status_code == 201, response.content
    created = Annotation.objects.get(tag=rebuttal)
    assert created.answers == mine
    assert linking(mine) in response.json()["body"]


def test_it_links_and_unlinks_with_a_patch(client, answer, mine, other_editor):
    headers = bearer(other_editor)
    response = send(client, "PATCH", annotation_url(answer), {"body": [linking(mine)]}, headers)
    assert response.status_code == 200, response.content
    answer.refresh_from_db()
    assert answer.answers == mine

    unlink = {"body": {"type": "SpecificResource", "purpose": "linking", "source": ""}}
    response = send(client, "PATCH", annotation_url(answer), unlink, headers)
    assert response.status_code == 200
    answer.refresh_from_db()
    assert answer.answers is None
    assert all(b["type"] == "TextualBody" for b in response.json()["body"])


@pytest.mark.parametrize(
    ("source", "phrase"),
    [
        ("http://testserver/articles/council_budget/", "not an annotation's id URL"),
        ("http://testserver/api/annotations/999999/", "does not exist"),
        ("not a url at all", "not an annotation's id URL"),
    ],
)
def test_it_refuses_a_link_to_what_is_no_annotation(client, answer, editor, source, phrase):
    body = {"body": {"type": "SpecificResource", "purpose": "linking", "source": source}}
    response = send(client, "PATCH", annotation_url(answer), body, bearer(editor))
    assert_error(response, 400, phrase)


def test_it_refuses_a_link_to_another_articles_annotation(client, answer, editor):
    elsewhere = AnnotationFactory(article=ArticleFactory(), quote="roads")
    response = send(
        client, "PATCH", annotation_url(answer), {"body": linking(elsewhere)}, bearer(editor)
    )
    assert_error(response, 400, "same article")


def test_it_writes_a_valid_web_annotation_with_a_linking_body(
    client, viewer, answer, mine, tmp_path
):
    Annotation.objects.filter(pk=answer.pk).update(answers=mine)
    data = client.get(annotation_url(answer), headers=bearer(viewer)).json()
    assert data["body"][-1] == linking(mine)
    check_conformance(tmp_path, data, "linking.jsonld")


# Replies ----------------------------------------------------------------------------------------


def test_it_replies_and_mentions(client, mine, other_editor, editor):
    response = send(
        client, "POST", replies_url(mine), reply_body("Which page? @editor"), bearer(other_editor)
    )

    assert response.status_code == 201, response.content
    reply = Reply.objects.get()
    data = response.json()
    assert response["Location"] == data["id"] == f"http://testserver/api/replies/{reply.pk}/"
    assert data["@context"] == CONTEXT
    assert data["motivation"] == "replying"
    assert data["target"] == f"http://testserver{annotation_url(mine)}"
    assert data["body"] == [
        {
            "type": "TextualBody",
            "purpose": "replying",
            "value": "Which page? @editor",
            "format": "text/plain",
        }
    ]
    assert data["creator"]["nickname"] == "other_editor"
    assert Mention.objects.get().user == editor


def test_it_lists_the_replies_as_an_annotation_page(client, viewer, mine, editor, tmp_path):
    for text in ("one", "two", "three"):
        Reply.objects.create(annotation=mine, author=editor, text=text)

    response = client.get(replies_url(mine) + "?per_page=2", headers=bearer(viewer))

    data = response.json()
    assert data["type"] == "AnnotationPage"
    assert data["partOf"]["total"] == 3
    assert [item["body"][0]["value"] for item in data["items"]] == ["one", "two"]
    assert "@context" not in data["items"][0]
    assert data["next"].endswith("?page=2&per_page=2")
    check_conformance(tmp_path, data["items"][0] | {"@context": CONTEXT}, "reply.jsonld")


def test_it_reads_changes_and_deletes_a_reply(client, mine, editor, other_editor, staff):
    reply = Reply.objects.create(annotation=mine, author=other_editor, text="first")
    changed = {"body": {"type": "TextualBody", "value": "second"}}

    assert (
        client.get(reply_url(reply), headers=bearer(editor)).json()["body"][0]["value"] == "first"
    )
    assert_error(
        send(client, "PATCH", reply_url(reply), changed, bearer(editor)), 403, "author or staff"
    )
    assert_error(client.delete(reply_url(reply), headers=bearer(editor)), 403)
    response = send(client, "PATCH", reply_url(reply), changed, bearer(other_editor))
    assert response.json()["body"][0]["value"] == "second"
    assert client.delete(reply_url(reply), headers=bearer(staff)).status_code == 204
    assert not Reply.objects.exists()
    assert_error(client.get(reply_url(reply), headers=bearer(editor)), 404)


@pytest.mark.parametrize(
    ("data", "status", "phrase"),
    [
        (reply_body("   "), 400, "Write something"),
        ({"body": []}, 400, "exactly one TextualBody"),
        ({"body": {"type": "TextualBody", "value": "x" * 2001}}, 400, "limit is 2,000"),
        ({"body": {"type": "TextualBody", "value": "a\x00b"}}, 400, "NUL"),
        (
            {
                "body": {"type": "TextualBody", "value": "x"},
                "target": "http://testserver/api/annotations/1234/",
            },
            400,
            "is not annotation",
        ),
    ],
)
def test_it_refuses_a_bad_reply(client, mine, editor, data, status, phrase):
    assert_error(send(client, "POST", replies_url(mine), data, bearer(editor)), status, phrase)
    assert not Reply.objects.exists()


def test_a_viewer_reads_replies_but_does_not_reply(client, mine, viewer):
    assert client.get(replies_url(mine), headers=bearer(viewer)).status_code == 200
    assert_error(send(client, "POST", replies_url(mine), reply_body("hi"), bearer(viewer)), 403)
    assert_error(client.get("/api/annotations/999999/replies/", headers=bearer(viewer)), 404)


def test_it_reads_a_thread_in_constant_queries(
    client, viewer, mine, editor, django_assert_max_num_queries
):
    for i in range(30):
        Reply.objects.create(annotation=mine, author=editor, text=f"reply {i}")
    headers = bearer(viewer)
    with django_assert_max_num_queries(5):
        assert client.get(replies_url(mine), headers=headers).status_code == 200
