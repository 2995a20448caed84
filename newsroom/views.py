"""The list of articles (SPEC §6): title, date, and how many annotations of each tag."""

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from annotations.highlighting import tag_css
from annotations.models import AnchorStatus, Annotation, Tag

from .models import Article

ARTICLES_PER_PAGE = 50


@login_required
@require_safe
def article_list(request: HttpRequest) -> HttpResponse:
    tags = list(Tag.objects.all())
    page = Paginator(Article.objects.defer("body"), ARTICLES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    articles = list(page)
    counts = annotation_counts([article.pk for article in articles])
    for article in articles:
        per_tag, article.total, article.needing_review = counts[article.pk]
        article.tag_counts = [{"label": tag.label, "n": per_tag.get(tag.pk, 0)} for tag in tags]
    context = {"page": page, "articles": articles, "tags": tags, "tag_css": tag_css(tags)}
    return render(request, "newsroom/article_list.html", context)


def annotation_counts(article_ids: list[int]) -> dict[int, tuple[dict[int, int], int, int]]:
    """For each article: ({tag id: count}, total, how many need review). One query, grouped
    in the database, however many articles and annotations."""
    rows = (
        Annotation.objects.filter(article_id__in=article_ids)
        .values("article_id", "tag_id")
        .annotate(n=Count("id"), review=Count("id", filter=~Q(status=AnchorStatus.ANCHORED)))
        .order_by()
    )
    per_tag: dict[int, dict[int, int]] = defaultdict(dict)
    totals: dict[int, int] = defaultdict(int)
    review: dict[int, int] = defaultdict(int)
    for row in rows:
        per_tag[row["article_id"]][row["tag_id"]] = row["n"]
        totals[row["article_id"]] += row["n"]
        review[row["article_id"]] += row["review"]
    return {pk: (per_tag[pk], totals[pk], review[pk]) for pk in article_ids}
