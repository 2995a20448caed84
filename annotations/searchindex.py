"""The search tables beside the model tables, and the triggers that keep them in step.

One row per annotation or article, written by database triggers, so every write path keeps
them in step: the services, the admin, a bulk `UPDATE` from re-anchoring, a raw SQL fix.
Searching them is annotations/search.py's; docs/search.md explains the design.

- SQLite: FTS5 tables `annotations_search` and `articles_search` (porter stemming,
  `unicode61` with diacritics removed: case and accents folded).
- PostgreSQL: tables of `tsvector`s with GIN indexes, in the text search configuration
  `newsroom_search` (English stemming after `unaccent`).

The tables and triggers are not Django models: `install()` makes them (after every
`migrate`, see apps.py) and rebuilds the index whenever something was missing. On SQLite the
triggers are set aside before migrations run (`set_aside()`): a migration that alters a model
table copies it to a new table, and a trigger naming the table would fail it.
`manage.py rebuild_search_index` rebuilds by hand.
"""

from django.db import connections, transaction

from . import fts5

CONFIG = "newsroom_search"

SQLITE_ANNOTATION_ROW = """
    INSERT OR REPLACE INTO annotations_search (rowid, quote, note, replies)
    SELECT a.id, a.quote, a.note,
           coalesce((SELECT group_concat(r.text, char(10)) FROM annotations_reply r
                     WHERE r.annotation_id = a.id), '')
    FROM annotations_annotation a WHERE a.id = {id};
"""
SQLITE_ARTICLE_ROW = """
    INSERT OR REPLACE INTO articles_search (rowid, title, body)
    SELECT id, title, body FROM newsroom_article WHERE id = {id};
"""
SQLITE_TRIGGERS = {
    "annotations_search_insert": "AFTER INSERT ON annotations_annotation BEGIN"
    + SQLITE_ANNOTATION_ROW.format(id="new.id")
    + "END",
    "annotations_search_update": "AFTER UPDATE OF id, quote, note ON annotations_annotation BEGIN"
    " DELETE FROM annotations_search WHERE rowid = old.id;"
    + SQLITE_ANNOTATION_ROW.format(id="new.id")
    + "END",
    "annotations_search_delete": "AFTER DELETE ON annotations_annotation BEGIN"
    " DELETE FROM annotations_search WHERE rowid = old.id; END",
    "annotations_search_reply_insert": "AFTER INSERT ON annotations_reply BEGIN"
    + SQLITE_ANNOTATION_ROW.format(id="new.annotation_id")
    + "END",
    "annotations_search_reply_update": "AFTER UPDATE OF text, annotation_id ON annotations_reply"
    " BEGIN"
    + SQLITE_ANNOTATION_ROW.format(id="old.annotation_id")
    + SQLITE_ANNOTATION_ROW.format(id="new.annotation_id")
    + "END",
    "annotations_search_reply_delete": "AFTER DELETE ON annotations_reply BEGIN"
    + SQLITE_ANNOTATION_ROW.format(id="old.annotation_id")
    + "END",
    "articles_search_insert": "AFTER INSERT ON newsroom_article BEGIN"
    + SQLITE_ARTICLE_ROW.format(id="new.id")
    + "END",
    "articles_search_update": "AFTER UPDATE OF id, title, body ON newsroom_article BEGIN"
    " DELETE FROM articles_search WHERE rowid = old.id;"
    + SQLITE_ARTICLE_ROW.format(id="new.id")
    + "END",
    "articles_search_delete": "AFTER DELETE ON newsroom_article BEGIN"
    " DELETE FROM articles_search WHERE rowid = old.id; END",
}
SQLITE_TABLES = {
    "annotations_search": f"fts5(quote, note, replies, prefix='2 3', tokenize='{fts5.TOKENIZER}')",
    "articles_search": f"fts5(title, body, prefix='2 3', tokenize='{fts5.TOKENIZER}')",
}
SQLITE_REBUILD = [
    "DELETE FROM annotations_search",
    """INSERT INTO annotations_search (rowid, quote, note, replies)
       SELECT a.id, a.quote, a.note, coalesce(r.texts, '')
       FROM annotations_annotation a LEFT JOIN (
           SELECT annotation_id, group_concat(text, char(10)) AS texts
           FROM annotations_reply GROUP BY annotation_id
       ) r ON r.annotation_id = a.id""",
    "DELETE FROM articles_search",
    "INSERT INTO articles_search (rowid, title, body) SELECT id, title, body FROM newsroom_article",
    "INSERT INTO annotations_search (annotations_search) VALUES ('optimize')",
    "INSERT INTO articles_search (articles_search) VALUES ('optimize')",
]


