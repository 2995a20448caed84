"""The counts the lists and the statistics read instead of counting annotations, kept in the
transaction of every change (docs/data-model.md, docs/performance.md).

- An article's counts (`Article.annotation_count`, `needs_review`, `open_claims`,
  `settled_claims`) are kept by `record_changes`, which every change to them calls with the
  article locked: a new annotation adds itself (`ArticleCounts.of_new`), the commonest write,
  whose cost must not grow with the article; any other change recounts them from the
  article's own annotations, so whatever the change, they come out exact.
- The newsroom's counts, per day made and tag (`DailyCount`) and per author and tag
  (`EditorCount`), each by review state, are too wide to recount at each change: a change
  adds its difference (`count_change`), one upsert per table.

`rebuild_counts` (`manage.py rebuild_counts`) recounts everything from the annotations, for
data written around the services (a bulk load, an SQL fix) or a new `TIME_ZONE`.
"""

import datetime
from collections import Counter
from dataclasses import dataclass
from functools import cache

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import (
    CLAIM_TAG,
    NEEDS_REVIEW,
    SETTLED_STATES,
    UNSETTLED_STATES,
    Annotation,
    DailyCount,
    EditorCount,
)


def _listed(values) -> str:
    return ", ".join(f"'{value}'" for value in values)


# Sets the four counts of the article row an UPDATE is on, counted from its annotations, each
# by an index. Written out rather than built with the ORM at each change: building it cost some
# 3 ms of Python, where the database takes a tenth of a millisecond.
RECOUNT_ARTICLE = f"""
    annotation_count = (SELECT count(*) FROM annotations_annotation a
                        WHERE a.article_id = newsroom_article.id),
    needs_review = (SELECT count(*) FROM annotations_annotation a
                    WHERE a.article_id = newsroom_article.id
                      AND a.status IN ({_listed(NEEDS_REVIEW)})),
    open_claims = (SELECT count(*) FROM annotations_annotation a
                   JOIN annotations_tag t ON t.id = a.tag_id AND t.slug = '{CLAIM_TAG}'
                   WHERE a.article_id = newsroom_article.id
                     AND a.review_state IN ({_listed(UNSETTLED_STATES)})),
    settled_claims = (SELECT count(*) FROM annotations_annotation a
                      JOIN annotations_tag t ON t.id = a.tag_id AND t.slug = '{CLAIM_TAG}'
                      WHERE a.article_id = newsroom_article.id
                        AND a.review_state IN ({_listed(SETTLED_STATES)}))
"""


@dataclass(frozen=True)
class ArticleCounts:
    """A difference to an article's four counts."""

    annotation_count: int = 0
    needs_review: int = 0
    open_claims: int = 0
    settled_claims: int = 0

    @classmethod
    def of_new(cls, annotation: Annotation) -> "ArticleCounts":
        """What a new annotation adds (its tag read from the instance, already loaded)."""
        claim = annotation.tag.slug == CLAIM_TAG
        return cls(
            annotation_count=1,
            needs_review=int(annotation.status in NEEDS_REVIEW),
            open_claims=int(claim and annotation.review_state in UNSETTLED_STATES),
            settled_claims=int(claim and annotation.review_state in SETTLED_STATES),
        )

    def as_params(self) -> list[int]:
        return [self.annotation_count, self.needs_review, self.open_claims, self.settled_claims]


# Moves the four counts of the article row an UPDATE is on by `ArticleCounts.as_params()`.
MOVE_ARTICLE_COUNTS = """
    annotation_count = annotation_count + %s,
    needs_review = needs_review + %s,
    open_claims = open_claims + %s,
    settled_claims = settled_claims + %s
"""


@dataclass(frozen=True)
class Counted:
    """What the newsroom's counts see of one annotation."""

    tag_id: int
    author_id: int | None
    review_state: str
    day: datetime.date

    @classmethod
    def of(cls, annotation: Annotation) -> "Counted":
        return cls(
            tag_id=annotation.tag_id,
            author_id=annotation.author_id,
            review_state=annotation.review_state,
            day=timezone.localdate(annotation.created),
        )


def count_change(before: Counted | None, after: Counted | None) -> None:
    """Move one annotation from the counts it was in (`before`; None for a new one) to those it
    is in now (`after`; None once deleted). Call in the transaction of the change."""
    if before == after:
        return
    days: Counter[tuple] = Counter()
    editors: Counter[tuple] = Counter()
    for counted, step in ((before, -1), (after, 1)):
        if counted is None:
            continue
        days[(counted.day, counted.tag_id, counted.review_state)] += step
        if counted.author_id is not None:
            editors[(counted.author_id, counted.tag_id, counted.review_state)] += step
    _add(DailyCount, ("day", "tag", "review_state"), days)
    _add(EditorCount, ("author", "tag", "review_state"), editors)


def _add(model, fields: tuple[str, ...], steps: Counter[tuple]) -> None:
    """Add each step to the count of its key, making the row when there is none: one
    statement. Rows are written in the order of their keys, so two changes touching the same
    rows lock them in the same order and cannot deadlock."""
    rows = sorted((key, step) for key, step in steps.items() if step)
    if not rows:
        return
    params = []
    for key, step in rows:
        params.extend(_adapt(value) for value in key)
        params.append(step)
    with connection.cursor() as cursor:
        cursor.execute(_upsert_statement(model, fields, len(rows)), params)


@cache
def _upsert_statement(model, fields: tuple[str, ...], rows: int) -> str:
    meta, quote = model._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    columns = [quote(meta.get_field(name).column) for name in fields]
    count = quote(meta.get_field("count").column)
    one = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}, {count}) VALUES "
        + ", ".join([one] * rows)
        + f" ON CONFLICT ({', '.join(columns)})"
        + f" DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
    )


def _adapt(value):
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def recount_articles() -> None:
    """Recount every article's counts from its annotations: one UPDATE (seconds for a million
    annotations)."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE newsroom_article SET {RECOUNT_ARTICLE}")


@transaction.atomic
def rebuild_counts() -> None:
    """Recount every count from the annotations, in one transaction: the articles' counts
    (one UPDATE), then the daily and per-author counts (each emptied and filled by one
    grouped query over the annotations)."""
    recount_articles()
    annotations = Annotation.objects.order_by()
    DailyCount.objects.all().delete()
    per_day = (
        annotations.annotate(day=TruncDate("created"))
        .values("day", "tag", "review_state")
        .annotate(n=Count("pk"))
    )
    DailyCount.objects.bulk_create(
        (
            DailyCount(
                day=row["day"], tag_id=row["tag"], review_state=row["review_state"], count=row["n"]
            )
            for row in per_day.iterator()
        ),
        batch_size=500,
    )
    EditorCount.objects.all().delete()
    per_author = (
        annotations.filter(author__isnull=False)
        .values("author", "tag", "review_state")
        .annotate(n=Count("pk"))
    )
    EditorCount.objects.bulk_create(
        (
            EditorCount(
                author_id=row["author"],
                tag_id=row["tag"],
                review_state=row["review_state"],
                count=row["n"],
            )
            for row in per_author.iterator()
        ),
        batch_size=500,
    )
