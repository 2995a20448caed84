"""The fact-check desk on the pages: review states, reply threads, what answers what, and the
"For you" page of mentions (docs/architecture.md).

Each view reads like the annotating views in views.py: an access helper first, then one call
into annotations/services/, then a fragment of templates/annotations/factcheck.html for htmx, or
a redirect back to the article for a plain form POST. Refusals come back as the page's error
fragment with their status, so the page's script shows them in its alert region.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .access import (
    can_change_reply,
    can_review,
    get_annotation_to_read,
    get_annotation_to_review,
    get_reply_to_change,
)
from .models import CLAIM_TAG, Annotation, Mention, ReviewState
from .refusals import HtmxHttpRequest, error_fragment, explain_refusals
from .services import (
    AnnotationError,
    add_reply,
    delete_reply,
    edit_reply,
    mark_mentions_read,
    needs_source,
    set_answers,
    set_review,
)

DESK = "annotations/factcheck.html"
FOR_YOU_LIMIT = 200


# Review states ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@explain_refusals
def annotation_review(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: the entry's review section. POST `state` (and `source`): set the state.

    A verdict on a claim or a figure asks for its source first: a click on Verified or
    Disputed answers a small form for it, prefilled with the stored one; that form's POST
    carries `source` and sets the state.
    """
    if request.method != "POST":
        return _review_section(request, get_annotation_to_read(pk))
    annotation = get_annotation_to_review(request.user, pk)
    state = request.POST.get("state", "")
    source = request.POST.get("source")
    if source is None and state in ReviewState.values and needs_source(annotation, state):
        if not request.htmx:
            return _back(request, annotation, error="Give a source for this verdict.")
        return _review_section(request, annotation, asking=ReviewState(state))
    try:
        set_review(annotation, state=state, source=source, by=request.user)
    except AnnotationError as error:
        return _refused(request, annotation, error)
    if not request.htmx:
        return _back(request, annotation, notice=f"Marked {annotation.get_review_state_display()}.")
    return _review_section(request, annotation)


@login_required
@require_safe
@explain_refusals
def annotation_review_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Every change of the review state, oldest first, from the annotation's history."""
    annotation = get_annotation_to_read(pk)
    records = (
        Annotation.history.filter(id=annotation.pk)
        .select_related("reviewed_by")
        .order_by("history_date", "history_id")
    )
    labels = dict(ReviewState.choices)
    changes, last = [], None
    for record in records:
        key = (record.review_state, record.review_source, record.reviewed_by_id)
        if key != last and (record.reviewed_at or last is not None):
            record.state_label = labels.get(record.review_state, record.review_state)
            changes.append(record)
        last = key
    context = {"a": annotation, "changes": changes}
    return render(request, DESK + "#review_history", context)


def _review_section(request, annotation: Annotation, *, asking=None) -> HttpResponse:
    annotation.user_can_review = can_review(request.user)
    context = {
        "a": annotation,
        "asking": asking,
    }
    return render(request, DESK + "#review", context)


