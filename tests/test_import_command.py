"""`manage.py import_articles`: what lands in the database, and that a re-import changes
nothing or re-anchors what it must (the seed format is in docs/seed-format.md)."""

import pytest

from annotations.models import AnchorStatus
from newsroom.models import Article, ArticleRevision, Block, BlockKind
from newsroom.seedformat import parse_article

from .factories import AnnotationFactory
from .import_runs import article_text, run, write

pytestmark = pytest.mark.django_db

SEED_ID = "000_a83f44b084c319d9"


# --- Importing -------------------------------------------------------------------------------


def test_it_imports_the_seeds_folder_by_default():
    result = run()

    assert result.error is None
    assert result.stdout == "imported 1, updated 0, unchanged 0, rejected 0\n"
    article = Article.objects.get(source_id=SEED_ID)
    assert article.date.isoformat() == "2025-08-08"
    assert [b.kind for b in article.blocks.all()].count(BlockKind.HEADING) == 5
    assert article.body == "\n\n".join(b.text for b in article.blocks.all())
    assert article.body.startswith("Russian Foreign Ministry spokeswoman Maria Zakharova")


def test_it_imports_every_txt_file_of_a_folder_in_name_order(tmp_path):
    write(tmp_path, "b.txt", article_text("Second"))
    write(tmp_path, "a.txt", article_text("First"))
    write(tmp_path, "notes.md", "# not an article")
    write(tmp_path, ".a.txt.swp", "editor swap file")

    result = run(tmp_path, verbosity=2)

    assert result.error is None
    assert result.stdout == (
        f"{tmp_path}/a.txt: imported\n{tmp_path}/b.txt: imported\n"
        "imported 2, updated 0, unchanged 0, rejected 0\n"
    )
    assert result.stderr == ""
    assert sorted(Article.objects.values_list("source_id", "title")) == [
        ("a", "First"),
        ("b", "Second"),
    ]


def test_it_stores_blocks_in_order_with_their_kinds(tmp_path):
    run(write(tmp_path, "council.txt", article_text()))

    article = Article.objects.get(source_id="council")
    assert list(article.blocks.values_list("position", "kind")) == [
        (0, BlockKind.PARAGRAPH),
        (1, BlockKind.HEADING),
        (2, BlockKind.PARAGRAPH),
        (3, BlockKind.PARAGRAPH),
    ]
    assert article.content_hash == parse_article(article_text(), source_id="council").content_hash


def test_it_imports_files_and_folders_named_together(tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    write(folder, "one.txt", article_text("One"))
    single = write(tmp_path, "two.txt", article_text("Two"))

    result = run(folder, single)

    assert result.summary == "imported 2, updated 0, unchanged 0, rejected 0"


def test_it_does_not_search_subfolders_and_says_so(tmp_path):
    write(tmp_path, "top.txt", article_text("Top"))
    (tmp_path / "archive").mkdir()
    write(tmp_path / "archive", "old.txt", article_text("Old"))

    result = run(tmp_path)

    assert result.error is None
    assert result.stderr == (
        f"{tmp_path}/archive: skipped, subfolders are not searched (name it to import it)\n"
    )
    assert list(Article.objects.values_list("source_id", flat=True)) == ["top"]


def test_it_says_when_a_folder_holds_no_txt_files(tmp_path):
    result = run(tmp_path)

    assert result.error is None
    assert result.stderr == f"{tmp_path}: no .txt files in this folder\n"
    assert result.stdout == "imported 0, updated 0, unchanged 0, rejected 0\n"


def test_it_imports_a_file_named_twice_once(tmp_path):
    path = write(tmp_path, "a.txt", article_text())

    result = run(tmp_path, path)

    assert result.summary == "imported 1, updated 0, unchanged 0, rejected 0"


def test_it_refuses_two_files_with_the_same_source_id_in_one_run(tmp_path):
    for folder in ("left", "right"):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder, "same.txt", article_text(folder.title()))

    result = run(tmp_path / "left", tmp_path / "right")

    assert result.stderr == (
        f"{tmp_path}/right/same.txt: the source id 'same' was already imported in this run "
        f"from {tmp_path}/left/same.txt; rename one of the files\n"
    )
    assert Article.objects.get(source_id="same").title == "Left"
    assert result.error is not None


