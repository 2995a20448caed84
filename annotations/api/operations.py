"""The API's operations: articles, and their annotations as W3C Web Annotation JSON-LD.

Each reads like a view: an access helper first (annotations/access.py: it refuses in plain
words), then one call into the domain functions (annotations/services/), then the answer.
docs/api.md describes the contract.

The operation ids are written out: generated clients name their methods after them, so they
must not change when the code moves.
"""

import math
import re
from urllib.parse import urlencode

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Status

from newsroom.models import Article

from .. import webannotation as wa
from ..access import (
    get_annotation_to_change,
    get_annotation_to_delete,
    get_annotation_to_read,
    get_annotation_to_review,
    get_article_to_annotate,
    get_article_to_read,
)
from ..models import Annotation
from ..services import (
    AnnotationError,
    create_annotation,
    delete_annotation,
    find_tag,
    reselect_annotation,
    set_answers,
    set_review,
    update_annotation,
)
from .errors import RENDERER, error, error_responses
from .schemas import (
    NO_LINK,
    AnnotationIn,
    AnnotationOut,
    AnnotationPageOut,
    AnnotationPatchIn,
    ApiRootOut,
    ArticleDetailOut,
    ArticleListOut,
    bodies_of,
    check_target_source,
    find_answered,
    read_bodies,
    read_link,
    read_selection,
    repeats_the_quote_alone,
)

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
# An article's annotations come in one page for nearly every article: a client asking for
# them wants them all, and each further page would cost it a round trip.
ANNOTATIONS_PER_PAGE = 1000

router = Router()


# Helpers ------------------------------------------------------------------------------------


def page_url(
    request: HttpRequest, page: int, per_page: int, default: int = DEFAULT_PER_PAGE
) -> str:
    query = {"page": page} | ({"per_page": per_page} if per_page != default else {})
    return request.build_absolute_uri(request.path) + "?" + urlencode(query)


