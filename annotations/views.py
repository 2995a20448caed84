"""The article page and the annotating endpoints (docs/architecture.md).

Every change is a POST that asks an access helper first, then makes one call into domain
code. An htmx request gets back only what changed since the version its page shows (see
annotations/live.py): the highlights that changed (for the page's script to lay over its
text), the list entries, the counts and a notice, swapped out-of-band; an open page polls
`article_changes` for others' changes the same way. A plain POST is redirected back to the
page. Refusals carry a message a person understands and the right status (400, 403, 404, 409).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.text import Truncator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget

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
from .highlighting import marks_to_lay, tag_css
from .live import (
    MAX_SHOWN,
    PAGE_SIZE,
    Filters,
    delta_since,
    entries_page,
    key_from,
    key_text,
    rank_in_list,
    rendered_text,
)
from .models import AnchorStatus, Annotation, Tag
from .refusals import HtmxHttpRequest, error_fragment, explain_refusals
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
# How often an open page asks whether anything changed, in seconds.
POLL_SECONDS = 3
# The review section lists this many; its heading counts them all.
REVIEW_SHOWN = 50


@login_required
@require_safe
def article_detail(request: HtmxHttpRequest, source_id: str) -> HttpResponse:
    article = get_article_to_read(source_id)
    if request.htmx and request.htmx.target == "annotation-list-body":
        # The list's filter form: only the list, filtered.
        return render(request, TEMPLATE + "#list_body", list_context(request, article))
    # ?edit=<id> opens that entry's form: the Edit link's target when JavaScript is off.
    editing = request.GET.get("edit", "")
    # Only ASCII digits: str.isdigit() also accepts "²" and "①", which int() refuses.
    editing_id = int(editing) if editing.isascii() and editing.isdigit() else None
    context = page_context(request, article, editing_id=editing_id)
    return render(request, TEMPLATE, context)


@login_required
@require_safe
def annotation_page(request: HtmxHttpRequest, source_id: str) -> HttpResponse:
    """The side list's next page, after the `after` cursor: fetched as the editor scrolls."""
    article = get_article_to_read(source_id)
    filters = Filters.from_query(request.GET)
    cursor = key_from(request.GET.get("after"))
    entries, more = entries_page(article, filters, cursor=cursor)
    context = {
        **list_links(article, filters, more, shown=0),
        "annotations": [_for_user(request.user, a, article) for a in entries],
        "tags": Tag.objects.all(),
    }
    return render(request, TEMPLATE + "#entries_page", context)


@login_required
@require_safe
@never_cache
def article_changes(request: HtmxHttpRequest, source_id: str) -> HttpResponse:
    """Anything since version `since`? An open page asks every few seconds: an empty 204
    after one indexed query when nothing changed, else the delta (as a change's answer)."""
    found = Article.objects.filter(source_id=source_id).values_list("annotations_version")
    version = found.first()
    if version is None:
        raise Http404("No such article.")
    since = request.GET.get("since", "")
    if since.isdigit() and int(since) == version[0]:
        return HttpResponse(status=204)
    article = get_article_to_read(source_id)
    return _delta(request, article, since=since, notice="")


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
    return _changed(request, article, notice=notice, shown=annotation)


@login_required
@require_POST
@explain_refusals
def annotation_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_to_change(request.user, pk)
    tag = note = None
    try:
        tag = find_tag(request.POST["tag"]) if "tag" in request.POST else None
        note = _note_from(request.POST["note"]) if "note" in request.POST else None
        if tag is None and note is None:
            raise AnnotationError("Nothing to change: send a tag or a note.")
        update_annotation(
            annotation,
            tag=tag,
            note=note,
            version=request.POST.get("version"),
            actor=request.user,
        )
    except AnnotationError as error:
        if error.field == "version":
            unsaved = {"tag": tag.pk if tag else annotation.tag_id, "note": note}
            return _conflict(request, annotation, error, editing=True, unsaved=unsaved)
        return _refused(request, annotation.article, error)
    notice = f"Saved the {annotation.tag.label.lower()} on “{_short(annotation.quote)}”."
    return _changed(request, annotation.article, notice=notice, shown=annotation)


