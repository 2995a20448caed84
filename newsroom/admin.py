"""The admin for articles: the list with annotation counts, editing the text, and revisions.

An article's text is edited as one text area in the seed format (blocks separated by a blank
line, classified as the importer does), not as an inline form per block: a 60-paragraph article
would post several hundred fields, past `DATA_UPLOAD_MAX_NUMBER_FIELDS`, and one text area is
how editors think of an article anyway. Saving goes through `replace_article_text`, so an
admin edit keeps the old body as a revision and re-anchors the annotations in the same
transaction as the change, like a re-import. Each revision opens as a word-level diff.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from annotations.admin import HistoryAdmin
from annotations.anchoring import AnchoringReport, Outcome
from annotations.models import Annotation, deleted_annotation_records
from annotations.services import replace_article_text, save_new_article

from .models import Article, ArticleRevision, BlockText, RevisionOrigin, body_diff
from .seedformat import (
    ImportRejected,
    check_no_control_characters,
    classify_block,
    split_blocks,
)


def blocks_from_text(text: str) -> list[BlockText]:
    """The blocks an admin typed: the body part of the seed format (docs/seed-format.md), by the
    importer's own rules, so an edit and an import of the same text give the same blocks.
    Raises ValidationError when there is no text or it holds characters that never belong."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        check_no_control_characters(text)
    except ImportRejected as error:
        # The importer's reason, e.g. "the control character U+0007 at line 3, column 9 does
        # not belong in article text".
        raise ValidationError(error.reason[:1].upper() + error.reason[1:] + ".") from None
    blocks = [classify_block(lines) for lines in split_blocks(text.split("\n"))]
    if not blocks:
        raise ValidationError(
            "An article needs some text. To take an article down, delete it instead.",
            code="empty",
        )
    return blocks


