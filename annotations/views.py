"""The article page and the annotating endpoints (docs/architecture.md).

Every change is a POST that asks an access helper first, then makes one call into domain
code. An htmx request gets the re-rendered article text back, with the side list, the review
section and the notice swapped out-of-band; a plain POST is redirected back to the page.
Refusals carry a message a person understands and the right status (400, 403, 404, 409).
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.text import Truncator
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from newsroom.models import Article

from .access import (
    can_annotate,
    can_change,
    can_delete,
    can_review,
    get_annotation_to_change,
    get_annotation_to_delete,
    get_article_to_annotate,
    get_article_to_read,
)
from .anchoring import Outcome
from .highlighting import highlights_for, render_blocks, tag_css
from .models import AnchorStatus, Annotation, Tag
from .services import (
    AnnotationError,
    check_selection,
    create_annotation,
    delete_annotation,
    find_tag,
    reselect_annotation,
    restore_deleted_annotation,
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
    article = get_article_to_read(source_id)
    # ?edit=<id> opens that entry's form: the Edit link's target when JavaScript is off.
    editing = request.GET.get("edit", "")
    # Only ASCII digits: str.isdigit() also accepts "²" and "①", which int() refuses.
    editing_id = int(editing) if editing.isascii() and editing.isdigit() else None
    context = page_context(request, article, editing_id=editing_id)
    return render(request, TEMPLATE, context)


@login_required
@require_safe
@explain_refusals
def annotation_entry(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """One side-list entry, as shown or (`?edit=1`, author and staff only) with its form.

    The page renders no edit forms up front (they would double its weight); htmx fetches
    one when asked. Without JavaScript, the Edit link opens the page with the form instead.
    """
    editing = "edit" in request.GET
    if editing:
        annotation = get_annotation_to_change(request.user, pk)
    else:
        annotation = get_object_or_404(Annotation.objects.with_related(), pk=pk)
    article = get_article_to_read(annotation.article.source_id)
    if not request.htmx:
        query = f"?edit={pk}" if editing else ""
        return HttpResponseRedirect(f"{article.get_absolute_url()}{query}#annotation-{pk}")
    context = {
        "a": _for_user(request.user, annotation, article),
        "editing_id": annotation.pk if editing else None,
        "article_url": article.get_absolute_url(),
        "tags": Tag.objects.all(),
        "note_max": settings.ANNOTATION_NOTE_MAX_LENGTH,
    }
    return render(request, TEMPLATE + "#entry", context)


@login_required
@require_POST
@explain_refusals
def annotation_create(request: HtmxHttpRequest, source_id: str) -> HttpResponse:
    article = get_article_to_annotate(request.user, source_id)
    try:
        tag = find_tag(request.POST.get("tag"))
        values = {
            "start": request.POST.get("start"),
            "end": request.POST.get("end"),
            "quote": _quote_from(request.POST.get("quote")),
            "note": _note_from(request.POST.get("note", "")),
        }
        if request.POST.get("duplicate") != "ok":
            # The same tag on the same passage twice is most often a double key press.
            asking = _ask_before_duplicate(request, article, tag, values)
            if asking is not None:
                return asking
        annotation = create_annotation(article=article, tag=tag, author=request.user, **values)
    except AnnotationError as error:
        return _refused(request, article, error)
    notice = f"Tagged “{_short(annotation.quote)}” as {annotation.tag.label}."
    return _changed(request, article, notice=notice, insert=annotation)


@login_required
@require_POST
@explain_refusals
def annotation_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_to_change(request.user, pk)
    try:
        tag = find_tag(request.POST["tag"]) if "tag" in request.POST else None
        note = _note_from(request.POST["note"]) if "note" in request.POST else None
        if tag is None and note is None:
            raise AnnotationError("Nothing to change: send a tag or a note.")
        update_annotation(annotation, tag=tag, note=note, actor=request.user)
    except AnnotationError as error:
        return _refused(request, annotation.article, error)
    notice = f"Saved the {annotation.tag.label.lower()} on “{_short(annotation.quote)}”."
    return _changed(request, annotation.article, notice=notice, replace=annotation)


@login_required
@require_POST
@explain_refusals
def annotation_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_to_delete(request.user, pk)
    article, quote = annotation.article, annotation.quote
    delete_annotation(annotation)  # history keeps the row: Undo restores from it
    notice = f"Deleted the {annotation.tag.label.lower()} on “{_short(quote)}”."
    return _changed(request, article, notice=notice, remove=pk, undo_id=pk)


# What a restore adds when the article's text changed after the delete.
RESTORED_NOTICES = {
    Outcome.MOVED: " The text changed meanwhile; it moved with its words.",
    Outcome.FUZZY: " The text changed meanwhile; it sits on similar words: review it below.",
    Outcome.ORPHANED: " The text changed meanwhile, so it is listed as orphaned: re-attach it.",
}


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
        annotation, outcome = restore_deleted_annotation(record)
    except AnnotationError as error:
        if article is None:
            raise Http404("The annotation's article is gone.") from None
        return _refused(request, article, error)
    notice = f"Restored the {annotation.tag.label.lower()} on “{_short(annotation.quote)}”."
    notice += RESTORED_NOTICES.get(outcome, "")
    return _changed(request, annotation.article, notice=notice, insert=annotation)


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
    # Its place in the list follows its place in the text: take it out, put it back.
    return _changed(
        request, annotation.article, notice=notice, remove=annotation.pk, insert=annotation
    )


# Helpers -------------------------------------------------------------------------------


def page_context(request: HttpRequest, article: Article, **extra) -> dict:
    """Everything the page shows, in a fixed number of queries however many annotations."""
    annotations = list(
        Annotation.objects.for_article(article)
        .in_reading_order()
        .select_related("tag", "author")
        .with_desk()
    )
    annotations.sort(key=list_order)
    return {
        **text_context(article),
        **summary_context(request, article),
        "annotations": [_for_user(request.user, a, article) for a in annotations],
        **extra,
    }


def text_context(article: Article) -> dict:
    """The article's blocks with their highlights. Two queries (blocks; annotations read as
    plain rows, no model instances: this runs on every change)."""
    rows = Annotation.objects.for_article(article).values_list(
        "pk", "start", "end", "status", "tag__slug"
    )
    return {
        "article": article,
        "article_url": article.get_absolute_url(),
        "blocks": render_blocks(article.blocks_with_starts(), highlights_for(rows)),
    }


def summary_context(request: HttpRequest, article: Article) -> dict:
    """Tags with their counts, the annotations awaiting review, the latest revision, and
    what the user may do. Five queries at most (tags, counts, review, revision, permissions)."""
    tags = list(Tag.objects.all())
    counts = dict(
        Annotation.objects.for_article(article)
        .values("tag")
        .annotate(n=Count("id"))
        .values_list("tag", "n")
    )
    for tag in tags:
        tag.count = counts.get(tag.pk, 0)
    review = (
        Annotation.objects.for_article(article).needing_review().select_related("tag", "author")
    )
    revision = article.revisions.defer("body").first()
    return {
        "tags": tags,
        "tag_css": tag_css(tags),
        "total": sum(counts.values()),
        "review": [_for_user(request.user, a, article) for a in review],
        "revision": revision,
        "report": revision.anchoring_report if revision else {},
        "can_annotate": can_annotate(request.user),
        "note_max": settings.ANNOTATION_NOTE_MAX_LENGTH,
        "undo_seconds": UNDO_SECONDS,
    }


def list_order(annotation) -> tuple:
    # Reading order; orphans have no place in the text and go last.
    return (
        annotation.status == AnchorStatus.ORPHANED,
        annotation.start,
        annotation.end,
        annotation.pk,
    )


def _for_user(user, annotation: Annotation, article: Article) -> Annotation:
    """The annotation with what the template shows about it: the user's rights and, for a
    fuzzy one, the text it now sits on."""
    annotation.article = article  # already here: no query if a template reads it
    annotation.user_can_change = can_change(user, annotation)
    annotation.user_can_delete = can_delete(user, annotation)
    annotation.user_can_review = can_review(user)
    if annotation.status == AnchorStatus.FUZZY:
        annotation.current_text = article.body[annotation.start : annotation.end]
    return annotation


def _changed(
    request: HtmxHttpRequest,
    article: Article,
    *,
    notice: str,
    insert: Annotation | None = None,
    replace: Annotation | None = None,
    remove: int | None = None,
    undo_id: int | None = None,
) -> HttpResponse:
    """After a change: htmx gets the article text back with, out-of-band, the one list entry
    that changed (inserted in order, replaced or removed), the counts, the review section
    and the notice. Only the entry is rendered, not the whole list, so the round trip stays
    short however many annotations the article has. A plain POST is redirected."""
    if not request.htmx:
        # Don't answer a plain form POST with a page: reloading it would post again.
        messages.success(request, notice)
        shown = insert or replace
        anchor = f"#annotation-{shown.pk}" if shown else ""
        return HttpResponseRedirect(article.get_absolute_url() + anchor)
    context = {
        **text_context(article),
        **summary_context(request, article),
        "oob": True,
        "notice": notice,
        "undo_id": undo_id,
        "remove": remove,
    }
    if insert is not None:
        context["insert"] = _for_user(request.user, insert, article)
        context["insert_before"] = _next_in_list(article, insert)
    if replace is not None:
        context["replace"] = _for_user(request.user, replace, article)
    return render(request, TEMPLATE + "#changed", context)


def _next_in_list(article: Article, annotation: Annotation) -> int | None:
    """The id of the entry the annotation goes before in the side list (None: at the end).
    One query for four columns of each annotation, no model instances."""
    key = list_order(annotation)
    following = [
        row
        for row in Annotation.objects.for_article(article)
        .exclude(pk=annotation.pk)
        .values_list("status", "start", "end", "pk")
        if (row[0] == AnchorStatus.ORPHANED, *row[1:]) > key
    ]
    if not following:
        return None
    return min(following, key=lambda row: (row[0] == AnchorStatus.ORPHANED, *row[1:]))[3]


def _ask_before_duplicate(request, article: Article, tag: Tag, values: dict) -> HttpResponse | None:
    """When the passage already carries this tag, the question whether to save another one
    (into the page's prompt region, not over the text); None when there is no such twin."""
    start, end = check_selection(article, values["start"], values["end"], values["quote"])
    existing = (
        Annotation.objects.duplicates_of(article=article, start=start, end=end, tag=tag)
        .select_related("author")
        .first()
    )
    if existing is None:
        return None
    context = {"article": article, "tag": tag, "existing": existing, "values": values}
    if not request.htmx:
        return render(request, "annotations/desk.html#duplicate_prompt", context, status=409)
    return retarget(
        reswap(render(request, "annotations/desk.html#duplicate_prompt", context), "innerHTML"),
        "#desk-prompt",
    )


def _refused(request: HtmxHttpRequest, article: Article, error: AnnotationError) -> HttpResponse:
    if request.htmx:
        return _error_fragment(request, error.message, status=error.status)
    # Without JavaScript, show the page again with the message, and the status that says why.
    context = page_context(request, article, error=error.message)
    return render(request, TEMPLATE, context, status=error.status)


def _error_fragment(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, TEMPLATE + "#error", {"error": message}, status=status)


def _quote_from(quote: str | None) -> str:
    # A browser submitting a form turns line breaks into CRLF; the body only ever holds "\n"
    # (blocks are joined by "\n\n" and whitespace inside a block is one space).
    return (quote or "").replace("\r\n", "\n")


def _note_from(note: str) -> str:
    return note.replace("\r\n", "\n").strip()


def _short(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(60)