@login_required
@require_POST
@explain_refusals
def annotation_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_to_delete(request.user, pk)
    article, quote = annotation.article, annotation.quote
    try:
        # History keeps the row: Undo restores from it.
        delete_annotation(annotation, version=request.POST.get("version"), actor=request.user)
    except AnnotationError as error:
        if error.field == "version":
            return _conflict(request, annotation, error, editing=False)
        return _refused(request, article, error)
    notice = f"Deleted the {annotation.tag.label.lower()} on “{_short(quote)}”."
    return _changed(request, article, notice=notice, undo_id=pk)


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
        annotation, outcome = restore_deleted_annotation(record, actor=request.user)
    except AnnotationError as error:
        if article is None:
            raise Http404("The annotation's article is gone.") from None
        return _refused(request, article, error)
    notice = f"Restored the {annotation.tag.label.lower()} on “{_short(annotation.quote)}”."
    notice += RESTORED_NOTICES.get(outcome, "")
    return _changed(request, annotation.article, notice=notice, shown=annotation)


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
            actor=request.user,
        )
    except AnnotationError as error:
        return _refused(request, annotation.article, error)
    notice = f"The {annotation.tag.label.lower()} now marks “{_short(annotation.quote)}”."
    return _changed(request, annotation.article, notice=notice, shown=annotation)


# Helpers -------------------------------------------------------------------------------


def page_context(request: HttpRequest, article: Article, **extra) -> dict:
    """Everything the page shows, in a fixed number of queries however many annotations:
    the text comes from the cache (rendered once per article version), the list is a page."""
    return {
        **text_context(article),
        **summary_context(request, article),
        **list_context(request, article, editing_id=extra.get("editing_id")),
        "poll_seconds": POLL_SECONDS,
        **extra,
    }


def text_context(article: Article) -> dict:
    return {
        "article": article,
        "article_url": article.get_absolute_url(),
        "version": article.annotations_version,
        "blocks": rendered_text(article),
    }


def list_context(request: HttpRequest, article: Article, *, editing_id=None) -> dict:
    """The first page of the side list, filtered as the URL says (`?show=` lengthens it for
    pages without JavaScript; an entry opened for editing is always on it). Three queries."""
    filters = Filters.from_query(request.GET)
    show = request.GET.get("show", "")
    size = min(int(show), MAX_SHOWN) if show.isdigit() and int(show) > 0 else PAGE_SIZE
    if editing_id is not None:
        editing = Annotation.objects.for_article(article).filter(pk=editing_id).first()
        if editing is not None and filters.apply(Annotation.objects.filter(pk=editing_id)).exists():
            size = min(max(size, rank_in_list(article, filters, editing) + 1), MAX_SHOWN)
    entries, more = entries_page(article, filters, size=size)
    authors = (
        Annotation.objects.for_article(article)
        .exclude(author=None)
        .values_list("author__username", flat=True)
        .distinct()
        .order_by("author__username")
    )
    return {
        **list_links(article, filters, more, shown=len(entries)),
        "annotations": [_for_user(request.user, a, article) for a in entries],
        "authors": list(authors),
    }


def list_links(article: Article, filters: Filters, more, *, shown: int) -> dict:
    return {
        "article": article,
        "article_url": article.get_absolute_url(),
        "filters": filters,
        "filter_query": filters.query(),
        "more_cursor": key_text(more) if more else "",
        "next_show": shown + PAGE_SIZE,
    }


def summary_context(request: HttpRequest, article: Article) -> dict:
    """Tags with their counts, the annotations awaiting review, the latest revision, and
    what the user may do. Five queries at most (tags, counts, review, revision, permissions)."""
    tags = list(Tag.objects.all())
    counts = (
        Annotation.objects.for_article(article)
        .values("tag", "status")
        .annotate(n=Count("id"))
        .values_list("tag", "status", "n")
    )
    by_tag: dict[int, int] = {}
    needing_review = 0
    for tag_id, status, n in counts:
        by_tag[tag_id] = by_tag.get(tag_id, 0) + n
        if status != AnchorStatus.ANCHORED:
            needing_review += n
    for tag in tags:
        tag.count = by_tag.get(tag.pk, 0)
    review = (
        Annotation.objects.for_article(article)
        .needing_review()
        .select_related("tag", "author")
        .order_by("start", "pk")[:REVIEW_SHOWN]
        if needing_review
        else []
    )
    revision = article.revisions.defer("body").first()
    return {
        "tags": tags,
        "tag_css": tag_css(tags),
        "total": sum(by_tag.values()),
        "review": [_for_user(request.user, a, article) for a in review],
        "review_total": needing_review,
        "revision": revision,
        "report": revision.anchoring_report if revision else {},
        "can_annotate": can_annotate(request.user),
        "note_max": settings.ANNOTATION_NOTE_MAX_LENGTH,
        "undo_seconds": UNDO_SECONDS,
    }


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
    shown: Annotation | None = None,
    undo_id: int | None = None,
) -> HttpResponse:
    """After a change: htmx gets what changed since the version its page shows (the page
    sends `since`), this change and anyone else's alike, so the text, the list and the
    counts agree. A plain POST is redirected."""
    if not request.htmx:
        # Don't answer a plain form POST with a page: reloading it would post again.
        messages.success(request, notice)
        anchor = f"#annotation-{shown.pk}" if shown else ""
        return HttpResponseRedirect(article.get_absolute_url() + anchor)
    article.refresh_from_db(fields=["annotations_version"])
    since = request.POST.get("since", "")
    if not since.isdigit():
        since = str(article.annotations_version - 1)  # a client that does not say: this change
    return _delta(request, article, since=since, notice=notice, undo_id=undo_id)


