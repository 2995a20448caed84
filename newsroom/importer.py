"""Importing seed files as articles: finding and reading the files, then writing the articles.

Three layers, each usable alone:
- `read_article(path, ...)`: a file on disk, refused unless it is a plain, small, text file,
  decoded and parsed by the seed format (newsroom/seedformat.py).
- `import_article(parsed)`: one article into the database, in one transaction; idempotent.
- `import_entries(entries)`: a whole run, as fast as the disk allows: a file whose bytes are
  those of its last import is recognised by their hash alone, before any parse or write,
  and new articles are written in batches (`ImportBatch`).
`find_article_files()` lists what `manage.py import_articles` is given.

Every refusal is an `ImportRejected` whose message names the file and says what is wrong.
"""

import enum
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError

from annotations.anchoring import AnchoringReport, Outcome
from annotations.services import (
    create_article,
    create_articles,
    record_file_hashes,
    replace_article_text,
)

from .models import Article, RevisionOrigin
from .seedformat import (
    CONTROL,
    FORMAT_VERSION,
    ImportRejected,
    ParsedArticle,
    decode,
    parse_article,
)

SUFFIX = ".txt"
SOURCE_ID_MAX_LENGTH = Article._meta.get_field("source_id").max_length


def source_id_for(path: Path) -> str:
    """The article's source id: the file's name without `.txt`."""
    name = path.name
    if not name.endswith(SUFFIX):
        raise ImportRejected(
            f"only {SUFFIX} files are imported (the name without {SUFFIX} is the source id)"
        )
    source_id = name.removesuffix(SUFFIX)
    try:
        source_id.encode("utf-8")
    except UnicodeEncodeError:
        raise ImportRejected("the file name is not valid UTF-8; rename the file") from None
    if not source_id.strip():
        raise ImportRejected(f"the file name has nothing before {SUFFIX}")
    if CONTROL.search(source_id) or any(c in source_id for c in "\t\n\r\f\v"):
        raise ImportRejected("the file name contains control characters; rename the file")
    if len(source_id) > SOURCE_ID_MAX_LENGTH:
        raise ImportRejected(
            f"the file name is too long for a source id ({len(source_id)} characters before "
            f"{SUFFIX}; the limit is {SOURCE_ID_MAX_LENGTH})"
        )
    return source_id


