"""The API's annotations: reading, creating, changing and removing one, and what shows up on
the page and in the CSV afterwards."""

import pytest
from django.urls import reverse

from annotations.models import AnchorStatus, Annotation
from newsroom.models import BlockKind, BlockText

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

pytestmark = pytest.mark.django_db


# Reading ------------------------------------------------------------------------------------------


def test_it_shows_one_annotation_with_its_context(client, viewer, article):
    annotation = AnnotationFactory(article=article, quote="roads")

    data = client.get(annotation_url(annotation), headers=bearer(viewer)).json()

    assert data["@context"] == CONTEXT
    assert data["id"] == f"http://testserver/api/annotations/{annotation.pk}/"
    assert data["creator"]["nickname"] == annotation.author.username
    assert data["status"] == "anchored"


def test_it_reads_one_annotation_in_constant_queries(
    client, viewer, article, django_assert_max_num_queries
):
    annotation = AnnotationFactory(article=article, quote="roads", note="n")
    headers = bearer(viewer)
    with django_assert_max_num_queries(3):
        assert client.get(annotation_url(annotation), headers=headers).status_code == 200


# Creating -----------------------------------------------------------------------------------------


def test_it_creates_an_annotation_from_a_web_annotation(client, editor, article, claim):
    data = new_annotation(article, "30% of the budget", note="Source: council minutes")

    response = send(client, "POST", annotations_url(article), data, bearer(editor))

    assert response.status_code == 201, response.content
    annotation = Annotation.objects.get()
    assert (annotation.tag, annotation.quote, annotation.note, annotation.author) == (
        claim,
        "30% of the budget",
        "Source: council minutes",
        editor,
    )
    assert article.body[annotation.start : annotation.end] == "30% of the budget"
    created = response.json()
    assert (
        response["Location"]
        == created["id"]
        == f"http://testserver/api/annotations/{annotation.pk}/"
    )
    assert created["@context"] == CONTEXT
    assert created["body"][0]["value"] == "claim"
    assert created["target"]["selector"][0]["prefix"] == annotation.prefix


def test_it_accepts_a_single_body_and_a_single_selector_object(client, editor, article, claim):
    # The model allows one object where a list would hold one item.
    start = article.body.index("roads")
    data = {
        "body": {"type": "TextualBody", "purpose": "tagging", "value": "claim"},
        "target": {"selector": {"type": "TextQuoteSelector", "exact": "roads"}},
    }
    data["target"]["selector"] = [
        data["target"]["selector"],
        {"type": "TextPositionSelector", "start": start, "end": start + 5},
    ]

    response = send(client, "POST", annotations_url(article), data, bearer(editor))

    assert response.status_code == 201, response.content


def test_it_creates_a_selection_across_blocks_and_after_an_emoji(client, editor, claim):
    article = ArticleFactory(
        blocks=[
            BlockText(BlockKind.PARAGRAPH, "Fans 🎉 cheered."),
            BlockText(BlockKind.PARAGRAPH, "The mayor left."),
        ]
    )
    quote = "cheered.\n\nThe mayor"

    response = send(
        client, "POST", annotations_url(article), new_annotation(article, quote), bearer(editor)
    )

    assert response.status_code == 201, response.content
    position = response.json()["target"]["selector"][1]
    assert (position["start"], position["end"]) == (7, 7 + len(quote))


def test_it_refuses_a_quote_that_does_not_match_the_body_with_409(client, editor, article, claim):
    data = new_annotation(article, "roads")
    data["target"]["selector"][0]["exact"] = "rails"

    assert_error(
        send(client, "POST", annotations_url(article), data, bearer(editor)),
        409,
        "no longer matches",
    )
    assert not Annotation.objects.exists()


def test_it_refuses_an_unknown_tag_with_400(client, editor, article, claim, figure, rebuttal):
    data = new_annotation(article, "roads", tag="opinion")

    body = assert_error(
        send(client, "POST", annotations_url(article), data, bearer(editor)),
        400,
        "no tag “opinion”",
        "claim, figure, rebuttal",
    )
    assert body["field"] == "body"


@pytest.mark.parametrize(
    ("start", "end", "phrase"),
    [
        (-1, 4, "outside the article"),
        (5, 10_000, "outside the article"),
        (8, 8, "empty"),
        (9, 3, "empty"),
    ],
)
def test_it_refuses_bad_offsets_with_400(client, editor, article, claim, start, end, phrase):
    data = new_annotation(article, "roads")
    data["target"]["selector"][1].update(start=start, end=end)
    data["target"]["selector"][0]["exact"] = article.body[max(start, 0) : max(end, 0)] or "x"

    assert_error(send(client, "POST", annotations_url(article), data, bearer(editor)), 400, phrase)


