"""The downloads of annotations: the CSV (its rows, its streaming, its two download views) and
the two W3C JSON-LD download views (the JSON-LD itself is written by webannotation.py).

The same CSV generator feeds the web download, the admin action and
`manage.py export_annotations`, so all three write byte-identical CSV.
"""

import csv
import datetime
import re
from collections.abc import Iterable, Iterator

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import webannotation
from .access import get_article_to_read
from .models import Annotation, AnnotationQuerySet

# The CSV's columns (the README lists them) and where each comes from. Rows are read as
# tuples, not model instances: building three model objects per row was most of the export's
# time.
COLUMN_SOURCES = [
    ("article_id", "article__source_id"),
    ("article_title", "article__title"),
    ("article_date", "article__date"),
    ("annotation_id", "id"),
    ("tag", "tag__slug"),
    ("quote", "quote"),
    ("start", "start"),
    ("end", "end"),
    ("prefix", "prefix"),
    ("suffix", "suffix"),
    ("note", "note"),
    ("author", "author__username"),
    ("status", "status"),
    ("created", "created"),
    ("modified", "modified"),
]
COLUMNS = [column for column, _ in COLUMN_SOURCES]
SOURCES = [source for _, source in COLUMN_SOURCES]

# OWASP "CSV Injection": a spreadsheet runs a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Cells that get a leading "'": the formula starts, and (so that stripping one "'" back is
# lossless: the README shows how a pipeline does it) cells whose apostrophes already stand
# before one.
_STARTS = "[" + re.escape("".join(FORMULA_PREFIXES)) + "]"
NEUTRALISE = re.compile("'*" + _STARTS)
_FIRST_CHARS = frozenset("'" + "".join(FORMULA_PREFIXES))

# Rows fetched from the database at a time: memory holds at most this many rows, however long
# the export.
ITERATOR_CHUNK_SIZE = 2000

# Rows are sent in pieces of roughly this many characters: one write per row would cost a
# syscall per row under a WSGI server, one piece for everything would hold the file in memory.
FLUSH_CHARS = 64 * 1024

CONTENT_TYPE = "text/csv; charset=utf-8"


def neutralise(cell: str) -> str:
    """The cell with a leading `'` when a spreadsheet would run it as a formula (OWASP).

    Also when the cell is apostrophes then a formula start (`'=x` becomes `''=x`), so that
    the README's stripping recipe gives every cell back exactly: without it, a note that really
    begins `'=` could not be told from a neutralised `=`.

    Applied to every cell, numbers included: the numeric columns (ids, `start`, `end`) are
    non-negative by construction (PositiveIntegerField and auto ids, checked by the database),
    and dates and ISO times start with a digit, so only text is ever changed. A negative
    number would be prefixed too, which is the safe side.
    """
    # The set test first: most cells start with a letter or digit, and this runs per cell.
    if cell and cell[0] in _FIRST_CHARS and NEUTRALISE.match(cell):
        return "'" + cell
    return cell


def for_export(queryset: AnnotationQuerySet) -> AnnotationQuerySet:
    """The queryset as the export reads it: one query, only the columns it writes, as tuples
    in COLUMNS order, in a stable order (newest article first, then by position).

    The joins come from naming the related columns; the article body is never read.
    """
    return queryset.export_order().values_list(*SOURCES)


def row_formatter(tz: datetime.tzinfo):
    """A function turning one `for_export()` tuple into the CSV's text cells.

    Times are written in `tz` with their offset (e.g. 2025-08-08T14:03:07.120000+00:00); the
    zone is looked up once per export, not once per cell.
    """

    def cells(row: tuple) -> list[str]:
        (
            source_id,
            title,
            date,
            pk,
            tag,
            quote,
            start,
            end,
            prefix,
            suffix,
            note,
            author,
            status,
            created,
            modified,
        ) = row
        return [
            source_id,
            title,
            date.isoformat(),
            str(pk),
            tag,
            quote,
            str(start),
            str(end),
            prefix,
            suffix,
            note,
            author or "",  # the author's account may be gone (SET_NULL)
            status,
            created.astimezone(tz).isoformat(),
            modified.astimezone(tz).isoformat(),
        ]

    return cells


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


def csv_chunks(queryset: AnnotationQuerySet, *, raw: bool = False) -> Iterator[str]:
    """The CSV of `queryset`'s annotations, header first, as text pieces ending at row ends.

    Lazy: the query runs when the first row is needed and rows are read ITERATOR_CHUNK_SIZE at
    a time (a server-side cursor on PostgreSQL, fetchmany on SQLite), so memory stays flat
    however many annotations there are. Costs one query.
    `raw=True` writes cells unchanged (no formula neutralising), for pipelines only.
    """
    pieces = _Pieces()
    writer = csv.writer(pieces, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield pieces.take()
    cells = row_formatter(timezone.get_current_timezone())
    rows = for_export(queryset).iterator(chunk_size=ITERATOR_CHUNK_SIZE)
    try:
        for values in rows:
            row = cells(values)
            writer.writerow(row if raw else [neutralise(cell) for cell in row])
            if pieces.size >= FLUSH_CHARS:
                yield pieces.take()
    finally:
        # Close the database cursor now, not when the garbage collector gets to it: a
        # PostgreSQL server-side cursor closed late (after a client hung up mid-download, or
        # an error) would fail in whatever transaction the connection is in by then.
        rows.close()
    if pieces.size:
        yield pieces.take()


def write_csv(queryset: AnnotationQuerySet, out, *, raw: bool = False) -> None:
    """Write the CSV to a text file opened with `newline=""` (csv writes its own "\\r\\n")."""
    for chunk in csv_chunks(queryset, raw=raw):
        out.write(chunk)


def safe_filename_part(text: str) -> str:
    """`text` reduced to characters every browser and file system accepts in a name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "article"


def streamed_download(
    chunks: Iterable[str], *, filename: str, content_type: str = CONTENT_TYPE
) -> StreamingHttpResponse:
    """A streamed download of text pieces (CSV unless told), saved by the browser as `filename`."""
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
@require_safe
@never_cache
def export_csv_all(request: HttpRequest) -> StreamingHttpResponse:
    # Any signed-in user may export everything.
    today = timezone.localdate().isoformat()
    return streamed_download(
        csv_chunks(Annotation.objects.all()), filename=f"annotations-{today}.csv"
    )


@login_required
@require_safe
@never_cache
def export_csv_article(request: HttpRequest, source_id: str) -> StreamingHttpResponse:
    article = get_article_to_read(source_id)
    return streamed_download(
        csv_chunks(Annotation.objects.for_article(article)),
        filename=f"annotations-{safe_filename_part(article.source_id)}.csv",
    )


def jsonld_download(chunks: Iterable[str], filename: str) -> StreamingHttpResponse:
    return streamed_download(chunks, filename=filename, content_type=webannotation.MEDIA_TYPE)


@login_required
@require_safe
@never_cache
def export_jsonld_all(request: HttpRequest) -> StreamingHttpResponse:
    chunks = webannotation.export_chunks(webannotation.Links.for_request(request))
    return jsonld_download(chunks, "annotations.jsonld")


@login_required
@require_safe
@never_cache
def export_jsonld_article(request: HttpRequest, source_id: str) -> StreamingHttpResponse:
    article = get_article_to_read(source_id)
    chunks = webannotation.export_chunks(webannotation.Links.for_request(request), article)
    return jsonld_download(chunks, f"{article.source_id}-annotations.jsonld")
