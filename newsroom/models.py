"""Articles: their blocks, their plain-text body and the revisions of that body.

See docs/data-model.md."""

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.urls import reverse

from .history import HistoricalRecords

BLOCK_SEPARATOR = "\n\n"

# The article's fields that only annotations/services/ writes, each by its own UPDATE.
KEPT_BY_ANNOTATIONS = (
    "annotations_version",
    "annotation_count",
    "needs_review",
    "open_claims",
    "settled_claims",
)


class BlockKind(models.TextChoices):
    PARAGRAPH = "paragraph", "Paragraph"
    HEADING = "heading", "Heading"
    PHOTO_CREDIT = "photo_credit", "Photo credit"


@dataclass(frozen=True)
class BlockText:
    """A block as the importer or an editor hands it over, before it is stored."""

    kind: str
    text: str


def body_from_blocks(blocks: Sequence[BlockText]) -> str:
    """The article body: the blocks' text joined by a blank line (offsets count into it)."""
    return BLOCK_SEPARATOR.join(block.text for block in blocks)


def check_blocks(blocks: Sequence[BlockText]) -> None:
    """Refuse text an article cannot have: no blocks, or an empty block (the database refuses
    one too, but only by the name of its constraint)."""
    if not blocks:
        raise ValueError("An article needs at least one block of text.")
    for position, block in enumerate(blocks, 1):
        if not block.text.strip():
            raise ValueError(f"Block {position} of the article is empty.")


class ArticleQuerySet(models.QuerySet):
    def listed(self) -> "ArticleQuerySet":
        """The articles the lists show: all but the archived ones."""
        return self.filter(archived=False)


class Article(models.Model):
    source_id = models.CharField(
        "source id", max_length=200, unique=True, help_text="The seed file's name without .txt."
    )
    date = models.DateField()
    title = models.CharField(max_length=500)
    body = models.TextField(
        editable=False, help_text="The blocks' text joined by a blank line; offsets count into it."
    )
    content_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 of the imported content."
    )
    # Taking down an article that has annotations archives it rather than deleting it, which
    # would lose its annotations for good (newsroom/admin.py): it leaves the lists, and its
    # page, annotations and exports stay.
    archived = models.BooleanField(
        default=False,
        help_text="Archived articles are left out of the article lists; their page, "
        "annotations and exports stay.",
    )
    file_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the seed file's bytes as last imported: an unchanged file is "
        "recognised by it before it is parsed.",
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    annotations_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Advanced by every change to the article's annotations or text; open pages "
        "ask for what changed since the version they show.",
    )
    # How many annotations the article has, recounted by annotations/services/ in the
    # transaction of every change to them, so the lists can sort and filter by these numbers
    # without counting a million annotations for each page.
    annotation_count = models.PositiveIntegerField("annotations", default=0, editable=False)
    needs_review = models.PositiveIntegerField(
        "awaiting review", default=0, editable=False, help_text="Fuzzy or orphaned annotations."
    )
    open_claims = models.PositiveIntegerField(
        default=0, editable=False, help_text="Claims still open or waiting for a source."
    )
    settled_claims = models.PositiveIntegerField(
        default=0, editable=False, help_text="Claims verified, disputed or resolved."
    )

    history = HistoricalRecords(excluded_fields=["body", "file_hash", *KEPT_BY_ANNOTATIONS])
    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "title"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(source_id=""), name="article_source_id_set"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # The annotations' version and counts only move by their own UPDATE
        # (annotations/services/): an instance read before a change must not write older
        # numbers back, or open pages would miss changes, cached text would be taken for
        # current and the lists would count wrong.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in KEPT_BY_ANNOTATIONS
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("article_detail", args=[self.source_id])

    def blocks_with_starts(
        self, blocks: Sequence["Block"] | None = None
    ) -> Iterator[tuple["Block", int]]:
        """Each block with the offset in `body` where its text starts.

        Costs one query unless `blocks` (already fetched, in order) is given.
        """
        start = 0
        for block in self.blocks.all() if blocks is None else blocks:
            yield block, start
            start += len(block.text) + len(BLOCK_SEPARATOR)


class Block(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="blocks")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=BlockKind.choices, default=BlockKind.PARAGRAPH)
    text = models.TextField()

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="block_unique_position"),
            models.CheckConstraint(condition=~models.Q(text=""), name="block_text_set"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.position}"


class RevisionOrigin(models.TextChoices):
    IMPORT = "import", "Import"
    ADMIN = "admin", "Admin edit"


