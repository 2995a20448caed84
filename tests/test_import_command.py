"""`manage.py import_articles` (SPEC §2, §5): what lands in the database, what is refused, what
the admin sees, and that a re-import changes nothing or re-anchors what it must."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from annotations.models import AnchorStatus
from newsroom.importer import import_article, parse_article
from newsroom.models import Article, ArticleRevision, Block, BlockKind

from .factories import AnnotationFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
SEED_ID = "000_a83f44b084c319d9"


def article_text(title="Council Budget Row", *paragraphs: str) -> str:
    paragraphs = paragraphs or (
        "The council said 30% of the budget went to roads.",
        "What the Mayor Said",
        "Zebras were not consulted about the xylophone fund, a spokesman admitted.",
        "The mayor denied it and said the figure was 12%.",
    )
    return f" date 2025-08-08 {title}\n\n" + "\n\n".join(paragraphs) + "\n"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


class Run:
    def __init__(self, stdout: str, stderr: str, error: CommandError | None):
        self.stdout, self.stderr, self.error = stdout, stderr, error

    @property
    def summary(self) -> str:
        return self.stdout.splitlines()[-1]


def run(*args, stdout=None, stderr=None, **options) -> Run:
    """call_command, keeping what it printed and the CommandError it ended with, if any."""
    out, err = stdout or io.StringIO(), stderr or io.StringIO()
    error = None
    try:
        call_command("import_articles", *map(str, args), stdout=out, stderr=err, **options)
    except CommandError as raised:
        error = raised
    return Run(out.getvalue(), err.getvalue(), error)


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


# --- Refusals --------------------------------------------------------------------------------

BAD_FILES = [
    pytest.param(b"", "the file is empty", id="empty"),
    pytest.param(b"Just a paragraph.\n\nAnother.\n", "line 1 should be the header", id="no header"),
    pytest.param(
        b" date 2025/08/08 Title\n\nText.\n",
        "the header's date '2025/08/08' is not written as YYYY-MM-DD",
        id="bad date",
    ),
    pytest.param(
        b" date 2025-02-30 Title\n\nText.\n",
        "the header's date 2025-02-30 is impossible (day is out of range for month)",
        id="impossible date",
    ),
    pytest.param(b" date 2025-08-08 Title\n\n\n", "the article has no body", id="no body"),
    pytest.param(
        b" date 2025-08-08 Title\n\nCaf\xe9.\n",
        "this is not valid utf-8 text: the byte 0xE9 at byte offset 27 (line 3)",
        id="invalid utf-8",
    ),
    pytest.param(
        b" date 2025-08-08 Title\n\nText\x00\x00\x01\x02\n",
        "this looks like a binary file, not text (it contains NUL bytes)",
        id="NUL bytes",
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        "this is a PNG image, not a text file",
        id="PNG",
    ),
    pytest.param(
        b" date 2025-08-08 Title\n\n" + b"Long text. " * 200,
        "the file is 2,224 bytes; the limit is 2,000 bytes",
        id="oversized",
    ),
]


@pytest.mark.parametrize(("content", "reason"), BAD_FILES)
def test_it_rejects_a_bad_file_names_it_and_imports_the_good_ones(
    tmp_path, settings, content, reason
):
    settings.IMPORT_MAX_FILE_BYTES = 2000
    write(tmp_path, "a_good.txt", article_text("Good"))
    bad = write(tmp_path, "b_bad.txt", content)
    write(tmp_path, "c_good.txt", article_text("Also good"))

    result = run(tmp_path)

    assert result.stderr.splitlines()[0].startswith(f"{bad}: {reason}")
    assert result.stdout == "imported 2, updated 0, unchanged 0, rejected 1\n"
    assert str(result.error) == "1 file was rejected (see above); the others were imported."
    assert result.error.returncode == 1
    assert sorted(Article.objects.values_list("source_id", flat=True)) == ["a_good", "c_good"]
    assert Block.objects.count() == 8


def test_it_leaves_the_article_as_it_was_when_its_changed_file_is_rejected(tmp_path, editor):
    path = write(tmp_path, "council.txt", article_text())
    run(path)
    article = Article.objects.get(source_id="council")
    annotation = AnnotationFactory(article=article, quote="30% of the budget", author=editor)
    path.write_text(" date 2025-02-30 Council Budget Row\n\nEverything rewritten.\n")

    result = run(path)

    assert result.error is not None
    after = Article.objects.get(pk=article.pk)
    assert (after.body, after.content_hash, after.date) == (
        article.body,
        article.content_hash,
        article.date,
    )
    assert not ArticleRevision.objects.exists()
    annotation.refresh_from_db()
    assert annotation.status == AnchorStatus.ANCHORED


def test_it_writes_nothing_when_storing_a_file_fails_half_way(tmp_path, monkeypatch):
    parsed = parse_article(article_text(), source_id="council")

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # The article row is written before the blocks: the failure must take it back too.
    monkeypatch.setattr(Block.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        import_article(parsed)

    assert not Article.objects.exists()
    assert not Article.history.exists()


def test_it_counts_every_rejection_in_the_summary(tmp_path):
    write(tmp_path, "empty.txt", b"")
    write(tmp_path, "nobody.txt", b" date 2025-08-08 Title\n")
    write(tmp_path, "ok.txt", article_text())

    result = run(tmp_path)

    assert result.summary == "imported 1, updated 0, unchanged 0, rejected 2"
    assert str(result.error) == "2 files were rejected (see above); the others were imported."
    assert result.stderr == (
        f"{tmp_path}/empty.txt: the file is empty\n"
        f"{tmp_path}/nobody.txt: the article has no body: nothing follows the header\n"
    )


def test_it_refuses_symbolic_links_in_a_folder(tmp_path):
    folder, elsewhere = tmp_path / "seeds", tmp_path / "private"
    folder.mkdir()
    elsewhere.mkdir()
    secret = write(elsewhere, "secret.txt", article_text("Not for the newsroom"))
    write(folder, "good.txt", article_text())
    (folder / "link.txt").symlink_to(secret)
    (folder / "dangling.txt").symlink_to(tmp_path / "nothing-here.txt")
    (folder / "up.txt").symlink_to(Path("..") / "private" / "secret.txt")

    result = run(folder)

    refused = "this is a symbolic link; links are never followed: name the real file"
    assert result.stderr == (
        f"{folder}/dangling.txt: {refused}\n"
        f"{folder}/link.txt: {refused}\n"
        f"{folder}/up.txt: {refused}\n"
    )
    assert result.summary == "imported 1, updated 0, unchanged 0, rejected 3"
    assert list(Article.objects.values_list("source_id", flat=True)) == ["good"]


def test_it_refuses_a_symbolic_link_named_on_the_command_line(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    target = write(real, "a.txt", article_text())
    (tmp_path / "a.txt").symlink_to(target)
    (tmp_path / "linked-folder").symlink_to(real)

    result = run(tmp_path / "a.txt", tmp_path / "linked-folder")

    assert result.summary == "imported 0, updated 0, unchanged 0, rejected 2"
    assert result.stderr.count("this is a symbolic link; links are never followed") == 2
    assert not Article.objects.exists()


def test_it_refuses_non_regular_files(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    write(tmp_path, "ok.txt", article_text())

    result = run(tmp_path, tmp_path / "pipe.txt")

    assert result.stderr == (
        f"{tmp_path}/pipe.txt: this is not a regular file (a device, FIFO or socket)\n"
    )
    assert result.summary == "imported 1, updated 0, unchanged 0, rejected 1"


def test_it_refuses_a_named_file_that_is_not_txt(tmp_path):
    path = write(tmp_path, "article.md", article_text())

    result = run(path)

    assert result.stderr == (
        f"{path}: only .txt files are imported (the name without .txt is the source id)\n"
    )
    assert result.error is not None


def test_it_refuses_a_device_named_on_the_command_line():
    result = run("/dev/null")

    assert result.stderr == "/dev/null: this is not a regular file (a device, FIFO or socket)\n"
    assert result.error is not None


# --- Output ----------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_it_draws_a_progress_bar_on_a_terminal(tmp_path):
    for i in range(3):
        write(tmp_path, f"{i}.txt", article_text(f"Article {i}"))

    result = run(tmp_path, stdout=Terminal(), stderr=Terminal())

    assert re.search(r"\r\x1b\[K\[#+\] 3/3 2\.txt", result.stderr)
    assert result.stderr.endswith("\r\x1b[K")  # erased before the summary
    assert result.stdout == "imported 3, updated 0, unchanged 0, rejected 0\n"


def test_it_prints_rejections_on_their_own_line_under_a_progress_bar(tmp_path):
    write(tmp_path, "a.txt", article_text())
    write(tmp_path, "b.txt", b"")

    result = run(tmp_path, stdout=Terminal(), stderr=Terminal())

    # The bar is drawn for a.txt, erased for the message, then drawn again below it.
    assert re.fullmatch(
        rf"\r\x1b\[K\[#+-+\] 1/2 a\.txt\r\x1b\[K{re.escape(str(tmp_path))}/b\.txt: the file is "
        r"empty\n\r\x1b\[K\[#+\] 2/2 b\.txt\r\x1b\[K",
        result.stderr,
    )


def test_it_draws_no_progress_bar_into_a_pipe_or_a_file(tmp_path):
    write(tmp_path, "a.txt", article_text())

    result = run(tmp_path, stdout=io.StringIO(), stderr=Terminal())

    assert result.stderr == ""


def test_it_prints_nothing_at_verbosity_zero_but_still_fails(tmp_path):
    write(tmp_path, "a.txt", b"")
    (tmp_path / "sub").mkdir()

    result = run(tmp_path, verbosity=0)

    assert result.stdout == ""
    assert result.stderr == f"{tmp_path}/a.txt: the file is empty\n"
    assert result.error is not None


def test_it_exits_with_status_1_from_the_shell_after_importing_the_good_files(tmp_path):
    """The real command in its own process: exit status, streams, and its own database."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    write(folder, "good.txt", article_text())
    bad = write(folder, "bad.txt", b" date 2025-02-30 Title\n\nText.\n")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert manage("migrate", "--verbosity", "0").returncode == 0
    first = manage("import_articles", str(folder))
    again = manage("import_articles", str(folder / "good.txt"))
    missing = manage("import_articles", str(tmp_path / "nowhere"))

    assert first.returncode == 1
    assert first.stdout == "imported 1, updated 0, unchanged 0, rejected 1\n"
    assert first.stderr == (
        f"{bad}: the header's date 2025-02-30 is impossible (day is out of range for month)\n"
        "CommandError: 1 file was rejected (see above); the others were imported.\n"
    )
    assert (again.returncode, again.stdout) == (
        0,
        "imported 0, updated 0, unchanged 1, rejected 0\n",
    )
    assert missing.returncode == 1
    assert missing.stderr == f"CommandError: {tmp_path}/nowhere: no such file or folder.\n"
