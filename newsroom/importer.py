"""Reading seed files (docs/seed-format.md) and importing them as articles.

Three layers, each usable alone:
- `parse_article(text)`: the seed format, pure (no files, no database).
- `read_article(path, ...)`: a file on disk, refused unless it is a plain, small, text file.
- `import_article(parsed)`: one article into the database, in one transaction; idempotent.
`find_article_files()` and `import_entries()` tie them together for `manage.py import_articles`.

Every refusal is an `ImportRejected` whose message names the file and says what is wrong.
"""

import codecs
import datetime
import enum
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError

from annotations.anchoring import AnchoringReport, Outcome
from annotations.services import create_article, replace_article_text

from .models import Article, BlockKind, BlockText, RevisionOrigin

SUFFIX = ".txt"

# Bumped whenever parsing rules change, so every article is re-imported once with the new rules
# instead of being reported "unchanged" against a hash of the old parse.
FORMAT_VERSION = 1

HEADING_MAX_LENGTH = 100
TITLE_MAX_LENGTH = Article._meta.get_field("title").max_length
SOURCE_ID_MAX_LENGTH = Article._meta.get_field("source_id").max_length

# The whitespace a browser collapses in rendered text (HTML's ASCII whitespace, plus the
# vertical tab Word writes for a manual line break). Runs of it become one space, so the body
# reads exactly as the page shows it. A no-break space or an em space is not collapsed by the
# browser, so it is kept as written. (A lone space is left out of the pattern: replacing each
# word gap with itself made parsing twice as slow.)
COLLAPSIBLE = re.compile(r"[ \t\n\r\f\v]{2,}|[\t\n\r\f\v]")

# What ends a sentence or a clause: a block ending in one of these is not a heading. The
# full-width and other-script forms are the same marks in CJK, Arabic and Greek text.
CLOSING_PUNCTUATION = frozenset(".!?,;:…‼⁇⁈⁉。！？，；：؟\u037e")
# Set aside before looking at the last mark: "'Not About Helping Children'" is a heading,
# "He said: 'No.'" is not. Unicode's closing (Pe), final (Pf) and initial (Pi) punctuation
# cover ) ] } ’ ” » › 」 and the German-style closing “; the ASCII quotes are "other" (Po).
CLOSER_CATEGORIES = frozenset({"Pe", "Pf", "Pi"})
ASCII_QUOTES = frozenset("'\"`")

HEADER = re.compile(r"date[ \t]+(?P<date>\S+)(?:[ \t]+(?P<title>.*))?", re.IGNORECASE)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Control characters never belong in article text. Tab, line feed, carriage return, form feed
# and vertical tab are whitespace (handled above); everything else in C0, DEL and C1 is refused.
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile("[\ud800-\udfff]")

BINARY_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"%PDF-": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (a .docx or .odt document is one)",
    b"\x1f\x8b": "a gzip archive",
    b"{\\rtf": "an RTF document",
}


class ImportRejected(Exception):
    """A file we refuse. `reason` says what is wrong; the message names the file too."""

    def __init__(self, reason: str, file: str = ""):
        self.reason = reason
        self.file = file
        super().__init__(f"{file}: {reason}" if file else reason)

    def for_file(self, file: str) -> "ImportRejected":
        return ImportRejected(self.reason, file)