def test_it_keeps_unicode_exactly(tmp_path):
    text = (
        " date 2025-01-01 Zoe\u0308’s “café” — 🗳️\n\n"
        "Vote 🗳\ufe0f now: Zoe\u0308 said “30\u00a0%” – then left.\n"
    )
    run(write(tmp_path, "unicode.txt", text))

    article = Article.objects.get(source_id="unicode")
    assert article.title == "Zoe\u0308’s “café” — 🗳️"
    assert article.body == "Vote 🗳\ufe0f now: Zoe\u0308 said “30\u00a0%” – then left."
    assert article.body.index("now") == 8  # code points, not UTF-16 units


def test_it_imports_a_cp1252_file_with_encoding(tmp_path):
    data = " date 2025-01-01 Caf\xe9 \x93prices\x94\n\nUp 5\x80 \x96 a lot.\n".encode("latin-1")
    path = write(tmp_path, "legacy.txt", data)

    refused = run(path)
    assert refused.error is not None
    assert (
        f"{path}: this is not valid utf-8 text: the byte 0xE9 at byte offset 20 (line 1) cannot "
        "be decoded (invalid continuation byte); for a legacy Windows file try --encoding cp1252"
    ) in refused.stderr

    result = run(path, encoding="cp1252")

    assert result.error is None
    article = Article.objects.get(source_id="legacy")
    assert (article.title, article.body) == ("Café “prices”", "Up 5€ – a lot.")


@pytest.mark.parametrize("encoding", ["klingon", "base64"])
def test_it_stops_at_once_on_an_unknown_encoding(tmp_path, encoding):
    write(tmp_path, "a.txt", article_text())

    result = run(tmp_path, encoding=encoding)

    assert result.error is not None
    assert f"{encoding!r}" in str(result.error)
    assert "text encoding" in str(result.error)
    assert not Article.objects.exists()


def test_it_stops_before_importing_anything_when_a_path_does_not_exist(tmp_path):
    write(tmp_path, "a.txt", article_text())

    result = run(tmp_path, tmp_path / "missing")

    assert str(result.error) == f"{tmp_path}/missing: no such file or folder."
    assert not Article.objects.exists()


def test_it_takes_a_constant_number_of_queries_per_new_file(
    tmp_path, django_assert_max_num_queries
):
    for i in range(5):
        write(tmp_path, f"{i}.txt", article_text(f"Article {i}"))

    # Per file: look up, savepoint, article, its history row, blocks in one insert, release.
    with django_assert_max_num_queries(5 * 6):
        run(tmp_path)

    assert Block.objects.count() == 5 * 4


# --- Re-importing ----------------------------------------------------------------------------


def test_it_changes_nothing_when_the_same_files_are_imported_again(
    tmp_path, django_assert_max_num_queries
):
    for i in range(3):
        write(tmp_path, f"{i}.txt", article_text(f"Article {i}"))
    run(tmp_path)
    before = list(Article.objects.order_by("pk").values_list("pk", "modified", "content_hash"))
    history = Article.history.count()
    blocks = list(Block.objects.order_by("pk").values_list("pk", flat=True))

    with django_assert_max_num_queries(3):  # one look-up per file, no write
        result = run(tmp_path)

    assert result.stdout == "imported 0, updated 0, unchanged 3, rejected 0\n"
    assert (
        list(Article.objects.order_by("pk").values_list("pk", "modified", "content_hash")) == before
    )
    assert Article.history.count() == history
    assert list(Block.objects.order_by("pk").values_list("pk", flat=True)) == blocks


