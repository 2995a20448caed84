"""The desk's domain functions (annotations/services/): review states, replies, mentions
and what answers what."""

import pytest

from annotations.models import Annotation, Mention, Reply
from annotations.services import (
    AnnotationError,
    add_reply,
    delete_annotation,
    delete_reply,
    edit_reply,
    mark_mentions_read,
    restore_deleted_annotation,
    set_answers,
    set_review,
    update_annotation,
)

from .factories import AnnotationFactory, ArticleFactory

pytestmark = pytest.mark.django_db


# Review states ------------------------------------------------------------------------------


def test_it_sets_a_review_state_with_who_and_when(mine, other_editor):
    set_review(mine, state="needs-source", by=other_editor)

    mine.refresh_from_db()
    assert (mine.review_state, mine.reviewed_by, mine.review_source) == (
        "needs-source",
        other_editor,
        "",
    )
    assert mine.reviewed_at is not None


def test_it_refuses_a_verdict_on_a_claim_without_a_source(mine, editor):
    for state in ("verified", "disputed"):
        with pytest.raises(AnnotationError, match="needs a source"):
            set_review(mine, state=state, source="  ", by=editor)
    mine.refresh_from_db()
    assert mine.review_state == "open"


def test_it_takes_a_verdict_on_a_rebuttal_without_a_source(article, editor, rebuttal):
    answer = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    set_review(answer, state="verified", by=editor)
    answer.refresh_from_db()
    assert answer.review_state == "verified"


def test_it_keeps_the_stored_source_when_none_is_given(mine, editor):
    set_review(mine, state="verified", source=" https://example.org/minutes ", by=editor)
    set_review(mine, state="disputed", by=editor)
    mine.refresh_from_db()
    assert (mine.review_state, mine.review_source) == ("disputed", "https://example.org/minutes")


def test_it_refuses_an_unknown_state_and_an_overlong_source(mine, editor):
    with pytest.raises(AnnotationError, match="no review state"):
        set_review(mine, state="maybe", by=editor)
    with pytest.raises(AnnotationError, match="limit is 1,000"):
        set_review(mine, state="verified", source="x" * 1001, by=editor)


def test_it_keeps_every_review_change_in_the_history(mine, editor, other_editor):
    set_review(mine, state="needs-source", by=editor)
    set_review(mine, state="verified", source="Minutes, p. 4", by=other_editor)
    states = list(
        Annotation.history.filter(id=mine.pk)
        .order_by("history_id")
        .values_list("review_state", "history_user")
    )
    assert [s for s, _ in states] == ["open", "needs-source", "verified"]


def test_it_counts_the_open_claims_per_article(article, editor, claim, figure):
    AnnotationFactory(article=article, tag=claim, quote="roads")
    settled = AnnotationFactory(article=article, tag=claim, quote="budget")
    AnnotationFactory(article=article, tag=figure, quote="12%")
    set_review(settled, state="resolved", by=editor)
    article.refresh_from_db()
    assert (article.open_claims, article.settled_claims) == (1, 1)


# Replies and mentions -----------------------------------------------------------------------


def test_it_adds_edits_and_deletes_a_reply(mine, other_editor):
    reply = add_reply(mine, author=other_editor, text="  Which page?\r\n ")
    assert (reply.text, reply.author) == ("Which page?", other_editor)
    edit_reply(reply, text="Which page of the minutes?")
    reply.refresh_from_db()
    assert reply.text == "Which page of the minutes?"
    pk = reply.pk
    delete_reply(reply)
    assert not Reply.objects.exists()
    assert Reply.history.filter(id=pk, history_type="-").exists()


def test_it_refuses_an_empty_or_overlong_reply(mine, editor):
    with pytest.raises(AnnotationError, match="Write something"):
        add_reply(mine, author=editor, text=" \n ")
    with pytest.raises(AnnotationError, match="limit is 2,000"):
        add_reply(mine, author=editor, text="x" * 2001)


