"""The fact-check desk: review states, replies, mentions and answers."""

import re

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import Truncator

from newsroom.models import (
    Article,
)

from ..models import (
    TAGS_NEEDING_SOURCES,
    VERDICT_STATES,
    Annotation,
    ChangeKind,
    Mention,
    Reply,
    ReviewState,
)
from .changes import lock_for_change, record_changes
from .counts import Counted, count_change
from .errors import AnnotationError

REPLY_MAX_LENGTH = 2000
REPLY_DELETED_WITH_ANNOTATION = "Deleted with its annotation"
SOURCE_MAX_LENGTH = Annotation._meta.get_field("review_source").max_length
# More names than this in one text are not a conversation; only the first ones are mentioned.
MENTIONS_PER_TEXT = 20
# Django usernames are letters, digits and @ . + - _; a mention ends before trailing
# punctuation ("thanks @maria." mentions maria).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]*[\w])")


def needs_source(annotation: Annotation, state: str) -> bool:
    """Whether setting `state` on `annotation` must say what the verdict rests on."""
    return state in VERDICT_STATES and annotation.tag.slug in TAGS_NEEDING_SOURCES


@transaction.atomic
def set_review(annotation: Annotation, *, state, source: str | None = None, by) -> Annotation:
    """Set the annotation's review state, with who set it and when (its history keeps each).

    `source` (a URL or a citation) replaces the stored one when given; a verdict (`verified`,
    `disputed`) on a claim or a figure is refused without one.
    """
    if state not in ReviewState.values:
        known = ", ".join(ReviewState.values)
        raise AnnotationError(
            f"There is no review state “{Truncator(str(state)).chars(40)}”. Choose one of: "
            f"{known}.",
            field="review",
        )
    lock_for_change(annotation)
    before = Counted.of(annotation)
    if source is not None:
        source = source.strip()
        if len(source) > SOURCE_MAX_LENGTH:
            raise AnnotationError(
                f"The source is {len(source):,} characters long; the limit is "
                f"{SOURCE_MAX_LENGTH:,}.",
                field="source",
            )
        annotation.review_source = source
    if needs_source(annotation, state) and not annotation.review_source:
        label = ReviewState(state).label.lower()
        raise AnnotationError(
            f"Say what the verdict rests on: a {annotation.tag.label.lower()} marked {label} "
            "needs a source (a URL or a citation).",
            field="source",
        )
    annotation.review_state = state
    annotation.reviewed_by = by
    annotation.reviewed_at = timezone.now()
    annotation.save(
        update_fields=["review_state", "review_source", "reviewed_by", "reviewed_at", "modified"]
    )
    record_desk_change(annotation, actor=by)
    count_change(before, Counted.of(annotation))
    return annotation


def record_desk_change(*annotations: Annotation, actor=None) -> None:
    """Log a change the desk made to these annotations' entries (a state, a reply, a link), so
    open pages redraw them. Their `version` stays: a verdict or a reply is no reason to refuse
    the author's edit of the note made meanwhile."""
    changes = [(a.pk, ChangeKind.CHANGED, a.start, a.end) for a in annotations]
    record_changes(annotations[0].article_id, changes, actor=actor)


def check_answer(annotation: Annotation, answered: Annotation | None) -> None:
    """Refuse a relation that makes no sense: to itself, to another article's annotation, or
    one that would go round in a circle (A answers B answers A)."""
    if answered is None:
        return
    if answered.pk == annotation.pk:
        raise AnnotationError("An annotation cannot answer itself.", field="answers")
    if answered.article_id != annotation.article_id:
        raise AnnotationError(
            "An annotation can only answer another annotation of the same article.",
            field="answers",
        )
    seen, current = {annotation.pk}, answered.pk
    while current is not None:
        if current in seen:
            raise AnnotationError(
                "That would make a circle: the annotation picked already answers this one.",
                field="answers",
            )
        seen.add(current)
        current = Annotation.objects.filter(pk=current).values_list("answers", flat=True).first()


@transaction.atomic
def set_answers(annotation: Annotation, answered: Annotation | None, *, actor=None) -> Annotation:
    """Say which annotation this one answers (a rebuttal or a figure answering a claim), or
    none. Deleting either later keeps the other; the relation just goes."""
    lock_for_change(annotation)
    if answered is not None and not Annotation.objects.filter(pk=answered.pk).exists():
        raise AnnotationError(
            "The annotation to answer has been deleted meanwhile. Reload the page.", status=409
        )
    check_answer(annotation, answered)
    if annotation.answers_id != (answered.pk if answered else None):
        before = annotation.answers_id
        annotation.answers = answered
        annotation.save(update_fields=["answers", "modified"])
        # The entries of the annotations answered before and now list their answers too.
        touched = Annotation.objects.filter(pk__in={before, annotation.answers_id} - {None})
        record_desk_change(annotation, *touched, actor=actor)
    return annotation


