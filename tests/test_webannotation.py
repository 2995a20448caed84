"""W3C Web Annotation JSON-LD: the representation, the page and the streamed export.

The conformance tests run the shared checker (`../shared/tools/check_web_annotation.py`,
W3C test-suite schemas) on what we write; they skip where `../shared` is not checked out.
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotations import webannotation as wa
from annotations.models import AnchorStatus, Annotation, Reply
from newsroom.models import BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory, EditorFactory

pytestmark = pytest.mark.django_db

LINKS = wa.Links("https://news.example.org")
CHECKER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "check_web_annotation.py"


def check_conformance(tmp_path: Path, document, name: str) -> None:
    """Run the W3C test-suite schemas over `document`; fail with the checker's report."""
    if not CHECKER.exists():
        pytest.skip(f"{CHECKER} is not here (the shared tools are checked out beside the project)")
    path = tmp_path / name
    path.write_text(
        document if isinstance(document, str) else json.dumps(document), encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, str(CHECKER), str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout and "INVALID" not in result.stdout, result.stdout


def export_text(article=None, links=LINKS) -> str:
    return "".join(wa.export_chunks(links, article))


# The representation -----------------------------------------------------------------------


def test_it_represents_an_annotation_as_a_web_annotation(article, claim):
    author = EditorFactory(username="maria", first_name="Maria", last_name="Lopes")
    annotation = AnnotationFactory(
        article=article, quote="30% of the budget", author=author, tag=claim
    )

    data = wa.annotation_to_jsonld(annotation, LINKS)

    start = article.body.index("30% of the budget")
    assert data == {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": f"https://news.example.org/api/annotations/{annotation.pk}/",
        "type": "Annotation",
        "motivation": "tagging",
        "body": [
            {"type": "TextualBody", "purpose": "tagging", "value": "claim", "format": "text/plain"}
        ],
        "target": {
            "source": "https://news.example.org"
            + reverse("article_detail", args=[article.source_id]),
            "selector": [
                {
                    "type": "TextQuoteSelector",
                    "exact": "30% of the budget",
                    "prefix": annotation.prefix,
                    "suffix": annotation.suffix,
                },
                {
                    "type": "TextPositionSelector",
                    "start": start,
                    "end": start + len("30% of the budget"),
                },
            ],
        },
        "creator": {"type": "Person", "nickname": "maria", "name": "Maria Lopes"},
        "created": wa.timestamp(annotation.created),
        "modified": wa.timestamp(annotation.modified),
        "status": "anchored",
        "review": {"state": "open", "source": ""},
    }
    assert annotation.prefix == article.body[max(0, start - 32) : start]
    assert annotation.suffix == article.body[start + 17 : start + 17 + 32]


def test_it_adds_the_note_as_a_commenting_body(article):
    annotation = AnnotationFactory(article=article, quote="roads", note="Check the 2024 accounts.")

    bodies = wa.annotation_to_jsonld(annotation, LINKS)["body"]

    assert [b["purpose"] for b in bodies] == ["tagging", "commenting"]
    assert bodies[1]["value"] == "Check the 2024 accounts."


def test_it_leaves_out_the_creator_of_a_deleted_account(article):
    annotation = AnnotationFactory(article=article, quote="roads")
    annotation.author.delete()
    annotation.refresh_from_db()

    data = wa.annotation_to_jsonld(annotation, LINKS)

    assert "creator" not in data


def test_it_keeps_the_original_words_of_a_fuzzy_annotation_and_says_so(article):
    annotation = AnnotationFactory(article=article, quote="roads")
    Annotation.objects.filter(pk=annotation.pk).update(status=AnchorStatus.FUZZY, quote="the roads")
    annotation.refresh_from_db()

    data = wa.annotation_to_jsonld(annotation, LINKS)

    assert data["status"] == "fuzzy"
    assert data["target"]["selector"][0]["exact"] == "the roads"


def test_it_gives_an_orphaned_annotation_no_position_that_now_holds_other_words(article):
    annotation = AnnotationFactory(article=article, quote="roads")
    Annotation.objects.filter(pk=annotation.pk).update(
        status=AnchorStatus.ORPHANED, quote="the old bridges"
    )
    annotation.refresh_from_db()

    data = wa.annotation_to_jsonld(annotation, LINKS)

    assert data["status"] == "orphaned"
    assert [s["type"] for s in data["target"]["selector"]] == ["TextQuoteSelector"]
    assert data["target"]["selector"][0]["exact"] == "the old bridges"


def test_it_gives_a_fuzzy_annotation_the_position_of_the_words_it_now_sits_on(article):
    annotation = AnnotationFactory(article=article, quote="roads")
    Annotation.objects.filter(pk=annotation.pk).update(status=AnchorStatus.FUZZY, quote="the roads")
    annotation.refresh_from_db()

    position = wa.annotation_to_jsonld(annotation, LINKS)["target"]["selector"][1]

    assert position["type"] == "TextPositionSelector"
    assert article.body[position["start"] : position["end"]] == "roads"


def test_it_builds_the_same_urls_as_reverse_without_reversing_each_time():
    links = wa.Links("https://news.example.org/")
    for pk in (1, 42, 9_876_543_210, 10**15):
        assert links.annotation(pk) == "https://news.example.org" + reverse(
            "api:annotation", args=[pk]
        )
    page = "https://news.example.org" + reverse("article_detail", args=["a b/ü"[:3]])
    assert links.article_page("a b") == page == links.article_page("a b")


def test_it_writes_times_in_utc_with_a_z():
    import datetime

    value = datetime.datetime(
        2025, 8, 8, 14, 30, 5, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    assert wa.timestamp(value) == "2025-08-08T12:30:05Z"


def test_it_counts_offsets_in_code_points_after_an_emoji():
    article = ArticleFactory(blocks=[BlockText(BlockKind.PARAGRAPH, "Fans 🎉 cheered the mayor.")])
    annotation = AnnotationFactory(article=article, quote="cheered")

    position = wa.annotation_to_jsonld(annotation, LINKS)["target"]["selector"][1]

    assert article.body[position["start"] : position["end"]] == "cheered"
    assert position["start"] == 7  # "Fans 🎉 " is seven code points (eight UTF-16 units)


# The streamed collection ------------------------------------------------------------------


def test_it_exports_every_annotation_in_one_collection(article):
    newer = article.date.replace(year=article.date.year + 1)
    other = ArticleFactory(source_id="aa_newer", date=newer)
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=article, quote="The mayor denied it", note="Quote in full")
    AnnotationFactory(article=other, quote="budget")

    data = json.loads(export_text())

    assert data["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert data["type"] == "AnnotationCollection"
    assert data["id"] == "https://news.example.org/export/annotations.jsonld"
    assert data["total"] == 3
    assert data["first"]["type"] == "AnnotationPage"
    assert data["first"]["startIndex"] == 0
    items = data["first"]["items"]
    assert len(items) == 3
    assert all("@context" not in item for item in items)
    # As the CSV: newest article first, then reading order.
    assert [item["target"]["selector"][0]["exact"] for item in items] == [
        "budget",
        "roads",
        "The mayor denied it",
    ]


def test_it_exports_one_articles_annotations(article):
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=ArticleFactory(), quote="budget")

    data = json.loads(export_text(article))

    assert data["total"] == 1
    assert data["id"].endswith(reverse("export_jsonld_article", args=[article.source_id]))
    assert data["label"] == "Annotations of “Council budget row”"


def test_it_exports_an_empty_collection_as_valid_json():
    data = json.loads(export_text())

    assert data["total"] == 0
    assert data["first"]["items"] == []


def test_it_streams_the_collection_in_chunks_across_batches(article, monkeypatch):
    monkeypatch.setattr(wa, "STREAM_BATCH", 2)
    for _ in range(5):
        AnnotationFactory(article=article, quote="roads")

    chunks = list(wa.export_chunks(LINKS))

    # head, page head, three batches (2 + 2 + 1), tail
    assert len(chunks) == 6
    assert json.loads("".join(chunks))["total"] == 5


def test_it_closes_the_database_cursor_when_a_download_stops_early(article, monkeypatch):
    closed, opened = [], []
    export_rows = wa.export_rows

    def rows(article=None):
        def cursor():
            try:
                yield from export_rows(article)
            finally:
                closed.append(True)

        opened.append(cursor())  # held here, so only an explicit close can end it
        return opened[-1]

    monkeypatch.setattr(wa, "export_rows", rows)
    monkeypatch.setattr(wa, "STREAM_BATCH", 1)
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=article, quote="budget")
    chunks = wa.export_chunks(LINKS)
    for _ in range(3):  # the head, the page's head, the first annotation; then the client hangs up
        next(chunks)
    assert closed == []

    chunks.close()

    assert closed == [True]


