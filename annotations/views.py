"""The article page and the annotating endpoints (SPEC §4, §6, §9, §10).

Every change is a POST that asks an access helper first, then makes one call into domain
code. An htmx request gets the re-rendered article text back, with the side list, the review
section and the notice swapped out-of-band; a plain POST is redirected back to the page.
Refusals carry a message a person understands and the right status (400, 403, 404, 409).
"""

from collections import Counter
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.text import Truncator
from django.views.decorators.http import require_POST, require_safe
from django_htmx.middleware import HtmxDetails

from newsroom.models import Article

from .access import (
    can_annotate,
    can_change,
    can_delete,
    get_annotation_to_change,
    get_annotation_to_delete,
    get_article_for_user,
    get_article_to_annotate,
)
from .admin import restore_deleted_annotation
from .highlighting import highlights_for, render_blocks, tag_css
from .models import (
    AnchorStatus,
    Annotation,
    AnnotationError,
    Tag,
    create_annotation,
    reselect_annotation,
    update_annotation,
)

TEMPLATE = "annotations/article_detail.html"

# How long the page offers Undo after a delete, in seconds (the script hides it then).
UNDO_SECONDS = 12


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def explain_refusals(view):
    """For htmx requests, answer a refusal (403) or a vanished object (404) with the error
    fragment the page shows in its alert region; plain requests keep Django's own pages."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            if not request.htmx:
                raise
            message = str(error) or "You are not allowed to do that."
            return _error_fragment(request, message, status=403)
        except Http404:
            if not request.htmx:
                raise
            message = (
                "That annotation or article no longer exists (someone may have deleted it). "
                "Reload the page to see the current state."
            )
            return _error_fragment(request, message, status=404)

    return wrapper


@login_required
@require_safe
def article_detail(request: HtmxHttpRequest, source_id: str) -> HttpResponse:
    article = get_article_for_user(request.user, source_id)
    return render(request, TEMPLATE, page_context(request, article))


@login_required
@require_POST
@explain_refusals
def annotation_create(request: HtmxHttpRequest, source_id: str) -> HttpResponse:
    article = get_article_to_annotate(request.user, source_id)
    try:
        annotation = create_annotation(
            article=article,
            tag=_tag_from(request.POST.get("tag")),
            start=request.POST.get("start"),
            end=request.POST.get("end"),
            quote=_quote_from(request.POST.get("quote")),
            note=_note_from(request.POST.get("note", "")),
            author=request.user,
        )
    except AnnotationError as error:
        return _refused(request, article, error)
    notice = f"Tagged “{_short(annotation.quote)}” as {annotation.tag.label}."
    return _changed(request, article, notice=notice, annotation_id=annotation.pk)


@login_required
@require_POST
@explain_refusals
def annotation_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_to_change(request.user, pk)
    try:
        tag = _tag_from(request.POST["tag"]) if "tag" in request.POST else None
        note = _note_from(request.POST["note"]) if "note" in request.POST else None
        if tag is None and note is None:
            raise AnnotationError("Nothing to change: send a tag or a note.")
        update_annotation(annotation, tag=tag, note=note)
    except AnnotationError as error:
        return _refused(request, annotation.article, error)
    notice = f"Saved the {annotation.tag.label.lower()} on “{_short(annotation.quote)}”."
    return _changed(request, annotation.article, notice=notice, annotation_id=annotation.pk)


@login_required
@require_POST
@explain_refusals
def annotation_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_to_delete(request.user, pk)
    article, quote = annotation.article, annotation.quote
    annotation.delete()  # simple-history keeps the row ("-" record): Undo restores from it
    notice = f"Deleted the {annotation.tag.label.lower()} on “{_short(quote)}”."
    return _changed(request, article, notice=notice, undo_id=pk)


@login_required
@require_POST
@explain_refusals
def annotation_restore(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    record = Annotation.history.filter(id=pk).order_by("-history_id").first()
    if record is None:
        raise Http404("No annotation with this id was ever recorded.")
    # The same rule as deleting: only the author (an editor) or staff bring it back.
    if not can_delete(request.user, record.instance):
        raise PermissionDenied("Only the annotation's author or staff may restore it.")
    article = Article.objects.filter(pk=record.article_id).first()
    try:
        annotation, orphaned = restore_deleted_annotation(record)
    except AnnotationError as error:
        if article is None:
            raise Http404("The annotation's article is gone.") from None
        return _refused(request, article, error)
    notice = f"Restored the {annotation.tag.label.lower()} on “{_short(annotation.quote)}”."
    if orphaned:
        notice += " The text changed meanwhile, so it is listed as orphaned: re-attach it."
    return _changed(request, annotation.article, notice=notice, annotation_id=annotation.pk)


@login_required
@require_POST
@explain_refusals
def annotation_reselect(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Put an annotation on a passage of the current text: accepting a fuzzy match, picking
    a new passage for it, or re-attaching an orphan."""
    annotation = get_annotation_to_change(request.user, pk)
    try:
        reselect_annotation(
            annotation,
            start=request.POST.get("start"),
            end=request.POST.get("end"),
            quote=_quote_from(request.POST.get("quote")),
        )
    except AnnotationError as error:
        return _refused(request, annotation.article, error)
    notice = f"The {annotation.tag.label.lower()} now marks “{_short(annotation.quote)}”."
    return _changed(request, annotation.article, notice=notice, annotation_id=annotation.pk)