def read_bytes(path: Path, *, max_bytes: int, folder: Path | None = None) -> bytes:
    """The bytes of a regular file at most `max_bytes` long, never through a symbolic link.

    `folder` (already resolved) is where the file must lie. The file is opened without
    following a link and checked through its open descriptor, so swapping the file for a
    link or a FIFO between listing and reading gains nothing.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    if os.path.islink(path):
        raise ImportRejected(SYMLINK_REFUSED)
    link = linked_folder_in(path)
    if link is not None:  # checked again here: it may have been swapped in since listing
        raise ImportRejected(linked_folder_refused(link))
    if folder is not None and Path(os.path.realpath(path)).parent != folder:
        raise ImportRejected(f"the file lies outside the folder {display(folder)}")
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if os.path.islink(path):
            raise ImportRejected(SYMLINK_REFUSED) from None
        raise ImportRejected(f"the file cannot be read ({error.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ImportRejected(NOT_REGULAR)
        if info.st_size > max_bytes:
            raise ImportRejected(too_big(info.st_size, max_bytes))
        try:
            data = file.read(max_bytes + 1)
        except OSError as error:
            raise ImportRejected(f"the file cannot be read ({error.strerror})") from None
    if len(data) > max_bytes:  # it grew after fstat
        raise ImportRejected(too_big(len(data), max_bytes))
    return data


SYMLINK_REFUSED = "this is a symbolic link; links are never followed: name the real file"
NOT_REGULAR = "this is not a regular file (a device, FIFO or socket)"


def too_big(size: int, limit: int) -> str:
    return (
        f"the file is {size:,} bytes; the limit is {limit:,} bytes "
        f"(settings.IMPORT_MAX_FILE_BYTES, from the environment variable of the same name)"
    )


def read_article(
    path: Path, *, encoding: str = "utf-8", max_bytes: int | None = None, folder: Path | None = None
) -> ParsedArticle:
    """Read, decode and parse one seed file; `ImportRejected` names the file."""
    if max_bytes is None:
        max_bytes = settings.IMPORT_MAX_FILE_BYTES
    try:
        source_id = source_id_for(path)
        data = read_bytes(path, max_bytes=max_bytes, folder=folder)
        return parse_article(decode(data, encoding), source_id=source_id)
    except ImportRejected as error:
        raise error.for_file(display(path)) from None


def display(path: Path | str) -> str:
    """A path as text that can always be printed (undecodable bytes shown as \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


# --- Finding the files -----------------------------------------------------------------------


class ImportPathError(Exception):
    """A PATH argument that names nothing: the whole run stops before importing anything."""


@dataclass(frozen=True)
class Entry:
    """A file to import (`folder` set when it was found by listing a folder), or one already
    refused while listing (`rejected` says why)."""

    path: Path
    folder: Path | None = None
    rejected: str = ""


@dataclass
class Found:
    entries: list[Entry] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def find_article_files(paths: Sequence[Path]) -> Found:
    """The files to import: each PATH that is a file, and the `*.txt` files directly inside
    each PATH that is a folder, in name order.

    Subfolders are not searched (each gets a notice: name it to import it); hidden files
    (editors' lock and swap files) are skipped. Symbolic links are refused, as arguments
    and inside folders. Raises `ImportPathError` when a PATH does not exist.
    """
    for path in paths:
        if not os.path.lexists(path):
            raise ImportPathError(f"{display(path)}: no such file or folder.")
    found = Found()
    for path in paths:
        info = os.lstat(path)
        link = linked_folder_in(path)
        if link is not None:
            found.entries.append(Entry(path, rejected=linked_folder_refused(link)))
        elif stat.S_ISLNK(info.st_mode):
            found.entries.append(Entry(path, rejected=SYMLINK_REFUSED))
        elif stat.S_ISDIR(info.st_mode):
            list_folder(path, found)
        elif stat.S_ISREG(info.st_mode):
            found.entries.append(Entry(path))
        else:
            found.entries.append(Entry(path, rejected=NOT_REGULAR))
    return found


def linked_folder_in(path: Path) -> Path | None:
    """The first folder on the way to `path`, as given, that is a symbolic link; None if none.

    A link in the folder part would lead a named file out of where it seems to lie, just as
    a link inside a folder would (`dir/link/secret.txt`).
    """
    path = Path(path)
    current = Path(path.anchor)
    for part in path.parts[1:-1] if path.anchor else path.parts[:-1]:
        current = current / part
        if os.path.islink(current):
            return current
    return None


def linked_folder_refused(link: Path) -> str:
    return (
        f"the folder {display(link)} on its path is a symbolic link; links are never "
        "followed: name the real path"
    )


def list_folder(folder: Path, found: Found) -> None:
    try:
        with os.scandir(folder) as listing:
            children = sorted(listing, key=lambda child: child.name)
    except OSError as error:
        found.entries.append(
            Entry(folder, rejected=f"the folder cannot be read ({error.strerror})")
        )
        return
    real_folder = Path(os.path.realpath(folder))
    txt_count = 0
    for child in children:
        path = folder / child.name
        if child.name.startswith("."):
            continue
        if child.is_dir(follow_symlinks=False):
            found.notices.append(
                f"{display(path)}: skipped, subfolders are not searched (name it to import it)"
            )
            continue
        if not child.name.endswith(SUFFIX):
            continue
        txt_count += 1
        if child.is_symlink():
            found.entries.append(Entry(path, rejected=SYMLINK_REFUSED))
        elif not child.is_file(follow_symlinks=False):
            found.entries.append(Entry(path, rejected=NOT_REGULAR))
        else:
            found.entries.append(Entry(path, folder=real_folder))
    if not txt_count:
        found.notices.append(f"{display(folder)}: no {SUFFIX} files in this folder")


# --- Importing -------------------------------------------------------------------------------


class ImportOutcome(enum.StrEnum):
    """What importing did with one file."""

    IMPORTED = "imported"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@dataclass
class FileResult:
    file: str
    outcome: ImportOutcome
    message: str = ""  # the rejection, or what changed in an update
    # What re-anchoring did with the article's annotations ({outcome: count}), for an update
    # that changed the text; empty otherwise.
    anchoring: dict[str, int] = field(default_factory=dict)

    @property
    def needs_review(self) -> int:
        return AnchoringReport.from_dict(self.anchoring).needs_review


def import_article(parsed: ParsedArticle, *, file_hash: str = "") -> FileResult:
    """Create or update the article of `parsed`, in one transaction.

    Unchanged (same content hash as the last import): one query, no write (but the file's
    hash, when it is new). Changed: the article is updated through `replace_article_text`,
    which keeps the old body as a revision and re-anchors the annotations; their counts come
    back in `anchoring`. Edits made in the admin since the last import are kept until the
    file itself changes. `file_hash` (`file_hash_of` the file's bytes) is remembered.
    """
    article = Article.objects.filter(source_id=parsed.source_id).first()
    if article is None:
        try:
            # Its own transaction (article, history row and blocks, or nothing).
            create_article(
                source_id=parsed.source_id,
                date=parsed.date,
                title=parsed.title,
                blocks=parsed.blocks,
                content_hash=parsed.content_hash,
                file_hash=file_hash,
            )
        except IntegrityError:
            # Two imports of the same new file at once: the other one won; nothing was written.
            raise ImportRejected(
                "another import created this article at the same moment; run the import again"
            ) from None
        return FileResult(parsed.source_id, ImportOutcome.IMPORTED)
    if file_hash and file_hash != article.file_hash:
        record_file_hashes({article.pk: file_hash})
    if article.content_hash == parsed.content_hash:
        return FileResult(parsed.source_id, ImportOutcome.UNCHANGED)
    revision = replace_article_text(
        article,
        date=parsed.date,
        title=parsed.title,
        blocks=parsed.blocks,
        content_hash=parsed.content_hash,
        origin=RevisionOrigin.IMPORT,
    )
    if revision is None:
        return FileResult(parsed.source_id, ImportOutcome.UPDATED, "title or date changed")
    anchoring = AnchoringReport.from_dict(revision.anchoring_report).as_dict()
    return FileResult(parsed.source_id, ImportOutcome.UPDATED, revision.summary, anchoring)


def file_hash_of(data: bytes, encoding: str) -> str:
    """SHA-256 of a seed file's bytes, with what else decides how they parse: the same hash
    means the same article, so the file needs no parse. (A file re-saved with other line ends
    has another hash; its parse then finds the content unchanged.)"""
    digest = hashlib.sha256(f"{FORMAT_VERSION}:{encoding}:".encode())
    digest.update(data)
    return digest.hexdigest()


# Files per batch of an import run, and the most bytes a batch holds in memory.
BATCH_FILES = 500
BATCH_BYTES = 32 * 1024 * 1024


@dataclass
class Pending:
    """A file read in a batch, waiting for the batch's look-up of the stored articles."""

    file: str
    source_id: str = ""
    data: bytes = b""
    file_hash: str = ""
    result: FileResult | None = None  # known already (a refusal), or once the batch is done
    parsed: ParsedArticle | None = None  # a new article, to be created with the batch


def import_entries(
    entries: Iterable[Entry], *, encoding: str = "utf-8", max_bytes: int | None = None
) -> Iterator[FileResult]:
    """Import each entry, yielding what happened to it, in order. A refused file never stops
    the run and leaves nothing behind.

    Files go in batches (`BATCH_FILES`): each batch costs one query to find its stored
    articles; a file whose bytes hash as at its last import is unchanged without being
    parsed; the new articles are created together (`create_articles`, one transaction), and
    changed ones one by one (`import_article`, a transaction each, re-anchoring).
    """
    if max_bytes is None:
        max_bytes = settings.IMPORT_MAX_FILE_BYTES
    seen: dict[str, str] = {}  # source id -> the file that gave it in this run
    seen_paths: set[str] = set()
    batch: list[Pending] = []
    batch_bytes = 0
    for entry in entries:
        file = display(entry.path)
        # The same file named twice (a folder, and a file inside it) counts once. The last
        # part of the path is not resolved: two links to one file are two refusals.
        real = os.path.join(os.path.realpath(entry.path.parent), entry.path.name)
        if real in seen_paths:
            continue
        seen_paths.add(real)
        pending = read_pending(entry, file, seen, encoding=encoding, max_bytes=max_bytes)
        batch.append(pending)
        batch_bytes += len(pending.data)
        if len(batch) >= BATCH_FILES or batch_bytes >= BATCH_BYTES:
            yield from import_batch(batch, encoding=encoding)
            batch, batch_bytes = [], 0
    yield from import_batch(batch, encoding=encoding)


def read_pending(
    entry: Entry, file: str, seen: dict[str, str], *, encoding: str, max_bytes: int
) -> Pending:
    """One entry's bytes and their hash, or its refusal."""
    pending = Pending(file)
    try:
        if entry.rejected:
            raise ImportRejected(entry.rejected)
        pending.source_id = source_id_for(entry.path)
        pending.data = read_bytes(entry.path, max_bytes=max_bytes, folder=entry.folder)
        if pending.source_id in seen:
            raise ImportRejected(
                f"the source id {pending.source_id!r} was already imported in this run "
                f"from {seen[pending.source_id]}; rename one of the files"
            )
        seen[pending.source_id] = file
    except ImportRejected as error:
        pending.data = b""
        pending.result = FileResult(file, ImportOutcome.REJECTED, str(error.for_file(file)))
        return pending
    pending.file_hash = file_hash_of(pending.data, encoding)
    return pending


def import_batch(batch: list[Pending], *, encoding: str) -> Iterator[FileResult]:
    waiting = [pending for pending in batch if pending.result is None]
    stored = dict(
        Article.objects.filter(source_id__in=[p.source_id for p in waiting]).values_list(
            "source_id", "file_hash"
        )
    )
    for pending in waiting:
        if stored.get(pending.source_id) == pending.file_hash:
            pending.result = FileResult(pending.file, ImportOutcome.UNCHANGED)
            continue
        try:
            parsed = parse_article(decode(pending.data, encoding), source_id=pending.source_id)
            if pending.source_id in stored:
                pending.result = import_article(parsed, file_hash=pending.file_hash)
                pending.result.file = pending.file
            else:
                pending.parsed = parsed
        except ImportRejected as error:
            message = str(error.for_file(pending.file))
            pending.result = FileResult(pending.file, ImportOutcome.REJECTED, message)
    create_new_articles([pending for pending in waiting if pending.parsed is not None])
    for pending in batch:
        yield pending.result


def create_new_articles(new: list[Pending]) -> None:
    """The batch's new articles in one transaction; if another import created one of them
    meanwhile, each on its own instead, so only that one is refused."""
    if not new:
        return
    articles = [
        (
            Article(
                source_id=p.parsed.source_id,
                date=p.parsed.date,
                title=p.parsed.title,
                content_hash=p.parsed.content_hash,
                file_hash=p.file_hash,
            ),
            p.parsed.blocks,
        )
        for p in new
    ]
    try:
        create_articles(articles)
    except IntegrityError:
        for pending in new:
            try:
                pending.result = import_article(pending.parsed, file_hash=pending.file_hash)
                pending.result.file = pending.file
            except ImportRejected as error:
                message = str(error.for_file(pending.file))
                pending.result = FileResult(pending.file, ImportOutcome.REJECTED, message)
        return
    for pending in new:
        pending.result = FileResult(pending.file, ImportOutcome.IMPORTED)


@dataclass
class Tally:
    counts: dict[ImportOutcome, int] = field(
        default_factory=lambda: dict.fromkeys(ImportOutcome, 0)
    )
    anchoring: AnchoringReport = field(default_factory=AnchoringReport)

    def add(self, result: FileResult) -> None:
        self.counts[result.outcome] += 1
        for outcome, n in result.anchoring.items():
            self.anchoring.count(Outcome(outcome), n)

    @property
    def rejected(self) -> int:
        return self.counts[ImportOutcome.REJECTED]

    def summary(self) -> str:
        """`imported 1, updated 0, unchanged 0, rejected 0`, plus the annotation counts when
        an update re-anchored any."""
        line = ", ".join(f"{outcome} {self.counts[outcome]}" for outcome in ImportOutcome)
        anchoring = self.anchoring.as_dict()
        if any(anchoring.values()):
            line += "; annotations: " + ", ".join(f"{n} {key}" for key, n in anchoring.items())
        return line
