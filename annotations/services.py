"""Every change to annotations and to an article's text, in one place.

Views, the JSON API, both admins and the importer call these functions. They check the data
(not the permission: that is the caller's access helper, `annotations/access.py`), run in one
transaction each, and raise `AnnotationError` with a message a person understands.
docs/architecture.md shows where they sit; docs/anchoring.md explains re-anchoring.
"""

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import Truncator
from simple_history.utils import bulk_create_with_history

from newsroom.models import (
    Article,
    ArticleRevision,
    Block,
    BlockText,
    RevisionOrigin,
    body_from_blocks,
    check_blocks,
    revision_summary,
)

from .anchoring import Anchor, AnchoringReport, BodyDiff, Outcome, context_around, reanchor
from .models import AnchorStatus, Annotation, AnnotationEvent, ChangeKind, Tag

# One change as the change log records it: (annotation id, kind, old start, old end).
Change = tuple[int | None, str, int | None, int | None]

# Rows per INSERT of a bulk write: under SQLite's limit on the parameters of one statement.
BATCH_SIZE = 500


class AnnotationError(Exception):
    """Input an editor or a client sent that we refuse, with the reason in plain words.

    `status` is the HTTP status the API answers with (400 bad input, 409 conflict with the
    article's current text).
    """

    def __init__(self, message: str, *, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


# --- Articles ---------------------------------------------------------------------------------


def create_article(
    *,
    source_id: str,
    date,
    title: str,
    blocks: Sequence[BlockText],
    content_hash: str = "",
    file_hash: str = "",
) -> Article:
    article = Article(
        source_id=source_id, date=date, title=title, content_hash=content_hash, file_hash=file_hash
    )
    save_new_article(article, blocks)
    return article


@transaction.atomic
def create_articles(new: Sequence[tuple[Article, Sequence[BlockText]]]) -> None:
    """Save many new articles with their first text at once (an import's batch): one insert
    of articles, one of their history rows, one of their blocks, in one transaction, where
    `save_new_article` takes three queries and a transaction each. Raises ValueError for an
    article without text and IntegrityError for a source id taken meanwhile; then nothing is
    written."""
    for article, blocks in new:
        check_blocks(blocks)
        article.body = body_from_blocks(blocks)
    articles = [article for article, _ in new]
    bulk_create_with_history(articles, Article, batch_size=BATCH_SIZE)
    insert_blocks(
        (article.pk, i, str(b.kind), b.text)
        for article, blocks in new
        for i, b in enumerate(blocks)
    )


def insert_blocks(rows: Iterable[tuple[int, int, str, str]]) -> None:
    """Insert blocks given as (article id, position, kind, text), with one prepared statement
    run for all of them. An import writes some sixteen blocks per article; `bulk_create`
    spends more time building and checking a model instance per block than the database
    spends storing it."""
    meta = Block._meta
    names = ("article", "position", "kind", "text")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in names)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)"
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


def record_file_hashes(file_hashes: dict[int, str]) -> None:
    """Remember the bytes each article's seed file had at this import ({article id: hash}),
    so that the next import knows an unchanged file without parsing it."""
    for pk, file_hash in file_hashes.items():
        Article.objects.filter(pk=pk).update(file_hash=file_hash)


@transaction.atomic
def save_new_article(article: Article, blocks: Sequence[BlockText]) -> None:
    """Save a new article with its first text (no revision: there was no text before).
    Raises ValueError for an article without text."""
    check_blocks(blocks)
    article.body = body_from_blocks(blocks)
    article.save(force_insert=True)
    Block.objects.bulk_create(
        Block(article=article, position=i, kind=b.kind, text=b.text) for i, b in enumerate(blocks)
    )


