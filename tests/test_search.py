"""Full-text search (annotations/search.py, searchindex.py): case, accents and stemming
folded; the index kept in step by every write path; highlights; articles found by title and
text; the rebuild."""

import pytest
from django.core.management import call_command
from django.db import connection

from annotations import search, searchindex
from annotations.models import Annotation, Reply
from annotations.services import (
    delete_annotation,
    replace_article_text,
    reselect_annotation,
    update_annotation,
)
from newsroom.models import Article, BlockKind, BlockText

from .factories import SAMPLE_BLOCKS, AnnotationFactory, ArticleFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stemming with English rules on PostgreSQL"
)
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5")


def found(query: str) -> list[int]:
    return list(search.matching(Annotation.objects.all(), query).values_list("id", flat=True))


@pytest.fixture
def cafe(article, editor):
    return AnnotationFactory(
        article=article, quote="roads", note="Zoë at the Café said DREDGING costs", author=editor
    )


@pytest.mark.parametrize("query", ["cafe", "CAFÉ", "café", "Cafe", "zoe", "ZOË", "dredging"])
def test_it_folds_case_and_accents(cafe, query):
    assert found(query) == [cafe.pk]


def test_it_folds_a_combining_accent_as_the_article_keeps_it(article, editor):
    annotation = AnnotationFactory(
        article=article, quote="roads", note="Zoe\u0301 said so", author=editor
    )

    assert found("zoë") == found("zoe") == [annotation.pk]


def test_it_needs_every_word(cafe):
    assert found("cafe dredging") == [cafe.pk]
    assert found("cafe harbour") == []


def test_it_takes_the_last_word_as_the_start_of_a_longer_one(cafe):
    assert found("dredg") == found("zoë caf") == [cafe.pk]
    assert found("caf zoë") == []  # only the last word is a prefix


@postgres_only
@pytest.mark.parametrize("query", ["dredge cost", "dredged", "costing"])
def test_it_stems_english_words_on_postgresql(cafe, query):
    assert found(query) == [cafe.pk]


def test_it_stems_english_words(cafe):
    # Porter stemming in FTS5 on SQLite, the English stemmer on PostgreSQL.
    assert found("dredged") == found("costs") == [cafe.pk]


@sqlite_only
def test_it_uses_an_fts5_table_on_sqlite(cafe):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = 'annotations_search'")
        (sql,) = cursor.fetchone()
        cursor.execute("SELECT rowid FROM annotations_search WHERE annotations_search MATCH 'cafe'")
        rows = cursor.fetchall()
    assert "fts5" in sql and "remove_diacritics" in sql
    assert rows == [(cafe.pk,)]


@postgres_only
def test_it_uses_a_text_search_configuration_on_postgresql(cafe):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_tsvector('newsroom_search', 'Zoë dredging')::text")
        assert cursor.fetchone()[0] == "'dredg':2 'zoe':1"


# The index in step with every write path ----------------------------------------------------


def test_it_finds_an_annotation_as_soon_as_it_is_created(article, editor):
    annotation = AnnotationFactory(article=article, quote="the budget", author=editor)

    assert found("budget") == [annotation.pk]


def test_it_follows_an_edited_note(cafe, editor):
    update_annotation(cafe, note="a ferry timetable")

    assert found("cafe") == []
    assert found("ferry") == [cafe.pk]


def test_it_follows_a_bulk_update_that_passes_the_services(cafe):
    Annotation.objects.filter(pk=cafe.pk).update(note="lighthouse")

    assert found("lighthouse") == [cafe.pk]
    assert found("cafe") == []


def test_it_follows_a_new_quote(cafe):
    body = cafe.article.body
    start = body.index("mayor")
    reselect_annotation(cafe, start=start, end=start + 5, quote="mayor")

    assert found("mayor") == [cafe.pk]
    assert found("roads") == []


def test_it_forgets_a_deleted_annotation(cafe):
    delete_annotation(cafe)

    assert found("cafe") == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM annotations_search")
        assert cursor.fetchone()[0] == 0