# Helpers -------------------------------------------------------------------------------


def page_context(request: HttpRequest, article: Article, **extra) -> dict:
    """Everything the page and its fragments show. A fixed number of queries (blocks,
    annotations with tag and author, tags, the latest revision, the user's permissions),
    however many annotations the article has."""
    user = request.user
    tags = list(Tag.objects.all())
    annotations = list(Annotation.objects.for_article(article).select_related("tag", "author"))
    for annotation in annotations:
        annotation.article = article  # already here: no query per annotation if it is read
        annotation.user_can_change = can_change(user, annotation)
        annotation.user_can_delete = can_delete(user, annotation)
        if annotation.status == AnchorStatus.FUZZY:
            annotation.current_text = article.body[annotation.start : annotation.end]
    # Orphans have no place in the text; they go last, after the annotations in reading order.
    annotations.sort(key=lambda a: (a.status == AnchorStatus.ORPHANED, a.start, a.end, a.pk))
    counts = Counter(annotation.tag_id for annotation in annotations)
    for tag in tags:
        tag.count = counts[tag.pk]
    revision = article.revisions.defer("body").first()
    return {
        "article": article,
        "blocks": render_blocks(article.blocks_with_starts(), highlights_for(annotations)),
        "annotations": annotations,
        "review": [a for a in annotations if a.status != AnchorStatus.ANCHORED],
        "revision": revision,
        "report": revision.anchoring_report if revision else {},
        "tags": tags,
        "tag_css": tag_css(tags),
        "can_annotate": can_annotate(user),
        "note_max": settings.ANNOTATION_NOTE_MAX_LENGTH,
        "undo_seconds": UNDO_SECONDS,
        **extra,
    }


def _changed(
    request: HtmxHttpRequest,
    article: Article,
    *,
    notice: str,
    annotation_id: int | None = None,
    undo_id: int | None = None,
) -> HttpResponse:
    if request.htmx:
        context = page_context(request, article, notice=notice, undo_id=undo_id, oob=True)
        return render(request, TEMPLATE + "#changed", context)
    # Don't answer a plain form POST with a page: reloading it would post again.
    messages.success(request, notice)
    anchor = f"#annotation-{annotation_id}" if annotation_id else ""
    return HttpResponseRedirect(article.get_absolute_url() + anchor)


def _refused(request: HtmxHttpRequest, article: Article, error: AnnotationError) -> HttpResponse:
    if request.htmx:
        return _error_fragment(request, error.message, status=error.status)
    # Without JavaScript, show the page again with the message, and the status that says why.
    context = page_context(request, article, error=error.message)
    return render(request, TEMPLATE, context, status=error.status)


def _error_fragment(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, TEMPLATE + "#error", {"error": message}, status=status)


def _tag_from(slug: str | None) -> Tag:
    if not slug:
        raise AnnotationError("Choose a tag.", field="tag")
    tag = Tag.objects.filter(slug=slug).first()
    if tag is None:
        known = ", ".join(Tag.objects.values_list("label", flat=True))
        raise AnnotationError(
            f"There is no tag “{Truncator(slug).chars(40)}”. Choose one of: {known}.",
            field="tag",
        )
    return tag


def _quote_from(quote: str | None) -> str:
    # A browser submitting a form turns line breaks into CRLF; the body only ever holds "\n"
    # (blocks are joined by "\n\n" and whitespace inside a block is one space).
    return (quote or "").replace("\r\n", "\n")


def _note_from(note: str) -> str:
    return note.replace("\r\n", "\n").strip()


def _short(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(60)
