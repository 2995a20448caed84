"""The list of articles: title, date, and how many annotations of each tag; found by words of
the title or text, filtered by date and by open claims, sorted by date or by annotations.
The totals it sorts and filters by are the article's own counts (annotations/services/counts.py),
not counted for each request."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from annotations import search
from annotations.highlighting import tag_css
from annotations.models import Annotation, Tag

from .models import Article

ARTICLES_PER_PAGE = 50
SORTS = {
    "newest": ("-date", "title", "id"),
    "oldest": ("date", "title", "id"),
    "most-annotated": ("-annotation_count", "-date", "id"),
}


class ArticleFinder(forms.Form):
    q = forms.CharField(required=False, max_length=search.MAX_QUERY_CHARS, label="Words")
    start = forms.DateField(required=False, label="From")
    end = forms.DateField(required=False, label="To")
    open_claims = forms.BooleanField(required=False, label="Has open claims")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
            ("most-annotated", "Most annotations"),
        ],
    )

    def articles(self):
        """The articles that pass, with their counts, in the chosen order (the best match
        first when searching words and no order is chosen)."""
        data = self.cleaned_data
        articles = Article.objects.listed().defer("body")
        if data["start"]:
            articles = articles.filter(date__gte=data["start"])
        if data["end"]:
            articles = articles.filter(date__lte=data["end"])
        if data["open_claims"]:
            articles = articles.filter(open_claims__gt=0)
        if search.words_of(data["q"]):
            articles = search.matching_articles(articles, data["q"])
            if not data["sort"]:
                return articles.order_by("-search_rank", "-date", "id")
        return articles.order_by(*SORTS[data["sort"] or "newest"])


@login_required
@require_safe
def article_list(request: HttpRequest) -> HttpResponse:
    """Four queries however many articles and annotations: the tags, the count, the page of
    articles with their totals, and the page's counts per article and tag."""
    tags = list(Tag.objects.all())
    finder = ArticleFinder(request.GET)
    articles = finder.articles() if finder.is_valid() else Article.objects.none()
    page = Paginator(articles, ARTICLES_PER_PAGE).get_page(request.GET.get("page"))
    articles = list(page)
    counts = Annotation.objects.filter(article__in=articles).count_per_tag()
    for article in articles:
        article.tag_counts = [
            {"label": tag.label, "n": counts.get((article.pk, tag.pk), 0)} for tag in tags
        ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "articles": articles,
        "tags": tags,
        "tag_css": tag_css(tags),
        "finder": finder,
        "query": query.urlencode(),
        "searching": any(request.GET.get(name) for name in finder.fields),
    }
    return render(request, "newsroom/article_list.html", context)
