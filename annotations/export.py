"""CSV export of annotations (SPEC §7): the rows, the streaming, and the two download views.

The same generator feeds the web download, the admin action and `manage.py export_annotations`,
so all three write byte-identical CSV.
"""

import csv
import datetime
import re
from collections.abc import Iterable, Iterator

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .access import get_article_for_user
from .models import Annotation

COLUMNS = [
    "article_id",
    "article_title",
    "article_date",
    "annotation_id",
    "tag",
    "quote",
    "start",
    "end",
    "prefix",
    "suffix",
    "note",
    "author",
    "status",
    "created",
    "modified",
]

# OWASP "CSV Injection": a spreadsheet runs a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Rows fetched from the database at a time (a server-side cursor on PostgreSQL, fetchmany on
# SQLite): memory holds at most this many model instances, however long the export.
ITERATOR_CHUNK_SIZE = 2000

# Rows are sent in pieces of roughly this many characters: one write per row would cost a
# syscall per row under a WSGI server, one piece for everything would hold the file in memory.
FLUSH_CHARS = 64 * 1024

CONTENT_TYPE = "text/csv; charset=utf-8"


def neutralise(cell: str) -> str:
    """The cell with a leading `'` when a spreadsheet would run it as a formula (OWASP).

    Applied to every cell, numbers included: the numeric columns (ids, `start`, `end`) are
    non-negative by construction (PositiveIntegerField and auto ids, checked by the database),
    and dates and ISO times start with a digit, so only text can ever be changed. A negative
    number would be prefixed too, which is the safe side.
    """
    if cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


def for_export(queryset: QuerySet) -> QuerySet:
    """The queryset as the export reads it: one query, only the columns it writes, stable order.

    `select_related(None)` first drops whatever joins the caller (e.g. the admin changelist)
    asked for, so `only()` never meets a relation it does not list. The article body is never
    read: it can be large and the CSV does not carry it.
    """
    return (
        queryset.select_related(None)
        .select_related("article", "tag", "author")
        .only(
            "id",
            "start",
            "end",
            "quote",
            "prefix",
            "suffix",
            "note",
            "status",
            "created",
            "modified",
            "article__source_id",
            "article__title",
            "article__date",
            "tag__slug",
            "author__username",
        )
        .order_by("-article__date", "article__source_id", "start", "end", "id")
    )


def _iso(value: datetime.datetime) -> str:
    # In the site's time zone, with its offset (e.g. 2025-08-08T14:03:07.120000+00:00).
    return timezone.localtime(value).isoformat()


def annotation_row(annotation: Annotation) -> list[str]:
    """One CSV row (COLUMNS order, not yet neutralised); needs `for_export()`'s joins."""
    article = annotation.article
    return [
        article.source_id,
        article.title,
        article.date.isoformat(),
        str(annotation.pk),
        annotation.tag.slug,
        annotation.quote,
        str(annotation.start),
        str(annotation.end),
        annotation.prefix,
        annotation.suffix,
        annotation.note,
        annotation.author.username if annotation.author else "",
        annotation.status,
        _iso(annotation.created),
        _iso(annotation.modified),
    ]


class _Pieces:
    """A write-only file for csv.writer that hands back what was written since the last take."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        self.size = 0
        return text


def csv_chunks(queryset: QuerySet, *, raw: bool = False) -> Iterator[str]:
    """The CSV of `queryset`'s annotations, header first, as text pieces ending at row ends.

    Lazy: the query runs when the first row is needed and rows are read ITERATOR_CHUNK_SIZE at
    a time, so memory stays flat however many annotations there are. Costs one query.
    `raw=True` writes cells unchanged (no formula neutralising), for pipelines only.
    """
    pieces = _Pieces()
    writer = csv.writer(pieces, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield pieces.take()
    for annotation in for_export(queryset).iterator(chunk_size=ITERATOR_CHUNK_SIZE):
        row = annotation_row(annotation)
        writer.writerow(row if raw else [neutralise(cell) for cell in row])
        if pieces.size >= FLUSH_CHARS:
            yield pieces.take()
    if pieces.size:
        yield pieces.take()


def write_csv(queryset: QuerySet, out, *, raw: bool = False) -> None:
    """Write the CSV to a text file opened with `newline=""` (csv writes its own "\\r\\n")."""
    for chunk in csv_chunks(queryset, raw=raw):
        out.write(chunk)


def safe_filename_part(text: str) -> str:
    """`text` reduced to characters every browser and file system accepts in a name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "article"


def csv_response(chunks: Iterable[str], *, filename: str) -> StreamingHttpResponse:
    """A streamed download of CSV text pieces, saved by the browser as `filename`."""
    response = StreamingHttpResponse(chunks, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
@require_safe
@never_cache
def export_csv_all(request: HttpRequest) -> StreamingHttpResponse:
    # Any signed-in user may export everything (SPEC §1, §9).
    today = timezone.localdate().isoformat()
    return csv_response(
        csv_chunks(Annotation.objects.all()), filename=f"annotations-{today}.csv"
    )


@login_required
@require_safe
@never_cache
def export_csv_article(request: HttpRequest, source_id: str) -> StreamingHttpResponse:
    article = get_article_for_user(request.user, source_id)
    return csv_response(
        csv_chunks(Annotation.objects.for_article(article)),
        filename=f"annotations-{safe_filename_part(article.source_id)}.csv",
    )
