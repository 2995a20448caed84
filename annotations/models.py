"""Tags, annotations and API tokens, with the queries that recur over them (docs/data-model.md).

Changes to annotations are made in `annotations/services/`, not here.
"""

import hashlib
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import RegexValidator
from django.db import connections, models
from django.db.models import Count, F, Max, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.db.models.sql.constants import MULTI
from django.utils import timezone

from newsroom.history import HistoricalRecords
from newsroom.models import Article

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour like #1d4ed8.")
DEFAULT_COLOUR = "#6b7280"
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


def safe_colour(value: object) -> str:
    """`value` if it is a #rrggbb colour, else the default tag colour.

    Forms and the admin validate a tag's colour; the ORM does not (a bulk update, a fixture),
    so whatever writes a colour into a style sheet or an attribute asks here first.
    """
    if isinstance(value, str) and _HEX_COLOUR.fullmatch(value):
        return value
    return DEFAULT_COLOUR


class Tag(models.Model):
    label = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    color = models.CharField(
        "colour", max_length=7, validators=[hex_colour], default=DEFAULT_COLOUR
    )
    shortcut = models.CharField(
        "keyboard shortcut",
        max_length=1,
        blank=True,
        help_text="One letter or digit that tags the current selection.",
        validators=[RegexValidator(r"^[a-z0-9]$", "Use one lower-case letter or digit.")],
    )
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order in the toolbar.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["shortcut"], condition=~models.Q(shortcut=""), name="tag_unique_shortcut"
            ),
            models.CheckConstraint(condition=~models.Q(slug=""), name="tag_slug_set"),
        ]

    def __str__(self) -> str:
        return self.label


class AnchorStatus(models.TextChoices):
    ANCHORED = "anchored", "Anchored"
    FUZZY = "fuzzy", "Fuzzy (awaiting review)"
    ORPHANED = "orphaned", "Orphaned"


class ReviewState(models.TextChoices):
    """Where a fact-check of the annotated passage stands (docs/data-model.md)."""

    OPEN = "open", "Open"
    NEEDS_SOURCE = "needs-source", "Needs a source"
    VERIFIED = "verified", "Verified"
    DISPUTED = "disputed", "Disputed"
    RESOLVED = "resolved", "Resolved"


# A verdict on a claim or a figure must say what it rests on.
VERDICT_STATES = (ReviewState.VERIFIED, ReviewState.DISPUTED)
# The tag the desk follows claims by: its open claims, its statistics, the articles' counts.
CLAIM_TAG = "claim"
TAGS_NEEDING_SOURCES = (CLAIM_TAG, "figure")
# A claim in these states still waits for the desk; in the others it is settled.
UNSETTLED_STATES = (ReviewState.OPEN, ReviewState.NEEDS_SOURCE)
SETTLED_STATES = tuple(state for state in ReviewState if state not in UNSETTLED_STATES)


# An editor should look at these: fuzzy ones sit on similar words, orphaned ones on none.
NEEDS_REVIEW = (AnchorStatus.FUZZY, AnchorStatus.ORPHANED)


# Sorts orphaned annotations after the placed ones (see `in_reading_order`).
ORPHANED_LAST = models.Case(
    models.When(status=AnchorStatus.ORPHANED, then=models.Value(1)),
    default=models.Value(0),
    output_field=models.IntegerField(),
)


