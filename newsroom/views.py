"""The list of articles: title, date, and how many annotations of each tag."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from annotations.highlighting import tag_css
from annotations.models import Annotation, Tag

from .models import Article

ARTICLES_PER_PAGE = 50


@login_required
@require_safe
def article_list(request: HttpRequest) -> HttpResponse:
    """Three queries however many articles and annotations: the tags, the page of articles
    with their totals, and the counts per article and tag."""
    tags = list(Tag.objects.all())
    articles = (
        Article.objects.listed().defer("body").annotate(**Annotation.objects.counts_per_article())
    )
    page = Paginator(articles, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    articles = list(page)
    counts = Annotation.objects.filter(article__in=articles).count_per_tag()
    for article in articles:
        article.tag_counts = [
            {"label": tag.label, "n": counts.get((article.pk, tag.pk), 0)} for tag in tags
        ]
    context = {"page": page, "articles": articles, "tags": tags, "tag_css": tag_css(tags)}
    return render(request, "newsroom/article_list.html", context)
