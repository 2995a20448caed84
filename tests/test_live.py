"""Deltas keyed by the article's annotations version (annotations/live.py, the changes view),
the version check on edits and deletes, the paged and filtered side list, and that every
writer (page, API, admin, import) advances the version."""

import re

import pytest
from django.urls import reverse

from annotations.live import PAGE_SIZE
from annotations.models import AnnotationEvent, ApiToken, ChangeKind
from annotations.services import delete_annotation, replace_article_text, update_annotation
from newsroom.models import Article, BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def version_of(article) -> int:
    return Article.objects.get(pk=article.pk).annotations_version


def changes(client, article, since, **extra):
    url = reverse("article_changes", args=[article.source_id])
    return client.get(url, {"since": since, **extra}, **HTMX)


@pytest.fixture
def theirs(article, other_editor, claim):
    return AnnotationFactory(
        article=article, tag=claim, quote="30% of the budget", author=other_editor
    )


def test_it_answers_204_and_nothing_else_when_nothing_changed(
    client, editor, article, django_assert_max_num_queries
):
    client.force_login(editor)
    since = version_of(article)
    with django_assert_max_num_queries(3):  # session, user, the article's version
        response = changes(client, article, since)
    assert response.status_code == 204 and response.content == b""


def test_it_sends_a_colleagues_new_annotation_as_a_delta(client, editor, article, theirs):
    client.force_login(editor)
    response = changes(client, article, version_of(article) - 1)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<div id="live" data-version="{version_of(article)}"')
    # Only the new highlight, for the page to lay over the text it shows; no paragraph.
    assert f'data-clear="{theirs.pk}"' in html
    assert (
        f'<mark data-tag="claim" data-annotation="{theirs.pk}" '
        f'data-start="{theirs.start}" data-end="{theirs.end}"></mark>'
    ) in html
    assert html.count("<mark") == 1
    assert 'id="block-' not in html  # the blocks stay as they are
    assert '<div hx-swap-oob="beforeend:#annotation-items">' in html
    assert '<span id="count-total" class="count" hx-swap-oob="true">1</span>' in html
    assert "1 new annotation by other_editor." in html
    assert 'hx-swap-oob="delete"' not in html  # it was never on the page


def test_it_sends_only_the_changed_highlight_however_crowded_its_paragraph(
    client, editor, article, figure, other_editor, claim
):
    crowd = [
        AnnotationFactory(article=article, tag=figure, start=i, end=i + 9) for i in range(0, 40, 2)
    ]
    client.force_login(editor)
    since = version_of(article)
    new = AnnotationFactory(article=article, tag=claim, start=5, end=30, author=other_editor)
    html = changes(client, article, since).content.decode()
    assert html.count("<mark") == 1 and f'data-annotation="{new.pk}"' in html
    assert not any(f'data-annotation="{a.pk}"' in html for a in crowd)


def test_it_sends_a_change_as_out_and_back_in_with_the_new_tag(
    client, editor, staff, article, theirs, figure
):
    since = version_of(article)
    update_annotation(theirs, tag=figure, note="Checked", actor=staff)
    client.force_login(editor)
    html = changes(client, article, since).content.decode()
    out = html.index(f'<li id="annotation-{theirs.pk}" hx-swap-oob="delete"></li>')
    back = html.index(f'<li id="annotation-{theirs.pk}" class="annotation"')
    assert out < back
    assert f'<mark data-tag="figure" data-annotation="{theirs.pk}"' in html
    assert "edited by staff" in html
    assert "1 annotation changed by staff." in html


def test_it_sends_a_delete_as_a_removed_entry_and_a_redrawn_block(
    client, editor, article, theirs, other_editor
):
    since, pk = version_of(article), theirs.pk
    delete_annotation(theirs, actor=other_editor)
    client.force_login(editor)
    html = changes(client, article, since).content.decode()
    assert f'<li id="annotation-{pk}" hx-swap-oob="delete"></li>' in html
    assert f'data-clear="{pk}"' in html and "<mark" not in html  # out of the text, not back
    assert "1 annotation removed by other_editor." in html


def test_it_sends_the_whole_text_after_the_text_changed(client, editor, article, theirs):
    since = version_of(article)
    blocks = [BlockText(b.kind, b.text) for b in article.blocks.all()]
    blocks.insert(0, BlockText(BlockKind.PARAGRAPH, "A new first paragraph."))
    replace_article_text(article, date=article.date, title=article.title, blocks=blocks)
    client.force_login(editor)
    html = changes(client, article, since).content.decode()
    assert '<div id="article-body" class="story-body" tabindex="0"' in html
    assert "The article&#x27;s text was updated" in html or "The article's text was updated" in html


def test_it_answers_deltas_in_queries_that_do_not_grow(
    client, editor, article, claim, figure, django_assert_max_num_queries
):
    client.force_login(editor)

    def one_change():
        since = version_of(article)
        AnnotationFactory(article=article, tag=claim, quote="12%", author=editor)
        with django_assert_max_num_queries(14):
            assert changes(client, article, since).status_code == 200

    one_change()
    length = len(article.body)
    for i in range(150):
        start = i % (length - 5)
        AnnotationFactory(article=article, tag=figure, start=start, end=start + 5)
    one_change()


