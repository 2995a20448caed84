"""`manage.py import_articles`: what it refuses and how it says so, its output on a
terminal and in a pipe, and its exit status from the shell."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import AnchorStatus
from newsroom.importer import import_article
from newsroom.models import Article, ArticleRevision, Block
from newsroom.seedformat import parse_article

from .factories import AnnotationFactory
from .import_runs import article_text, run, write

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


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


def test_it_refuses_a_named_file_whose_folder_part_is_a_symbolic_link(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    write(private, "secret.txt", article_text("Not for the newsroom"))
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "link").symlink_to(private)

    result = run(tmp_path / "seeds" / "link" / "secret.txt")

    assert result.stderr == (
        f"{tmp_path}/seeds/link/secret.txt: the folder {tmp_path}/seeds/link on its path is a "
        "symbolic link; links are never followed: name the real path\n"
    )
    assert result.summary == "imported 0, updated 0, unchanged 0, rejected 1"
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
