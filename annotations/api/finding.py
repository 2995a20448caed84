"""The API's search across articles: annotations filtered and searched (docs/search.md)."""

from django.http import Http404, HttpRequest
from ninja import Query, Router

from .. import webannotation as wa
from ..finding import LIMIT, AnnotationFilter
from ..services import (
    AnnotationError,
)
from .errors import error_responses
from .operations import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE
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
    before: str | None = Query(
        None,
        description=f"A cursor from a `next` link: the page after it, for lists of more than "
        f"{LIMIT:,}.",
    ),
):
    # The parameters above document and type the query; the desk page's form checks their
    # values, so the page and the API refuse bad values in the same words.
    filters = AnnotationFilter(request.GET)
    if not filters.is_valid():
        problems = filters.problems()
        raise AnnotationError("The filters are not valid: " + " ".join(problems))
    found = filters.find(page, per_page)
    if found.number is not None and found.number != page:
        if found.pages is None:
            raise Http404(
                f"There is no page {page}: page numbers reach the first {found.limit:,} results; "
                "past them, follow the `next` links."
            )
        raise Http404(f"There is no page {page}: the last page is {found.pages}.")
    links = wa.Links.for_request(request)
    label = "Annotations found" if filters.is_active() else "All annotations"
    if found.more_than_limit and found.ranked:
        label += f": the {found.limit:,} most recently added of more, best match first"
    elif found.more_than_limit:
        label += f": more than {found.limit:,}, newest first"
    next_page = prev_page = None
    if found.next_cursor:
        next_page = filtered_url(request, page=None, before=found.next_cursor)
    elif found.has_next:
        next_page = filtered_url(request, page=str(found.number + 1))
    if found.number is not None and found.number > 1:
        prev_page = filtered_url(request, page=str(found.number - 1))
    return wa.annotation_page(
        found.annotations,
        links,
        page_id=filtered_url(request, page=found.number and str(found.number)),
        collection_id=filtered_url(request, page=None, per_page=None, before=None),
        label=label,
        total=found.total,
        start_index=found.start,
        first=filtered_url(request, page="1", before=None),
        last=found.pages and filtered_url(request, page=str(found.pages), before=None),
        next_page=next_page,
        prev_page=prev_page,
    )
