"""The downloads of annotations: the CSV (its rows, its streaming, its two download views) and
the two W3C JSON-LD download views (the JSON-LD itself is written by webannotation.py).

The same CSV generator feeds the web download, the admin action and
`manage.py export_annotations`, so all three write byte-identical CSV.
"""

import datetime
import re
from collections.abc import Callable, Iterable, Iterator

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from newsroom.models import Article

from . import webannotation
from .access import get_article_to_read
from .models import Annotation, AnnotationQuerySet, Tag

# The CSV's columns; the README lists them.
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
    "review_state",
    "review_source",
    "reviewed_by",
    "replies",
    "answers",
]

# What is read of each annotation (`csv_lines` turns it into the columns): the article, the tag
# and the users by id, their names read once per chunk of rows instead of joined into every
# row; and the values as the database driver gives them, not as model instances.
FIELDS = (
    "article_id",
    "id",
    "tag_id",
    "quote",
    "start",
    "end",
    "prefix",
    "suffix",
    "note",
    "author_id",
    "status",
    "created",
    "modified",
    "review_state",
    "review_source",
    "reviewed_by_id",
    "reply_count",
    "answers_id",
)

# OWASP "CSV Injection": a spreadsheet runs a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Cells that get a leading "'": the formula starts, and (so that stripping one "'" back is
# lossless: the README shows how a pipeline does it) cells whose apostrophes already stand
# before one.
_STARTS = "[" + re.escape("".join(FORMULA_PREFIXES)) + "]"
NEUTRALISE = re.compile("'*" + _STARTS)
_FIRST_CHARS = frozenset("'" + "".join(FORMULA_PREFIXES))

# Rows fetched from the database at a time: memory holds at most this many rows, however long
# the export. The CSV goes out a piece per chunk of rows: one write per row would cost a
# syscall per row under a WSGI server, one piece for everything would hold the file in memory.
ITERATOR_CHUNK_SIZE = 2000

CONTENT_TYPE = "text/csv; charset=utf-8"


def neutralise(cell: str) -> str:
    """The cell with a leading `'` when a spreadsheet would run it as a formula (OWASP).

    Also when the cell is apostrophes then a formula start (`'=x` becomes `''=x`), so that
    the README's stripping recipe gives every cell back exactly: without it, a note that really
    begins `'=` could not be told from a neutralised `=`.

    Applied to every text cell. The numeric columns (ids, `start`, `end`, `replies`) are
    non-negative by construction (PositiveIntegerField, auto ids and a count, checked by the
    database), and dates and ISO times start with a digit, so they never need it.
    """
    # The set test first: most cells start with a letter or digit, and this runs per cell.
    if cell and cell[0] in _FIRST_CHARS and NEUTRALISE.match(cell):
        return "'" + cell
    return cell


def quoted(cell: str) -> str:
    """The cell as RFC 4180 writes it, exactly as `csv.writer` does (QUOTE_MINIMAL): in double
    quotes, its own doubled, when it holds a comma, a double quote or a line break.

    The export writes its lines itself: `csv.writer` looks at every character of every cell
    in turn, which cost a third of the export's time (tests/test_export.py holds the two to
    the same output).
    """
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


def spreadsheet_cell(cell: str) -> str:
    """A text cell as the CSV holds it: `quoted(neutralise(cell))`, written out in one function
    because it runs for every text cell of every row (eight cells of a row: 1.35 µs through the
    two calls, 1.06 µs here). tests/test_export.py holds it to the two."""
    if cell and cell[0] in _FIRST_CHARS and NEUTRALISE.match(cell):
        cell = "'" + cell
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


def iso_time(value: datetime.datetime | str, tz: datetime.tzinfo) -> str:
    """A time as `export_rows` gives it, in ISO 8601 in `tz` with its offset:
    2025-08-08T14:03:07.120000+00:00. From SQLite that is the text stored, in UTC."""
    if isinstance(value, str):
        if tz is datetime.UTC:
            # What Django stores is the datetime's isoformat() with a space for the "T".
            return value.replace(" ", "T") + "+00:00"
        value = datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.UTC)
    return value.astimezone(tz).isoformat()


