"""`manage.py export_annotations`: the CSV export (or the W3C JSON-LD one, or the schema.org
ClaimReview one) to a file or stdout."""

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations import claimreview
from annotations.export import write_csv
from annotations.models import Annotation
from annotations.webannotation import stream_collection
from newsroom.models import Article


class Command(BaseCommand):
    help = (
        "Export annotations as CSV (default), W3C Web Annotation JSON-LD, or schema.org "
        "ClaimReview JSON-LD of the verified and disputed claims."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--article", metavar="SOURCE_ID", help="Only this article's annotations."
        )
        parser.add_argument(
            "--output", metavar="FILE", help="Write to FILE (replaced whole) instead of stdout."
        )
        parser.add_argument("--format", choices=["csv", "jsonld", "claimreview"], default="csv")
        parser.add_argument(
            "--raw",
            action="store_true",
            help="CSV cells exactly as stored: no leading ' before =, +, -, @, tab or CR. "
            "For data pipelines that never open the file in a spreadsheet.",
        )

    def handle(self, *args, article=None, output=None, format="csv", raw=False, **options):
        if raw and format != "csv":
            raise CommandError("--raw applies to CSV only (JSON-LD has no formulas to defuse).")
        queryset = Annotation.objects.all()
        if article is not None:
            try:
                article = Article.objects.get(source_id=article)
            except Article.DoesNotExist:
                raise CommandError(
                    f"No article with source id {article!r} (the seed file's name without .txt)."
                ) from None
            queryset = queryset.for_article(article)
        if format == "jsonld":
            writer = jsonld_writer(article)
        elif format == "claimreview":

            def writer(out):
                claimreview.write(out, article=article)

        else:

            def writer(out):
                write_csv(queryset, out, raw=raw)

        if output is None:
            self.write_stdout(writer)
        else:
            write_file(Path(output), writer)

    def write_stdout(self, writer) -> None:
        # The CSV is UTF-8 with its own "\r\n" line ends, whatever the terminal's locale says.
        reconfigure = getattr(self.stdout, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", newline="")
        writer(_Unwrapped(self.stdout))


class _Unwrapped:
    """Django's OutputWrapper adds a newline to each write that lacks one; the CSV must not."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


def jsonld_writer(article: Article | None):
    """The W3C `AnnotationCollection`, ids absolute from `settings.SITE_URL`."""
    return lambda out: stream_collection(out, article=article)


def write_file(path: Path, writer) -> None:
    """Write through a temporary file beside `path`, then rename: a failed export leaves the
    previous file (or nothing) in place, never half a CSV."""
    if path.is_dir():
        raise CommandError(f"Cannot write to {path}: it is a folder. Give a file name.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CommandError(f"Cannot write to {path}: the folder {parent} does not exist.")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise CommandError(f"Cannot write to {path}: {error.strerror}.") from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as out:
            writer(out)
        # mkstemp makes the file readable by its owner only; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except OSError as error:
        Path(tmp_name).unlink(missing_ok=True)
        raise CommandError(f"Cannot write to {path}: {error.strerror or error}.") from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
