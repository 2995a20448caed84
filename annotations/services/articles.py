"""Creating articles and replacing their text (a revision kept, the annotations re-anchored)."""

from collections.abc import Iterable, Sequence

from django.db import connection, transaction
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

from ..models import (
    ChangeKind,
)
from .changes import record_changes
from .errors import BATCH_SIZE, Change
from .reanchoring import reanchor_article


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