def test_it_mentions_colleagues_named_in_a_reply(mine, editor, other_editor, staff):
    reply = add_reply(
        mine, author=editor, text="@Other_Editor and @staff, please check. Not @nobody; me: @editor"
    )
    mentioned = {m.user.username: m for m in Mention.objects.select_related("user")}
    assert set(mentioned) == {"other_editor", "staff"}  # no one unknown, not the writer
    assert mentioned["staff"].reply == reply
    assert mentioned["staff"].mentioned_by == editor
    assert mentioned["staff"].read is None


def test_it_ends_a_mention_before_trailing_punctuation(mine, editor, other_editor):
    add_reply(mine, author=editor, text="Thanks @other_editor.")
    assert Mention.objects.get().user == other_editor
    assert not Mention.objects.filter(user__username="other_editor.").exists()


def test_it_ignores_an_address_that_only_looks_like_a_mention(mine, editor, other_editor):
    add_reply(mine, author=editor, text="Write to desk@other_editor.org")
    assert not Mention.objects.exists()


def test_it_follows_the_text_when_a_reply_or_a_note_changes(mine, editor, other_editor, staff):
    reply = add_reply(mine, author=editor, text="@other_editor look")
    mark_mentions_read(other_editor)
    edit_reply(reply, text="@other_editor and @staff look")
    assert Mention.objects.get(user=other_editor).read is not None  # unchanged: still read
    assert Mention.objects.get(user=staff).read is None
    edit_reply(reply, text="@staff only")
    assert list(Mention.objects.values_list("user__username", flat=True)) == ["staff"]

    update_annotation(mine, note="Ask @other_editor", actor=editor)
    note_mention = Mention.objects.get(reply=None)
    assert (note_mention.user, note_mention.annotation) == (other_editor, mine)


def test_it_marks_only_the_given_mentions_read(mine, editor, other_editor):
    add_reply(mine, author=editor, text="@other_editor one")
    add_reply(mine, author=editor, text="@other_editor two")
    first = Mention.objects.order_by("id").first()
    assert mark_mentions_read(other_editor, [first]) == 1
    assert Mention.objects.filter(user=other_editor).unread().count() == 1


def test_it_brings_the_thread_back_with_an_undone_delete(mine, editor, other_editor):
    gone_before = add_reply(mine, author=editor, text="deleted by hand")
    delete_reply(gone_before)
    kept = add_reply(mine, author=other_editor, text="kept")
    pk = mine.pk
    delete_annotation(mine)
    assert not Reply.objects.exists()

    record = Annotation.history.filter(id=pk).order_by("-history_id").first()
    restore_deleted_annotation(record)

    assert list(Reply.objects.values_list("pk", "text", "author")) == [
        (kept.pk, "kept", other_editor.pk)
    ]


# What answers what ------------------------------------------------------------------------


def test_it_links_an_answer_and_keeps_either_when_the_other_goes(article, editor, rebuttal, mine):
    answer = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    set_answers(answer, mine)
    assert list(mine.answered_by.all()) == [answer]

    delete_annotation(mine)
    answer.refresh_from_db()
    assert answer.answers is None

    other = AnnotationFactory(article=article, quote="roads")
    set_answers(answer, other)
    delete_annotation(answer)
    assert Annotation.objects.filter(pk=other.pk).exists()


def test_it_refuses_an_answer_to_itself_another_article_or_in_a_circle(article, mine, rebuttal):
    answer = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    elsewhere = AnnotationFactory(article=ArticleFactory(), quote="roads")
    with pytest.raises(AnnotationError, match="cannot answer itself"):
        set_answers(answer, answer)
    with pytest.raises(AnnotationError, match="same article"):
        set_answers(answer, elsewhere)
    set_answers(answer, mine)
    with pytest.raises(AnnotationError, match="circle"):
        set_answers(mine, answer)


def test_it_restores_an_answer_alone_when_what_it_answered_is_gone(article, mine, rebuttal):
    answer = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    set_answers(answer, mine)
    pk = answer.pk
    delete_annotation(answer)
    delete_annotation(mine)
    record = Annotation.history.filter(id=pk).order_by("-history_id").first()

    restored, _ = restore_deleted_annotation(record)

    assert restored.answers_id is None


def test_it_unlinks(article, mine, rebuttal):
    answer = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    set_answers(answer, mine)
    set_answers(answer, None)
    answer.refresh_from_db()
    assert answer.answers is None
