"""The change log: each write to an article's annotations advances its version, so open
pages can ask what changed since the one they show (annotations/live.py)."""

from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

from config.statements import insert
from newsroom.models import (
    Article,
)

from ..models import (
    Annotation,
    AnnotationEvent,
)
from .counts import MOVE_ARTICLE_COUNTS, RECOUNT_ARTICLE, ArticleCounts
from .errors import AnnotationError, Change


def record_changes(
    article_id: int,
    changes: Sequence[Change],
    *,
    actor=None,
    counts: ArticleCounts | None = None,
) -> int:
    """Advance the article's version by one, keep its counts (`Article.annotation_count` and
    the others of services/counts.py) and log `changes` at the version; returns it.

    `counts` is the difference the changes make to the counts, when the caller knows it (a new
    annotation: `ArticleCounts.of_new`); without it they are recounted from the annotations.
    Call inside the transaction that makes the changes, with the article row locked (every
    function here takes that lock first), so versions are handed out in order and a page that
    has seen version N has seen every change up to N. One statement and one insert.
    """
    version = advance_version(article_id, counts)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    events = [
        AnnotationEvent(
            article_id=article_id,
            version=version,
            annotation_id=annotation_id,
            kind=kind,
            actor_id=actor_id,
            old_start=old_start,
            old_end=old_end,
        )
        for annotation_id, kind, old_start, old_end in changes
    ]
    if len(events) == 1:  # most changes: one annotation
        insert(events[0])
    else:
        AnnotationEvent.objects.bulk_create(events, batch_size=500)
    return version


def advance_version(article_id: int, counts: ArticleCounts | None = None) -> int:
    """Add one to the article's version, move its counts by `counts` (`MOVE_ARTICLE_COUNTS`) or
    recount them (`RECOUNT_ARTICLE`), and return the new version, in one statement (UPDATE …
    RETURNING, which SQLite has had since 3.35 and PostgreSQL for long): every write runs this,
    and the ORM has no way to say it."""
    table = Article._meta.db_table
    column = Article._meta.get_field("annotations_version").column
    kept = RECOUNT_ARTICLE if counts is None else MOVE_ARTICLE_COUNTS
    sql = (
        f'UPDATE "{table}" SET "{column}" = "{column}" + 1, {kept}'
        f' WHERE "id" = %s RETURNING "{column}"'
    )
    params = [article_id] if counts is None else [*counts.as_params(), article_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def check_version(annotation: Annotation, version) -> None:
    """Refuse a change made on an older version of the annotation than the stored one (409):
    someone changed it since the editor's page showed it, and saving would silently undo
    their change. None skips the check (clients that do not send a version)."""
    if version is None or version == "":
        return
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise AnnotationError("The annotation's version must be a whole number.") from None
    if version != annotation.version:
        who = annotation.edited_by.get_username() if annotation.edited_by else "someone"
        raise AnnotationError(
            f"This annotation was changed by {who} after you opened it. Its current version "
            "is shown; your text is kept: save again to replace theirs.",
            status=409,
            field="version",
        )


def _mark_edited(annotation: Annotation, actor) -> list[str]:
    annotation.version += 1
    annotation.edited_by = actor if actor is not None and actor.is_authenticated else None
    annotation.edited_at = timezone.now()
    return ["version", "edited_by", "edited_at", "modified"]


def lock_for_change(annotation: Annotation) -> None:
    """Lock the annotation's article, then the annotation, and reload it (call in a transaction).

    Another editor, a re-import or a second tab may have moved or deleted the annotation since
    it was read: the change then applies to what is stored now, and a deleted annotation is
    refused instead of being written back. The article comes first, in the same order as
    re-anchoring takes its locks, so the two cannot deadlock.
    """
    list(Article.objects.select_for_update().filter(pk=annotation.article_id).values("pk"))
    try:
        annotation.refresh_from_db(from_queryset=Annotation.objects.select_for_update())
    except Annotation.DoesNotExist:
        raise AnnotationError(
            "This annotation has been deleted meanwhile (in another tab or by someone else). "
            "Reload the page to see the current annotations.",
            status=409,
        ) from None