def check_reply_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise AnnotationError("Write something to reply.", field="text")
    if len(text) > REPLY_MAX_LENGTH:
        raise AnnotationError(
            f"The reply is {len(text):,} characters long; the limit is {REPLY_MAX_LENGTH:,}.",
            field="text",
        )
    return text


@transaction.atomic
def add_reply(annotation: Annotation, *, author, text: str) -> Reply:
    """A reply under the annotation; colleagues it `@mentions` find it under "For you"."""
    text = check_reply_text(text)
    lock_for_change(annotation)
    reply = Reply.objects.create(annotation=annotation, author=author, text=text)
    if "@" in text:
        sync_mentions(annotation, reply, text, by=author)
    record_desk_change(annotation, actor=author)
    return reply


def lock_reply(reply: Reply) -> None:
    """Lock the reply's article, then the reply, and reload it (call in a transaction): the
    same order as every change here, so two of them cannot deadlock."""
    article_id = Annotation.objects.filter(pk=reply.annotation_id).values("article_id")
    list(Article.objects.select_for_update().filter(pk__in=article_id).values("pk"))
    try:
        reply.refresh_from_db(from_queryset=Reply.objects.select_for_update())
    except Reply.DoesNotExist:
        raise AnnotationError(
            "This reply has been deleted meanwhile. Reload the page to see the thread.",
            status=409,
        ) from None


@transaction.atomic
def edit_reply(reply: Reply, *, text: str, actor=None) -> Reply:
    text = check_reply_text(text)
    lock_reply(reply)
    if text != reply.text:
        reply.text = text
        reply.save(update_fields=["text", "modified"])
        sync_mentions(reply.annotation, reply, text, by=actor or reply.author)
        record_desk_change(reply.annotation, actor=actor)
    return reply


@transaction.atomic
def delete_reply(reply: Reply, *, actor=None) -> None:
    """Delete a reply (its history keeps it); its mentions go with it."""
    lock_reply(reply)
    annotation = reply.annotation
    reply.delete()
    record_desk_change(annotation, actor=actor)


def restore_replies_deleted_with(annotation: Annotation) -> int:
    """Bring back the replies that went with the annotation when it was deleted (not those
    deleted by hand before), each as it was last. Returns how many."""
    gone = Reply.history.filter(
        annotation_id=annotation.pk,
        history_type="-",
        history_change_reason=REPLY_DELETED_WITH_ANNOTATION,
    ).exclude(id__in=Reply.objects.values("id"))
    users = get_user_model().objects
    restored = 0
    for record in gone.order_by("-history_id"):
        if Reply.objects.filter(pk=record.id).exists():
            continue
        reply: Reply = record.instance
        if reply.author_id and not users.filter(pk=reply.author_id).exists():
            reply.author_id = None
        reply._change_reason = "Restored with its annotation"
        reply.save(force_insert=True)
        Reply.objects.filter(pk=reply.pk).update(created=record.created)
        restored += 1
    return restored


def mentioned_users(text: str, *, exclude=None) -> list:
    """The active users `@username` names in `text` (any case), in one query."""
    names = []
    for name in MENTION.findall(text or ""):
        if name.lower() not in names:
            names.append(name.lower())
    if not names:
        return []
    names = names[:MENTIONS_PER_TEXT]
    users = get_user_model().objects.filter(is_active=True)
    match = models.Q()
    for name in names:
        match |= models.Q(username__iexact=name)
    found = users.filter(match)
    if exclude is not None:
        found = found.exclude(pk=exclude.pk)
    return list(found)


def sync_mentions(annotation: Annotation, reply: Reply | None, text: str, *, by) -> None:
    """Make the mentions of a note (`reply` None) or a reply match its text: a colleague newly
    named gets one (unread); one no longer named loses it. Unchanged ones keep their state."""
    users = {user.pk: user for user in mentioned_users(text, exclude=by)}
    existing = Mention.objects.filter(annotation=annotation, reply=reply)
    existing.exclude(user__in=users).delete()
    already = set(existing.filter(user__in=users).values_list("user", flat=True))
    Mention.objects.bulk_create(
        Mention(user=user, annotation=annotation, reply=reply, mentioned_by=by)
        for pk, user in users.items()
        if pk not in already
    )


def mark_mentions_read(user, mentions=None) -> int:
    """Mark the user's unread mentions read (all of them, or those of `mentions`)."""
    unread = Mention.objects.filter(user=user, read__isnull=True)
    if mentions is not None:
        unread = unread.filter(pk__in=[m.pk for m in mentions])
    return unread.update(read=timezone.now())
