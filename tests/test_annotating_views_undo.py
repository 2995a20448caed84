"""The annotating endpoints that take annotations away and bring them back: delete, restore
(Undo) and reselect (accept a fuzzy match, re-attach an orphan), and how the side list follows.

Each walks the roles (anonymous / viewer / other editor / author / staff), the wrong method
and the htmx variant (fragments only).
"""

import pytest
from django.urls import reverse

from annotations.models import AnchorStatus, Annotation
from annotations.services import (
    replace_article_text,
)
from newsroom.models import BlockKind, BlockText

from .annotating import HTMX, assert_fragments_only, create_url, selection
from .factories import AnnotationFactory

# Delete and Undo -------------------------------------------------------------------------


def delete_url(annotation):
    return reverse("annotation_delete", args=[annotation.pk])


def restore_url(pk):
    return reverse("annotation_restore", args=[pk])


def test_it_sends_anonymous_deletes_to_the_login_page(client, mine):
    assert client.post(delete_url(mine)).status_code == 302
    assert Annotation.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize("who", ["viewer", "other_editor"])
def test_it_refuses_deletes_from_anyone_but_author_and_staff(client, mine, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.post(delete_url(mine)).status_code == 403
    assert client.post(delete_url(mine), **HTMX).status_code == 403
    assert Annotation.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize("who", ["editor", "staff"])
def test_it_deletes_and_offers_undo_to_author_and_staff(client, mine, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.post(delete_url(mine), **HTMX)
    assert response.status_code == 200
    html = assert_fragments_only(response)
    assert not Annotation.objects.filter(pk=mine.pk).exists()
    assert f'hx-post="{restore_url(mine.pk)}"' in html
    assert "<mark" not in html
    assert "Deleted the claim on “30% of the budget”." in html


def test_it_refuses_get_on_delete(client, editor, mine):
    client.force_login(editor)
    assert client.get(delete_url(mine)).status_code == 405
    assert client.post(reverse("annotation_delete", args=[mine.pk + 1000])).status_code == 404


@pytest.mark.parametrize("who", ["editor", "staff"])
def test_it_restores_a_deleted_annotation_with_its_id_and_times(client, mine, who, request):
    created = mine.created
    client.force_login(request.getfixturevalue(who))
    client.post(delete_url(mine), **HTMX)
    response = client.post(restore_url(mine.pk), **HTMX)
    assert response.status_code == 200
    html = assert_fragments_only(response)
    restored = Annotation.objects.get(pk=mine.pk)
    assert (restored.quote, restored.start, restored.end, restored.author) == (
        mine.quote,
        mine.start,
        mine.end,
        mine.author,
    )
    assert restored.created == created
    assert restored.status == AnchorStatus.ANCHORED
    assert f'<mark data-tag="claim" data-annotation="{mine.pk}"' in html
    assert [h.history_type for h in restored.history.order_by("history_id")] == ["+", "-", "+"]


@pytest.mark.parametrize("who", ["viewer", "other_editor"])
def test_it_refuses_restores_by_anyone_but_author_and_staff(client, editor, mine, who, request):
    client.force_login(editor)
    client.post(delete_url(mine))
    client.force_login(request.getfixturevalue(who))
    assert client.post(restore_url(mine.pk), **HTMX).status_code == 403
    assert not Annotation.objects.filter(pk=mine.pk).exists()


def test_it_refuses_restoring_twice_or_what_never_existed(client, editor, mine):
    client.force_login(editor)
    client.post(delete_url(mine))
    assert client.post(restore_url(mine.pk)).status_code == 302
    response = client.post(restore_url(mine.pk), **HTMX)
    assert response.status_code == 409
    assert "already been restored" in response.content.decode()
    assert client.post(restore_url(mine.pk + 1000)).status_code == 404
    assert client.get(restore_url(mine.pk)).status_code == 405


def test_it_restores_as_orphaned_when_the_text_changed_meanwhile(client, editor, mine):
    client.force_login(editor)
    client.post(delete_url(mine))
    article = mine.article
    replace_article_text(
        article,
        date=article.date,
        title=article.title,
        blocks=[BlockText(BlockKind.PARAGRAPH, "The council said 40% of the money went to roads.")],
    )
    response = client.post(restore_url(mine.pk), **HTMX)
    assert response.status_code == 200
    assert Annotation.objects.get(pk=mine.pk).status == AnchorStatus.ORPHANED
    assert "listed as orphaned" in response.content.decode()


@pytest.mark.parametrize(
    "first_paragraph, status, notice",
    [
        # A paragraph inserted above: it moves with its words, as if it had never left.
        (None, AnchorStatus.ANCHORED, "moved with its words"),
        # The figure inside the quote corrected: it sits on the new words, awaiting review.
        ("The council said 32% of the budget went to roads.", AnchorStatus.FUZZY, "review"),
    ],
)
def test_it_re_anchors_a_restored_annotation_when_the_text_changed_meanwhile(
    client, editor, mine, first_paragraph, status, notice
):
    client.force_login(editor)
    client.post(delete_url(mine))
    article = mine.article
    blocks = [BlockText(b.kind, b.text) for b in article.blocks.all()]
    if first_paragraph is None:
        blocks.insert(0, BlockText(BlockKind.PARAGRAPH, "Correction: the vote was on Monday."))
    else:
        blocks[0] = BlockText(BlockKind.PARAGRAPH, first_paragraph)
    replace_article_text(article, date=article.date, title=article.title, blocks=blocks)
    article.refresh_from_db()

    response = client.post(restore_url(mine.pk), **HTMX)

    assert response.status_code == 200
    assert notice in response.content.decode()
    restored = Annotation.objects.get(pk=mine.pk)
    assert restored.status == status
    assert restored.quote == "30% of the budget"  # the editor's words, until accepted
    expected = "30% of the budget" if status == AnchorStatus.ANCHORED else "32% of the budget"
    assert article.body[restored.start : restored.end] == expected


# Reselect (accept a fuzzy match, re-attach an orphan) ------------------------------------


def reselect_url(annotation):
    return reverse("annotation_reselect", args=[annotation.pk])


@pytest.fixture
def fuzzy(mine):
    # As re-anchoring leaves it: on near-matching words, the quote still the old one.
    Annotation.objects.filter(pk=mine.pk).update(
        status=AnchorStatus.FUZZY, quote="31% of the budget"
    )
    mine.refresh_from_db()
    return mine


@pytest.mark.parametrize("who", ["editor", "staff"])
def test_it_accepts_a_fuzzy_match_for_author_and_staff(client, fuzzy, who, request):
    client.force_login(request.getfixturevalue(who))
    data = selection(fuzzy.article, "30% of the budget")
    response = client.post(reselect_url(fuzzy), data, **HTMX)
    assert response.status_code == 200
    assert_fragments_only(response)
    fuzzy.refresh_from_db()
    assert (fuzzy.status, fuzzy.quote) == (AnchorStatus.ANCHORED, "30% of the budget")


def test_it_reattaches_an_orphan_to_a_new_passage(client, editor, mine):
    Annotation.objects.filter(pk=mine.pk).update(status=AnchorStatus.ORPHANED)
    client.force_login(editor)
    response = client.post(reselect_url(mine), selection(mine.article, "the figure was 12%"))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == AnchorStatus.ANCHORED
    assert mine.article.body[mine.start : mine.end] == mine.quote == "the figure was 12%"


@pytest.mark.parametrize("who", ["viewer", "other_editor"])
def test_it_refuses_reselects_by_anyone_but_author_and_staff(client, fuzzy, who, request):
    client.force_login(request.getfixturevalue(who))
    data = selection(fuzzy.article, "30% of the budget")
    assert client.post(reselect_url(fuzzy), data, **HTMX).status_code == 403
    fuzzy.refresh_from_db()
    assert fuzzy.status == AnchorStatus.FUZZY


def test_it_refuses_a_stale_reselect_and_other_methods(client, editor, fuzzy):
    client.force_login(editor)
    data = {**selection(fuzzy.article, "30% of the budget"), "quote": "31% of the budget"}
    response = client.post(reselect_url(fuzzy), data, **HTMX)
    assert response.status_code == 409
    assert "no longer matches the article" in response.content.decode()
    assert client.get(reselect_url(fuzzy)).status_code == 405
    anonymous = client.__class__()
    assert anonymous.post(reselect_url(fuzzy), data).status_code == 302


# The side list follows the text: where a new entry goes, what leaves ------------------------


def test_it_inserts_the_new_entry_in_reading_order(client, editor, article, claim):
    later = AnnotationFactory(article=article, tag=claim, quote="12%", author=editor)
    client.force_login(editor)
    html = client.post(create_url(article), selection(article, "30%"), **HTMX).content.decode()
    new = Annotation.objects.latest("id")
    assert f'<div hx-swap-oob="beforebegin:#annotation-{later.pk}">' in html
    assert f'<li id="annotation-{new.pk}" class="annotation"' in html
    assert html.count('<li id="annotation-') == 1  # only the new entry, not the whole list
    html = client.post(create_url(article), selection(article, "12%."), **HTMX).content.decode()
    assert '<div hx-swap-oob="beforeend:#annotation-items">' in html


def test_it_removes_the_deleted_entry_and_moves_a_reselected_one(client, editor, article, claim):
    first = AnnotationFactory(article=article, tag=claim, quote="30%", author=editor)
    second = AnnotationFactory(article=article, tag=claim, quote="12%", author=editor)
    client.force_login(editor)
    html = client.post(delete_url(second), **HTMX).content.decode()
    assert f'<li id="annotation-{second.pk}" hx-swap-oob="delete"></li>' in html
    Annotation.objects.filter(pk=first.pk).update(status=AnchorStatus.ORPHANED)
    html = client.post(reselect_url(first), selection(article, "roads"), **HTMX).content.decode()
    # Out first, back in at its new place (the end, here).
    out = html.index(f'<li id="annotation-{first.pk}" hx-swap-oob="delete"></li>')
    back = html.index('<div hx-swap-oob="beforeend:#annotation-items">')
    assert out < back
