"""The desk on the pages (annotations/factcheck_views.py): review states in one click with the
source prompt, the reply thread, what answers what, the For you page and its unread count."""

import pytest

from annotations.models import Annotation, Mention, Reply
from annotations.services import add_reply, set_answers

from .factories import AnnotationFactory, ArticleFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def review_url(annotation) -> str:
    return f"/annotations/{annotation.pk}/review/"


def replies_url(annotation) -> str:
    return f"/annotations/{annotation.pk}/replies/"


def answers_url(annotation) -> str:
    return f"/annotations/{annotation.pk}/answers/"


@pytest.fixture
def answer(article, editor, rebuttal):
    return AnnotationFactory(
        article=article, tag=rebuttal, quote="The mayor denied it", author=editor
    )


# Review states ----------------------------------------------------------------------------


def test_it_shows_each_entrys_review_state_and_buttons(client, editor, mine):
    client.force_login(editor)
    html = client.get(mine.article.get_absolute_url()).content.decode()
    assert f'id="desk-review-{mine.pk}"' in html
    assert 'aria-pressed="true">Open</button>' in html
    for label in ("Needs a source", "Verified", "Disputed", "Resolved"):
        assert f'aria-pressed="false">{label}</button>' in html
    assert '<select id="filter-review" name="review">' in html


def test_the_list_filters_by_review_state(client, viewer, mine, article, rebuttal):
    other = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    Annotation.objects.filter(pk=other.pk).update(review_state="disputed")
    client.force_login(viewer)
    html = client.get(article.get_absolute_url() + "?review=disputed").content.decode()
    assert f'id="annotation-{other.pk}"' in html
    assert f'id="annotation-{mine.pk}"' not in html
    assert '<option value="disputed" selected>' in html


def test_a_viewer_sees_the_state_without_buttons(client, viewer, mine):
    client.force_login(viewer)
    html = client.get(mine.article.get_absolute_url()).content.decode()
    assert 'class="review-badge" data-review="open">Open<' in html
    assert 'name="state"' not in html


