"""Asking SQLite's FTS5 index about a search cheaply at a million annotations (docs/search.md,
"At a million annotations"): the query for a search's words that looks up one annotation
without merging a prefix's terms each time, and a rank computed from the occurrences of the
words in each column rather than by bm25, which reads every match of each word first.
"""

# The annotation and article indexes' tokenizer: stems (porter), case and accents folded.
TOKENIZER = "porter unicode61 remove_diacritics 2"

# FTS5 has no function that stems a word: a scratch table on each connection (temporary,
# never in the database file) runs the tokenizer on it, and a view of the annotation index's
# terms lists those that begin with a prefix.
SCRATCH = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch"
    f" USING fts5(word, tokenize='{TOKENIZER}')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_scratch_terms"
    " USING fts5vocab(temp, search_scratch, instance)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.annotations_search_terms"
    " USING fts5vocab(main, annotations_search, instance)",
]
# A prefix is written as the terms it begins when there are at most this many.
MOST_TERMS = 16
# The index's terms from the first at or after %s, while below %s; each step is one lookup in
# the term list (the instance view walked from a term on would visit every match of it).
TERMS_STARTING = """
    WITH RECURSIVE following(term, n) AS (
        SELECT (SELECT term FROM temp.annotations_search_terms
                WHERE term >= %s AND term < %s LIMIT 1), 1
        UNION ALL
        SELECT (SELECT t.term FROM temp.annotations_search_terms t
                WHERE t.term >= following.term || char(1) AND t.term < %s LIMIT 1), n + 1
        FROM following WHERE following.term IS NOT NULL AND n <= %s
    )
    SELECT term FROM following WHERE term IS NOT NULL
"""

# Rank weights: a word in the quote counts most, then in the note, then in a reply.
WEIGHTS = (4.0, 2.0, 1.0)
# How often the words occur in each column of an annotation's row, and the column's length:
# `highlight()` marks each occurrence with one character.
OCCURRENCES = {
    f"{column}_{what}": sql.format(i=i, column=column)
    for i, column in enumerate(("quote", "note", "replies"))
    for what, sql in (
        (
            "hits",
            "length(highlight(annotations_search, {i}, char(1), ''))"
            " - length(annotations_search.{column})",
        ),
        ("length", "length(annotations_search.{column})"),
    )
}


def query(words: list[str]) -> str:
    """An FTS5 query: each word a quoted string (so nothing in it is syntax), all required,
    the last one also as a prefix."""
    terms = ['"' + word.replace('"', '""') + '"' for word in words]
    terms[-1] += "*"
    return " AND ".join(terms)


def prepare_connection(sender, connection, **kwargs) -> None:
    """Make the temporary tables on each new SQLite connection (a `connection_created`
    receiver)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in SCRATCH:
                cursor.execute(statement)


def _stems(cursor, words: list[str]) -> list[list[str]]:
    """What the tokenizer makes of each word: its terms (one, but two for `foo_bar`). Rows
    are replaced, not deleted: those past these are left over from longer lists."""
    cursor.executemany(
        "INSERT OR REPLACE INTO temp.search_scratch (rowid, word) VALUES (%s, %s)",
        list(enumerate(words)),
    )
    cursor.execute(
        "SELECT doc, term FROM temp.search_scratch_terms WHERE doc < %s ORDER BY doc, offset",
        [len(words)],
    )
    stems: list[list[str]] = [[] for _ in words]
    for doc, term in cursor.fetchall():
        stems[doc].append(term)
    return stems


def lookup_query(connection, words: list[str]) -> tuple[str, bool]:
    """The FTS5 query for `words` (every one, the last also as the start of a longer word),
    and whether looking up one annotation with it is cheap. Two to four small statements.

    FTS5 answers a prefix (`"harb"*`) by merging the lists of every term that begins with it,
    anew for each lookup: a common word's list holds hundreds of thousands of annotations, and
    a search looking up one annotation at a time would merge them each time. So when the
    prefix begins few terms, the query names them instead (`"harb"*` is `"harbour"` here),
    which FTS5 follows without merging. A term named in a query goes through the tokenizer
    again, so only terms it leaves as they are can be named (the last word itself always
    can: its stem is the prefix). Prefixes of 2 or 3 characters have an index of their own
    (`prefix='2 3'`); one of a single character stays a prefix, and is not cheap.
    """
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    with connection.cursor() as cursor:
        (stems,) = _stems(cursor, [words[-1]])
        if len(stems) != 1 or len(stems[0]) <= 3:
            return query(words), len(stems) == 1 and len(stems[0]) > 1
        (stem,) = stems
        end = stem + "\U0010ffff"
        cursor.execute(TERMS_STARTING, [stem, end, end, MOST_TERMS])
        terms = [term for (term,) in cursor.fetchall()]
        if len(terms) > MOST_TERMS:
            return query(words), False
        others = [term for term in terms if term != stem]
        if others and _stems(cursor, others) != [[term] for term in others]:
            return query(words), False
    # No term begins with the prefix: the word then matches nothing, as it should.
    named = [quoted[-1] if t == stem else '"' + t.replace('"', '""') + '"' for t in terms]
    named = named or [quoted[-1]]
    last = named[0] if len(named) == 1 else "(" + " OR ".join(named) + ")"
    return " AND ".join([*quoted[:-1], last]), True


def ranks(rows: list[tuple]) -> list[float]:
    """The rank of each row of `OCCURRENCES` (hits and length of the quote, of the note, of
    the replies), as bm25 ranks: words occurring more often in a shorter column count more,
    in the quote more than in the note, more than in a reply. bm25 also weighs how rare each
    word is among all annotations, which costs FTS5 a pass over every match of each word
    before the first row; among matches that all hold every word it changes little."""
    k1, b = 1.2, 0.75
    count = max(1, len(rows))
    averages = [max(1.0, sum(row[2 * c + 1] for row in rows) / count) for c in range(3)]
    ranked = []
    for row in rows:
        rank = 0.0
        for c, weight in enumerate(WEIGHTS):
            hits, length = row[2 * c], row[2 * c + 1]
            if hits:
                saturation = hits + k1 * (1 - b + b * length / averages[c])
                rank += weight * hits * (k1 + 1) / saturation
        ranked.append(rank)
    return ranked
