"""The API's search across articles: annotations filtered and searched (docs/search.md)."""

from django.http import HttpRequest
from ninja import Query, Router

from .. import webannotation as wa
from ..finding import AnnotationFilter
from ..services import (
    AnnotationError,
)
from .errors import error_responses
from .operations import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, page_bounds
from .schemas import (
    AnnotationPageOut,
)

router = Router()


def filtered_url(request: HttpRequest, **changes) -> str:
    """This request's URL with its filters kept and `changes` made (None removes a key)."""
    query = request.GET.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value is not None:
            query[key] = value
    encoded = query.urlencode()
    return request.build_absolute_uri(request.path) + ("?" + encoded if encoded else "")


# Filters that may be repeated (`?tag=claim&tag=figure`: either tag).
TAG_FILTER = Query(None, description="Tag slugs; repeat for several.")
AUTHOR_FILTER = Query(None, description="Usernames; repeat for several.")
REVIEW_FILTER = Query(
    None, description="Review states (open, needs-source, verified, disputed, resolved)."
)
STATUS_FILTER = Query(None, description="Anchoring statuses (anchored, fuzzy, orphaned).")
ARTICLE_FILTER = Query(None, description="Articles' source ids.")


@router.get(
    "/annotations/",
    response={200: AnnotationPageOut, **error_responses(400, 401, 404)},
    url_name="annotations",
    operation_id="annotations_api_find_annotations",
    by_alias=True,
    exclude_none=True,
    summary="Annotations across articles: newest first, or best match first with `q`",
)
def find_annotations(
    request,
    q: str | None = Query(
        None, description="Words in the quote, the note or the replies (all of them must occur)."
    ),
    tag: list[str] | None = TAG_FILTER,
    author: list[str] | None = AUTHOR_FILTER,
    review: list[str] | None = REVIEW_FILTER,
    status: list[str] | None = STATUS_FILTER,
    article: list[str] | None = ARTICLE_FILTER,
    since: str | None = Query(
        None,
        description="Created at or after this time (ISO 8601; a date means its midnight).",
    ),
    page: int = Query(1, ge=1, le=MAX_PAGE),
    per_page: int = Query(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE),
):
    # The parameters above document and type the query; the desk page's form checks their
    # values, so the page and the API refuse bad values in the same words.
    filters = AnnotationFilter(request.GET)
    if not filters.is_valid():
        problems = filters.problems()
        raise AnnotationError("The filters are not valid: " + " ".join(problems))
    annotations = filters.annotations().with_related().defer("article__body")
    total = annotations.count()
    pages, offset = page_bounds(total, page, per_page)
    items = list(annotations[offset : offset + per_page])
    links = wa.Links.for_request(request)
    return wa.annotation_page(
        items,
        links,
        page_id=filtered_url(request, page=str(page)),
        collection_id=filtered_url(request, page=None, per_page=None),
        label="Annotations found" if filters.is_active() else "All annotations",
        total=total,
        start_index=offset,
        first=filtered_url(request, page="1"),
        last=filtered_url(request, page=str(pages)),
        next_page=filtered_url(request, page=str(page + 1)) if page < pages else None,
        prev_page=filtered_url(request, page=str(page - 1)) if page > 1 else None,
    )
