"""Creating, changing, deleting and restoring annotations."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import Truncator

from config.statements import insert, read_one
from newsroom.history import record_history
from newsroom.models import (
    Article,
)

from ..anchoring import Outcome, context_around
from ..models import (
    AnchorStatus,
    Annotation,
    ChangeKind,
    Tag,
)
from .changes import _mark_edited, check_version, lock_for_change, record_changes
from .counts import ArticleCounts, Counted, count_change
from .errors import AnnotationError, Change
from .factcheck import REPLY_DELETED_WITH_ANNOTATION, restore_replies_deleted_with, sync_mentions
from .reanchoring import reanchor_restored


def check_note(note: str) -> str:
    limit = settings.ANNOTATION_NOTE_MAX_LENGTH
    if len(note) > limit:
        raise AnnotationError(
            f"The note is {len(note):,} characters long; the limit is {limit:,}.", field="note"
        )
    return note


def find_tag(value: str | None, *, field: str = "tag") -> Tag:
    """The tag whose slug is `value` (white space around it ignored), for the page's forms
    and the API alike. `field` names the part of the request that carried it."""
    slug = (value or "").strip()
    tag = read_one(Tag, "slug", slug)
    if tag is None:
        known = ", ".join(Tag.objects.order_by("slug").values_list("slug", flat=True))
        if not slug:
            raise AnnotationError(f"Choose a tag. One of: {known}.", field=field)
        raise AnnotationError(
            f"There is no tag “{Truncator(slug).chars(40)}”. Choose one of: {known}.",
            field=field,
        )
    return tag


def check_selection(article: Article, start, end, quote: str) -> tuple[int, int]:
    """Refuse a selection that is empty, out of range, or whose quote differs from the body."""
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise AnnotationError("The selection's start and end must be whole numbers.") from None
    if start < 0 or end > len(article.body):
        raise AnnotationError(
            f"The selection {start}–{end} lies outside the article (0–{len(article.body)})."
        )
    if start >= end:
        raise AnnotationError("The selection is empty: select some text first.")
    if not quote or not quote.strip():
        raise AnnotationError("The selection holds only white space: select some words.")
    if article.body[start:end] != quote:
        raise AnnotationError(
            "The selected text no longer matches the article (it may have changed since you "
            "opened it). Reload the page and select the passage again.",
            status=409,
        )
    return start, end


@transaction.atomic
def create_annotation(
    *,
    article: Article,
    tag: Tag,
    start,
    end,
    quote: str,
    note: str = "",
    author,
    actor=None,
    article_locked: bool = False,
) -> Annotation:
    """Create an annotation after checking the selection against the article's current body.

    The article row is locked (PostgreSQL) so a concurrent re-import cannot change the body
    between the check and the insert: here, or already by the caller, who then says
    `article_locked=True` (it read the article with `lock=True` in the transaction this call
    joins, as the API does, to read it once).
    """
    if not article_locked:
        article = Article.objects.select_for_update().get(pk=article.pk)
    start, end = check_selection(article, start, end, quote)
    prefix, suffix = context_around(article.body, start, end)
    annotation = Annotation(
        article=article,
        tag=tag,
        start=start,
        end=end,
        quote=quote,
        prefix=prefix,
        suffix=suffix,
        note=check_note(note),
        author=author,
    )
    insert(annotation)
    record_history(annotation, "+")
    record_changes(
        article.pk,
        [(annotation.pk, ChangeKind.CREATED, None, None)],
        actor=actor or author,
        counts=ArticleCounts.of_new(annotation),
    )
    count_change(None, Counted.of(annotation))
    if "@" in annotation.note:  # a new note has no mentions to take back
        sync_mentions(annotation, None, annotation.note, by=author)
    return annotation


@transaction.atomic
def update_annotation(
    annotation: Annotation,
    *,
    tag: Tag | None = None,
    note: str | None = None,
    version=None,
    actor=None,
):
    """Change an annotation's tag and/or note; only the given fields are written.

    `version` is the annotation's version the change was made on (see `check_version`);
    `actor` is who makes it, shown as "edited by" when not the author; colleagues newly
    `@mentioned` in the note are told it was them."""
    lock_for_change(annotation)
    check_version(annotation, version)
    before = Counted.of(annotation)
    fields = []
    if tag is not None and tag.pk != annotation.tag_id:
        annotation.tag = tag
        fields.append("tag")
    if note is not None and note != annotation.note:
        annotation.note = check_note(note)
        fields.append("note")
    if fields:
        annotation.save(update_fields=[*fields, *_mark_edited(annotation, actor)])
        change = (annotation.pk, ChangeKind.CHANGED, annotation.start, annotation.end)
        record_changes(annotation.article_id, [change], actor=actor)
        count_change(before, Counted.of(annotation))
    if "note" in fields:
        sync_mentions(annotation, None, annotation.note, by=actor or annotation.author)
    return annotation


@transaction.atomic
def reselect_annotation(
    annotation: Annotation, *, start, end, quote: str, version=None, actor=None
) -> Annotation:
    """Put an annotation on a new passage (accepting a fuzzy match or re-attaching an orphan)."""
    lock_for_change(annotation)
    check_version(annotation, version)
    article = Article.objects.get(pk=annotation.article_id)
    start, end = check_selection(article, start, end, quote)
    old = (annotation.start, annotation.end)
    annotation.start, annotation.end, annotation.quote = start, end, quote
    annotation.prefix, annotation.suffix = context_around(article.body, start, end)
    annotation.status = AnchorStatus.ANCHORED
    _mark_edited(annotation, actor)
    annotation.save()
    record_changes(article.pk, [(annotation.pk, ChangeKind.CHANGED, *old)], actor=actor)
    return annotation


@transaction.atomic
def delete_annotation(annotation: Annotation, *, version=None, actor=None) -> None:
    """Delete an annotation. Its history keeps the row (a "-" record), so Undo and the admin's
    recover page can bring it back through `restore_deleted_annotation`."""
    lock_for_change(annotation)
    check_version(annotation, version)
    change = (annotation.pk, ChangeKind.DELETED, annotation.start, annotation.end)
    # Its replies go first, one by one, each history record saying why: Undo brings back
    # these and not the ones deleted by hand before.
    for reply in annotation.replies.all():
        reply._change_reason = REPLY_DELETED_WITH_ANNOTATION
        reply.delete()
    annotation.delete()
    record_changes(annotation.article_id, [change], actor=actor)
    count_change(Counted.of(annotation), None)


# What `save_annotation` reads of the stored row: its place, version, and what it is counted by.
STORED_FIELDS = ("article", "start", "end", "version", "tag", "author", "review_state", "created")


@transaction.atomic
def save_annotation(annotation: Annotation, *, actor=None) -> Annotation:
    """Store an annotation edited as a whole, new or changed, in any status (the admin's form,
    which has checked the fields). An anchored one gets its context from the body."""
    adding = annotation._state.adding or annotation.pk is None
    article = Article.objects.select_for_update().get(pk=annotation.article_id)
    changes: list[Change] = []
    before = moved_from = None
    if adding:
        if annotation.author_id is None and actor is not None:
            annotation.author = actor
    else:
        stored = (
            Annotation.objects.select_for_update()
            .only(*STORED_FIELDS)
            .filter(pk=annotation.pk)
            .first()
        )
        if stored is None:
            raise AnnotationError("This annotation has been deleted meanwhile.", status=409)
        before = Counted.of(stored)
        annotation.version = stored.version
        _mark_edited(annotation, actor)
        if stored.article_id != article.pk:
            # Moved to another article: it leaves the first one's page (logged below, once it
            # has left, so that the first article's counts no longer hold it).
            Article.objects.select_for_update().filter(pk=stored.article_id).exists()
            moved_from = stored
        else:
            changes.append((annotation.pk, ChangeKind.CHANGED, stored.start, stored.end))
    if annotation.status == AnchorStatus.ANCHORED:
        annotation.prefix, annotation.suffix = context_around(
            article.body, annotation.start, annotation.end
        )
    annotation.save()
    if moved_from is not None:
        gone = (annotation.pk, ChangeKind.DELETED, moved_from.start, moved_from.end)
        record_changes(moved_from.article_id, [gone], actor=actor)
    if adding or not changes:
        changes.append((annotation.pk, ChangeKind.CREATED, None, None))
    record_changes(article.pk, changes, actor=actor)
    count_change(before, Counted.of(annotation))
    sync_mentions(annotation, None, annotation.note, by=actor or annotation.author)
    return annotation


@transaction.atomic
def delete_annotations(annotations, *, actor=None) -> int:
    """Delete several annotations (the admin's bulk action), each as `delete_annotation` does.
    Returns how many were deleted; ones deleted meanwhile are skipped."""
    annotations = list(annotations)
    # All their articles locked first, in the order of their ids: each delete keeps the
    # newsroom's counts it changed locked to the end, so a writer that holds an article this
    # loop comes to later, waiting for those counts, would wait for us as we wait for it.
    articles = Article.objects.select_for_update().order_by("pk")
    list(articles.filter(pk__in={a.article_id for a in annotations}).values("pk"))
    deleted = 0
    for annotation in annotations:
        try:
            delete_annotation(annotation, actor=actor)
        except AnnotationError:
            continue
        deleted += 1
    return deleted


@transaction.atomic
def restore_deleted_annotation(record, *, actor=None) -> tuple[Annotation, Outcome]:
    """Bring back a deleted annotation from its last history record, with its original id.

    If the article's text changed after the delete, the annotation is re-anchored as it would
    have been had it stayed. Returns the annotation and what became of its place. Refuses
    (AnnotationError) when the annotation exists again or its article or tag is gone.
    """
    # The article's lock first: two Undo clicks at once then restore once and refuse once.
    article = Article.objects.select_for_update().filter(pk=record.article_id).first()
    if Annotation.objects.filter(pk=record.id).exists():
        raise AnnotationError("This annotation has already been restored.", status=409)
    if article is None:
        raise AnnotationError(
            "This annotation cannot be restored: its article has been deleted.", status=409
        )
    if not Tag.objects.filter(pk=record.tag_id).exists():
        raise AnnotationError(
            "This annotation cannot be restored: its tag has been deleted. "
            "Add the tag again first.",
            status=409,
        )
    annotation: Annotation = record.instance
    users = get_user_model().objects
    if annotation.author_id and not users.filter(pk=annotation.author_id).exists():
        annotation.author_id = None
    if annotation.reviewed_by_id and not users.filter(pk=annotation.reviewed_by_id).exists():
        annotation.reviewed_by_id = None
    # The annotation it answered may have been deleted meanwhile; the answer comes back alone.
    if annotation.answers_id and not Annotation.objects.filter(pk=annotation.answers_id).exists():
        annotation.answers_id = None
    outcome = reanchor_restored(annotation, article, record.history_date)
    annotation._change_reason = "Restored"
    annotation.save(force_insert=True)
    # auto_now_add stamped the restore time on `created`, in the row and in the history record
    # just written; the annotation was made when it was made.
    Annotation.objects.filter(pk=annotation.pk).update(created=record.created)
    restored = Annotation.history.filter(id=annotation.pk).order_by("-history_id").first()
    restored.created = annotation.created = record.created
    restored.save(update_fields=["created"])
    restore_replies_deleted_with(annotation)
    record_changes(article.pk, [(annotation.pk, ChangeKind.CREATED, None, None)], actor=actor)
    count_change(None, Counted.of(annotation))
    return annotation, outcome