def test_it_refuses_an_edit_on_an_older_version_and_keeps_the_text(
    client, editor, staff, article, claim
):
    mine = AnnotationFactory(article=article, tag=claim, quote="30%", author=editor, note="v1")
    update_annotation(mine, note="Theirs", actor=staff)
    client.force_login(editor)
    url = reverse("annotation_update", args=[mine.pk])
    data = {"tag": "claim", "note": "Mine", "version": 1}
    response = client.post(url, data, **HTMX)
    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#annotation-{mine.pk}"
    html = response.content.decode()
    assert "changed by staff after you opened it" in html
    assert '<q class="current-note">Theirs</q>' in html
    assert re.search(r"<textarea[^>]*>Mine</textarea>", html)
    assert 'name="version" value="2"' in html
    mine.refresh_from_db()
    assert mine.note == "Theirs"
    # Without JavaScript: the page, with the form, both texts and the same status.
    response = client.post(url, data)
    assert response.status_code == 409
    assert '<q class="current-note">Theirs</q>' in response.content.decode()
    # On the version shown, it saves.
    assert client.post(url, {**data, "version": 2}, **HTMX).status_code == 200
    mine.refresh_from_db()
    assert (mine.note, mine.version, mine.edited_by) == ("Mine", 3, editor)


def test_it_refuses_a_delete_on_an_older_version(client, editor, staff, article, claim):
    mine = AnnotationFactory(article=article, tag=claim, quote="30%", author=editor)
    update_annotation(mine, note="Theirs", actor=staff)
    client.force_login(editor)
    url = reverse("annotation_delete", args=[mine.pk])
    response = client.post(url, {"version": 1}, **HTMX)
    assert response.status_code == 409
    assert mine.__class__.objects.filter(pk=mine.pk).exists()
    assert client.post(url, {"version": 2}, **HTMX).status_code == 200


def test_it_records_every_writer(client, editor, staff, article, claim, admin_client):
    start = version_of(article)
    # The API.
    raw = ApiToken.issue(user=editor, name="script")[1]
    annotation = AnnotationFactory(article=article, tag=claim, quote="30%", author=editor)
    url = reverse("api:annotation", args=[annotation.pk])
    assert client.delete(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 204
    event = AnnotationEvent.objects.latest("id")
    assert (event.kind, event.actor, event.annotation_id) == (
        ChangeKind.DELETED,
        editor,
        annotation.pk,
    )
    # The admin: change, then delete.
    other = AnnotationFactory(article=article, tag=claim, quote="12%", author=editor)
    change = reverse("admin:annotations_annotation_change", args=[other.pk])
    form = {
        "article": article.pk,
        "tag": claim.pk,
        "note": "From the admin",
        "author": editor.pk,
        "status": "anchored",
        "start": other.start,
        "end": other.end,
        "quote": other.quote,
    }
    assert admin_client.post(change, form).status_code == 302
    event = AnnotationEvent.objects.latest("id")
    assert (event.kind, event.annotation_id) == (ChangeKind.CHANGED, other.pk)
    other.refresh_from_db()
    assert other.note == "From the admin" and other.version == 2
    delete = reverse("admin:annotations_annotation_delete", args=[other.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert AnnotationEvent.objects.latest("id").kind == ChangeKind.DELETED
    assert version_of(article) == start + 5  # two creates, an API delete, an admin change, delete


def test_it_pages_the_list_and_filters_it_on_the_server(
    client, editor, other_editor, claim, figure
):
    article = ArticleFactory()
    length = len(article.body)
    for i in range(PAGE_SIZE + 5):
        start = i % (length - 5)
        AnnotationFactory(
            article=article,
            tag=figure if i % 5 == 0 else claim,
            start=start,
            end=start + 5,
            author=other_editor if i == 7 else editor,
        )
    client.force_login(editor)
    html = client.get(article.get_absolute_url()).content.decode()
    assert html.count('<li id="annotation-') == PAGE_SIZE
    cursor = re.search(r'id="annotation-more" class="more" data-after="([\d.]+)"', html).group(1)
    url = reverse("annotation_page", args=[article.source_id])
    more = client.get(url, {"after": cursor}, **HTMX).content.decode()
    assert more.count('<li id="annotation-') == 5 and "annotation-more" not in more
    # Filters, kept in the URL: tag, author, text.
    html = client.get(article.get_absolute_url(), {"tag": "figure"}).content.decode()
    assert html.count('<li id="annotation-') == (PAGE_SIZE + 5 + 4) // 5
    html = client.get(article.get_absolute_url(), {"author": "other_editor"}).content.decode()
    assert html.count('<li id="annotation-') == 1
    html = client.get(article.get_absolute_url(), {"q": "nothing like this"}).content.decode()
    assert "No annotations match this filter." in html
    # The filter form asks for the list alone.
    response = client.get(
        article.get_absolute_url(),
        {"tag": "figure"},
        HTTP_HX_TARGET="annotation-list-body",
        **HTMX,
    )
    assert response.content.decode().lstrip().startswith('<div id="annotation-list-body">')
