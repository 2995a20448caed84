"""The seed format (docs/seed-format.md): a seed file's bytes, decoded and parsed into an
article's date, title and blocks. Pure: no files, no database.

`decode(data, encoding)` turns bytes into text, `parse_article(text, source_id=...)` text into
a `ParsedArticle`. The admin's text editor uses the same rules for blocks
(`split_blocks`, `classify_block`, `check_no_control_characters`). Every refusal is an
`ImportRejected` saying what is wrong; newsroom/importer.py adds the file's name.
"""

import codecs
import datetime
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from .models import Article, BlockKind, BlockText

# Bumped whenever parsing rules change, so every article is re-imported once with the new rules
# instead of being reported "unchanged" against a hash of the old parse.
FORMAT_VERSION = 1

HEADING_MAX_LENGTH = 100
TITLE_MAX_LENGTH = Article._meta.get_field("title").max_length

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


# --- Bytes to text ---------------------------------------------------------------------------


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
