"""The API's operations on replies: W3C annotations "replying" to an annotation (docs/api.md)."""

from django.http import HttpResponse
from ninja import Query, Router, Status

from .. import webannotation as wa
from ..access import (
    get_annotation_to_read,
    get_annotation_to_review,
    get_reply_to_change,
    get_reply_to_read,
)
from ..models import Reply
from ..services import (
    add_reply,
    delete_reply,
    edit_reply,
)
from .errors import error_responses
from .operations import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, page_bounds, page_url
from .schemas import (
    ReplyIn,
    ReplyOut,
    ReplyPageOut,
    ReplyPatchIn,
    bodies_of,
    check_reply_target,
    read_reply_text,
)

router = Router()


@router.get(
    "/annotations/{int:annotation_id}/replies/",
    response={200: ReplyPageOut, **error_responses(400, 401, 404)},
    url_name="annotation_replies",
    operation_id="annotations_api_list_replies",
    by_alias=True,
    exclude_none=True,
    summary="An annotation's replies, oldest first: a W3C AnnotationPage",
)
def list_replies(
    request,
    annotation_id: int,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    per_page: int = Query(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE),
):
    annotation = get_annotation_to_read(annotation_id)
    replies = Reply.objects.filter(annotation=annotation).select_related("author")
    total = replies.count()
    pages, offset = page_bounds(total, page, per_page)
    links = wa.Links.for_request(request)
    return wa.annotation_page(
        replies.order_by("created", "id")[offset : offset + per_page],
        links,
        page_id=page_url(request, page, per_page),
        collection_id=links.annotation_replies(annotation.pk),
        label=f"Replies to annotation {annotation.pk}",
        total=total,
        start_index=offset,
        first=page_url(request, 1, per_page),
        last=page_url(request, pages, per_page),
        next_page=page_url(request, page + 1, per_page) if page < pages else None,
        prev_page=page_url(request, page - 1, per_page) if page > 1 else None,
        present=wa.reply_to_jsonld,
    )


@router.post(
    "/annotations/{int:annotation_id}/replies/",
    response={201: ReplyOut, **error_responses(400, 401, 403, 404, 409, 413)},
    url_name="annotation_replies",
    operation_id="annotations_api_reply",
    by_alias=True,
    exclude_none=True,
    summary="Reply to an annotation (editors); `@username` mentions a colleague",
)
def reply(request, annotation_id: int, payload: ReplyIn, response: HttpResponse):
    annotation = get_annotation_to_review(request.auth, annotation_id)
    links = wa.Links.for_request(request)
    data = payload.model_dump()
    check_reply_target(data["target"], annotation, links)
    text = read_reply_text(bodies_of(data["body"]))
    created = add_reply(annotation, author=request.auth, text=text)
    response["Location"] = links.reply(created.pk)
    return Status(201, wa.reply_to_jsonld(created, links))


@router.get(
    "/replies/{int:reply_id}/",
    response={200: ReplyOut, **error_responses(401, 404)},
    url_name="reply",
    operation_id="annotations_api_get_reply",
    by_alias=True,
    exclude_none=True,
    summary="One reply",
)
def get_reply(request, reply_id: int):
    return wa.reply_to_jsonld(get_reply_to_read(reply_id), wa.Links.for_request(request))


@router.patch(
    "/replies/{int:reply_id}/",
    response={200: ReplyOut, **error_responses(400, 401, 403, 404, 409, 413)},
    url_name="reply",
    operation_id="annotations_api_change_reply",
    by_alias=True,
    exclude_none=True,
    summary="Change a reply's text (its author, or staff)",
)
def change_reply(request, reply_id: int, payload: ReplyPatchIn):
    found = get_reply_to_change(request.auth, reply_id)
    text = read_reply_text(bodies_of(payload.model_dump()["body"]))
    edit_reply(found, text=text, actor=request.auth)
    return wa.reply_to_jsonld(found, wa.Links.for_request(request))


@router.delete(
    "/replies/{int:reply_id}/",
    response={204: None, **error_responses(401, 403, 404, 409)},
    url_name="reply",
    operation_id="annotations_api_remove_reply",
    summary="Remove a reply (its author, or staff)",
)
def remove_reply(request, reply_id: int):
    delete_reply(get_reply_to_change(request.auth, reply_id), actor=request.auth)
    return Status(204, None)