@transaction.atomic
def replace_article_text(
    article: Article,
    *,
    date,
    title: str,
    blocks: Sequence[BlockText],
    content_hash: str = "",
    changed_by=None,
    origin: str = RevisionOrigin.IMPORT,
) -> ArticleRevision | None:
    """Store new text for a saved article; keep the old body as a revision and re-anchor.

    Returns the revision written when the body changed (its `anchoring_report` says what
    happened to the annotations), or None when only the title, date, hash or the kinds of
    blocks changed. Runs in one transaction with the article row locked, so an annotation
    created meanwhile cannot slip in against the old body; if re-anchoring fails, nothing
    of the change is kept. Raises ValueError for an article without text.
    """
    check_blocks(blocks)
    locked = Article.objects.select_for_update().get(pk=article.pk)
    old_body = locked.body
    new_body = body_from_blocks(blocks)
    content_hash = content_hash or locked.content_hash
    blocks_changed = [BlockText(str(b.kind), b.text) for b in blocks] != [
        BlockText(b.kind, b.text) for b in locked.blocks.all()
    ]
    article.date, article.title, article.content_hash = date, title, content_hash
    if not blocks_changed and (locked.date, locked.title, locked.content_hash) == (
        date,
        title,
        content_hash,
    ):
        return None  # nothing to write, not even a history record
    revision = None
    changes: list[Change] = []
    if blocks_changed:
        changes.append((None, ChangeKind.TEXT, None, None))
        article.blocks.all().delete()
        Block.objects.bulk_create(
            Block(article=article, position=i, kind=b.kind, text=b.text)
            for i, b in enumerate(blocks)
        )
    article.body = new_body
    if new_body != old_body:
        revision = ArticleRevision.objects.create(
            article=article,
            title=locked.title,
            date=locked.date,
            body=old_body,
            changed_by=changed_by,
            origin=origin,
            summary=revision_summary(old_body, new_body),
        )
        report = reanchor_article(
            article,
            old_body,
            changed_by=changed_by,
            reason=f"Re-anchored: the article's text changed ({origin})",
            changes=changes,
        )
        revision.anchoring_report = report.as_dict()
        revision.save(update_fields=["anchoring_report"])
    article.save()
    if changes:
        article.annotations_version = record_changes(article.pk, changes, actor=changed_by)
    return revision


# --- The change log: what open pages ask for ----------------------------------------------


def record_changes(article_id: int, changes: Sequence[Change], *, actor=None) -> int:
    """Advance the article's version by one and log `changes` at it; returns the new version.

    Call inside the transaction that makes the changes, with the article row locked (every
    function here takes that lock first), so versions are handed out in order and a page that
    has seen version N has seen every change up to N. Two queries and one insert.
    """
    Article.objects.filter(pk=article_id).update(
        annotations_version=models.F("annotations_version") + 1
    )
    version = Article.objects.filter(pk=article_id).values_list("annotations_version", flat=True)
    version = version.get()
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    AnnotationEvent.objects.bulk_create(
        (
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
        ),
        batch_size=500,
    )
    return version


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


