"""The annotating endpoints that make and change annotations: create, update, and one
side-list entry for editing in place.

Each walks the roles (anonymous / viewer / other editor / author / staff), the wrong method,
bad input, the htmx variant (fragments only) and a query count that does not grow.
"""

import pytest
from django.conf import settings
from django.urls import reverse

from annotations.models import Annotation
from annotations.services import (
    AnnotationError,
    reselect_annotation,
    update_annotation,
)
from newsroom.models import BlockKind, BlockText

from .annotating import HTMX, assert_fragments_only, create_url, selection
from .factories import AnnotationFactory, ArticleFactory

# Create ----------------------------------------------------------------------------------


def test_it_sends_anonymous_posts_to_the_login_page(client, article, claim):
    response = client.post(create_url(article), selection(article, "30%"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_it_refuses_a_non_editor(client, viewer, article, claim, headers):
    client.force_login(viewer)
    response = client.post(create_url(article), selection(article, "30%"), **headers)
    assert response.status_code == 403
    assert not Annotation.objects.exists()
    if headers:
        assert b"data-error-message>Only editors may annotate.<" in response.content


def test_it_creates_an_annotation_and_answers_htmx_with_fragments(client, editor, article, claim):
    client.force_login(editor)
    response = client.post(
        create_url(article), selection(article, "30% of the budget", note="Check it"), **HTMX
    )
    assert response.status_code == 200
    annotation = Annotation.objects.get()
    assert (annotation.start, annotation.end) == (17, 34)
    assert annotation.quote == article.body[17:34] == "30% of the budget"
    assert annotation.prefix == "The council said " and annotation.suffix.startswith(" went")
    assert (annotation.author, annotation.tag.slug, annotation.note) == (
        editor,
        "claim",
        "Check it",
    )
    html = assert_fragments_only(response)
    assert f'<mark data-tag="claim" data-annotation="{annotation.pk}"' in html
    assert "Tagged “30% of the budget” as Claim." in html


def test_it_redirects_a_plain_post_back_to_the_page(client, editor, article, claim):
    client.force_login(editor)
    response = client.post(create_url(article), selection(article, "30%"))
    annotation = Annotation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{article.get_absolute_url()}#annotation-{annotation.pk}"


def test_it_lets_staff_annotate(client, staff, article, claim):
    client.force_login(staff)
    assert client.post(create_url(article), selection(article, "30%"), **HTMX).status_code == 200
    assert Annotation.objects.get().author == staff


def test_it_accepts_a_selection_across_blocks_and_browser_line_breaks(
    client, editor, article, claim
):
    client.force_login(editor)
    start = article.body.index("roads.")
    end = article.body.index("example.org")
    data = {"start": start, "end": end, "quote": article.body[start:end].replace("\n", "\r\n")}
    response = client.post(create_url(article), {**data, "tag": "claim"}, **HTMX)
    assert response.status_code == 200
    assert Annotation.objects.get().quote == "roads.\n\nPhoto: "


def test_it_counts_offsets_in_code_points(client, editor, claim):
    article = ArticleFactory(
        blocks=[BlockText(BlockKind.PARAGRAPH, "Turnout 😀 rose to 45% 🎉 in the district.")]
    )
    client.force_login(editor)
    response = client.post(create_url(article), selection(article, "rose to 45% 🎉"), **HTMX)
    assert response.status_code == 200
    annotation = Annotation.objects.get()
    assert (annotation.start, annotation.end) == (10, 23)
    assert article.body[annotation.start : annotation.end] == "rose to 45% 🎉"


def test_it_refuses_other_methods(client, editor, article):
    client.force_login(editor)
    assert client.get(create_url(article)).status_code == 405
    assert client.put(create_url(article)).status_code == 405


def test_it_answers_404_for_a_missing_article(client, editor, claim):
    client.force_login(editor)
    url = reverse("annotation_create", args=["nope"])
    data = {"start": 0, "end": 3, "quote": "The", "tag": "claim"}
    assert client.post(url, data).status_code == 404
    response = client.post(url, data, **HTMX)
    assert response.status_code == 404
    assert b"data-error-message>That annotation or article no longer exists" in response.content


BAD_SELECTIONS = [
    pytest.param(
        {"tag": "opinion"},
        400,
        "There is no tag “opinion”. Choose one of: claim, figure, rebuttal.",
        id="unknown-tag",
    ),
    pytest.param({"tag": ""}, 400, "Choose a tag.", id="no-tag"),
    pytest.param({"start": -1}, 400, "lies outside the article", id="negative-start"),
    pytest.param({"end": 10_000}, 400, "lies outside the article", id="end-out-of-range"),
    pytest.param({"start": "abc"}, 400, "must be whole numbers", id="not-a-number"),
    pytest.param({"end": None}, 400, "must be whole numbers", id="missing-end"),
    pytest.param({"start": 20, "end": 20, "quote": ""}, 400, "The selection is empty", id="empty"),
    pytest.param({"start": 3, "end": 4, "quote": " "}, 400, "only white space", id="white-space"),
    pytest.param({"quote": "40%"}, 409, "no longer matches the article", id="stale-quote"),
    pytest.param(
        {"note": "x" * (settings.ANNOTATION_NOTE_MAX_LENGTH + 1)},
        400,
        "the limit is 5,000",
        id="oversized-note",
    ),
]


@pytest.mark.parametrize("change, status, message", BAD_SELECTIONS)
def test_it_refuses_bad_input_with_a_clear_message(
    client, editor, article, claim, change, status, message
):
    client.force_login(editor)
    data = {k: v for k, v in {**selection(article, "30%"), **change}.items() if v is not None}
    response = client.post(create_url(article), data, **HTMX)
    assert response.status_code == status
    html = response.content.decode()
    assert html.startswith('<p class="error" data-error-message>')
    assert message in html
    assert not Annotation.objects.exists()
    # Without htmx: the page again, with the message in the alert region and the same status.
    response = client.post(create_url(article), data)
    assert response.status_code == status
    assert '<div id="alerts" class="alerts" role="alert"><p>' in response.content.decode()
    assert message in response.content.decode()


def test_it_creates_in_a_number_of_queries_that_does_not_grow(
    client, editor, claim, figure, django_assert_max_num_queries
):
    article = ArticleFactory()
    client.force_login(editor)
    length = len(article.body)

    def tag_once():
        # Session, user, article, tag, the insert with its history, the version and its
        # event, the events since the page's version, the touched blocks, counts, review.
        with django_assert_max_num_queries(24):
            response = client.post(create_url(article), selection(article, "12%"), **HTMX)
        assert response.status_code == 200

    AnnotationFactory(article=article, tag=claim, quote="30%", author=editor)
    tag_once()
    for i in range(200):
        start = i % (length - 5)
        AnnotationFactory(article=article, tag=figure, start=start, end=start + 5, author=editor)
    tag_once()


# Update ----------------------------------------------------------------------------------


def update_url(annotation):
    return reverse("annotation_update", args=[annotation.pk])


def test_it_sends_anonymous_updates_to_the_login_page(client, mine):
    response = client.post(update_url(mine), {"note": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["viewer", "other_editor"])
def test_it_refuses_updates_from_anyone_but_author_and_staff(client, mine, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.post(update_url(mine), {"note": "mine now"}).status_code == 403
    response = client.post(update_url(mine), {"note": "mine now"}, **HTMX)
    assert response.status_code == 403
    assert b"Only the annotation&#x27;s author or staff may change it." in response.content
    mine.refresh_from_db()
    assert mine.note == ""


@pytest.mark.parametrize("who", ["editor", "staff"])
def test_it_lets_author_and_staff_change_note_and_tag(client, mine, figure, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.post(
        update_url(mine), {"note": "Source?\r\nCheck it", "tag": "figure"}, **HTMX
    )
    assert response.status_code == 200
    html = assert_fragments_only(response)
    mine.refresh_from_db()
    assert (mine.note, mine.tag) == ("Source?\nCheck it", figure)
    assert f'<mark data-tag="figure" data-annotation="{mine.pk}"' in html
    assert "Source?<br>Check it" in html


def test_it_changes_only_what_is_sent(client, editor, mine):
    client.force_login(editor)
    mine.note = "keep me"
    mine.save()
    assert client.post(update_url(mine), {"tag": "rebuttal"}).status_code == 302
    mine.refresh_from_db()
    assert (mine.note, mine.tag.slug) == ("keep me", "rebuttal")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"tag": "nope"}, "There is no tag “nope”"),
        ({"note": "x" * 5001}, "the limit is 5,000"),
        ({}, "Nothing to change"),
    ],
)
def test_it_refuses_bad_updates(client, editor, mine, data, message):
    client.force_login(editor)
    response = client.post(update_url(mine), data, **HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    mine.refresh_from_db()
    assert (mine.note, mine.tag.slug) == ("", "claim")


def test_it_refuses_get_on_update_and_404s_a_missing_annotation(client, editor, mine):
    client.force_login(editor)
    assert client.get(update_url(mine)).status_code == 405
    url = reverse("annotation_update", args=[mine.pk + 1000])
    assert client.post(url, {"note": "x"}).status_code == 404


@pytest.mark.parametrize("change", ["update", "reselect"])
def test_a_change_to_an_annotation_deleted_meanwhile_is_refused_not_written_back(
    editor, mine, figure, change
):
    # Read by one request, deleted by another before the first one writes (another tab, a
    # colleague on staff): writing the stale copy back would bring the annotation back.
    Annotation.objects.filter(pk=mine.pk).delete()
    with pytest.raises(AnnotationError, match="deleted meanwhile") as refused:
        if change == "update":
            update_annotation(mine, tag=figure, note="late")
        else:
            quote = "30% of the budget"
            start = mine.article.body.index(quote)
            reselect_annotation(mine, start=start, end=start + len(quote), quote=quote)
    assert refused.value.status == 409
    assert not Annotation.objects.filter(pk=mine.pk).exists()


def test_a_change_applies_to_the_annotation_as_stored_now(editor, mine, figure):
    # A re-import moved it after this copy was read: the note change keeps the new place.
    moved_to = mine.start + 1
    Annotation.objects.filter(pk=mine.pk).update(start=moved_to, end=mine.end + 1)
    update_annotation(mine, note="checked")
    stored = Annotation.objects.get(pk=mine.pk)
    assert (stored.note, stored.start, mine.start) == ("checked", moved_to, moved_to)
    assert mine.history.latest().start == moved_to  # the history records the real row


# One entry, for editing in place ----------------------------------------------------------


def entry_url(annotation, edit=True):
    return reverse("annotation_entry", args=[annotation.pk]) + ("?edit=1" if edit else "")


def test_it_sends_anonymous_entry_requests_to_the_login_page(client, mine):
    assert client.get(entry_url(mine), **HTMX).status_code == 302


@pytest.mark.parametrize("who", ["editor", "staff"])
def test_it_gives_author_and_staff_the_edit_form(client, mine, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get(entry_url(mine), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="annotation-{mine.pk}"') and "<html" not in html
    assert f'hx-post="{reverse("annotation_update", args=[mine.pk])}"' in html
    assert '<option value="claim" selected>Claim</option>' in html
    # Cancel asks for the entry as shown.
    shown = client.get(entry_url(mine, edit=False), **HTMX).content.decode()
    assert "<textarea" not in shown and ">Edit<" in shown


@pytest.mark.parametrize("who", ["viewer", "other_editor"])
def test_it_refuses_the_edit_form_to_others_but_shows_the_entry(client, mine, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(entry_url(mine), **HTMX).status_code == 403
    shown = client.get(entry_url(mine, edit=False), **HTMX)
    assert shown.status_code == 200
    assert "30% of the budget" in shown.content.decode()
    assert ">Edit<" not in shown.content.decode()


def test_it_sends_a_plain_entry_request_to_the_page(client, editor, mine):
    client.force_login(editor)
    response = client.get(entry_url(mine))
    assert response.status_code == 302
    assert response["Location"] == (
        f"{mine.article.get_absolute_url()}?edit={mine.pk}#annotation-{mine.pk}"
    )
    assert client.post(entry_url(mine)).status_code == 405
    missing = reverse("annotation_entry", args=[mine.pk + 1000])
    assert client.get(missing, **HTMX).status_code == 404