@pytest.mark.parametrize(("count", "chunks"), [(5, 1), (30, 3)])
def test_it_streams_in_four_queries_per_chunk_however_many_authors(
    article, count, chunks, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(wa, "EXPORT_CHUNK", 10)
    for _ in range(count):
        annotation = AnnotationFactory(article=article, quote="roads", author=EditorFactory())
        Reply.objects.create(annotation=annotation, author=EditorFactory(), text="Source?")

    # the annotations; for each chunk of them, its articles, tags, users and replies
    with django_assert_num_queries(1 + 4 * chunks):
        text = export_text()

    assert json.loads(text)["total"] == 2 * count


def test_it_asks_for_no_replies_when_a_chunk_has_none(article, django_assert_num_queries):
    AnnotationFactory(article=article, quote="roads")

    # the annotations; the chunk's articles, tags and users
    with django_assert_num_queries(4):
        text = export_text()

    assert json.loads(text)["total"] == 1


def test_it_escapes_nothing_it_should_not_and_keeps_unicode(article):
    article = ArticleFactory(blocks=[BlockText(BlockKind.PARAGRAPH, 'He said "no" — 🎉 </script>')])
    AnnotationFactory(article=article, quote='"no" — 🎉 </script>', note="\u2028 line sep")

    text = export_text(article)

    item = json.loads(text)["first"]["items"][0]
    assert item["target"]["selector"][0]["exact"] == '"no" — 🎉 </script>'
    assert item["body"][1]["value"] == "\u2028 line sep"


def test_it_writes_the_export_through_the_command(article, settings, tmp_path):
    settings.SITE_URL = "https://news.example.org"
    AnnotationFactory(article=article, quote="roads")
    out = tmp_path / "annotations.jsonld"

    call_command("export_annotations", "--format", "jsonld", "--output", str(out))

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["total"] == 1
    assert data["id"] == "https://news.example.org/export/annotations.jsonld"
    assert data["first"]["items"][0]["id"].startswith("https://news.example.org/api/annotations/")


def test_it_writes_one_articles_export_to_stdout(article):
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=ArticleFactory(), quote="budget")
    out = io.StringIO()

    call_command(
        "export_annotations", "--format", "jsonld", "--article", article.source_id, stdout=out
    )

    assert json.loads(out.getvalue())["total"] == 1