# --- Annotations ------------------------------------------------------------------------------


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
    tag = Tag.objects.filter(slug=slug).first() if slug else None
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
    annotation = Annotation.objects.create(
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
    record_changes(
        article.pk, [(annotation.pk, ChangeKind.CREATED, None, None)], actor=actor or author
    )
    return annotation


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
    `actor` is who makes it, shown as "edited by" when not the author."""
    lock_for_change(annotation)
    check_version(annotation, version)
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
    annotation.delete()
    record_changes(annotation.article_id, [change], actor=actor)


@transaction.atomic
def save_annotation(annotation: Annotation, *, actor=None) -> Annotation:
    """Store an annotation edited as a whole, new or changed, in any status (the admin's form,
    which has checked the fields). An anchored one gets its context from the body."""
    adding = annotation._state.adding or annotation.pk is None
    article = Article.objects.select_for_update().get(pk=annotation.article_id)
    changes: list[Change] = []
    if adding:
        if annotation.author_id is None and actor is not None:
            annotation.author = actor
    else:
        stored = Annotation.objects.select_for_update().filter(pk=annotation.pk)
        stored = stored.values("article_id", "start", "end", "version").first()
        if stored is None:
            raise AnnotationError("This annotation has been deleted meanwhile.", status=409)
        annotation.version = stored["version"]
        _mark_edited(annotation, actor)
        if stored["article_id"] != article.pk:
            # Moved to another article: it leaves the first one's page.
            Article.objects.select_for_update().filter(pk=stored["article_id"]).exists()
            gone = (annotation.pk, ChangeKind.DELETED, stored["start"], stored["end"])
            record_changes(stored["article_id"], [gone], actor=actor)
        else:
            changes.append((annotation.pk, ChangeKind.CHANGED, stored["start"], stored["end"]))
    if annotation.status == AnchorStatus.ANCHORED:
        annotation.prefix, annotation.suffix = context_around(
            article.body, annotation.start, annotation.end
        )
    annotation.save()
    if adding or not changes:
        changes.append((annotation.pk, ChangeKind.CREATED, None, None))
    record_changes(article.pk, changes, actor=actor)
    return annotation


@transaction.atomic
def delete_annotations(annotations, *, actor=None) -> int:
    """Delete several annotations (the admin's bulk action), each as `delete_annotation` does.
    Returns how many were deleted; ones deleted meanwhile are skipped."""
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
    if (
        annotation.author_id
        and not get_user_model().objects.filter(pk=annotation.author_id).exists()
    ):
        annotation.author_id = None
    outcome = reanchor_restored(annotation, article, record.history_date)
    annotation._change_reason = "Restored"
    annotation.save(force_insert=True)
    # auto_now_add stamped the restore time on `created`, in the row and in the history record
    # just written; the annotation was made when it was made.
    Annotation.objects.filter(pk=annotation.pk).update(created=record.created)
    restored = Annotation.history.filter(id=annotation.pk).order_by("-history_id").first()
    restored.created = annotation.created = record.created
    restored.save(update_fields=["created"])
    record_changes(article.pk, [(annotation.pk, ChangeKind.CREATED, None, None)], actor=actor)
    return annotation, outcome


# --- Re-anchoring: applying `anchoring.reanchor` to stored annotations -----------------------


PLACEMENT_FIELDS = ("start", "end", "status", "prefix", "suffix")
ID_BATCH = 900  # ids per `IN (...)`, under SQLite's smallest parameter limit


def reanchor_article(
    article,
    old_body: str,
    *,
    changed_by=None,
    reason: str = "",
    changes: list[Change] | None = None,
) -> AnchoringReport:
    """Re-place every annotation of `article` on its new body (already set on `article`,
    whether saved yet or not), after its text was `old_body`.

    Call it inside the transaction that changes the body, with the article row locked (as
    `replace_article_text` does). Annotations are never deleted. Queries: one to read the
    annotations; when some changed, one UPDATE per kind of simple change (the same shift, the
    same new status), one bulk update for the rest, and one bulk insert of history records for
    all of them (by `changed_by`, with `reason`), so each annotation's history shows what
    re-anchoring did. Batched by 500-900 rows beyond that. Each annotation it moves is added
    to `changes` with its old place, for the caller's `record_changes`.
    """
    report = AnchoringReport()
    annotations = list(Annotation.objects.filter(article=article).order_by("pk"))
    if article.body == old_body:
        for annotation in annotations:
            anchored = annotation.status == AnchorStatus.ANCHORED
            report.count(Outcome.KEPT if anchored else Outcome(annotation.status))
        return report
    diff = BodyDiff(old_body, article.body)
    # Most changes are one of a few kinds: shifted by the same amount (a paragraph inserted
    # above), or only a new status (orphaned where they were). Each kind is one UPDATE; the
    # rest (new context, fuzzy places) go through one bulk update.
    grouped: dict[tuple[int, str | None], list[Annotation]] = {}
    rewritten, fields = [], set()
    for annotation in annotations:
        anchor = Anchor.of(annotation)
        placement = reanchor(anchor, old_body, article.body, diff)
        report.count(placement.outcome)
        differs = [
            name
            for name in PLACEMENT_FIELDS
            if getattr(annotation, name) != getattr(placement, name)
        ]
        if not differs:
            continue
        if changes is not None:
            changes.append((annotation.pk, ChangeKind.CHANGED, annotation.start, annotation.end))
        delta = placement.start - annotation.start
        if set(differs) <= {"start", "end", "status"} and placement.end - annotation.end == delta:
            status = placement.status if "status" in differs else None
            grouped.setdefault((delta, status), []).append(annotation)
        else:
            rewritten.append(annotation)
            fields.update(differs)
        for name in differs:
            setattr(annotation, name, getattr(placement, name))
    for (delta, status), group in grouped.items():
        values = {"status": status} if status else {}
        if delta:
            values |= {"start": models.F("start") + delta, "end": models.F("end") + delta}
        for i in range(0, len(group), ID_BATCH):
            ids = [annotation.pk for annotation in group[i : i + ID_BATCH]]
            Annotation.objects.filter(pk__in=ids).update(**values)
    if rewritten:
        Annotation.objects.bulk_update(rewritten, sorted(fields), batch_size=500)
    changed = [annotation for group in grouped.values() for annotation in group] + rewritten
    if changed:
        Annotation.history.bulk_history_create(
            changed,
            batch_size=500,
            update=True,
            default_user=changed_by,
            default_change_reason=reason or "Re-anchored: the article's text changed",
        )
    report.written = len(changed)
    return report


def reanchor_restored(annotation: Annotation, article, deleted_at) -> Outcome:
    """Place an annotation coming back from its history on its article's current body.

    It was last placed on the body as it read when it was deleted: the body the first revision
    after that moment kept, or the current body if there has been none. Sets the annotation's
    place, context and status (unsaved) and returns the outcome. One query.
    """
    later = article.revisions.filter(created__gt=deleted_at).order_by("created", "pk").first()
    old_body = later.body if later else article.body
    placement = reanchor(Anchor.of(annotation), old_body, article.body)
    for name in PLACEMENT_FIELDS:
        setattr(annotation, name, getattr(placement, name))
    return placement.outcome
