"""The desk in the exports: the CSV's review columns (formulas neutralised there too) and the
review and the linking body in the JSON-LD collection."""

import json

import pytest

from annotations import export
from annotations import webannotation as wa
from annotations.models import Annotation
from annotations.services import add_reply, set_answers, set_review

from .factories import AnnotationFactory
from .test_export import rows_of

pytestmark = pytest.mark.django_db


def csv_text() -> str:
    return "".join(export.csv_chunks(Annotation.objects.all()))


def test_it_writes_the_review_columns_after_modified(article, editor, other_editor, mine, rebuttal):
    answer = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    set_review(mine, state="verified", source="https://example.org/minutes", by=other_editor)
    set_answers(answer, mine)
    add_reply(mine, author=editor, text="one")
    add_reply(mine, author=other_editor, text="two")

    rows = {row["annotation_id"]: row for row in rows_of(csv_text())}

    claim_row, answer_row = rows[str(mine.pk)], rows[str(answer.pk)]
    assert list(claim_row)[-6:] == [
        "modified",
        "review_state",
        "review_source",
        "reviewed_by",
        "replies",
        "answers",
    ]
    assert (
        claim_row["review_state"],
        claim_row["review_source"],
        claim_row["reviewed_by"],
        claim_row["replies"],
        claim_row["answers"],
    ) == ("verified", "https://example.org/minutes", "other_editor", "2", "")
    assert (answer_row["review_state"], answer_row["reviewed_by"], answer_row["replies"]) == (
        "open",
        "",
        "0",
    )
    assert answer_row["answers"] == str(mine.pk)


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_it_neutralises_a_formula_in_the_source(mine, editor, start):
    set_review(mine, state="verified", source=f'{start}HYPERLINK("x")', by=editor)
    [row] = rows_of(csv_text())
    assert row["review_source"] == f'\'{start}HYPERLINK("x")'
    [raw] = rows_of("".join(export.csv_chunks(Annotation.objects.all(), raw=True)))
    assert raw["review_source"] == f'{start}HYPERLINK("x")'


def test_it_counts_the_replies_in_the_annotations_query(article, editor, django_assert_num_queries):
    for quote in ("roads", "budget", "12%"):
        add_reply(AnnotationFactory(article=article, quote=quote), author=editor, text="x")
    # the annotations with their reply counts; the chunk's articles, tags and users
    with django_assert_num_queries(4):
        assert len(rows_of(csv_text())) == 3


def test_the_jsonld_export_carries_the_review_and_the_link(article, editor, mine, rebuttal):
    answer = AnnotationFactory(article=article, tag=rebuttal, quote="The mayor denied it")
    set_answers(answer, mine)
    set_review(mine, state="disputed", source="Minutes", by=editor)
    links = wa.Links("https://news.example.org")

    data = json.loads("".join(wa.export_chunks(links)))

    items = {item["id"]: item for item in data["first"]["items"]}
    claim_item = items[links.annotation(mine.pk)]
    assert claim_item["review"]["state"] == "disputed"
    assert claim_item["review"]["by"] == "editor"
    assert {
        "type": "SpecificResource",
        "purpose": "linking",
        "source": links.annotation(mine.pk),
    } in items[links.annotation(answer.pk)]["body"]