# Conformance with the W3C test-suite schemas ----------------------------------------------


def test_it_writes_an_annotation_the_w3c_schemas_accept(article, tmp_path):
    annotation = AnnotationFactory(article=article, quote="roads", note="A note")
    check_conformance(tmp_path, wa.annotation_to_jsonld(annotation, LINKS), "annotation.json")


def test_it_writes_an_annotation_without_note_or_creator_the_w3c_schemas_accept(article, tmp_path):
    annotation = AnnotationFactory(article=article, quote="roads")
    annotation.author.delete()
    annotation.refresh_from_db()
    check_conformance(tmp_path, wa.annotation_to_jsonld(annotation, LINKS), "annotation.json")


def test_it_writes_a_page_the_w3c_schemas_accept(article, tmp_path):
    annotations = [AnnotationFactory(article=article, quote=q) for q in ("roads", "budget")]
    page = wa.annotation_page(
        annotations,
        LINKS,
        page_id="https://news.example.org/api/articles/x/annotations/?page=2",
        collection_id="https://news.example.org/api/articles/x/annotations/",
        label="Annotations",
        total=5,
        start_index=2,
        first="https://news.example.org/api/articles/x/annotations/?page=1",
        last="https://news.example.org/api/articles/x/annotations/?page=3",
        next_page="https://news.example.org/api/articles/x/annotations/?page=3",
        prev_page="https://news.example.org/api/articles/x/annotations/?page=1",
    )
    check_conformance(tmp_path, page, "page.json")


def test_it_writes_an_export_the_w3c_schemas_accept(article, tmp_path):
    AnnotationFactory(article=article, quote="roads", note="A note")
    AnnotationFactory(article=article, quote="The mayor denied it")
    check_conformance(tmp_path, export_text(), "export.jsonld")


def test_it_writes_an_empty_export_the_w3c_schemas_accept(tmp_path):
    check_conformance(tmp_path, export_text(), "empty.jsonld")


def test_the_checker_rejects_what_is_not_a_web_annotation(tmp_path):
    # The conformance tests above could pass vacuously if the checker accepted anything.
    if not CHECKER.exists():
        pytest.skip(f"{CHECKER} is not here")
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation"})
    )
    result = subprocess.run(
        [sys.executable, str(CHECKER), str(path)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "INVALID" in result.stdout


def test_it_exports_each_annotations_replies_after_it_as_replying_annotations(article):
    parent = AnnotationFactory(article=article, quote="roads")
    other = AnnotationFactory(article=article, quote="roads")
    author = EditorFactory(username="tomas")
    first = Reply.objects.create(annotation=parent, author=author, text="Source?")
    second = Reply.objects.create(annotation=parent, author=None, text="=cmd| found it")

    items = json.loads(export_text())["first"]["items"]

    assert [item["id"] for item in items] == [
        LINKS.annotation(parent.pk),
        LINKS.reply(first.pk),
        LINKS.reply(second.pk),
        LINKS.annotation(other.pk),
    ]
    reply = items[1]
    assert reply["motivation"] == "replying"
    assert reply["target"] == LINKS.annotation(parent.pk)
    assert reply["body"][0]["value"] == "Source?"
    assert reply["creator"]["nickname"] == "tomas"
    assert "creator" not in items[2]
    assert json.loads(export_text())["total"] == 4