def answer(data: dict, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """`data` as the JSON answer, as ninja would write it but without checking it against the
    operation's response schema once more: annotations/webannotation.py builds exactly what
    the schemas describe (tests/test_api_queries.py holds it to them), and the check cost
    more than the building (a page of 500 annotations: several milliseconds).
    """
    return HttpResponse(
        RENDERER.render(None, data, response_status=status),
        status=status,
        headers=headers,
        content_type=f"{RENDERER.media_type}; charset={RENDERER.charset}",
    )


def page_bounds(total: int, page: int, per_page: int) -> tuple[int, int]:
    """(number of pages, offset of this page's first item); 404 past the last page."""
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise Http404(f"There is no page {page}: the last page is {pages}.")
    return pages, (page - 1) * per_page


def article_summary(article: Article, links: wa.Links) -> dict:
    return {
        "id": links.article_api(article.source_id),
        "source_id": article.source_id,
        "title": article.title,
        "date": article.date,
        "url": links.article_page(article.source_id),
        "annotations": links.article_annotations(article.source_id),
        "annotation_count": article.annotation_count,
    }


# Articles -----------------------------------------------------------------------------------


@router.get(
    "/",
    response={200: ApiRootOut, **error_responses(401)},
    url_name="root",
    operation_id="annotations_api_api_root",
    summary="Where to start",
)
def api_root(request):
    links = wa.Links.for_request(request)
    return {
        "articles": links.absolute(reverse("api:articles")),
        "openapi": links.absolute(reverse("api:openapi-json")),
        "docs": links.absolute(reverse("api:openapi-view")),
    }


@router.get(
    "/articles/",
    response={200: ArticleListOut, **error_responses(400, 401, 404)},
    url_name="articles",
    operation_id="annotations_api_list_articles",
    exclude_none=True,
    summary="List articles, newest first",
)
def list_articles(
    request,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    per_page: int = Query(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE),
):
    # The id makes pages stable among articles of the same date and title.
    articles = Article.objects.listed().defer("body").order_by("-date", "title", "id")
    total = articles.count()
    pages, offset = page_bounds(total, page, per_page)
    links = wa.Links.for_request(request)
    return {
        "total": total,
        "page": page,
        "pages": pages,
        "next": page_url(request, page + 1, per_page) if page < pages else None,
        "prev": page_url(request, page - 1, per_page) if page > 1 else None,
        "items": [article_summary(a, links) for a in articles[offset : offset + per_page]],
    }


@router.get(
    "/articles/{source_id}/",
    response={200: ArticleDetailOut, **error_responses(401, 404)},
    url_name="article",
    operation_id="annotations_api_get_article",
    summary="One article with its plain-text body",
)
def get_article(request, source_id: str):
    article = get_article_to_read(source_id)
    blocks = [
        {"kind": block.kind, "start": start, "end": start + len(block.text)}
        for block, start in article.blocks_with_starts()
    ]
    return {
        **article_summary(article, wa.Links.for_request(request)),
        "body": article.body,
        "blocks": blocks,
    }


# Annotations --------------------------------------------------------------------------------


@router.get(
    "/articles/{source_id}/annotations/",
    response={200: AnnotationPageOut, **error_responses(400, 401, 404)},
    url_name="article_annotations",
    operation_id="annotations_api_list_annotations",
    by_alias=True,
    exclude_none=True,
    summary="An article's annotations: a W3C AnnotationPage",
)
def list_annotations(
    request,
    source_id: str,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    per_page: int = Query(ANNOTATIONS_PER_PAGE, ge=1, le=ANNOTATIONS_PER_PAGE),
):
    article = get_article_to_read(source_id)
    links = wa.Links.for_request(request)
    annotations = Annotation.objects.for_article(article)
    offset = (page - 1) * per_page
    # Rows as the database hands them over, presented as the JSON-LD export presents them:
    # the few tags, authors and reviewers fetched once each, no model built per annotation
    # (for a page of 500 that cost more than everything else the request does).
    shown = annotations.with_reply_count().in_reading_order()[offset : offset + per_page]
    rows = next(shown.rows(*wa.EXPORT_FIELDS, chunk_size=per_page), [])
    items = list(wa.export_items(rows, links, replies=False))
    # A page that is not full is the last: its items tell the total, and the count is saved.
    if items and len(items) < per_page or page == 1 and not items:
        total = offset + len(items)
    else:
        total = annotations.count()
    pages, offset = page_bounds(total, page, per_page)
    page_data = wa.annotation_page(
        items,
        links,
        page_id=page_url(request, page, per_page, ANNOTATIONS_PER_PAGE),
        collection_id=links.article_annotations(article.source_id),
        label=f"Annotations of “{article.title}”",
        total=total,
        start_index=offset,
        first=page_url(request, 1, per_page, ANNOTATIONS_PER_PAGE),
        last=page_url(request, pages, per_page, ANNOTATIONS_PER_PAGE),
        next_page=(
            page_url(request, page + 1, per_page, ANNOTATIONS_PER_PAGE) if page < pages else None
        ),
        prev_page=page_url(request, page - 1, per_page, ANNOTATIONS_PER_PAGE) if page > 1 else None,
        present=None,
    )
    return answer(page_data)


@router.post(
    "/articles/{source_id}/annotations/",
    response={201: AnnotationOut, **error_responses(400, 401, 403, 404, 409, 413)},
    url_name="article_annotations",
    operation_id="annotations_api_create",
    by_alias=True,
    exclude_none=True,
    summary="Annotate a passage (editors)",
)
def create(request, source_id: str, payload: AnnotationIn):
    links = wa.Links.for_request(request)
    data = payload.model_dump()
    # One transaction from the first read: the article is read once, locked, and the
    # annotation is checked against the body it holds until the insert commits (with its
    # link, when it answers another).
    with transaction.atomic():
        article = get_article_to_annotate(request.auth, source_id, lock=True)
        check_target_source(data["target"]["source"], article, links)
        tag_slug, note = read_bodies(bodies_of(data["body"]))
        if tag_slug is None:
            raise AnnotationError(
                "The annotation needs a body with purpose 'tagging' whose value is a tag's "
                "slug, e.g. 'claim'.",
                field="body",
            )
        selection = read_selection(data["target"])
        link = read_link(bodies_of(data["body"]))
        annotation = create_annotation(
            article=article,
            tag=find_tag(tag_slug, field="body"),
            start=selection.start,
            end=selection.end,
            quote=selection.exact,
            note=note or "",
            author=request.auth,
            article_locked=True,
        )
        if link not in (NO_LINK, None):
            set_answers(annotation, find_answered(link), actor=request.auth)
    url = links.annotation(annotation.pk)
    return answer(wa.annotation_to_jsonld(annotation, links), 201, headers={"Location": url})


@router.get(
    "/annotations/{int:annotation_id}/",
    response={200: AnnotationOut, **error_responses(401, 404)},
    url_name="annotation",
    operation_id="annotations_api_get_annotation",
    by_alias=True,
    exclude_none=True,
    summary="One annotation",
)
def get_annotation(request, annotation_id: int):
    annotation = get_annotation_to_read(annotation_id)
    data = wa.annotation_to_jsonld(annotation, wa.Links.for_request(request))
    return answer(data, headers={"ETag": etag(annotation.version)})


@router.patch(
    "/annotations/{int:annotation_id}/",
    response={200: AnnotationOut, **error_responses(400, 401, 403, 404, 409, 413)},
    url_name="annotation",
    operation_id="annotations_api_change",
    by_alias=True,
    exclude_none=True,
    summary="Change an annotation's tag, note or passage (its author, or staff), or its review "
    "state or what it answers (editors)",
)
def change(request, annotation_id: int, payload: AnnotationPatchIn, response: HttpResponse):
    data = payload.model_dump()
    bodies = bodies_of(data["body"])
    tag_slug, note = read_bodies(bodies)
    link = read_link(bodies)
    # The review state and the link are the desk's: any editor sets them. The tag, the note
    # and the passage are the author's (or staff's).
    if (tag_slug, note, data["target"]) == (None, None, None):
        annotation = get_annotation_to_review(request.auth, annotation_id)
    else:
        annotation = get_annotation_to_change(request.auth, annotation_id)
    version = version_matched(request)
    links = wa.Links.for_request(request)
    selection = None
    if data["target"] is not None:
        check_target_source(data["target"]["source"], annotation.article, links)
        if not repeats_the_quote_alone(data["target"], annotation.quote):
            selection = read_selection(data["target"])
    try:
        with transaction.atomic():  # all of it or none of it
            if link is not NO_LINK:
                answered = find_answered(link) if link is not None else None
                set_answers(annotation, answered, actor=request.auth)
            if data["review"] is not None:
                review = data["review"]
                set_review(
                    annotation, state=review["state"], source=review["source"], by=request.auth
                )
            tag = find_tag(tag_slug, field="body") if tag_slug is not None else None
            # The representation sent back unchanged keeps the stored passage, even a fuzzy
            # one whose quote differs from the text at its offsets; only a different one
            # moves it. The version is checked by the first write (a reselect advances it).
            if selection is not None and (selection.start, selection.end, selection.exact) != (
                annotation.start,
                annotation.end,
                annotation.quote,
            ):
                reselect_annotation(
                    annotation,
                    start=selection.start,
                    end=selection.end,
                    quote=selection.exact,
                    version=version,
                    actor=request.auth,
                )
                version = None
            update_annotation(annotation, tag=tag, note=note, version=version, actor=request.auth)
    except AnnotationError as refused:
        if refused.field == "version":
            return stale(request, annotation_id)
        raise
    response["ETag"] = etag(annotation.version)
    return wa.annotation_to_jsonld(annotation, links)


@router.delete(
    "/annotations/{int:annotation_id}/",
    response={204: None, **error_responses(400, 401, 403, 404, 409)},
    url_name="annotation",
    operation_id="annotations_api_remove",
    summary="Remove an annotation (its author, or staff)",
)
def remove(request, annotation_id: int):
    annotation = get_annotation_to_delete(request.auth, annotation_id)
    try:
        delete_annotation(annotation, version=version_matched(request), actor=request.auth)
    except AnnotationError as refused:
        if refused.field == "version":
            return stale(request, annotation_id)
        raise
    return Status(204, None)


# Optimistic concurrency: GET answers an annotation's version as its ETag; a PATCH or DELETE
# that sends it back in If-Match is refused (409) if someone changed the annotation since,
# instead of silently undoing their change. Without If-Match (or with `*`) nothing is checked.

_ENTITY_TAG = re.compile(r'(?:W/)?"(\d{1,12})"')


def etag(version: int) -> str:
    return f'"{version}"'


def version_matched(request: HttpRequest) -> int | None:
    """The annotation version the request's If-Match names; None when it names none."""
    value = request.headers.get("If-Match", "").strip()
    if value in ("", "*"):
        return None
    found = _ENTITY_TAG.fullmatch(value)
    if found is None:
        raise AnnotationError(
            'If-Match must be the ETag the annotation\'s GET answered with, such as "3".',
            field="If-Match",
        )
    return int(found.group(1))


def stale(request: HttpRequest, annotation_id: int) -> HttpResponse:
    """409 for a change made on an older version: the current version, to fetch and retry."""
    current = Annotation.objects.filter(pk=annotation_id).values_list("version", flat=True).first()
    response = error(
        request,
        409,
        f"The annotation changed since the version you sent in If-Match; its current version "
        f"is {current}. Fetch it again (GET), then send your change with the new ETag.",
        field="version",
        version=current,
    )
    response["ETag"] = etag(current)
    return response