def pg_document(alias: str, replies: str) -> str:
    return (
        f"setweight(to_tsvector('{CONFIG}', {alias}.quote), 'A')"
        f" || setweight(to_tsvector('{CONFIG}', {alias}.note), 'B')"
        f" || setweight(to_tsvector('{CONFIG}', coalesce({replies}, '')), 'C')"
    )


PG_ARTICLE_DOCUMENT = (
    f"setweight(to_tsvector('{CONFIG}', a.title), 'A')"
    f" || setweight(to_tsvector('{CONFIG}', a.body), 'D')"
)
PG_REPLIES_OF = (
    "(SELECT string_agg(r.text, E'\\n') FROM annotations_reply r WHERE r.annotation_id = a.id)"
)
PG_INSTALL = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{CONFIG}') THEN
            CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english);
            ALTER TEXT SEARCH CONFIGURATION {CONFIG}
                ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
        END IF;
    END $$""",
    "CREATE TABLE IF NOT EXISTS annotations_search"
    " (rowid bigint PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS annotations_search_document"
    " ON annotations_search USING gin (document)",
    "CREATE TABLE IF NOT EXISTS articles_search"
    " (rowid bigint PRIMARY KEY, document tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS articles_search_document ON articles_search USING gin (document)",
    f"""CREATE OR REPLACE FUNCTION annotations_search_refresh(target bigint) RETURNS void AS $$
        INSERT INTO annotations_search (rowid, document)
        SELECT a.id, {pg_document("a", PG_REPLIES_OF)}
        FROM annotations_annotation a WHERE a.id = target
        ON CONFLICT (rowid) DO UPDATE SET document = EXCLUDED.document
    $$ LANGUAGE sql""",
    """CREATE OR REPLACE FUNCTION annotations_search_annotation() RETURNS trigger AS $$ BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            DELETE FROM annotations_search WHERE rowid = OLD.id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM annotations_search_refresh(NEW.id);
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION annotations_search_reply() RETURNS trigger AS $$ BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            PERFORM annotations_search_refresh(OLD.annotation_id);
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM annotations_search_refresh(NEW.annotation_id);
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION articles_search_article() RETURNS trigger AS $$ BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            DELETE FROM articles_search WHERE rowid = OLD.id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO articles_search (rowid, document)
            SELECT a.id, {PG_ARTICLE_DOCUMENT} FROM newsroom_article a WHERE a.id = NEW.id;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    # A TRUNCATE fires no row triggers (the test runner's flush uses it).
    """CREATE OR REPLACE FUNCTION search_tables_truncated() RETURNS trigger AS $$ BEGIN
        EXECUTE format('TRUNCATE %I', TG_ARGV[0]);
        RETURN NULL;
    END $$ LANGUAGE plpgsql""",
]
PG_TRIGGERS = {
    "annotations_search_insert_delete": (
        "annotations_annotation",
        "AFTER INSERT OR DELETE ON annotations_annotation FOR EACH ROW"
        " EXECUTE FUNCTION annotations_search_annotation()",
    ),
    # Re-anchoring moves thousands of rows without touching their words: no work for those.
    "annotations_search_update": (
        "annotations_annotation",
        "AFTER UPDATE ON annotations_annotation FOR EACH ROW WHEN (OLD.id <> NEW.id"
        " OR OLD.quote IS DISTINCT FROM NEW.quote OR OLD.note IS DISTINCT FROM NEW.note)"
        " EXECUTE FUNCTION annotations_search_annotation()",
    ),
    "annotations_search_truncate": (
        "annotations_annotation",
        "AFTER TRUNCATE ON annotations_annotation FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_tables_truncated('annotations_search')",
    ),
    "annotations_search_reply": (
        "annotations_reply",
        "AFTER INSERT OR DELETE OR UPDATE OF text, annotation_id ON annotations_reply"
        " FOR EACH ROW EXECUTE FUNCTION annotations_search_reply()",
    ),
    "articles_search_insert_delete": (
        "newsroom_article",
        "AFTER INSERT OR DELETE ON newsroom_article FOR EACH ROW"
        " EXECUTE FUNCTION articles_search_article()",
    ),
    "articles_search_update": (
        "newsroom_article",
        "AFTER UPDATE ON newsroom_article FOR EACH ROW WHEN (OLD.id <> NEW.id"
        " OR OLD.title IS DISTINCT FROM NEW.title OR OLD.body IS DISTINCT FROM NEW.body)"
        " EXECUTE FUNCTION articles_search_article()",
    ),
    "articles_search_truncate": (
        "newsroom_article",
        "AFTER TRUNCATE ON newsroom_article FOR EACH STATEMENT"
        " EXECUTE FUNCTION search_tables_truncated('articles_search')",
    ),
}
PG_REBUILD = [
    "TRUNCATE annotations_search",
    f"""INSERT INTO annotations_search (rowid, document)
        SELECT a.id, {pg_document("a", "r.texts")}
        FROM annotations_annotation a LEFT JOIN (
            SELECT annotation_id, string_agg(text, E'\\n') AS texts
            FROM annotations_reply GROUP BY annotation_id
        ) r ON r.annotation_id = a.id""",
    "TRUNCATE articles_search",
    f"INSERT INTO articles_search (rowid, document)"
    f" SELECT a.id, {PG_ARTICLE_DOCUMENT} FROM newsroom_article a",
    "ANALYZE annotations_search",
    "ANALYZE articles_search",
]


