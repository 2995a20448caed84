"""The admin for tags, annotations and API tokens.

Both use simple-history's admin, so each object has a History page (who changed what, when).
Deleted annotations are listed at `annotation/recover/`, where staff restore them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from simple_history.admin import SimpleHistoryAdmin

from .anchoring import Outcome
from .export import csv_chunks, streamed_download
from .models import (
    CLAIM_TAG,
    AnchorStatus,
    Annotation,
    ApiToken,
    Reply,
    ReviewState,
    Tag,
    deleted_annotation_records,
    safe_colour,
)
from .services import (
    AnnotationError,
    add_reply,
    check_answer,
    check_note,
    check_selection,
    delete_annotation,
    delete_annotations,
    delete_reply,
    edit_reply,
    needs_source,
    recount_articles,
    restore_deleted_annotation,
    save_annotation,
)


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's admin, answering 404 for an id that is not one (`tag/x/history/`):
    its views look the id up as it comes, and a text in a number field is a ValueError. A
    list filtered on a number no column holds (`?tag=99…9`) gets the admin's own "invalid
    filter" answer instead of SQLite's OverflowError."""

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from None

    def checked_id(self, object_id: str) -> str:
        try:
            self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            raise Http404(
                f"There is no {self.opts.verbose_name} with the id {object_id!r}."
            ) from None
        return object_id

    def history_view(self, request, object_id, extra_context=None):
        return super().history_view(request, self.checked_id(object_id), extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        return super().history_form_view(
            request, self.checked_id(object_id), version_id, extra_context
        )


def colour_swatch(colour: str, label: str) -> str:
    """A small square of `colour` as inline SVG.

    Our CSP forbids style attributes, the admin's pages included, so the colour travels in an
    SVG `fill` attribute (a presentation attribute, not a style), through `safe_colour`, so a
    row written around the form cannot put arbitrary text into an attribute.
    """
    fill = safe_colour(colour)
    return format_html(
        '<svg class="tag-swatch" width="16" height="16" viewBox="0 0 16 16" role="img" '
        'aria-label="{} colour {}"><rect width="16" height="16" rx="3" fill="{}"/></svg>',
        label,
        fill,
        fill,
    )


class TagAdminForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["label", "slug", "color", "shortcut", "description", "position"]
        widgets = {"color": forms.TextInput(attrs={"type": "color"})}

    def clean_shortcut(self) -> str:
        # The database refuses a second tag on the same key, but only with the constraint's
        # name; say which tag already has it.
        shortcut = (self.cleaned_data.get("shortcut") or "").strip().lower()
        if shortcut:
            taken = Tag.objects.filter(shortcut=shortcut).exclude(pk=self.instance.pk).first()
            if taken is not None:
                raise ValidationError(
                    "The shortcut “%(key)s” is already used by the tag “%(tag)s”. "
                    "Choose another letter or digit, or leave it empty.",
                    code="unique",
                    params={"key": shortcut, "tag": taken.label},
                )
        return shortcut


@admin.register(Tag)
class TagAdmin(HistoryAdmin):
    form = TagAdminForm
    list_display = ["swatch", "label", "slug", "shortcut", "position", "annotation_count"]
    list_display_links = ["swatch", "label"]
    search_fields = ["label", "slug"]  # also serves the annotation form's tag autocomplete
    prepopulated_fields = {"slug": ["label"]}
    ordering = ["position", "label"]
    history_list_display = ["label", "shortcut", "color"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(annotation_count=Count("annotations"))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The articles count their claims by the tag's slug: when a tag takes the claims'
        # slug or gives it up, every article's claims are counted again (in this transaction).
        if change and "slug" in form.changed_data and CLAIM_TAG in (form.initial["slug"], obj.slug):
            recount_articles()

    def get_deleted_objects(self, objs, request):
        """Refuse to delete a tag that an annotation's history still names: every History
        page and restore of such an annotation needs it."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for tag in objs:
            named = Annotation.history.filter(tag_id=tag.pk).values("id").distinct().count()
            if named:
                protected.append(
                    f"The history of {named} annotation{'' if named == 1 else 's'} names the "
                    f"tag “{tag.label}”: deleting it would break their History pages and "
                    "restores. Rename the tag instead, or keep it."
                )
        return deleted, counts, perms_needed, protected

    @admin.display(description="Colour")
    def swatch(self, tag: Tag) -> str:
        return colour_swatch(tag.color, tag.label)

    @admin.display(description="Annotations", ordering="annotation_count")
    def annotation_count(self, tag: Tag) -> int:
        return tag.annotation_count


class AnnotationAdminForm(forms.ModelForm):
    """Keeps the data model's promise in the admin too: an anchored annotation's quote is the
    text at its offsets. Fuzzy and orphaned ones, by definition, may differ from the body."""

    class Meta:
        model = Annotation
        fields = [
            "article",
            "tag",
            "start",
            "end",
            "quote",
            "note",
            "author",
            "status",
            "review_state",
            "review_source",
            "answers",
        ]

    def clean_note(self) -> str:
        try:
            return check_note(self.cleaned_data.get("note", ""))
        except AnnotationError as error:
            raise ValidationError(error.message) from None

    def clean(self):
        cleaned = super().clean()
        self.check_desk(cleaned)
        article = cleaned.get("article")
        start, end, quote = cleaned.get("start"), cleaned.get("end"), cleaned.get("quote")
        if cleaned.get("status") == AnchorStatus.ANCHORED and article and None not in (start, end):
            try:
                check_selection(article, start, end, quote or "")
            except AnnotationError as error:
                raise ValidationError(
                    "%(reason)s The article's text at %(start)s–%(end)s is “%(actual)s”.",
                    params={
                        "reason": error.message,
                        "start": start,
                        "end": end,
                        "actual": Truncator(article.body[start:end]).chars(200),
                    },
                ) from None
        return cleaned

    def check_desk(self, cleaned) -> None:
        """The desk's rules, as the pages and the API keep them: a verdict on a claim or a
        figure has a source; an annotation answers another of its own article, in no circle."""
        tag, state = cleaned.get("tag"), cleaned.get("review_state")
        cleaned["review_source"] = (cleaned.get("review_source") or "").strip()
        if tag is not None and state:
            probe = Annotation(tag=tag)
            if needs_source(probe, state) and not cleaned["review_source"]:
                self.add_error(
                    "review_source",
                    f"A {tag.label.lower()} marked {ReviewState(state).label.lower()} needs a "
                    "source (a URL or a citation).",
                )
        answered, article = cleaned.get("answers"), cleaned.get("article")
        if answered is not None and article is not None:
            probe = Annotation(pk=self.instance.pk, article=article)
            try:
                check_answer(probe, answered)
            except AnnotationError as error:
                self.add_error("answers", error.message)


class ReplyInline(admin.TabularInline):
    """The annotation's thread; saved through the services, so mentions follow the text."""

    model = Reply
    fields = ["text", "author", "created", "modified"]
    readonly_fields = ["author", "created", "modified"]
    extra = 0


@admin.register(Annotation)
class AnnotationAdmin(HistoryAdmin):
    form = AnnotationAdminForm
    list_display = [
        "id",
        "tag",
        "quote_excerpt",
        "note_excerpt",
        "article",
        "author",
        "status",
        "review_state",
        "modified",
    ]
    list_display_links = ["id", "quote_excerpt"]
    list_filter = [
        "tag",
        ("author", admin.RelatedOnlyFieldListFilter),
        ("article", admin.RelatedOnlyFieldListFilter),
        "status",
        "review_state",
    ]
    search_fields = ["quote", "note"]
    autocomplete_fields = ["article", "tag", "author", "answers"]
    list_select_related = ["tag", "article", "author"]
    readonly_fields = ["prefix", "suffix", "created", "modified", "reviewed_by", "reviewed_at"]
    inlines = [ReplyInline]
    fieldsets = [
        (None, {"fields": ["article", "tag", "note", "author"]}),
        (
            "Passage",
            {
                "fields": ["status", "start", "end", "quote", "prefix", "suffix"],
                "description": "Offsets count Unicode code points of the article body; an "
                "anchored annotation's quote must be exactly the text between them.",
            },
        ),
        (
            "Review",
            {
                "fields": [
                    "review_state",
                    "review_source",
                    "reviewed_by",
                    "reviewed_at",
                    "answers",
                ],
                "description": "A verdict (verified or disputed) on a claim or a figure needs "
                "a source. “Answers” is the annotation of the same article this one answers.",
            },
        ),
        ("Times", {"fields": ["created", "modified"]}),
    ]
    date_hierarchy = "modified"
    actions = ["export_csv"]
    history_list_display = ["status", "tag", "note"]

    def get_queryset(self, request):
        # The changelist shows article titles only; never pull every article's body.
        return super().get_queryset(request).defer("article__body")

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="Quote")
    def quote_excerpt(self, annotation: Annotation) -> str:
        return Truncator(annotation.quote).chars(80)

    @admin.display(description="Note")
    def note_excerpt(self, annotation: Annotation) -> str:
        return Truncator(annotation.note).chars(60)

    # Saving and deleting go through the services like every other change, so the article's
    # version advances and open pages show what the admin did.

    def save_model(self, request, obj: Annotation, form, change) -> None:
        if {"review_state", "review_source"} & set(form.changed_data):
            obj.reviewed_by, obj.reviewed_at = request.user, timezone.now()
        try:
            save_annotation(obj, actor=request.user)
        except AnnotationError as error:
            raise PermissionDenied(error.message) from None

    def delete_model(self, request, obj: Annotation) -> None:
        try:
            delete_annotation(obj, actor=request.user)
        except AnnotationError:
            pass  # deleted meanwhile: what the admin asked for is done

    def delete_queryset(self, request, queryset) -> None:
        delete_annotations(queryset.select_related(None).defer(None), actor=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        """Replies go through the services (mentions follow their text), one by one."""
        if formset.model is not Reply:
            return super().save_formset(request, form, formset, change)
        replies = formset.save(commit=False)
        for reply in formset.deleted_objects:
            delete_reply(reply, actor=request.user)
        for reply in replies:
            try:
                if reply.pk is None:
                    add_reply(form.instance, author=request.user, text=reply.text)
                else:
                    edit_reply(reply, text=reply.text, actor=request.user)
            except AnnotationError as error:
                self.message_user(request, error.message, messages.ERROR)

    @admin.action(description="Export selected annotations as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M%S")
        return streamed_download(csv_chunks(queryset), filename=f"annotations-selected-{stamp}.csv")

    # Restoring deleted annotations --------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "recover/",
                self.admin_site.admin_view(self.recover_list_view),
                name="{}_{}_recover_list".format(*info),
            ),
            path(
                "recover/<int:history_id>/",
                self.admin_site.admin_view(self.recover_view),
                name="{}_{}_recover".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "recover_url": reverse("admin:annotations_annotation_recover_list"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def recover_list_view(self, request: HttpRequest):
        """The deleted annotations, latest deletion first, each with a Restore button."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        records = deleted_annotation_records()[:200]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Recover deleted annotations",
            "records": records,
        }
        return TemplateResponse(request, "admin/annotations/annotation/recover_list.html", context)

    def recover_view(self, request: HttpRequest, history_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        record = get_object_or_404(Annotation.history.filter(history_type="-"), pk=history_id)
        try:
            annotation, outcome = restore_deleted_annotation(record, actor=request.user)
        except AnnotationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:annotations_annotation_recover_list"))
        self.log_addition(request, annotation, "Restored from history.")
        if not outcome.needs_review:
            self.message_user(request, format_html("Restored “{}”.", annotation))
        else:
            self.message_user(
                request,
                format_html(
                    "Restored “{}”. Its article's text has changed since it was deleted, so it "
                    "is marked {}: an editor should review it on the article's page.",
                    annotation,
                    "orphaned" if outcome == Outcome.ORPHANED else "for review (similar words)",
                ),
                messages.WARNING,
            )
        return HttpResponseRedirect(
            reverse("admin:annotations_annotation_change", args=[annotation.pk])
        )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Bearer tokens for scripts: made here and shown once; revoked, never edited back.

    Only a token's SHA-256 digest is stored, so the raw value exists in the message shown
    right after it is made, and nowhere else. Staff who are not superusers see and make
    tokens for themselves only: a token acts with its owner's rights.
    """

    list_display = ["name", "user", "prefix", "created", "last_used", "active"]
    list_filter = [("revoked", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]

    @admin.display(boolean=True, description="Active")
    def active(self, token: ApiToken) -> bool:
        return token.revoked is None

    def get_queryset(self, request: HttpRequest):
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ["user", "name"]
        return ["user", "name", "prefix", "created", "last_used", "revoked"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return []
        fixed = ["user", "prefix", "created", "last_used"]
        return fixed + ["revoked"] if obj.revoked else fixed

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user":
            users = get_user_model().objects.filter(is_active=True)
            if not request.user.is_superuser:
                users = users.filter(pk=request.user.pk)
            kwargs["queryset"] = users
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        if not request.user.is_superuser and obj.user_id != request.user.pk:
            raise PermissionDenied("You may make tokens for yourself only.")
        issued, raw = ApiToken.issue(user=obj.user, name=obj.name)
        # The admin carries on with `obj` (the log entry, the redirect): make it the saved token.
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued, field.attname))
        obj._state.adding, obj._state.db = False, issued._state.db
        messages.warning(
            request,
            format_html(
                "The new token for {} is <code>{}</code>. Copy it now: only a digest of it is "
                "stored, so it cannot be shown again. Scripts send it as "
                "<code>Authorization: Bearer {}</code>.",
                obj.user,
                raw,
                raw,
            ),
        )

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset) -> None:
        count = queryset.filter(revoked__isnull=True).update(revoked=timezone.now())
        self.message_user(request, f"Revoked {count} token{'' if count == 1 else 's'}.")