def export_timezone() -> datetime.tzinfo:
    """The zone the CSV writes its times in: the current one (`DJANGO_TIME_ZONE`)."""
    tz = timezone.get_current_timezone()
    return datetime.UTC if str(tz) == "UTC" else tz


def csv_lines(
    rows: list[tuple], tz: datetime.tzinfo, cell: Callable[[str], str] = spreadsheet_cell
) -> Iterator[str]:
    """The CSV lines of a chunk of `FIELDS` tuples (without their line ends), each text cell
    written by `cell`.

    Costs one query each for the articles, the tags and the users the chunk names; their
    cells are written once, not once a row. An annotation whose article (or tag) was deleted
    while the export ran is left out, as it is gone; a user deleted meanwhile is written as
    an empty name, as one deleted before.
    """
    articles = {
        pk: f"{cell(source_id)},{cell(title)},{date.isoformat()}"
        for pk, source_id, title, date in Article.objects.filter(
            pk__in={row[0] for row in rows}
        ).values_list("pk", "source_id", "title", "date")
    }
    tags = {
        pk: cell(slug)
        for pk, slug in Tag.objects.filter(pk__in={row[2] for row in rows}).values_list(
            "pk", "slug"
        )
    }
    user_ids = {row[9] for row in rows} | {row[15] for row in rows}
    users = {
        pk: cell(username)
        for pk, username in get_user_model()
        .objects.filter(pk__in=user_ids - {None})
        .values_list("pk", "username")
    }
    for (
        article,
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
        review_state,
        review_source,
        reviewed_by,
        replies,
        answers,
    ) in rows:
        if article not in articles or tag not in tags:
            continue
        yield ",".join(
            (
                articles[article],
                str(pk),
                tags[tag],
                cell(quote),
                str(start),
                str(end),
                cell(prefix),
                cell(suffix),
                cell(note),
                users.get(author, ""),  # the author's account may be gone (SET_NULL)
                cell(status),
                iso_time(created, tz),
                iso_time(modified, tz),
                cell(review_state),
                cell(review_source),
                users.get(reviewed_by, ""),
                str(replies),
                "" if answers is None else str(answers),
            )
        )


def csv_chunks(queryset: AnnotationQuerySet, *, raw: bool = False) -> Iterator[str]:
    """The CSV of `queryset`'s annotations, header first, as text pieces ending at line ends.

    UTF-8 text with RFC 4180 quoting and "\\r\\n" line ends, as `csv.writer` writes it. Lazy:
    the query runs when the first row is needed and rows are read ITERATOR_CHUNK_SIZE at a
    time (a server-side cursor on PostgreSQL, fetchmany on SQLite), so memory stays flat
    however many annotations there are. Costs one query, and three for each chunk of rows
    (`csv_lines`). `raw=True` writes cells unchanged (no formula neutralising), for pipelines
    only.
    """
    yield ",".join(COLUMNS) + "\r\n"
    tz = export_timezone()
    cell = quoted if raw else spreadsheet_cell
    chunks = queryset.with_reply_count().export_rows(*FIELDS, chunk_size=ITERATOR_CHUNK_SIZE)
    try:
        for rows in chunks:
            lines = list(csv_lines(rows, tz, cell))
            if lines:
                lines.append("")  # so that the piece ends with a line end
                yield "\r\n".join(lines)
    finally:
        # Close the database cursor now, not when the garbage collector gets to it: a
        # PostgreSQL server-side cursor closed late (after a client hung up mid-download, or
        # an error) would fail in whatever transaction the connection is in by then.
        chunks.close()


def write_csv(queryset: AnnotationQuerySet, out, *, raw: bool = False) -> None:
    """Write the CSV to a text file opened with `newline=""` (the CSV has its own "\\r\\n")."""
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
