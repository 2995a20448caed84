"""Full-text search over annotations (quote, note, replies) and articles (title, body): matching,
ranking and highlighting, over the search tables of annotations/searchindex.py.
docs/search.md explains the design.

- SQLite: the FTS5 tables, ranked by bm25.
- PostgreSQL: the `tsvector` tables, ranked by `ts_rank`.

A query is a few words: every word must occur (stemmed, case and accents folded), the last one
also as the start of a longer word, so results follow the typing.
"""

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from . import fts5
from .searchindex import CONFIG, PG_REPLIES_OF, is_postgres

MAX_WORDS = 12
MAX_QUERY_CHARS = 200
WORD = re.compile(r"\w+")

# Highlights travel through SQL between two private-use characters, then become pieces of
# (text, matched) that templates escape: no markup is ever built from stored text.
START, STOP = "\ue000", "\ue001"
MARKED = re.compile(f"{START}(.*?){STOP}", re.S)

# Rank weights: a word in the quote counts most, then in the note, then in a reply.
SQLITE_RANK = "-bm25(annotations_search, 4.0, 2.0, 1.0)"
SQLITE_ARTICLE_RANK = "-bm25(articles_search, 4.0, 1.0)"


def words_of(query: str | None) -> list[str]:
    """The words a search is made of (punctuation and operators are not search syntax)."""
    return WORD.findall((query or "")[:MAX_QUERY_CHARS])[:MAX_WORDS]


# --- Searching --------------------------------------------------------------------------------


def _pg_match(words: list[str]) -> str:
    # `\w+` words hold no tsquery operator, so they can be joined into one.
    return " & ".join(words) + ":*"


class Search:
    """The words of one search and, on SQLite, the FTS5 query they make (worked out once per
    search: it takes a few small statements, see `fts5.lookup_query`)."""

    def __init__(self, query: str | None, using: str = "default") -> None:
        self.words = words_of(query)
        self.connection = connections[using]

    def __bool__(self) -> bool:
        return bool(self.words)

    @cached_property
    def fts5_query(self) -> tuple[str, bool]:
        """(the FTS5 query, whether looking up one annotation with it is cheap)"""
        return fts5.lookup_query(self.connection, self.words)


def matching(annotations: QuerySet, query: str | None) -> QuerySet:
    """`annotations` narrowed to those whose quote, note or replies hold every word of
    `query`, with a `search_rank` (higher is better). Unchanged when there are no words."""
    search = Search(query, annotations.db)
    if not search:
        return annotations
    if is_postgres(search.connection):
        tsquery = f"to_tsquery('{CONFIG}', %s)"
        return annotations.extra(
            tables=["annotations_search"],
            select={"search_rank": f"ts_rank(annotations_search.document, {tsquery})"},
            select_params=[_pg_match(search.words)],
            where=[
                "annotations_search.rowid = annotations_annotation.id",
                f"annotations_search.document @@ {tsquery}",
            ],
            params=[_pg_match(search.words)],
        )
    hits = _sqlite_hits(annotations, fts5.query(search.words))
    return hits.extra(select={"search_rank": SQLITE_RANK})


def _sqlite_hits(annotations: QuerySet, expression: str) -> QuerySet:
    # The unary `+` keeps SQLite from probing the full-text index once per annotation: the
    # search runs once, and each hit looks its annotation up by primary key.
    return annotations.extra(
        tables=["annotations_search"],
        where=[
            "annotations_annotation.id = +annotations_search.rowid",
            "annotations_search MATCH %s",
        ],
        params=[expression],
    )


class Match(NamedTuple):
    id: int
    created: datetime.datetime
    rank: float


# Filters that pass at most this many annotations have each looked up in the index.
LOOKED_UP_AT_MOST = 2_000


def recent_matches(annotations: QuerySet, search: Search, limit: int) -> list[Match]:
    """Up to `limit` of `annotations` that match `search`, the most recently added first (the
    highest ids), each with its creation time and rank (higher is better).

    The full-text index keeps each word's annotations in id order, so a common word's newest
    matches are read from the end of its list and the rest are never touched: ranking every
    match of a word in half the annotations would take seconds.
    """
    if is_postgres(search.connection):
        newest = matching(annotations, " ".join(search.words)).order_by("-id")
        return [Match(*row) for row in newest.values_list("id", "created", "search_rank")[:limit]]
    expression, cheap_lookup = search.fts5_query
    if cheap_lookup and annotations.query.has_filters():
        # Filters that pass few annotations (one article's, say): look each of them up in the
        # index, rather than read a common word's matches far back, maybe to the first, and
        # look each match up in the annotations to find them.
        if annotations[: LOOKED_UP_AT_MOST + 1].count() <= LOOKED_UP_AT_MOST:
            few = dict(annotations.values_list("id", "created"))
            return _sqlite_looked_up(search.connection, expression, few, limit)
    hits = (
        _sqlite_hits(annotations, expression)
        .extra(select=fts5.OCCURRENCES)
        .order_by(RawSQL("annotations_search.rowid", ()).desc())  # read backwards by FTS5
        .values_list("id", "created", *fts5.OCCURRENCES)[:limit]
    )
    return _ranked(list(hits))


def _sqlite_looked_up(connection, expression: str, created: dict, limit: int) -> list[Match]:
    if not created:
        return []
    ids = sorted(created, reverse=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, {', '.join(fts5.OCCURRENCES.values())} FROM annotations_search"
            f" WHERE annotations_search MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})"
            " ORDER BY rowid DESC LIMIT %s",
            [expression, *ids, limit],
        )
        rows = [(pk, created[pk], *rest) for pk, *rest in cursor.fetchall()]
    return _ranked(rows)


