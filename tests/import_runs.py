"""Helpers for the tests of `manage.py import_articles`: seed files and a command run."""

import io
from pathlib import Path

from django.core.management import CommandError, call_command


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