def test_it_sets_a_state_in_one_click(client, other_editor, mine):
    client.force_login(other_editor)
    response = client.post(review_url(mine), {"state": "needs-source"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="desk-review-{mine.pk}"')
    assert "by other_editor" in html
    assert 'aria-pressed="true">Needs a source<' in html
    mine.refresh_from_db()
    assert (mine.review_state, mine.reviewed_by) == ("needs-source", other_editor)


def test_a_verdict_on_a_claim_asks_for_its_source_first(client, editor, mine):
    client.force_login(editor)
    response = client.post(review_url(mine), {"state": "verified"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="source"' in html and "data-source-prompt" in html
    assert 'name="state" value="verified"' in html
    mine.refresh_from_db()
    assert mine.review_state == "open"

    refused = client.post(review_url(mine), {"state": "verified", "source": " "}, **HTMX)
    assert refused.status_code == 400
    assert "needs a source" in refused.content.decode()

    done = client.post(
        review_url(mine), {"state": "verified", "source": "https://example.org/m"}, **HTMX
    )
    assert 'href="https://example.org/m"' in done.content.decode()
    mine.refresh_from_db()
    assert (mine.review_state, mine.review_source) == ("verified", "https://example.org/m")


def test_a_plain_post_redirects_to_the_entry(client, editor, mine):
    client.force_login(editor)
    response = client.post(review_url(mine), {"state": "resolved"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#annotation-{mine.pk}")


def test_a_viewer_may_not_set_a_state(client, viewer, mine):
    client.force_login(viewer)
    response = client.post(review_url(mine), {"state": "resolved"}, **HTMX)
    assert response.status_code == 403
    assert "Only editors" in response.content.decode()


def test_it_shows_the_review_history(client, editor, other_editor, mine):
    client.force_login(editor)
    client.post(review_url(mine), {"state": "needs-source"}, **HTMX)
    client.force_login(other_editor)
    client.post(review_url(mine), {"state": "disputed", "source": "Minutes p. 4"}, **HTMX)
    html = client.get(f"/annotations/{mine.pk}/review/history/", **HTMX).content.decode()
    assert html.index("Needs a source") < html.index("Disputed")
    assert "by editor" in html and "by other_editor" in html and "Minutes p. 4" in html


# Replies ----------------------------------------------------------------------------------


def test_it_opens_the_thread_in_place_and_replies(client, editor, other_editor, mine):
    client.force_login(other_editor)
    html = client.get(replies_url(mine), **HTMX).content.decode()
    assert f'<section id="thread-{mine.pk}"' in html and 'name="text"' in html

    response = client.post(replies_url(mine), {"text": "Source? @editor"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<strong class="mention">@editor</strong>' in html
    assert "other_editor" in html
    assert Mention.objects.get().user == editor


def test_only_the_author_or_staff_edit_and_delete_a_reply(
    client, editor, other_editor, staff, mine
):
    reply = add_reply(mine, author=other_editor, text="first")
    client.force_login(editor)
    thread = client.get(replies_url(mine), **HTMX).content.decode()
    assert f"/replies/{reply.pk}/edit/" not in thread
    assert client.post(f"/replies/{reply.pk}/update/", {"text": "x"}, **HTMX).status_code == 403
    assert client.post(f"/replies/{reply.pk}/delete/", **HTMX).status_code == 403

    client.force_login(other_editor)
    form = client.get(f"/replies/{reply.pk}/edit/", **HTMX).content.decode()
    assert "Edit your reply" in form
    client.post(f"/replies/{reply.pk}/update/", {"text": "second"}, **HTMX)
    reply.refresh_from_db()
    assert reply.text == "second"

    client.force_login(staff)
    html = client.post(f"/replies/{reply.pk}/delete/", **HTMX).content.decode()
    assert "Deleted the reply." in html
    assert not Reply.objects.exists()


def test_it_refuses_an_empty_reply(client, editor, mine):
    client.force_login(editor)
    response = client.post(replies_url(mine), {"text": "  "}, **HTMX)
    assert response.status_code == 400
    assert "Write something" in response.content.decode()


def test_the_entry_counts_its_replies(client, editor, mine):
    add_reply(mine, author=editor, text="one")
    add_reply(mine, author=editor, text="two")
    client.force_login(editor)
    assert "Replies (2)" in client.get(mine.article.get_absolute_url()).content.decode()


# What answers what ------------------------------------------------------------------------


def test_it_picks_the_claim_a_rebuttal_answers(client, other_editor, answer, mine):
    client.force_login(other_editor)
    picker = client.get(answers_url(answer) + "?pick=1", **HTMX).content.decode()
    assert "data-answer-picker" in picker
    assert f'<option value="{mine.pk}">Claim: 30% of the budget</option>' in picker

    response = client.post(answers_url(answer), {"answers": mine.pk}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    answer.refresh_from_db()
    assert answer.answers == mine
    assert f'data-goto="{mine.pk}"' in html  # the rebuttal links to its claim
    # ...and the claim's entry, swapped out of band, lists its answer.
    assert f'<div id="answers-{mine.pk}" class="answers" hx-swap-oob="true">' in html
    assert f'data-goto="{answer.pk}"' in html


def test_both_entries_show_the_relation_on_the_page(client, viewer, answer, mine):
    set_answers(answer, mine)
    client.force_login(viewer)
    html = client.get(mine.article.get_absolute_url()).content.decode()
    assert "Answered by" in html and "Answers <button" in html


def test_it_unlinks_and_refuses_what_makes_no_sense(client, editor, answer, mine):
    set_answers(answer, mine)
    client.force_login(editor)
    assert client.post(answers_url(answer), {"answers": "x"}, **HTMX).status_code == 400
    assert client.post(answers_url(answer), {"answers": answer.pk}, **HTMX).status_code == 400
    assert client.post(answers_url(answer), {"answers": 99999}, **HTMX).status_code == 409
    client.post(answers_url(answer), {"answers": ""}, **HTMX)
    answer.refresh_from_db()
    assert answer.answers is None


# For you ----------------------------------------------------------------------------------


def test_it_lists_mentions_for_you_with_an_unread_count_in_the_header(
    client, editor, other_editor, mine
):
    add_reply(mine, author=other_editor, text="@editor please check")
    client.force_login(editor)

    html = client.get("/").content.decode()
    assert 'aria-label="For you: 1 unread"' in html

    page = client.get("/for-you/").content.decode()
    assert "other_editor mentioned you in a reply" in page
    assert '<strong class="mention">@editor</strong> please check' in page
    assert "30% of the budget" in page


def test_opening_a_mention_marks_it_read_and_goes_to_the_annotation(
    client, editor, other_editor, mine
):
    add_reply(mine, author=other_editor, text="@editor please check")
    mention = Mention.objects.get()
    client.force_login(editor)

    response = client.post(f"/for-you/{mention.pk}/open/")

    assert response["Location"] == f"{mine.article.get_absolute_url()}#annotation-{mine.pk}"
    mention.refresh_from_db()
    assert mention.read is not None
    assert 'class="count unread-count"' not in client.get("/").content.decode()


def test_nobody_opens_anothers_mention(client, editor, other_editor, mine):
    add_reply(mine, author=other_editor, text="@editor please check")
    mention = Mention.objects.get()
    client.force_login(other_editor)
    response = client.post(f"/for-you/{mention.pk}/open/")
    assert response["Location"] == "/for-you/"
    mention.refresh_from_db()
    assert mention.read is None


def test_it_marks_everything_read(client, editor, other_editor, mine):
    add_reply(mine, author=other_editor, text="@editor one")
    add_reply(mine, author=other_editor, text="@editor two")
    client.force_login(editor)
    client.post("/for-you/read/")
    assert not Mention.objects.unread().exists()


# The article list -------------------------------------------------------------------------


def test_the_article_list_counts_the_open_claims(client, viewer, claim, figure):
    article = ArticleFactory(title="Budget")
    AnnotationFactory(article=article, tag=claim, quote="roads")
    AnnotationFactory(article=article, tag=claim, quote="budget", review_state="verified")
    AnnotationFactory(article=article, tag=figure, quote="12%")
    client.force_login(viewer)
    assert "1 open claim<" in client.get("/").content.decode()


# The same tag on the same passage twice ----------------------------------------------------


def test_it_asks_before_a_duplicate_and_saves_it_when_told(client, editor, mine):
    client.force_login(editor)
    start = mine.article.body.index("30% of the budget")
    data = {"start": start, "end": start + 17, "quote": "30% of the budget", "tag": "claim"}
    url = f"/articles/{mine.article.source_id}/annotations/"

    asked = client.post(url, {**data, "note": "again"}, **HTMX)

    assert asked.status_code == 200
    assert asked["HX-Retarget"] == "#desk-prompt"
    html = asked.content.decode()
    assert "already has a claim (by editor)" in html
    assert 'name="duplicate" value="ok"' in html and 'name="note" value="again"' in html
    assert Annotation.objects.count() == 1

    assert client.post(url, {**data, "duplicate": "ok"}, **HTMX).status_code == 200
    assert Annotation.objects.count() == 2
    assert client.post(url, {**data, "tag": "figure"}, **HTMX).status_code == 200
    assert Annotation.objects.count() == 3  # another tag on the same passage is no duplicate


def test_a_plain_post_of_a_duplicate_is_asked_with_409(client, editor, mine):
    client.force_login(editor)
    start = mine.article.body.index("30% of the budget")
    data = {"start": start, "end": start + 17, "quote": "30% of the budget", "tag": "claim"}
    response = client.post(f"/articles/{mine.article.source_id}/annotations/", data)
    assert response.status_code == 409
    assert "Save a second claim" in response.content.decode()