def test_it_follows_replies_written_changed_and_removed(cafe, editor):
    reply = Reply.objects.create(annotation=cafe, author=editor, text="the pier was sold")
    assert found("pier") == [cafe.pk]

    reply.text = "the quay was sold"
    reply.save()
    assert found("pier") == []
    assert found("quay") == [cafe.pk]

    reply.delete()
    assert found("quay") == []
    assert found("cafe") == [cafe.pk]


def test_it_keeps_annotations_findable_after_a_re_import(article, editor):
    annotation = AnnotationFactory(article=article, quote="30% of the budget", author=editor)
    new_first = BlockText(BlockKind.PARAGRAPH, "A new first paragraph about ferries.")
    blocks = [new_first, *SAMPLE_BLOCKS]

    replace_article_text(article, date=article.date, title="Ferries and roads", blocks=blocks)

    annotation.refresh_from_db()
    assert annotation.start > 0  # moved by re-anchoring
    assert found("budget") == [annotation.pk]
    assert article_ids("ferries") == [article.pk]


def test_it_rebuilds_the_index_by_command(cafe, capsys):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM annotations_search")
    assert found("cafe") == []

    call_command("rebuild_search_index")

    assert found("cafe") == [cafe.pk]
    assert "1 annotations" in capsys.readouterr().out


def test_it_puts_back_lost_triggers_and_rebuilds(cafe):
    # A SQLite migration that copies a table drops its triggers; the next migrate repairs.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER annotations_search_update ON annotations_annotation")
        else:
            cursor.execute("DROP TRIGGER annotations_search_update")
    Annotation.objects.filter(pk=cafe.pk).update(note="lighthouse")
    assert found("lighthouse") == []

    assert searchindex.install() is True

    assert found("lighthouse") == [cafe.pk]
    assert searchindex.install() is False


@sqlite_only
def test_it_sets_the_triggers_aside_while_migrations_run(cafe):
    # A migration copies a table to alter it on SQLite; the rename would trip on a trigger
    # naming the table. Set aside before (when there is a plan), put back and rebuilt after.
    searchindex.set_aside_before_migrate(None, using="default", plan=[])
    assert searchindex._missing(connection) == []

    searchindex.set_aside_before_migrate(None, using="default", plan=[("a migration", False)])
    assert set(searchindex._missing(connection)) == set(searchindex.SQLITE_TRIGGERS)
    Annotation.objects.filter(pk=cafe.pk).update(note="lighthouse")

    searchindex.install_after_migrate(None, using="default")

    assert searchindex._missing(connection) == []
    assert found("lighthouse") == [cafe.pk]


# Highlights ---------------------------------------------------------------------------------


def test_it_highlights_the_matched_words(cafe, editor):
    Reply.objects.create(annotation=cafe, author=editor, text="no cafe was open")

    highlight = search.highlights([cafe.pk], "cafe")[cafe.pk]

    assert [text for text, hit in highlight.note if hit] == ["Café"]
    assert [text for text, hit in highlight.replies if hit] == ["cafe"]
    assert "".join(text for text, _ in highlight.quote) == "roads"


def test_it_leaves_replies_out_of_the_highlight_when_none_matched(cafe, editor):
    Reply.objects.create(annotation=cafe, author=editor, text="unrelated")

    assert search.highlights([cafe.pk], "cafe")[cafe.pk].replies == []


def test_it_splits_marked_text_into_pieces():
    marked = f"a {search.START}b{search.STOP} c"

    assert search.pieces_of(marked) == [("a ", False), ("b", True), (" c", False)]
    assert search.pieces_of("") == []


# Articles -----------------------------------------------------------------------------------


def article_ids(query: str) -> list[int]:
    articles = search.matching_articles(Article.objects.all(), query)
    return list(articles.values_list("id", flat=True))


def test_it_finds_articles_by_title_and_text(article):
    other = ArticleFactory(title="Harbour dredging", blocks=[BlockText("paragraph", "Ships.")])

    assert article_ids("council") == [article.pk]
    assert article_ids("HARBOUR") == [other.pk]
    assert article_ids("mayor denied") == [article.pk]
    assert article_ids("ships") == [other.pk]


def test_it_forgets_a_deleted_article(article):
    article.delete()

    assert article_ids("council") == []