class ArticleRevision(models.Model):
    """An article's body as it was before a change, so nothing an annotation pointed at is lost."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(max_length=500)
    date = models.DateField()
    body = models.TextField(help_text="The body before this change.")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=10, choices=RevisionOrigin.choices)
    created = models.DateTimeField(auto_now_add=True)
    summary = models.CharField(max_length=300, blank=True)
    anchoring_report = models.JSONField(
        default=dict, blank=True, help_text="Counts of kept / moved / fuzzy / orphaned annotations."
    )

    class Meta:
        ordering = ["-created", "-id"]
        get_latest_by = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.article} — {self.created:%Y-%m-%d %H:%M}"

    def body_after(self) -> str:
        """The body this change produced: the next revision's old body, or the article's
        current body when this is the latest change. One query."""
        newer = (
            ArticleRevision.objects.filter(article_id=self.article_id, pk__gt=self.pk)
            .order_by("pk")
            .values_list("body", flat=True)
            .first()
        )
        if newer is not None:
            return newer
        return Article.objects.values_list("body", flat=True).get(pk=self.article_id)


def revision_summary(old_body: str, new_body: str) -> str:
    """A one-line, human summary of how a body changed, in paragraphs and characters."""
    old_blocks, new_blocks = old_body.split(BLOCK_SEPARATOR), new_body.split(BLOCK_SEPARATOR)
    added = removed = changed = 0
    matcher = difflib.SequenceMatcher(a=old_blocks, b=new_blocks, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "insert":
            added += j2 - j1
        elif tag == "delete":
            removed += i2 - i1
        elif tag == "replace":
            common = min(i2 - i1, j2 - j1)
            changed += common
            added += (j2 - j1) - common
            removed += (i2 - i1) - common
    parts = [
        f"{n} block{'s' if n != 1 else ''} {what}"
        for n, what in ((added, "added"), (removed, "removed"), (changed, "changed"))
        if n
    ]
    delta = len(new_body) - len(old_body)
    parts.append(f"{delta:+d} characters")
    return ", ".join(parts)


@dataclass(frozen=True)
class DiffRow:
    """One line of a readable diff between two bodies: a paragraph kept (`same`, shown for
    context), a run of kept paragraphs left out (`skip`, `count` of them), a paragraph
    `added` or `removed` whole, or one `changed`, as `pieces` of (`same`|`added`|`removed`,
    text) at word level."""

    kind: str
    text: str = ""
    count: int = 0
    pieces: tuple[tuple[str, str], ...] = ()


WORDS = re.compile(r"\w+|\s+|[^\w\s]")


def body_diff(old_body: str, new_body: str, *, context: int = 1) -> list[DiffRow]:
    """How `old_body` became `new_body`, paragraph by paragraph, changed paragraphs word by
    word; `context` unchanged paragraphs are shown around each change, the rest skipped."""
    old_blocks, new_blocks = old_body.split(BLOCK_SEPARATOR), new_body.split(BLOCK_SEPARATOR)
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old_blocks, b=new_blocks, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            kept = old_blocks[i1:i2]
            head = kept[:context] if index > 0 else []
            tail = kept[-context:] if index < len(opcodes) - 1 and context else []
            if len(head) + len(tail) >= len(kept):
                rows.extend(DiffRow("same", text) for text in kept)
                continue
            rows.extend(DiffRow("same", text) for text in head)
            rows.append(DiffRow("skip", count=len(kept) - len(head) - len(tail)))
            rows.extend(DiffRow("same", text) for text in tail)
            continue
        old_part, new_part = old_blocks[i1:i2], new_blocks[j1:j2]
        paired = min(len(old_part), len(new_part)) if tag == "replace" else 0
        for before, after in zip(old_part[:paired], new_part[:paired], strict=True):
            rows.append(DiffRow("changed", pieces=word_diff(before, after)))
        rows.extend(DiffRow("removed", text) for text in old_part[paired:])
        rows.extend(DiffRow("added", text) for text in new_part[paired:])
    return rows


def word_diff(before: str, after: str) -> tuple[tuple[str, str], ...]:
    """`before` turned into `after` as (`same`|`removed`|`added`, text) pieces, word by word."""
    old_words, new_words = WORDS.findall(before), WORDS.findall(after)
    pieces: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(("same", "".join(old_words[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(("removed", "".join(old_words[i1:i2])))
        if j2 > j1:
            pieces.append(("added", "".join(new_words[j1:j2])))
    return tuple(pieces)