def _ranked(rows: list[tuple]) -> list[Match]:
    """Rows of (id, created, `fts5.OCCURRENCES`...) as ranked Matches."""
    ranks = fts5.ranks([row[2:] for row in rows])
    return [Match(pk, created, rank) for (pk, created, *_), rank in zip(rows, ranks, strict=True)]


def matching_articles(articles: QuerySet, query: str | None) -> QuerySet:
    """`articles` narrowed to those whose title or text hold every word of `query`, with a
    `search_rank`. Unchanged when there are no words."""
    words = words_of(query)
    if not words:
        return articles
    if is_postgres(connections[articles.db]):
        tsquery = f"to_tsquery('{CONFIG}', %s)"
        return articles.extra(
            tables=["articles_search"],
            select={"search_rank": f"ts_rank(articles_search.document, {tsquery})"},
            select_params=[_pg_match(words)],
            where=[
                "articles_search.rowid = newsroom_article.id",
                f"articles_search.document @@ {tsquery}",
            ],
            params=[_pg_match(words)],
        )
    return articles.extra(
        tables=["articles_search"],
        select={"search_rank": SQLITE_ARTICLE_RANK},
        where=["newsroom_article.id = +articles_search.rowid", "articles_search MATCH %s"],
        params=[fts5.query(words)],
    )


# --- Highlighting -----------------------------------------------------------------------------

Pieces = list[tuple[str, bool]]


def pieces_of(marked: str | None) -> Pieces:
    """Text with START…STOP around matched words, as (text, matched) pieces."""
    pieces: Pieces = []
    position = 0
    marked = marked or ""
    for hit in MARKED.finditer(marked):
        if hit.start() > position:
            pieces.append((marked[position : hit.start()], False))
        pieces.append((hit.group(1), True))
        position = hit.end()
    if position < len(marked):
        pieces.append((marked[position:], False))
    return [(text.replace(START, "").replace(STOP, ""), hit) for text, hit in pieces]


@dataclass
class Highlight:
    """The matched words of one annotation: its whole quote, and a fragment of its note and of
    its replies, each as (text, matched) pieces. `replies` is empty when no reply matched."""

    quote: Pieces = field(default_factory=list)
    note: Pieces = field(default_factory=list)
    replies: Pieces = field(default_factory=list)


def fold(text: str) -> str:
    """Lower case without accents (combining marks dropped after decomposition)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def marked_by_stems(text: str, stems: list[str]) -> str:
    """`text` with START…STOP around each word whose folded form begins with a stem."""
    prefixes = tuple(stems)

    def mark(word: re.Match) -> str:
        hit = fold(word.group()).startswith(prefixes)
        return f"{START}{word.group()}{STOP}" if hit else word.group()

    return WORD.sub(mark, text)


def fragment(marked: str, *, around: int = 80) -> str:
    """The part of a marked text around its first match (all of it when short)."""
    if len(marked) <= 2 * around:
        return marked
    first = marked.find(START)
    if first < 0:
        return marked[: 2 * around] + "…"
    start, end = max(0, first - around), first + around
    return ("…" if start else "") + marked[start:end] + ("…" if end < len(marked) else "")


def highlights(annotation_ids: Iterable[int], search: Search | str | None) -> dict[int, Highlight]:
    """{annotation id: its Highlight} for a page of search results. One query (two on
    PostgreSQL); none when the search has no words or there are no ids.

    SQLite's FTS5 marks the words itself. On PostgreSQL, `ts_headline` would read `<…>` in an
    editor's note as markup and drop it, so the database only says what each searched word
    stems to, and the words that begin with a stem are marked here."""
    if not isinstance(search, Search):
        search = Search(search)
    words, ids = search.words, [int(pk) for pk in annotation_ids]
    if not words or not ids:
        return {}
    connection = search.connection
    marks = [START, STOP]
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        if is_postgres(connection):
            cursor.execute(
                f"SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('{CONFIG}', %s)))",
                [" ".join(words)],
            )
            stems = [fold(stem) for (stem,) in cursor.fetchall()] or [fold(w) for w in words]
            cursor.execute(
                f"""SELECT a.id, a.quote, a.note, coalesce({PG_REPLIES_OF}, '')
                    FROM annotations_annotation a WHERE a.id IN ({placeholders})""",
                ids,
            )
            rows = [
                (
                    pk,
                    marked_by_stems(quote, stems),
                    fragment(marked_by_stems(note, stems), around=150),
                    fragment(marked_by_stems(replies, stems)),
                )
                for pk, quote, note, replies in cursor.fetchall()
            ]
        else:
            expression, cheap_lookup = search.fts5_query
            # One lookup per id when that is cheap, else one pass over the ids' range.
            in_ids = f"rowid IN ({placeholders})"
            if not cheap_lookup:
                in_ids = f"rowid BETWEEN {min(ids)} AND {max(ids)} AND +{in_ids}"
            cursor.execute(
                f"""SELECT rowid, highlight(annotations_search, 0, %s, %s),
                        snippet(annotations_search, 1, %s, %s, '…', 25),
                        snippet(annotations_search, 2, %s, %s, '…', 25)
                    FROM annotations_search
                    WHERE annotations_search MATCH %s AND {in_ids}""",
                [*marks, *marks, *marks, expression, *ids],
            )
            rows = cursor.fetchall()
    found = {}
    for pk, quote, note, replies in rows:
        reply_pieces = pieces_of(replies)
        found[pk] = Highlight(
            quote=pieces_of(quote),
            note=pieces_of(note),
            replies=reply_pieces if any(hit for _, hit in reply_pieces) else [],
        )
    return found