def _delta(
    request: HtmxHttpRequest, article: Article, *, since: str, notice: str, undo_id=None
) -> HttpResponse:
    state = request.POST if request.method == "POST" else request.GET
    if not since.isdigit() or int(since) > article.annotations_version:
        # A page from before a database restore, say: only a fresh page is right.
        return HttpResponse(status=204, headers={"HX-Refresh": "true"})
    delta = delta_since(
        article,
        int(since),
        user=request.user,
        # The page's list filter, as its URL's query (`tag` alone would clash with the tag
        # a create sends).
        filters=Filters.from_query(QueryDict(state.get("filter", ""))),
        loaded_until=key_from(state.get("after")),
    )
    context = {
        "article": article,
        "article_url": article.get_absolute_url(),
        **summary_context(request, article),
        "version": delta.version,
        "delta": delta,
        "delta_marks": marks_to_lay(delta.highlights),
        "inserted": [(_for_user(request.user, a, article), before) for a, before in delta.inserted],
        "oob": True,
        "notice": " ".join(part for part in (notice, delta.news) if part),
        "undo_id": undo_id,
    }
    if delta.text_changed:
        context["blocks"] = rendered_text(article)
    return render(request, TEMPLATE + "#changes", context)


def _conflict(
    request: HtmxHttpRequest,
    annotation: Annotation,
    error: AnnotationError,
    *,
    editing: bool,
    unsaved: dict | None = None,
) -> HttpResponse:
    """A change made on an older version: show the stored version beside the editor's
    unsaved text, which stays in the form, with the current version to save against."""
    article = annotation.article
    conflict = {"message": error.message, **(unsaved or {})}
    if not request.htmx:
        context = page_context(
            request, article, editing_id=annotation.pk if editing else None, conflict=conflict
        )
        context["conflict_id"] = annotation.pk
        return render(request, TEMPLATE, context, status=409)
    context = {
        "a": _for_user(request.user, annotation, article),
        "editing_id": annotation.pk if editing else None,
        "conflict": conflict,
        "conflict_id": annotation.pk,
        "article_url": article.get_absolute_url(),
        "tags": Tag.objects.all(),
        "note_max": settings.ANNOTATION_NOTE_MAX_LENGTH,
    }
    response = render(request, TEMPLATE + "#entry", context, status=409)
    # The page swaps this entry in place of the one shown (annotate.js lets a 409 with a
    # target through; other refusals go to the alert region).
    response["HX-Retarget"] = f"#annotation-{annotation.pk}"
    response["HX-Reswap"] = "outerHTML"
    return response


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
    template = "annotations/factcheck.html#duplicate_prompt"
    if not request.htmx:
        return render(request, template, context, status=409)
    return retarget(reswap(render(request, template, context), "innerHTML"), "#desk-prompt")


def _refused(request: HtmxHttpRequest, article: Article, error: AnnotationError) -> HttpResponse:
    if request.htmx:
        return error_fragment(request, error.message, status=error.status)
    # Without JavaScript, show the page again with the message, and the status that says why.
    context = page_context(request, article, error=error.message)
    return render(request, TEMPLATE, context, status=error.status)


def _quote_from(quote: str | None) -> str:
    # A browser submitting a form turns line breaks into CRLF; the body only ever holds "\n"
    # (blocks are joined by "\n\n" and whitespace inside a block is one space).
    return (quote or "").replace("\r\n", "\n")


def _note_from(note: str) -> str:
    return note.replace("\r\n", "\n").strip()


def _short(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(60)