# Replies ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@explain_refusals
def annotation_replies(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: the annotation's thread, opened in place. POST `text`: reply to it."""
    if request.method != "POST":
        annotation = get_annotation_to_read(pk)
        if not request.htmx:
            return HttpResponseRedirect(_entry_url(annotation))
        return _thread(request, annotation)
    annotation = get_annotation_to_review(request.user, pk)
    try:
        add_reply(annotation, author=request.user, text=request.POST.get("text", ""))
    except AnnotationError as error:
        return _refused(request, annotation, error)
    if not request.htmx:
        return _back(request, annotation, notice="Replied.")
    return _thread(request, annotation, notice="Replied.")


@login_required
@require_safe
@explain_refusals
def reply_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The thread with this reply's edit form open (its author or staff)."""
    reply = get_reply_to_change(request.user, pk)
    annotation = get_annotation_to_read(reply.annotation_id)
    if not request.htmx:
        return HttpResponseRedirect(_entry_url(annotation))
    return _thread(request, annotation, editing=reply.pk)


@login_required
@require_POST
@explain_refusals
def reply_update(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    reply = get_reply_to_change(request.user, pk)
    annotation = get_annotation_to_read(reply.annotation_id)
    try:
        edit_reply(reply, text=request.POST.get("text", ""), actor=request.user)
    except AnnotationError as error:
        return _refused(request, annotation, error)
    if not request.htmx:
        return _back(request, annotation, notice="Saved the reply.")
    return _thread(request, annotation, notice="Saved the reply.")


@login_required
@require_POST
@explain_refusals
def reply_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    reply = get_reply_to_change(request.user, pk)
    annotation = get_annotation_to_read(reply.annotation_id)
    try:
        delete_reply(reply, actor=request.user)
    except AnnotationError as error:
        return _refused(request, annotation, error)
    if not request.htmx:
        return _back(request, annotation, notice="Deleted the reply.")
    return _thread(request, annotation, notice="Deleted the reply.")


def _thread(request, annotation: Annotation, *, editing=None, notice="") -> HttpResponse:
    replies = list(annotation.replies.select_related("author"))
    for reply in replies:
        reply.user_can_change = can_change_reply(request.user, reply)
    annotation.user_can_review = can_review(request.user)
    context = {
        "a": annotation,
        "replies": replies,
        "editing": editing,
        "notice": notice,
    }
    return render(request, DESK + "#thread", context)


# What answers what ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@explain_refusals
def annotation_answers(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET: the entry's relations (`?pick=1`: with the form to pick what it answers).
    POST `answers` (an annotation id, or empty to unlink): set what it answers."""
    if request.method != "POST":
        annotation = get_annotation_to_read(pk)
        picking = "pick" in request.GET and can_review(request.user)
        if not request.htmx:
            return HttpResponseRedirect(_entry_url(annotation))
        return _answers(request, annotation, picking=picking)
    annotation = get_annotation_to_review(request.user, pk)
    before = annotation.answers_id
    value = request.POST.get("answers", "").strip()
    try:
        if value and not (value.isascii() and value.isdigit()):
            raise AnnotationError("Pick an annotation to answer.", field="answers")
        answered = Annotation.objects.filter(pk=int(value)).first() if value else None
        if value and answered is None:
            raise AnnotationError(
                "The annotation to answer has been deleted meanwhile. Reload the page.",
                status=409,
            )
        set_answers(annotation, answered, actor=request.user)
    except AnnotationError as error:
        return _refused(request, annotation, error)
    if not request.htmx:
        return _back(request, annotation, notice="Saved what it answers.")
    # The answered annotations' entries list their answers: theirs change too.
    touched = {before, annotation.answers_id} - {None}
    others = Annotation.objects.filter(pk__in=touched).with_desk().select_related("tag")
    return _answers(request, annotation, others=list(others))


def _answers(request, annotation: Annotation, *, picking=False, others=()) -> HttpResponse:
    annotation = Annotation.objects.with_desk().select_related("tag").get(pk=annotation.pk)
    user_can_review = can_review(request.user)
    for shown in (annotation, *others):
        shown.user_can_review = user_can_review
    candidates = []
    if picking:
        candidates = (
            Annotation.objects.for_article(annotation.article_id)
            .filter(tag__slug=CLAIM_TAG)
            .exclude(pk=annotation.pk)
            .select_related("tag")
            .in_reading_order()
        )
    context = {"a": annotation, "picking": picking, "candidates": candidates, "others": others}
    return render(request, DESK + "#answers_changed", context)


# For you ----------------------------------------------------------------------------------


@login_required
@require_safe
def for_you(request: HttpRequest) -> HttpResponse:
    """Where colleagues `@mentioned` the user, newest first, unread ones marked."""
    mentions = (
        Mention.objects.filter(user=request.user)
        .select_related("annotation__tag", "annotation__article", "reply", "mentioned_by")
        .defer("annotation__article__body")[:FOR_YOU_LIMIT]
    )
    return render(request, "annotations/for_you.html", {"mentions": mentions})


@login_required
@require_POST
def for_you_read(request: HttpRequest) -> HttpResponse:
    count = mark_mentions_read(request.user)
    messages.success(request, f"Marked {count} mention{'' if count == 1 else 's'} as read.")
    return HttpResponseRedirect(reverse("for_you"))


@login_required
@require_POST
def mention_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the mention read and go to its annotation on the article page."""
    mention = Mention.objects.filter(user=request.user, pk=pk).select_related("annotation").first()
    if mention is None:
        messages.error(request, "That mention is gone: its annotation or reply was deleted.")
        return HttpResponseRedirect(reverse("for_you"))
    mark_mentions_read(request.user, [mention])
    return HttpResponseRedirect(_entry_url(mention.annotation))


# Helpers ----------------------------------------------------------------------------------


def _entry_url(annotation: Annotation) -> str:
    article = annotation.article
    return f"{article.get_absolute_url()}#annotation-{annotation.pk}"


def _back(request, annotation: Annotation, *, notice="", error="") -> HttpResponse:
    """A plain form POST goes back to the entry on the page, with a message."""
    if notice:
        messages.success(request, notice)
    if error:
        messages.error(request, error)
    return HttpResponseRedirect(_entry_url(annotation))


def _refused(request, annotation: Annotation, error: AnnotationError) -> HttpResponse:
    if request.htmx:
        return error_fragment(request, error.message, status=error.status)
    messages.error(request, error.message)
    return HttpResponseRedirect(_entry_url(annotation))
