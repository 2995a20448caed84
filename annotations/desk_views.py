"""The desk: every annotation findable across articles (`/desk/`), the desk's statistics as
charts with their numbers (`/desk/stats/`, each chart also as CSV), and the ClaimReview
download of settled claims. docs/search.md describes the search; read-only pages, any
signed-in user.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from . import charts, claimreview, stats
from .export import streamed_download
from .finding import OPEN_CLAIMS, WAITING_FOR_REVIEW, AnnotationFilter
from .highlighting import tag_css
from .models import AnchorStatus, Annotation, ReviewState, Tag
from .webannotation import Links

RESULTS_PER_PAGE = 50


def group_by_article(annotations: Iterable[Annotation]) -> list[dict]:
    """The page's annotations under their articles, articles in the order of their first
    (best or newest) annotation."""
    groups: dict[int, dict] = {}
    for annotation in annotations:
        group = groups.setdefault(
            annotation.article_id, {"article": annotation.article, "annotations": []}
        )
        group["annotations"].append(annotation)
    return list(groups.values())


def authors():
    """Users who annotated, for the author control (an index lookup per user, not a scan)."""
    made = Annotation.objects.filter(author=OuterRef("pk"))
    return get_user_model().objects.filter(Exists(made)).order_by("username")


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("before", None)
    return query.urlencode()


def page_number(value: str | None) -> int:
    """The page asked for; the first for anything that is not a number."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


@login_required
@require_safe
@vary_on_headers("HX-Request")
def desk(request: HttpRequest) -> HttpResponse:
    """The search page. Four queries for a page of results besides the tags (for the controls
    and the form): the matches (or the count), the page with articles, tags and authors, and
    the highlights of its words; on SQLite a search also asks the index what its last word
    begins (annotations/fts5.py), and filters that pass few annotations list them."""
    tags = list(Tag.objects.all())
    filters = AnnotationFilter(request.GET, tags=tags)
    found, groups = None, []
    if filters.is_valid():
        page = page_number(request.GET.get("page"))
        found = filters.find(page, RESULTS_PER_PAGE, highlight=True)
        groups = group_by_article(found.annotations)
    chosen = {name: request.GET.getlist(name) for name in ("tag", "author", "review", "status")}
    context = {
        "filters": filters,
        "found": found,
        "limit": f"{found.limit:,}" if found else "",
        "groups": groups,
        "tags": tags,
        "tag_css": tag_css(tags),
        "chosen": chosen,
        "review_states": ReviewState.choices,
        "anchor_statuses": AnchorStatus.choices,
        "authors": [] if request.htmx else authors(),
        "query": query_without_page(request),
        "open_claims": OPEN_CLAIMS,
        "waiting_for_review": WAITING_FOR_REVIEW,
    }
    template = "annotations/desk.html#results" if request.htmx else "annotations/desk.html"
    return render(request, template, context)


@login_required
@require_safe
def desk_stats(request: HttpRequest) -> HttpResponse:
    """Four charts, each drawn from one aggregate query (annotations/stats.py)."""
    tables = stats.all_tables()
    for table in tables.values():
        table.svg = charts.draw(table)
    return render(request, "annotations/desk_stats.html", {"tables": tables})


@login_required
@require_safe
@never_cache
def desk_stats_csv(request: HttpRequest, name: str) -> StreamingHttpResponse:
    table = stats.table(name)
    if table is None:
        raise Http404(f"There is no statistic {name!r}.")
    today = timezone.localdate().isoformat()
    return streamed_download(stats.csv_chunks(table), filename=f"{name}-{today}.csv")


@login_required
@require_safe
@never_cache
def claimreview_download(request: HttpRequest) -> StreamingHttpResponse:
    chunks = claimreview.export_chunks(Links.for_request(request))
    return streamed_download(
        chunks, filename="claimreview.jsonld", content_type=claimreview.MEDIA_TYPE
    )