class AnnotationQuerySet(models.QuerySet):
    def for_article(self, article: Article) -> "AnnotationQuerySet":
        return self.filter(article=article)

    def needing_review(self) -> "AnnotationQuerySet":
        return self.filter(status__in=NEEDS_REVIEW)

    def duplicates_of(self, *, article, start, end, tag) -> "AnnotationQuerySet":
        """Annotations with the same tag on exactly this passage."""
        return self.filter(article=article, start=start, end=end, tag=tag)

    def with_reply_count(self) -> "AnnotationQuerySet":
        """Each with `reply_count`, counted by a subquery (no GROUP BY over every column)."""
        replies = (
            Reply.objects.filter(annotation=OuterRef("pk"))
            .order_by()
            .values("annotation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(reply_count=Coalesce(Subquery(replies), Value(0)))

    def with_desk(self) -> "AnnotationQuerySet":
        """With what the desk shows about each: who reviewed it, the annotation it answers, the
        ones answering it (`answered_by`), and `reply_count`; a fixed number of queries."""
        answering = Annotation.objects.select_related("tag").order_by("start", "end", "id")
        return (
            self.select_related("reviewed_by", "answers__tag")
            .with_reply_count()
            .prefetch_related(models.Prefetch("answered_by", queryset=answering))
        )

    def count_per_tag(self) -> dict[tuple[int, int], int]:
        """{(article id, tag id): how many of these annotations}, grouped in the database."""
        rows = self.order_by().values_list("article_id", "tag_id").annotate(n=Count("pk"))
        return {(article, tag): n for article, tag, n in rows}

    def with_related(self) -> "AnnotationQuerySet":
        return self.select_related("article", "tag", "author", "reviewed_by")

    def in_reading_order(self) -> "AnnotationQuerySet":
        """As the passages come in the text, and the orphaned ones (no place in it now) last;
        the id keeps equal passages in a stable order. The page's list, the API and the
        exports all list annotations this way. Adds the alias `orphaned` (0 or 1)."""
        return self.alias(orphaned=ORPHANED_LAST).order_by("orphaned", "start", "end", "id")

    def export_order(self) -> "AnnotationQuerySet":
        """Newest article first (the source id breaks ties), each in reading order: the CSV
        and the JSON-LD exports list annotations alike.

        `start` and `id` are sorted as `+ 0`: named bare, SQLite's planner reads the whole
        table through an index that begins with the article (`(article, start)`, or the
        article's with the id), which visits the rows in no order on disk and cost a tenth of
        an export; it sorts everything after reading either way.
        """
        return self.alias(orphaned=ORPHANED_LAST).order_by(
            "-article__date", "article__source_id", "orphaned", F("start") + 0, "end", F("id") + 0
        )

    def export_rows(self, *fields: str, chunk_size: int) -> Iterator[list[tuple]]:
        """`rows` in export order."""
        return self.export_order().rows(*fields, chunk_size=chunk_size)

    def rows(self, *fields: str, chunk_size: int) -> Iterator[list[tuple]]:
        """`fields` of each annotation in this queryset's order, in lists of up to
        `chunk_size` tuples of the values as the database driver hands them over.

        For the exports and the API's lists, which read many annotations: the ORM's
        conversion of each value (`values_list()`) cost as much as writing the row. So dates
        come as dates, times as aware datetimes from PostgreSQL and as the text stored from
        SQLite (in UTC,
        "2025-08-08 14:03:07.120000": the driver would parse it into a datetime only for the
        export to format it back). Rows are read a chunk at a time (a server-side cursor on
        PostgreSQL), so memory stays flat; the query runs when the first chunk is asked for,
        and closing the iterator closes the cursor.
        """
        connection = connections[self.db]
        if connection.vendor == "sqlite":
            fields = tuple(self._as_stored_text(name) for name in fields)
        query = self.values_list(*fields).query
        chunked = not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
        yield from query.get_compiler(self.db).execute_sql(
            MULTI, chunked_fetch=chunked, chunk_size=chunk_size
        )

    def _as_stored_text(self, name: str) -> str | Cast:
        """The field `name`, a time read as its text (SQLite), anything else as it is."""
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name  # an annotation such as `reply_count`
        return Cast(name, models.TextField()) if isinstance(field, models.DateTimeField) else name


class Annotation(models.Model):
    # Every index is written by every create; these two are the first column of the composite
    # indexes below, which serve every lookup a single-column index would.
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    tag = models.ForeignKey(
        Tag, on_delete=models.PROTECT, related_name="annotations", db_index=False
    )
    start = models.PositiveIntegerField(help_text="Code-point offset into the article body.")
    end = models.PositiveIntegerField(help_text="Exclusive end offset.")
    quote = models.TextField(help_text="The exact text between start and end when annotated.")
    prefix = models.TextField(blank=True, help_text="Text just before the quote.")
    suffix = models.TextField(blank=True, help_text="Text just after the quote.")
    note = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="annotations",
    )
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    status = models.CharField(
        max_length=10, choices=AnchorStatus.choices, default=AnchorStatus.ANCHORED
    )
    version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Advanced by each change a person makes; an edit based on an older version "
        "is refused instead of overwriting the newer one.",
    )
    # Not indexed, nor is `reviewed_by`: only deleting a user looks annotations up by them.
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    edited_at = models.DateTimeField(null=True, blank=True, editable=False)

    review_state = models.CharField(
        "review state", max_length=12, choices=ReviewState.choices, default=ReviewState.OPEN
    )
    review_source = models.CharField(
        "review source",
        max_length=1000,
        blank=True,
        help_text="What the verdict rests on: a URL or a citation.",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    answers = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answered_by",
        help_text="The annotation this one answers (a rebuttal or a figure answering a claim).",
    )

    # Its records are looked up by annotation (`id`), never by what they point at: their
    # foreign keys go unindexed, one index fewer to write per record.
    history = HistoricalRecords(
        no_db_index=["article", "tag", "author", "edited_by", "reviewed_by", "answers"]
    )
    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["article", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="annotation_start_before_end"
            ),
            models.CheckConstraint(condition=~models.Q(quote=""), name="annotation_quote_set"),
        ]
        indexes = [
            models.Index(fields=["article", "start"], name="annotation_article_start"),
            models.Index(fields=["review_state"], name="annotation_review_state"),
            # An article's annotations awaiting review, recounted after each change to it
            # (services/counts.py): a seek over the few fuzzy or orphaned ones, not a read of
            # every annotation of the article.
            models.Index(fields=["status", "article"], name="annotation_status_article"),
            models.Index(
                fields=["tag", "review_state", "author"], name="annotation_tag_review_author"
            ),
            models.Index(
                fields=["tag", "review_state", "article"], name="annotation_tag_review_article"
            ),
            # The desk's lists, newest first: every column it filters on, so a page walks the
            # index alone whatever the filters (annotations/finding.py).
            models.Index(
                fields=["created", "tag", "review_state", "status", "author", "article"],
                name="annotation_desk",
            ),
        ]

    def __str__(self) -> str:
        # A history record may name a tag deleted since (the admin refuses that now, but
        # older data may have it): its History page must still show.
        try:
            tag = self.tag
        except Tag.DoesNotExist:
            tag = "(deleted tag)"
        return f"{tag}: {self.quote[:60]}"