# --- The seed format -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedArticle:
    source_id: str
    date: datetime.date
    title: str
    blocks: tuple[BlockText, ...]

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of what was parsed (not of the bytes), so the same text saved with CRLF
        line ends, a byte-order mark or in another encoding is recognised as unchanged."""
        payload = json.dumps(
            {
                "format": FORMAT_VERSION,
                "date": self.date.isoformat(),
                "title": self.title,
                "blocks": [[str(block.kind), block.text] for block in self.blocks],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def collapse_whitespace(text: str) -> str:
    """Each run of browser-collapsible whitespace becomes one space; any whitespace at the
    edges goes. Nothing else changes: no normalisation, no quote smartening."""
    return COLLAPSIBLE.sub(" ", text).strip()


def is_heading(text: str) -> bool:
    """A one-line block is a heading when it is short and does not end a sentence or clause
    once closing quotes and brackets are set aside. (Whether it was one line is the caller's
    to know: a block written over several lines is never a heading.)"""
    if len(text) > HEADING_MAX_LENGTH or not any(c.isalnum() for c in text):
        # A scene break such as "* * *" is not a heading: it has no words.
        return False
    end = len(text)
    while end and (
        text[end - 1].isspace()
        or text[end - 1] in ASCII_QUOTES
        or unicodedata.category(text[end - 1]) in CLOSER_CATEGORIES
    ):
        end -= 1
    return end > 0 and text[end - 1] not in CLOSING_PUNCTUATION


def classify_block(lines: Sequence[str]) -> BlockText:
    """The block written over `lines` (non-blank lines of the file), with its kind."""
    text = collapse_whitespace(" ".join(lines))
    if text.startswith("Photo:"):
        kind = BlockKind.PHOTO_CREDIT
    elif len(lines) == 1 and is_heading(text):
        kind = BlockKind.HEADING
    else:
        kind = BlockKind.PARAGRAPH
    return BlockText(kind, text)


def parse_article(text: str, *, source_id: str) -> ParsedArticle:
    """Parse a seed file's decoded text. Raises `ImportRejected` (without a file name).

    Tolerates a byte-order mark, CRLF or CR line ends, trailing spaces and tabs, lines holding
    only whitespace, runs of blank lines, blank lines before the header and a missing final
    newline.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    check_no_control_characters(text)
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ImportRejected("the file is empty" if not text else "the file holds only white space")
    date, title = parse_header(lines[first], line_number=first + 1)
    if first + 1 < len(lines) and lines[first + 1].strip():
        raise ImportRejected(
            f"line {first + 2} should be blank: the header is one line, followed by an empty "
            f"line, then the article's text"
        )
    blocks = tuple(classify_block(group) for group in split_blocks(lines[first + 1 :]))
    if not blocks:
        raise ImportRejected("the article has no body: nothing follows the header")
    return ParsedArticle(source_id=source_id, date=date, title=title, blocks=blocks)


def parse_header(line: str, *, line_number: int) -> tuple[datetime.date, str]:
    """` date YYYY-MM-DD Title`: the date and the title (whitespace collapsed)."""
    match = HEADER.fullmatch(line.strip())
    if match is None:
        raise ImportRejected(
            f"line {line_number} should be the header ` date YYYY-MM-DD Title`; "
            f"it reads {shorten(line.strip())!r}"
        )
    raw_date = match["date"]
    if not ISO_DATE.fullmatch(raw_date):
        raise ImportRejected(
            f"the header's date {shorten(raw_date)!r} is not written as YYYY-MM-DD"
        )
    try:
        date = datetime.date.fromisoformat(raw_date)
    except ValueError as error:
        raise ImportRejected(f"the header's date {raw_date} is impossible ({error})") from None
    title = collapse_whitespace(match["title"] or "")
    if not title:
        raise ImportRejected("the header has no title after the date")
    if len(title) > TITLE_MAX_LENGTH:
        raise ImportRejected(
            f"the title is {len(title):,} characters long; the limit is {TITLE_MAX_LENGTH}"
        )
    return date, title


def split_blocks(lines: Iterable[str]) -> Iterator[list[str]]:
    """Groups of consecutive non-blank lines; a line of only whitespace counts as blank."""
    group: list[str] = []
    for line in lines:
        if line.strip():
            group.append(line)
        elif group:
            yield group
            group = []
    if group:
        yield group


def check_no_control_characters(text: str) -> None:
    if "\x00" in text:
        raise ImportRejected("this looks like a binary file, not text (it contains NUL bytes)")
    surrogate = SURROGATE.search(text)
    if surrogate is not None:
        # Only an odd codec (unicode_escape) yields one; no database would store it.
        raise ImportRejected(
            f"the text holds an unpaired surrogate U+{ord(surrogate.group()):04X}, which is "
            f"not a character; check the --encoding"
        )
    match = CONTROL.search(text)
    if match is not None:
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        hint = ""
        if "\x80" <= match.group() <= "\x9f":
            hint = " (Windows quotes read as Latin-1? try --encoding cp1252)"
        raise ImportRejected(
            f"the control character U+{ord(match.group()):04X} at line {line}, column {column} "
            f"does not belong in article text{hint}"
        )


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- Files -----------------------------------------------------------------------------------


