"""An import run at the speed of the disk: new articles written in batches, an unchanged file
known by the hash of its bytes before any parse or write (newsroom/importer.py)."""

import pytest

from newsroom import importer
from newsroom.models import Article, Block

from .import_runs import article_text, run, write

pytestmark = pytest.mark.django_db


def write_many(folder, count: int) -> None:
    for n in range(count):
        write(folder, f"a{n:03d}.txt", article_text(f"Article {n}"))


@pytest.mark.parametrize("count", [3, 30])
def test_it_creates_new_articles_in_a_constant_number_of_queries(
    tmp_path, count, django_assert_max_num_queries
):
    write_many(tmp_path, count)

    # look-up of the batch's stored articles; a savepoint, the articles, their history
    # rows and their blocks; the release
    with django_assert_max_num_queries(6):
        result = run(tmp_path)

    assert result.summary.startswith(f"imported {count},")
    assert Article.objects.count() == count
    assert Block.objects.count() == 4 * count
    assert Article.history.count() == count
    assert all(len(a.file_hash) == 64 for a in Article.objects.all())


def test_it_knows_an_unchanged_file_without_parsing_it(
    tmp_path, monkeypatch, django_assert_num_queries
):
    write_many(tmp_path, 30)
    run(tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("an unchanged file was parsed")

    monkeypatch.setattr(importer, "parse_article", refuse)
    with django_assert_num_queries(1):  # one look-up for the whole batch
        result = run(tmp_path)

    assert result.summary.startswith("imported 0, updated 0, unchanged 30,")


def test_it_remembers_the_bytes_of_a_file_saved_again_with_other_line_ends(tmp_path):
    path = write(tmp_path, "a.txt", article_text())
    run(tmp_path)
    before = Article.objects.get().file_hash
    write(tmp_path, "a.txt", article_text().replace("\n", "\r\n"))

    assert run(tmp_path).summary.startswith("imported 0, updated 0, unchanged 1,")
    after = Article.objects.get()
    assert after.file_hash != before and after.file_hash == importer.file_hash_of(
        path.read_bytes(), "utf-8"
    )
    assert after.history.count() == 1  # bookkeeping, not a change of the article


def test_it_updates_a_changed_file_among_unchanged_ones(tmp_path):
    write_many(tmp_path, 5)
    run(tmp_path)
    write(tmp_path, "a002.txt", article_text("Article 2", "A new text entirely."))

    result = run(tmp_path, verbosity=2)

    assert result.summary.startswith("imported 0, updated 1, unchanged 4,")
    assert Article.objects.get(source_id="a002").body == "A new text entirely."
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        str(tmp_path / f"a{n:03d}.txt") for n in range(5)
    ]


def test_it_imports_each_on_its_own_when_another_import_created_one_meanwhile(
    tmp_path, monkeypatch
):
    write_many(tmp_path, 3)
    real_parse = importer.parse_article

    def parse_while_another_import_runs(text, *, source_id):
        parsed = real_parse(text, source_id=source_id)
        if source_id == "a001" and not Article.objects.filter(source_id="a001").exists():
            Article.objects.create(source_id="a001", date=parsed.date, title="Theirs", body="x")
        return parsed

    monkeypatch.setattr(importer, "parse_article", parse_while_another_import_runs)
    result = run(tmp_path)

    # The batch's insert failed as a whole; one by one, the others are created and the one
    # that exists now is brought up to this file.
    assert result.summary.startswith("imported 2, updated 1, unchanged 0, rejected 0")
    assert Article.objects.get(source_id="a001").title == "Article 1"
    assert Article.objects.filter(source_id__in=["a000", "a002"]).count() == 2


def test_it_keeps_a_batch_within_its_byte_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_BYTES", 1)  # every file its own batch
    write_many(tmp_path, 4)

    assert run(tmp_path).summary.startswith("imported 4,")
    assert Article.objects.count() == 4