def test_it_refuses_to_annotate_a_missing_article_with_404(client, editor, article, claim):
    data = new_annotation(article, "roads")
    assert_error(
        send(client, "POST", "/api/articles/gone/annotations/", data, bearer(editor)),
        404,
        "no article 'gone'",
    )


# Changing and removing ----------------------------------------------------------------------------


def test_it_changes_the_note_and_the_tag(client, editor, article, claim, figure):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="old")
    data = {
        "body": [
            {"type": "TextualBody", "purpose": "tagging", "value": "figure"},
            {"type": "TextualBody", "purpose": "commenting", "value": "new"},
        ]
    }

    response = send(client, "PATCH", annotation_url(annotation), data, bearer(editor))

    assert response.status_code == 200, response.content
    annotation.refresh_from_db()
    assert (annotation.tag, annotation.note) == (figure, "new")
    assert [b["value"] for b in response.json()["body"]] == ["figure", "new"]


def test_it_changes_only_what_is_sent(client, editor, article, claim):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="keep me")
    data = {"body": [{"type": "TextualBody", "purpose": "commenting", "value": "changed"}]}

    send(client, "PATCH", annotation_url(annotation), data, bearer(editor))

    annotation.refresh_from_db()
    assert (annotation.tag, annotation.note, annotation.quote) == (claim, "changed", "roads")


def test_it_removes_the_note_with_an_empty_commenting_body(client, editor, article):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="remove me")
    data = {"body": {"type": "TextualBody", "purpose": "commenting", "value": ""}}

    response = send(client, "PATCH", annotation_url(annotation), data, bearer(editor))

    annotation.refresh_from_db()
    assert annotation.note == ""
    assert [b["purpose"] for b in response.json()["body"]] == ["tagging"]


def test_it_accepts_its_own_representation_sent_back_for_a_fuzzy_annotation(
    client, editor, article
):
    # A fuzzy annotation's quote differs from the text at its offsets (see docs/anchoring.md);
    # sending the annotation back with a new note must not be mistaken for a move onto
    # mismatching words.
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    Annotation.objects.filter(pk=annotation.pk).update(
        status=AnchorStatus.FUZZY, quote="the roads!"
    )
    headers = bearer(editor)
    data = client.get(annotation_url(annotation), headers=headers).json()
    data["body"].append({"type": "TextualBody", "purpose": "commenting", "value": "Checked"})

    response = send(client, "PATCH", annotation_url(annotation), data, headers)

    assert response.status_code == 200, response.content
    annotation.refresh_from_db()
    assert (annotation.note, annotation.status, annotation.quote) == (
        "Checked",
        "fuzzy",
        "the roads!",
    )


def test_it_accepts_its_own_representation_sent_back_for_an_orphaned_annotation(
    client, editor, article
):
    # An orphaned annotation comes without a position (its old offsets hold other words);
    # sent back as it came, with a new note, it stays where and what it was.
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    Annotation.objects.filter(pk=annotation.pk).update(
        status=AnchorStatus.ORPHANED, quote="the old bridges"
    )
    headers = bearer(editor)
    data = client.get(annotation_url(annotation), headers=headers).json()
    assert [s["type"] for s in data["target"]["selector"]] == ["TextQuoteSelector"]
    data["body"].append({"type": "TextualBody", "purpose": "commenting", "value": "Lost"})

    response = send(client, "PATCH", annotation_url(annotation), data, headers)

    assert response.status_code == 200, response.content
    annotation.refresh_from_db()
    assert (annotation.note, annotation.status, annotation.quote) == (
        "Lost",
        "orphaned",
        "the old bridges",
    )


def test_it_moves_an_annotation_to_a_new_passage(client, editor, article):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    Annotation.objects.filter(pk=annotation.pk).update(status=AnchorStatus.ORPHANED)
    target = new_annotation(article, "The mayor denied it")["target"]

    response = send(client, "PATCH", annotation_url(annotation), {"target": target}, bearer(editor))

    assert response.status_code == 200, response.content
    annotation.refresh_from_db()
    assert (annotation.quote, annotation.status) == ("The mayor denied it", "anchored")
    assert article.body[annotation.start : annotation.end] == "The mayor denied it"