def check_encoding(name: str) -> str:
    """The codec's canonical name; `LookupError` with a readable message when there is none."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise LookupError(
            f"Unknown text encoding {name!r}: give a codec name such as utf-8, cp1252 or latin-1."
        ) from None
    try:
        # Refuses codecs that turn bytes into bytes (base64, rot13, zlib). Not on b"": an
        # empty input skips that check.
        b"a".decode(info.name)
    except LookupError:
        raise LookupError(
            f"{name!r} is not a text encoding: give one such as utf-8, cp1252 or latin-1."
        ) from None
    except ValueError:
        pass  # a text encoding that cannot decode this one byte alone (utf-16): fine
    return info.name


def decode(data: bytes, encoding: str) -> str:
    """The file's text; `ImportRejected` for a binary file or bytes the encoding cannot read."""
    encoding = codecs.lookup(encoding).name
    for signature, what in BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise ImportRejected(f"this is {what}, not a text file")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        if b"\x00" in data:
            if encoding.startswith("utf-8") and data[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise ImportRejected(
                    "this file is UTF-16 text: save it as UTF-8, or pass --encoding utf-16"
                ) from None
            raise ImportRejected(
                "this looks like a binary file, not text (it contains NUL bytes)"
            ) from None
        where = f"at byte offset {error.start}"
        if "\n".encode(encoding) == b"\n":
            line = data.count(b"\n", 0, error.start) + 1
            where += f" (line {line})"
        hint = "; for a legacy Windows file try --encoding cp1252" if encoding == "utf-8" else ""
        raise ImportRejected(
            f"this is not valid {encoding} text: the byte 0x{data[error.start]:02X} {where} "
            f"cannot be decoded ({error.reason}){hint}"
        ) from None


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


def import_article(parsed: ParsedArticle) -> FileResult:
    """Create or update the article of `parsed`, in one transaction.

    Unchanged (same content hash as the last import): one query, no write. Changed: the
    article is updated through `replace_article_text`, which keeps the old body as a
    revision and re-anchors the annotations; their counts come back in `anchoring`. Edits
    made in the admin since the last import are kept until the file itself changes.
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
            )
        except IntegrityError:
            # Two imports of the same new file at once: the other one won; nothing was written.
            raise ImportRejected(
                "another import created this article at the same moment; run the import again"
            ) from None
        return FileResult(parsed.source_id, ImportOutcome.IMPORTED)
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


def import_entries(
    entries: Iterable[Entry], *, encoding: str = "utf-8", max_bytes: int | None = None
) -> Iterator[FileResult]:
    """Import each entry in turn, yielding what happened to it. A refused file never stops
    the run; each file is its own transaction, so a refusal leaves nothing behind."""
    seen: dict[str, str] = {}  # source id -> the file that gave it in this run
    seen_paths: set[str] = set()
    for entry in entries:
        file = display(entry.path)
        # The same file named twice (a folder, and a file inside it) counts once. The last
        # part of the path is not resolved: two links to one file are two refusals.
        real = os.path.join(os.path.realpath(entry.path.parent), entry.path.name)
        if real in seen_paths:
            continue
        seen_paths.add(real)
        if entry.rejected:
            yield FileResult(file, ImportOutcome.REJECTED, f"{file}: {entry.rejected}")
            continue
        try:
            parsed = read_article(
                entry.path, encoding=encoding, max_bytes=max_bytes, folder=entry.folder
            )
            if parsed.source_id in seen:
                raise ImportRejected(
                    f"the source id {parsed.source_id!r} was already imported in this run "
                    f"from {seen[parsed.source_id]}; rename one of the files",
                    file,
                )
            seen[parsed.source_id] = file
            result = import_article(parsed)
        except ImportRejected as error:
            yield FileResult(file, ImportOutcome.REJECTED, str(error.for_file(file)))
            continue
        result.file = file
        yield result


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