def test_it_sees_the_same_text_with_crlf_and_a_bom_as_unchanged(tmp_path):
    path = write(tmp_path, "a.txt", article_text())
    run(path)
    path.write_bytes(b"\xef\xbb\xbf" + article_text().replace("\n", "\r\n").encode())

    assert run(path).summary == "imported 0, updated 0, unchanged 1, rejected 0"


def test_it_updates_a_changed_file_and_reanchors_its_annotations(tmp_path, editor):
    path = write(tmp_path, "council.txt", article_text())
    run(path)
    article = Article.objects.get(source_id="council")
    old_body = article.body
    kept = AnnotationFactory(article=article, quote="30% of the budget", author=editor)
    vanishing = AnnotationFactory(article=article, quote="Zebras were not consulted", author=editor)
    # A paragraph inserted at the top moves every offset; the zebra paragraph goes.
    path.write_text(
        article_text(
            "Council Budget Row",
            "Updated on Monday with the mayor's reply.",
            "The council said 30% of the budget went to roads.",
            "What the Mayor Said",
            "The mayor denied it and said the figure was 12%.",
        )
    )

    result = run(path)

    assert result.error is None
    assert result.summary == (
        "imported 0, updated 1, unchanged 0, rejected 0; "
        "annotations: 0 kept, 1 moved, 0 fuzzy, 1 orphaned"
    )
    # The article with annotations to review is named, on its own line.
    assert result.stdout.splitlines()[0].startswith(f"{path}: updated (")
    assert result.stdout.splitlines()[0].endswith(
        "annotations: 0 kept, 1 moved, 0 fuzzy, 1 orphaned — open the article to review them"
    )
    article.refresh_from_db()
    assert article.body.startswith("Updated on Monday")
    assert [b.text for b in article.blocks.all()][0] == "Updated on Monday with the mayor's reply."
    kept.refresh_from_db()
    assert kept.status == AnchorStatus.ANCHORED
    assert article.body[kept.start : kept.end] == "30% of the budget"
    vanishing.refresh_from_db()  # still there: orphaned, never deleted
    assert vanishing.status == AnchorStatus.ORPHANED
    assert vanishing.quote == "Zebras were not consulted"
    revision = ArticleRevision.objects.get(article=article)
    assert (revision.origin, revision.body) == ("import", old_body)
    assert revision.anchoring_report == {"kept": 0, "moved": 1, "fuzzy": 0, "orphaned": 1}


def test_it_keeps_annotations_in_place_when_only_a_later_paragraph_changes(tmp_path, editor):
    path = write(tmp_path, "council.txt", article_text())
    run(path)
    article = Article.objects.get(source_id="council")
    annotation = AnnotationFactory(article=article, quote="30% of the budget", author=editor)
    start, end = annotation.start, annotation.end
    path.write_text(article_text().replace("12%", "14%"))

    result = run(path)

    assert result.summary == (
        "imported 0, updated 1, unchanged 0, rejected 0; "
        "annotations: 1 kept, 0 moved, 0 fuzzy, 0 orphaned"
    )
    assert result.stdout.count("\n") == 1  # nothing to review: the summary alone
    annotation.refresh_from_db()
    assert (annotation.start, annotation.end, annotation.status) == (start, end, "anchored")


def test_it_updates_a_title_without_touching_the_annotations(tmp_path, editor):
    path = write(tmp_path, "council.txt", article_text())
    run(path)
    article = Article.objects.get(source_id="council")
    annotation = AnnotationFactory(article=article, quote="30% of the budget", author=editor)
    touched = annotation.modified
    path.write_text(article_text("Council Budget Row, Corrected"))

    result = run(path, verbosity=2)

    assert result.stdout == (
        f"{path}: updated (title or date changed)\nimported 0, updated 1, unchanged 0, rejected 0\n"
    )
    article.refresh_from_db()
    assert article.title == "Council Budget Row, Corrected"
    assert not ArticleRevision.objects.exists()
    annotation.refresh_from_db()
    assert annotation.modified == touched
    assert run(path).summary == "imported 0, updated 0, unchanged 1, rejected 0"
