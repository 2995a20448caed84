"""Tags and annotations (SPEC §3), and the domain functions that change annotations.

Views and the API call these functions; they check the data (not the permission: that is the
caller's access helper) and raise `AnnotationError` with a message a person understands.
"""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.models import HistoricalRecords

from newsroom.models import Article


class AnnotationError(Exception):
    """Input an editor or a client sent that we refuse, with the reason in plain words.

    `status` is the HTTP status the API answers with (400 bad input, 409 conflict with the
    article's current text).
    """

    def __init__(self, message: str, *, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a colour like #1d4ed8.")


class Tag(models.Model):
    label = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    color = models.CharField("colour", max_length=7, validators=[hex_colour], default="#6b7280")
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


class AnnotationQuerySet(models.QuerySet):
    def for_article(self, article: Article) -> "AnnotationQuerySet":
        return self.filter(article=article)

    def anchored(self) -> "AnnotationQuerySet":
        return self.filter(status=AnchorStatus.ANCHORED)

    def needing_review(self) -> "AnnotationQuerySet":
        return self.exclude(status=AnchorStatus.ANCHORED)

    def with_related(self) -> "AnnotationQuerySet":
        return self.select_related("article", "tag", "author")


class Annotation(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="annotations")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="annotations")
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

    history = HistoricalRecords()
    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["article", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="annotation_start_before_end"
            ),
            models.CheckConstraint(condition=~models.Q(quote=""), name="annotation_quote_set"),
        ]
        indexes = [models.Index(fields=["article", "start"], name="annotation_article_start")]

    def __str__(self) -> str:
        return f"{self.tag}: {self.quote[:60]}"


def context_around(body: str, start: int, end: int) -> tuple[str, str]:
    """The prefix and suffix stored with a quote, for re-anchoring (SPEC §3)."""
    n = settings.ANNOTATION_CONTEXT_LENGTH
    return body[max(0, start - n) : start], body[end : end + n]


def check_note(note: str) -> str:
    limit = settings.ANNOTATION_NOTE_MAX_LENGTH
    if len(note) > limit:
        raise AnnotationError(
            f"The note is {len(note):,} characters long; the limit is {limit:,}.", field="note"
        )
    return note


def check_selection(article: Article, start, end, quote: str) -> tuple[int, int]:
    """Refuse a selection that is empty, out of range, or whose quote differs from the body."""
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        raise AnnotationError("The selection's start and end must be whole numbers.") from None
    if start < 0 or end > len(article.body):
        raise AnnotationError(
            f"The selection {start}–{end} lies outside the article (0–{len(article.body)})."
        )
    if start >= end:
        raise AnnotationError("The selection is empty: select some text first.")
    if not quote or not quote.strip():
        raise AnnotationError("The selection holds only white space: select some words.")
    if article.body[start:end] != quote:
        raise AnnotationError(
            "The selected text no longer matches the article (it may have changed since you "
            "opened it). Reload the page and select the passage again.",
            status=409,
        )
    return start, end


@transaction.atomic
def create_annotation(
    *, article: Article, tag: Tag, start, end, quote: str, note: str = "", author
) -> Annotation:
    """Create an annotation after checking the selection against the article's current body.

    The article row is locked (PostgreSQL) so a concurrent re-import cannot change the body
    between the check and the insert.
    """
    article = Article.objects.select_for_update().get(pk=article.pk)
    start, end = check_selection(article, start, end, quote)
    prefix, suffix = context_around(article.body, start, end)
    return Annotation.objects.create(
        article=article,
        tag=tag,
        start=start,
        end=end,
        quote=quote,
        prefix=prefix,
        suffix=suffix,
        note=check_note(note),
        author=author,
    )