def is_postgres(connection) -> bool:
    return connection.vendor == "postgresql"


def _missing(connection) -> list[str]:
    """The search tables and triggers that are not in the database."""
    with connection.cursor() as cursor:
        if is_postgres(connection):
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'"
                " UNION SELECT tgname FROM pg_trigger WHERE tgname = ANY(%s)",
                [list(SQLITE_TABLES), list(PG_TRIGGERS)],
            )
            wanted = [*SQLITE_TABLES, *PG_TRIGGERS]
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
            wanted = [*SQLITE_TABLES, *SQLITE_TRIGGERS]
        present = {name for (name,) in cursor.fetchall()}
    return [name for name in wanted if name not in present]


def install(using: str = "default") -> bool:
    """Make the search tables and triggers where any is missing, then fill the index.

    Returns whether anything had to be made. Cheap when all is in place (one query), so it runs
    after every `migrate`.
    """
    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        return False
    if not _missing(connection):
        return False
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if is_postgres(connection):
            for statement in PG_INSTALL:
                cursor.execute(statement)
            for name, (table, definition) in PG_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"CREATE TRIGGER {name} {definition}")
        else:
            for name, definition in SQLITE_TABLES.items():
                cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING {definition}")
            for name, definition in SQLITE_TRIGGERS.items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {definition}")
    rebuild(using)
    return True


def rebuild(using: str = "default") -> None:
    """Fill the search tables again from the annotations, replies and articles."""
    connection = connections[using]
    statements = PG_REBUILD if is_postgres(connection) else SQLITE_REBUILD
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def set_aside(using: str = "default") -> None:
    """Drop the search triggers on SQLite, before migrations run.

    SQLite alters a table by copying it to a new one, dropping the old and renaming the copy;
    the rename checks every trigger of the schema, and a search trigger naming the table that
    is gone for the moment fails the migration. `install()` puts them back after `migrate`
    and rebuilds the index (the migrations may have changed rows meanwhile).
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def set_aside_before_migrate(sender, using="default", plan=None, **kwargs) -> None:
    if plan:  # only when migrations will run: a `migrate` with nothing to do keeps the index
        set_aside(using)


def install_after_migrate(sender, using="default", **kwargs) -> None:
    install(using)
