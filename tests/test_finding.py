"""Pages of results at scale (annotations/finding.py): a search ranks the LIMIT matches most
recently added and says when more match; a list counts up to LIMIT and goes on past it by
cursor; on SQLite the index is read in whichever of three ways costs least, with the same
results."""

import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations import finding, fts5, search
from annotations.models import Annotation

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, tag

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5")


def find(query: str, page: int = 1, per_page: int = 50) -> finding.Found:
    form = finding.AnnotationFilter(QueryDict(query))
    assert form.is_valid(), form.errors
    return form.find(page, per_page)


def ids(found: finding.Found) -> list[int]:
    return [a.pk for a in found.annotations]


@pytest.fixture
def limit(monkeypatch):
    monkeypatch.setattr(finding, "LIMIT", 4)
    return 4


@pytest.fixture
def ten(article):
    """Ten annotations made a minute apart, the last one newest; notes hold the words."""
    start = timezone.now() - datetime.timedelta(hours=1)
    made = []
    for i in range(10):
        note = "harbour dues" if i % 2 else "harbour harbour ferry"
        annotation = AnnotationFactory(article=article, quote="roads", note=note)
        Annotation.objects.filter(pk=annotation.pk).update(
            created=start + datetime.timedelta(minutes=i)
        )
        made.append(annotation.pk)
    return made


def test_it_ranks_every_match_when_few_match(ten):
    found = find("q=harbour")

    assert found.total == 10 and found.ranked and not found.more_than_limit
    # Two mentions of the word rank above one; equally good ones come newest first.
    twice, once = ten[0::2], ten[1::2]
    assert ids(found) == twice[::-1] + once[::-1]


def test_it_ranks_only_the_most_recently_added_when_more_match(ten, limit):
    found = find("q=harbour")

    assert found.total is None and found.more_than_limit and found.ranked
    newest_four = ten[-4:]
    assert sorted(ids(found)) == sorted(newest_four)
    assert ids(found)[:2] == [ten[8], ten[6]]  # the two with the word twice, newest first


def test_it_pages_a_search_by_number_within_the_limit(ten, limit):
    first, second = find("q=harbour", 1, 3), find("q=harbour", 2, 3)

    assert (first.pages, second.pages) == (2, 2)
    assert first.has_next and not second.has_next
    assert sorted(ids(first) + ids(second)) == sorted(ten[-4:])
    assert find("q=harbour", 9, 3).number == 2  # past the last page: the last one


def test_it_counts_a_list_and_pages_it_by_number_up_to_the_limit(ten):
    found = find("", 2, 3)

    assert found.total == 10 and not found.ranked
    assert (found.number, found.pages, found.start) == (2, 4, 3)
    assert ids(found) == ten[::-1][3:6]


def test_it_goes_on_past_the_limit_by_cursor_newest_first(ten, limit):
    found = find("", 1, 3)
    seen = ids(found)
    assert found.total is None and found.by_cursor and found.pages is None
    while found.has_next:
        found = find(f"before={found.next_cursor}", 1, 3)
        assert found.number is None and found.start is None
        seen += ids(found)

    assert seen == ten[::-1]


def test_its_cursor_keeps_annotations_made_in_the_same_microsecond_apart(article, limit):
    made = [AnnotationFactory(article=article, quote="roads").pk for _ in range(7)]
    Annotation.objects.update(created=timezone.now())

    found, seen = find("", 1, 2), []
    seen += ids(found)
    while found.has_next:
        found = find(f"before={found.next_cursor}", 1, 2)
        seen += ids(found)

    assert seen == made[::-1]


def test_its_cursor_keeps_the_filters(ten, limit):
    Annotation.objects.filter(pk__in=ten[:5]).update(tag=tag("figure"))

    found = find("tag=claim", 1, 2)
    following = find(f"tag=claim&before={found.next_cursor}", 1, 2)

    claims = ten[5:]
    assert found.total is None  # five, more than the limit of four
    assert ids(found) + ids(following) == claims[::-1][:4]


@pytest.mark.parametrize("cursor", ["x", "1.2.3", "-5.1", "1" * 30 + ".1", "١٢.٣"])
def test_it_refuses_a_cursor_it_did_not_make(cursor):
    form = finding.AnnotationFilter(QueryDict(f"before={cursor}"))

    assert not form.is_valid()
    assert form.problems() == ["before: Not a cursor: take it from a page's `next` link."]


@pytest.mark.parametrize("looked_up", [0, 100], ids=["read", "looked-up"])
def test_it_finds_the_same_whichever_way_it_reads_the_index(article, monkeypatch, looked_up):
    # Filters passing few annotations have each looked up in the index; otherwise the matches
    # are read, newest first, and their annotations checked.
    monkeypatch.setattr(search, "LOOKED_UP_AT_MOST", looked_up)
    alice = EditorFactory(username="alice")
    other = ArticleFactory(source_id="other")
    expected = []
    for i in range(12):
        mine = i % 3 == 0
        note = "harbour dredging" if i % 2 == 0 else "dredging"
        annotation = AnnotationFactory(
            article=article if mine else other,
            quote="roads",
            note=note,
            author=alice if mine else EditorFactory(),
        )
        if mine and i % 2 == 0:
            expected.append(annotation.pk)

    found = find("q=harb&author=alice&article=council_budget")

    assert sorted(ids(found)) == sorted(expected)
    assert found.total == len(expected)


@sqlite_only
@pytest.mark.parametrize(
    ("notes", "words", "expression", "cheap"),
    [
        (["budget"], ["budget"], '"budget"', True),
        (["dredging dredged"], ["dredging"], '"dredging"', True),
        (["harbour"], ["harb"], '"harbour"', True),
        (
            ["harbour harbourmaster"],
            ["council", "harb"],
            '"council" AND ("harbour" OR "harbourmast")',
            True,
        ),
        (["roads"], ["zeppelin"], '"zeppelin"', True),
        (["harbour"], ["ha"], '"ha"*', True),
        (["harbour"], ["h"], '"h"*', False),
        (["agreed agreements"], ["agree"], '("agree" OR "agreement")', True),
        # `incident` (from `incidental`) goes through the tokenizer as `incid`: not named.
        (["incidental incidence"], ["incid"], '"incid"*', False),
    ],
)
def test_it_names_the_terms_a_prefix_begins_on_sqlite(article, notes, words, expression, cheap):
    for note in notes:
        AnnotationFactory(article=article, quote="roads", note=note)

    assert fts5.lookup_query(connection, words) == (expression, cheap)


@sqlite_only
def test_it_keeps_a_prefix_that_begins_many_terms_on_sqlite(article, monkeypatch):
    monkeypatch.setattr(fts5, "MOST_TERMS", 2)
    AnnotationFactory(article=article, quote="roads", note="harbour harbourside harbourmaster")

    assert fts5.lookup_query(connection, ["harb"]) == ('"harb"*', False)


@pytest.mark.parametrize("cursor", ["0.0", "99999999999999999.999999999999999999"])
def test_it_takes_any_cursor_of_its_shape(ten, cursor):
    found = find(f"before={cursor}")

    assert ids(found) == ([] if cursor == "0.0" else ten[::-1])


@sqlite_only
def test_it_walks_the_desk_index_for_a_long_list_on_sqlite(ten, limit):
    # SQLite keeps no statistics: it would take the tag's index and sort all of its rows.
    with CaptureQueriesContext(connection) as queries:
        find("tag=claim", 1, 2)

    assert any('INDEXED BY "annotation_desk"' in q["sql"] for q in queries.captured_queries)