class TagStateCount(models.Model):
    """How many annotations of one kind have `tag` and are in `review_state` now. Written by
    annotations/services/ in the transaction of every change that moves an annotation from
    one count to another; `rebuild_counts` recounts them all. The statistics read these few
    rows instead of counting the annotations."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    review_state = models.CharField(max_length=12, choices=ReviewState.choices)
    count = models.IntegerField(default=0)

    class Meta:
        abstract = True


class DailyCount(TagStateCount):
    """The annotations made on `day` (in the site's time zone)."""

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "tag", "review_state"], name="daily_count_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.tag_id} {self.review_state}: {self.count}"


class EditorCount(TagStateCount):
    """`author`'s annotations. Annotations without an author (the account was deleted) are
    not here: they are what the daily counts hold beyond these."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["author", "tag", "review_state"], name="editor_count_unique_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_id} {self.tag_id} {self.review_state}: {self.count}"


class ChangeKind(models.TextChoices):
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    TEXT = "text", "Article text changed"


class AnnotationEvent(models.Model):
    """One change to an article's annotations, at the article version it produced.

    Open pages ask for the events after the version they show and redraw only what those
    touched; the old place says which stretch of text lost a highlight. Written by
    annotations/services/ only.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    annotation_id = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    old_start = models.PositiveIntegerField(null=True, blank=True)
    old_end = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["article", "version", "id"]
        indexes = [models.Index(fields=["article", "version"], name="event_article_version")]

    def __str__(self) -> str:
        return f"{self.kind} {self.annotation_id} at version {self.version}"


def deleted_annotation_records():
    """The last history record ("-") of every annotation that is deleted now, newest first.

    One query. An annotation restored and deleted again has two "-" records; only the later
    one is listed.
    """
    history = Annotation.history
    latest = (
        history.filter(history_type="-")
        .values("id")
        .annotate(last=Max("history_id"))
        .values("last")
    )
    return (
        history.filter(history_id__in=latest)
        .exclude(id__in=Annotation.objects.values("id"))
        .select_related("history_user", "tag", "article")
        .defer("article__body")
        .order_by("-history_date", "-history_id")
    )


class Reply(models.Model):
    """A short answer under an annotation, in a thread (a W3C annotation "replying" to it)."""

    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="replies"
    )
    text = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "replies"
        ordering = ["created", "id"]
        constraints = [models.CheckConstraint(condition=~models.Q(text=""), name="reply_text_set")]

    def __str__(self) -> str:
        return self.text[:60]


class MentionQuerySet(models.QuerySet):
    def unread(self) -> "MentionQuerySet":
        return self.filter(read__isnull=True)


class Mention(models.Model):
    """`@username` in a note or a reply: the colleague finds it under "For you"."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="mentions")
    reply = models.ForeignKey(
        Reply, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions"
    )
    mentioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    read = models.DateTimeField(null=True, blank=True)

    objects = MentionQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "read"], name="mention_user_read")]

    def __str__(self) -> str:
        return f"@{self.user} in {self.annotation_id}"


class ApiToken(models.Model):
    """A per-user bearer token for scripts (see docs/api.md). Only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(
        max_length=100, help_text="What the token is for, e.g. 'fact-check desk'."
    )
    prefix = models.CharField(
        max_length=12, editable=False, help_text="First characters, to tell tokens apart."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, help_text="Set to revoke the token.")

    class Meta:
        verbose_name = "API token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user, name: str) -> tuple["ApiToken", str]:
        """Create a token; the raw value is returned once and never stored."""
        raw = "nwr_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[:12], digest=cls.digest_of(raw))
        return token, raw

    @classmethod
    def user_for(cls, raw: str):
        """The active user a raw token belongs to, or None. Costs one query, plus an update of
        `last_used` when it is older than `LAST_USED_PRECISION`: a script's every read
        would otherwise be a write too."""
        token = (
            cls.objects.select_related("user")
            .filter(digest=cls.digest_of(raw), revoked__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        now = timezone.now()
        if token.last_used is None or now - token.last_used >= LAST_USED_PRECISION:
            cls.objects.filter(pk=token.pk).update(last_used=now)
        return token.user


# How up to date a token's `last_used` is kept.
LAST_USED_PRECISION = timedelta(minutes=1)
