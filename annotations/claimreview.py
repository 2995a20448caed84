"""Settled claims as schema.org `ClaimReview` JSON-LD, the form search engines' fact-check
tools read (https://schema.org/ClaimReview). README.md shows one.

Every annotation tagged `claim` or `figure` whose review state is `verified` or `disputed`
becomes one item: `claimReviewed` is the quote, `reviewRating.alternateName` the verdict in
words (with the source it rests on as `ratingExplanation`), `itemReviewed` a `Claim` that
appears in the article, `author` the newsroom, `datePublished` the day of the verdict, `url`
the annotation on the article page. Written by `manage.py export_annotations --format
claimreview` and the desk page's "Export ClaimReview" link; both stream a JSON array.
"""

import json
from collections.abc import Iterator

from django.conf import settings

from newsroom.models import Article

from .models import TAGS_NEEDING_SOURCES, VERDICT_STATES, Annotation, ReviewState
from .webannotation import Links

CONTEXT = "https://schema.org"
MEDIA_TYPE = "application/ld+json"


def reviewed_claims(article: Article | None = None):
    """The claims with a verdict, newest verdict first, streamed in one query."""
    claims = (
        Annotation.objects.filter(
            review_state__in=VERDICT_STATES, tag__slug__in=TAGS_NEEDING_SOURCES
        )
        .select_related("article", "reviewed_by")
        .defer("article__body")
        .order_by("-reviewed_at", "-modified", "-id")
    )
    if article is not None:
        claims = claims.filter(article=article)
    return claims.iterator(chunk_size=500)


def claim_review(annotation: Annotation, links: Links) -> dict:
    article = annotation.article
    article_url = links.article_page(article.source_id)
    verdict_day = (annotation.reviewed_at or annotation.modified).date().isoformat()
    rating = {
        "@type": "Rating",
        "alternateName": ReviewState(annotation.review_state).label,
    }
    if annotation.review_source:
        rating["ratingExplanation"] = annotation.review_source
    return {
        "@context": CONTEXT,
        "@type": "ClaimReview",
        "url": f"{article_url}#annotation-{annotation.pk}",
        "claimReviewed": annotation.quote,
        "datePublished": verdict_day,
        "author": {"@type": "Organization", "name": settings.NEWSROOM_NAME, "url": links.base},
        "reviewRating": rating,
        "itemReviewed": {
            "@type": "Claim",
            "appearance": {
                "@type": "NewsArticle",
                "url": article_url,
                "headline": article.title,
                "datePublished": article.date.isoformat(),
            },
        },
    }


def export_chunks(links: Links, article: Article | None = None) -> Iterator[str]:
    """A JSON array of ClaimReview items, as text pieces (flat memory at any size)."""
    rows = reviewed_claims(article)
    yield "["
    try:
        for index, annotation in enumerate(rows):
            item = json.dumps(claim_review(annotation, links), ensure_ascii=False, indent=2)
            yield ("," if index else "") + "\n" + item
    finally:
        rows.close()
    yield "\n]\n"


def write(out, *, article: Article | None = None) -> None:
    """The export to a text file; absolute URLs start with `settings.SITE_URL`."""
    for chunk in export_chunks(Links.for_site(), article):
        out.write(chunk)
