"""`manage.py import_articles [PATH ...]`: seed files into articles (docs/seed-format.md)."""

import shutil
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsroom.importer import (
    ImportOutcome,
    ImportPathError,
    Tally,
    find_article_files,
    import_entries,
)
from newsroom.seedformat import check_encoding


class Command(BaseCommand):
    help = (
        "Import seed articles: .txt files, or the .txt files directly inside folders (default: "
        "the project's seeds/). A file already imported is left alone unless it changed; a "
        "changed file updates its article and re-anchors the annotations. Exits with status 1 "
        "when any file was rejected, after importing all the others."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="A .txt file or a folder (not searched recursively).",
        )
        parser.add_argument(
            "--encoding",
            default="utf-8",
            help="Text encoding of the files (default utf-8); cp1252 for legacy Windows files.",
        )

    def handle(self, *args, paths: list[str], encoding: str, verbosity: int = 1, **options) -> None:
        try:
            encoding = check_encoding(encoding)
        except LookupError as error:
            raise CommandError(str(error)) from None
        targets = [Path(p) for p in paths] or [Path(settings.BASE_DIR) / "seeds"]
        try:
            found = find_article_files(targets)
        except ImportPathError as error:
            raise CommandError(str(error)) from None
        if verbosity:
            for notice in found.notices:
                self.stderr.write(notice, style_func=self.style.WARNING)

        # A bar only where a person watches: both streams on a terminal, so neither a log
        # file nor a pipe ever receives carriage returns.
        bar = ProgressBar(
            self.stderr,
            len(found.entries),
            enabled=verbosity > 0 and self.stdout.isatty() and self.stderr.isatty(),
        )
        tally = Tally()
        for result in import_entries(found.entries, encoding=encoding):
            tally.add(result)
            if result.outcome == ImportOutcome.REJECTED:
                bar.clear()
                self.stderr.write(result.message)
            elif verbosity >= 2 or (verbosity and result.needs_review):
                bar.clear()
                self.stdout.write(describe(result))
            bar.advance(result.file)
        bar.clear()
        if verbosity:
            self.stdout.write(tally.summary())
        if tally.rejected:
            files = "file was" if tally.rejected == 1 else "files were"
            raise CommandError(
                f"{tally.rejected} {files} rejected (see above); the others were imported.",
                returncode=1,
            )


def describe(result) -> str:
    """One line per file, for -v 2, and for updates that left annotations to review."""
    line = f"{result.file}: {result.outcome}"
    if result.message:
        line += f" ({result.message})"
    if result.anchoring:
        line += "; annotations: " + ", ".join(f"{n} {key}" for key, n in result.anchoring.items())
    if result.needs_review:
        line += " — open the article to review them"
    return line


class ProgressBar:
    """`[#####-----] 12/500 name` on one terminal line, redrawn at most 20 times a second."""

    def __init__(self, stream, total: int, *, enabled: bool):
        self.stream, self.total, self.enabled = stream, total, enabled and total > 0
        self.done = 0
        self.drawn_at = 0.0
        self.visible = False

    def advance(self, name: str) -> None:
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self.drawn_at >= 0.05 or self.done == self.total):
            self.drawn_at = now
            self.draw(name)

    def draw(self, name: str) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        width = max(10, min(40, columns // 3))
        filled = width * self.done // self.total
        line = f"[{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} "
        room = columns - len(line) - 1
        name = Path(name).name
        if room > 3:
            line += name if len(name) <= room else name[: room - 1] + "…"
        self.write("\r\x1b[K" + line)
        self.visible = True

    def clear(self) -> None:
        if self.visible:
            self.write("\r\x1b[K")
            self.visible = False

    def write(self, text: str) -> None:
        # Plain text (stderr's default style is the error colour) and no newline.
        self.stream.write(text, style_func=lambda s: s, ending="")
        self.stream.flush()