class ArticleAdminForm(forms.ModelForm):
    text = forms.CharField(
        required=False,  # an empty text gets our message, not "This field is required."
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "class": "article-text"}),
        help_text="Blocks separated by a blank line, as in a seed file: a short line without "
        "closing punctuation is a heading, a block starting “Photo:” a photo credit, anything "
        "else a paragraph. Line breaks inside a block and runs of spaces become one space. "
        "Saving re-anchors the article's annotations and keeps the old text as a revision.",
    )

    class Meta:
        model = Article
        fields = ["source_id", "date", "title", "archived"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["text"].initial = self.instance.body

    def clean_text(self) -> list[BlockText]:
        text = self.cleaned_data.get("text") or ""
        if self.instance.pk and text.replace("\r\n", "\n") == self.instance.body:
            # Untouched: keep the blocks as stored, kinds included (an older import may have
            # classified a block differently from today's rules).
            return [BlockText(b.kind, b.text) for b in self.instance.blocks.all()]
        return blocks_from_text(text)


class ExistsFilter(admin.SimpleListFilter):
    """A yes / no filter on whether `related()` has a row for the article."""

    options = [("yes", "Yes"), ("no", "No")]

    def related(self):
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return self.options

    def queryset(self, request, queryset):
        found = Exists(self.related().filter(article=OuterRef("pk")))
        if self.value() == "yes":
            return queryset.filter(found)
        if self.value() == "no":
            return queryset.exclude(found)
        return queryset


class NeedsReviewFilter(ExistsFilter):
    title = "annotations awaiting review"
    parameter_name = "review"
    options = [("yes", "Some fuzzy or orphaned"), ("no", "None")]

    def related(self):
        return Annotation.objects.needing_review()


class EditedFilter(ExistsFilter):
    title = "text changed since first import"
    parameter_name = "edited"

    def related(self):
        return ArticleRevision.objects.all()


@admin.register(Article)
class ArticleAdmin(HistoryAdmin):
    form = ArticleAdminForm
    list_display = ["title", "source_id", "date", "annotation_count", "needs_review", "modified"]
    list_display_links = ["title"]
    # Also what the annotation form's article autocomplete searches.
    search_fields = ["title", "source_id"]
    date_hierarchy = "date"
    list_filter = [NeedsReviewFilter, EditedFilter, "archived", "date"]
    ordering = ["-date", "title"]
    readonly_fields = ["content_hash", "created", "modified", "block_list", "revision_list"]
    fieldsets = [
        (None, {"fields": ["source_id", "date", "title", "archived"]}),
        ("Text", {"fields": ["text", "block_list"]}),
        ("Revisions", {"fields": ["revision_list"]}),
        ("Import", {"fields": ["content_hash", "created", "modified"], "classes": ["collapse"]}),
    ]
    history_list_display = ["title", "date", "archived"]
    actions = ["archive", "unarchive"]

    class Media:
        css = {"all": ["newsroom/admin-diff.css"]}

    def get_queryset(self, request):
        # The body, up to megabytes per article, is left out: only the change form reads it
        # (one query there). The counts are the article's own fields.
        return super().get_queryset(request).defer("body")

    def get_deleted_objects(self, objs, request):
        """Refuse to delete an article with annotations, live or deleted-but-restorable:
        they would be lost for good (a restore needs its article, and a re-import makes a
        new one). Archiving takes it out of the lists and keeps them."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for article in objs:
            live = Annotation.objects.filter(article_id=article.pk).count()
            gone = deleted_annotation_records().filter(article_id=article.pk).count()
            if live or gone:
                what = [
                    f"{n} {label}{'' if n == 1 else 's'}"
                    for n, label in ((live, "annotation"), (gone, "deleted annotation"))
                    if n
                ]
                protected.append(
                    f"“{article.title}” has {' and '.join(what)} (restorable from the "
                    "admin) that deleting it would lose for good. Archive it instead (the "
                    "“Archive selected articles” action, or the Archived box on its page): it "
                    "leaves the lists and keeps its annotations."
                )
        return deleted, counts, perms_needed, protected

    @admin.action(description="Archive selected articles (hide them from the lists)")
    def archive(self, request: HttpRequest, queryset) -> None:
        count = queryset.filter(archived=False).update(archived=True)
        self.message_user(request, f"Archived {count} article{'' if count == 1 else 's'}.")

    @admin.action(description="Unarchive selected articles (list them again)")
    def unarchive(self, request: HttpRequest, queryset) -> None:
        count = queryset.filter(archived=True).update(archived=False)
        self.message_user(request, f"Unarchived {count} article{'' if count == 1 else 's'}.")

    @admin.display(description="Blocks as stored")
    def block_list(self, article: Article) -> str:
        if not article.pk:
            return "–"
        items = format_html_join(
            "",
            '<li><span class="block-kind">{}</span> {}</li>',
            (
                (block.get_kind_display(), Truncator(block.text).chars(120))
                for block in article.blocks.all()
            ),
        )
        return format_html('<ol class="article-blocks">{}</ol>', items)

    @admin.display(description="Earlier versions of the text")
    def revision_list(self, article: Article) -> str:
        if not article.pk:
            return "–"
        revisions = article.revisions.select_related("changed_by").defer("body", "title")
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:newsroom_article_revision", args=[article.pk, revision.pk]),
                    f"{revision.created:%Y-%m-%d %H:%M}",
                    revision.get_origin_display(),
                    revision.changed_by or "–",
                    revision.summary,
                    describe_report(revision.anchoring_report),
                )
                for revision in revisions
            ),
        )
        if not rows:
            return "None: the text is as first imported or entered."
        return format_html(
            '<table class="article-revisions"><thead><tr><th scope="col">When</th>'
            '<th scope="col">Through</th><th scope="col">By</th><th scope="col">What changed</th>'
            '<th scope="col">Annotations after it</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            rows,
        )

    def revert_disabled(self, request, obj=None) -> bool:
        # The article's history leaves the body out (revisions keep it), so reverting a
        # history record could not bring the text back: no half-reverts.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            # `revert_disabled` only hides the button; a crafted POST must not save either.
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def save_model(self, request, obj: Article, form, change) -> None:
        """Save the article with its text: a new one as it is; a changed one through
        `replace_article_text` (a revision, the blocks, re-anchoring), reporting what
        happened to the annotations. The admin wraps this in the request's transaction."""
        blocks = form.cleaned_data["text"]
        obj._history_user = request.user
        if not change:
            save_new_article(obj, blocks)
            return
        revision = replace_article_text(
            obj,
            date=obj.date,
            title=obj.title,
            blocks=blocks,
            changed_by=request.user,
            origin=RevisionOrigin.ADMIN,
        )
        if revision is None:
            return
        report = AnchoringReport(**revision.anchoring_report)
        self.message_user(
            request,
            format_html(
                'Text changed: {}. <a href="{}">See what changed</a>.',
                report.describe(),
                reverse("admin:newsroom_article_revision", args=[obj.pk, revision.pk]),
            ),
            messages.WARNING if report.needs_review else messages.SUCCESS,
        )

    # The diff of one revision -------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/revisions/<int:revision_id>/",
                self.admin_site.admin_view(self.revision_view),
                name="newsroom_article_revision",
            ),
            *super().get_urls(),
        ]

    def revision_view(self, request: HttpRequest, object_id: str, revision_id: int):
        """One change to an article's text: who and when, what it did to the annotations,
        and the text before and after, paragraph by paragraph, word by word."""
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("No such article.")
        if not self.has_view_permission(request, article):
            raise PermissionDenied
        revision = get_object_or_404(
            ArticleRevision.objects.select_related("changed_by"), pk=revision_id, article=article
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": article,
            "title": f"Change of {revision.created:%Y-%m-%d %H:%M} to “{article}”",
            "revision": revision,
            "report": describe_report(revision.anchoring_report),
            "rows": body_diff(revision.body, revision.body_after()),
        }
        return TemplateResponse(request, "admin/newsroom/article/revision_diff.html", context)


def describe_report(report: dict) -> str:
    if not report or not any(report.get(outcome) for outcome in Outcome):
        return "No annotations"
    return AnchoringReport.from_dict(report).describe()