def test_it_changes_nothing_when_part_of_a_patch_is_refused(client, editor, article, claim):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="old")
    target = new_annotation(article, "roads")["target"]
    target["selector"][0]["exact"] = "rails"
    data = {
        "body": {"type": "TextualBody", "purpose": "commenting", "value": "new"},
        "target": target,
    }

    assert_error(send(client, "PATCH", annotation_url(annotation), data, bearer(editor)), 409)
    annotation.refresh_from_db()
    assert annotation.note == "old"


@pytest.mark.parametrize(
    ("data", "status", "phrase"),
    [
        (
            {"body": {"type": "TextualBody", "purpose": "tagging", "value": "nope"}},
            400,
            "no tag “nope”",
        ),
        (
            {"body": {"type": "TextualBody", "purpose": "commenting", "value": "x" * 5001}},
            400,
            "limit is 5,000",
        ),
        ({"body": {"purpose": "tagging"}}, 400, "body.value: Field required"),
    ],
)
def test_it_refuses_a_bad_patch(client, editor, article, claim, data, status, phrase):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    assert_error(
        send(client, "PATCH", annotation_url(annotation), data, bearer(editor)), status, phrase
    )


def test_it_deletes_an_annotation(client, editor, article):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    headers = bearer(editor)

    response = client.delete(annotation_url(annotation), headers=headers)

    assert response.status_code == 204
    assert response.content == b""
    assert not Annotation.objects.exists()
    assert_error(
        client.get(annotation_url(annotation), headers=headers),
        404,
        f"no annotation {annotation.pk}",
    )


# A round trip shows up everywhere -----------------------------------------------------------------


def article_page(client, article) -> str:
    response = client.get(reverse("article_detail", args=[article.source_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_round_trips_post_get_patch_delete_and_shows_on_the_page_and_in_the_csv(
    client, editor, article, claim, figure
):
    headers = bearer(editor)
    client.force_login(editor)

    created = send(
        client,
        "POST",
        annotations_url(article),
        new_annotation(article, "30% of the budget", note="Check"),
        headers,
    )
    assert created.status_code == 201
    url = created.json()["id"]
    annotation = Annotation.objects.get()

    fetched = client.get(url, headers=headers).json()
    assert fetched == created.json()
    listed = client.get(annotations_url(article), headers=headers).json()
    assert [item["id"] for item in listed["items"]] == [url]

    assert f'<mark data-tag="claim" data-annotation="{annotation.pk}"' in article_page(
        client, article
    )
    csv_text = b"".join(
        client.get(f"/articles/{article.source_id}/export.csv").streaming_content
    ).decode()
    assert "30% of the budget" in csv_text and ",claim," in csv_text

    patched = send(
        client,
        "PATCH",
        url,
        {"body": {"type": "TextualBody", "purpose": "tagging", "value": "figure"}},
        headers,
    )
    assert patched.json()["body"][0]["value"] == "figure"
    csv_text = b"".join(
        client.get(f"/articles/{article.source_id}/export.csv").streaming_content
    ).decode()
    assert ",figure," in csv_text and ",claim," not in csv_text
    assert f'<mark data-tag="figure" data-annotation="{annotation.pk}"' in article_page(
        client, article
    )

    assert client.delete(url, headers=headers).status_code == 204
    csv_text = b"".join(
        client.get(f"/articles/{article.source_id}/export.csv").streaming_content
    ).decode()
    assert "30% of the budget" not in csv_text
    assert f'data-annotation="{annotation.pk}"' not in article_page(client, article)
    assert client.get(annotations_url(article), headers=headers).json()["items"] == []


def test_annotations_made_on_the_page_show_up_in_the_api(client, editor, article, claim):
    # The reverse direction: what an editor makes on the article page, the API lists.
    client.force_login(editor)
    start = article.body.index("roads")
    made = client.post(
        reverse("annotation_create", args=[article.source_id]),
        {
            "start": start,
            "end": start + 5,
            "quote": "roads",
            "tag": "claim",
            "note": "from the page",
        },
    )
    assert made.status_code in (200, 302)
    annotation = Annotation.objects.get()

    items = client.get(annotations_url(article), headers=bearer(editor)).json()["items"]

    assert [
        (i["id"], i["body"][1]["value"], i["target"]["selector"][0]["exact"]) for i in items
    ] == [(f"http://testserver/api/annotations/{annotation.pk}/", "from the page", "roads")]