def lock_for_change(annotation: Annotation) -> None:
    """Lock the annotation's article, then the annotation, and reload it (call in a transaction).

    Another editor, a re-import or a second tab may have moved or deleted the annotation since
    it was read: the change then applies to what is stored now, and a deleted annotation is
    refused instead of being written back. The article comes first, in the same order as
    re-anchoring takes its locks, so the two cannot deadlock.
    """
    list(Article.objects.select_for_update().filter(pk=annotation.article_id).values("pk"))
    try:
        annotation.refresh_from_db(from_queryset=Annotation.objects.select_for_update())
    except Annotation.DoesNotExist:
        raise AnnotationError(
            "This annotation has been deleted meanwhile (in another tab or by someone else). "
            "Reload the page to see the current annotations.",
            status=409,
        ) from None


@transaction.atomic
def update_annotation(annotation: Annotation, *, tag: Tag | None = None, note: str | None = None):
    """Change an annotation's tag and/or note; only the given fields are written."""
    lock_for_change(annotation)
    fields = []
    if tag is not None and tag.pk != annotation.tag_id:
        annotation.tag = tag
        fields.append("tag")
    if note is not None and note != annotation.note:
        annotation.note = check_note(note)
        fields.append("note")
    if fields:
        annotation.save(update_fields=[*fields, "modified"])
    return annotation


@transaction.atomic
def reselect_annotation(annotation: Annotation, *, start, end, quote: str) -> Annotation:
    """Put an annotation on a new passage (accepting a fuzzy match or re-attaching an orphan)."""
    lock_for_change(annotation)
    article = Article.objects.get(pk=annotation.article_id)
    start, end = check_selection(article, start, end, quote)
    annotation.start, annotation.end, annotation.quote = start, end, quote
    annotation.prefix, annotation.suffix = context_around(article.body, start, end)
    annotation.status = AnchorStatus.ANCHORED
    annotation.save()
    return annotation


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


@transaction.atomic
def restore_deleted_annotation(record) -> tuple[Annotation, str]:
    """Bring back a deleted annotation from its last history record, with its original id.

    If the article's text changed after the delete, the annotation is re-anchored as it would
    have been had it stayed. Returns the annotation and what became of its place: "kept",
    "moved", "fuzzy" (awaits review) or "orphaned". Refuses (AnnotationError) when the
    annotation exists again or its article or tag is gone.
    """
    from annotations.anchoring import reanchor_restored  # anchoring builds on these models

    # The article's lock first: two Undo clicks at once then restore once and refuse once.
    article = Article.objects.select_for_update().filter(pk=record.article_id).first()
    if Annotation.objects.filter(pk=record.id).exists():
        raise AnnotationError("This annotation has already been restored.", status=409)
    if article is None:
        raise AnnotationError(
            "This annotation cannot be restored: its article has been deleted.", status=409
        )
    if not Tag.objects.filter(pk=record.tag_id).exists():
        raise AnnotationError(
            "This annotation cannot be restored: its tag has been deleted. "
            "Add the tag again first.",
            status=409,
        )
    annotation: Annotation = record.instance
    if (
        annotation.author_id
        and not get_user_model().objects.filter(pk=annotation.author_id).exists()
    ):
        annotation.author_id = None
    outcome = reanchor_restored(annotation, article, record.history_date)
    annotation._change_reason = "Restored"
    annotation.save(force_insert=True)
    # auto_now_add stamped the restore time on `created`, in the row and in the history record
    # just written; the annotation was made when it was made.
    Annotation.objects.filter(pk=annotation.pk).update(created=record.created)
    restored = Annotation.history.filter(id=annotation.pk).order_by("-history_id").first()
    restored.created = annotation.created = record.created
    restored.save(update_fields=["created"])
    return annotation, outcome


class ApiToken(models.Model):
    """A per-user bearer token for scripts (SPEC §8). Only its SHA-256 digest is stored."""

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
        """The active user a raw token belongs to, or None. Costs one query (plus an update)."""
        token = (
            cls.objects.select_related("user")
            .filter(digest=cls.digest_of(raw), revoked__isnull=True, user__is_active=True)
            .first()
        )
        if token is None:
            return None
        cls.objects.filter(pk=token.pk).update(last_used=timezone.now())
        return token.user
