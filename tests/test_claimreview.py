"""The ClaimReview export: schema.org items for verified and disputed claims, with every field
a fact-check reader requires, from the command and from the desk's link."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from .factories import AnnotationFactory, tag

pytestmark = pytest.mark.django_db

REQUIRED = {"@context", "@type", "url", "claimReviewed", "datePublished", "author", "reviewRating"}


@pytest.fixture
def verdicts(article, editor):
    when = timezone.make_aware(datetime.datetime(2025, 8, 9, 10, 0))
    verified = AnnotationFactory(
        article=article,
        tag=tag("claim"),
        quote="30% of the budget",
        review_state="verified",
        review_source="https://example.org/minutes",
        reviewed_by=editor,
        reviewed_at=when,
    )
    disputed = AnnotationFactory(
        article=article, tag=tag("figure"), quote="12%", review_state="disputed", reviewed_at=when
    )
    AnnotationFactory(article=article, tag=tag("claim"), quote="roads")  # open: left out
    AnnotationFactory(article=article, tag=tag("rebuttal"), quote="denied", review_state="verified")
    return verified, disputed


def test_it_writes_a_claimreview_for_each_verdict(verdicts, article):
    verified, disputed = verdicts
    out = io.StringIO()

    call_command("export_annotations", "--format", "claimreview", stdout=out)

    items = json.loads(out.getvalue())
    assert {item["claimReviewed"] for item in items} == {"30% of the budget", "12%"}
    item = next(i for i in items if i["claimReviewed"] == "30% of the budget")
    assert REQUIRED <= item.keys()
    assert item["@context"] == "https://schema.org"
    assert item["@type"] == "ClaimReview"
    assert (
        item["url"]
        == f"http://127.0.0.1:8000/articles/{article.source_id}/#annotation-{verified.pk}"
    )
    assert item["datePublished"] == "2025-08-09"
    assert item["author"] == {
        "@type": "Organization",
        "name": "Newsroom",
        "url": "http://127.0.0.1:8000",
    }
    assert item["reviewRating"] == {
        "@type": "Rating",
        "alternateName": "Verified",
        "ratingExplanation": "https://example.org/minutes",
    }
    assert item["itemReviewed"] == {
        "@type": "Claim",
        "appearance": {
            "@type": "NewsArticle",
            "url": f"http://127.0.0.1:8000/articles/{article.source_id}/",
            "headline": article.title,
            "datePublished": "2025-08-08",
        },
    }
    other = next(i for i in items if i["claimReviewed"] == "12%")
    assert other["reviewRating"] == {"@type": "Rating", "alternateName": "Disputed"}


def test_it_writes_one_article_to_a_file(verdicts, article, tmp_path):
    target = tmp_path / "claims.jsonld"

    call_command(
        "export_annotations",
        "--format",
        "claimreview",
        "--article",
        article.source_id,
        "--output",
        str(target),
    )

    assert len(json.loads(target.read_text(encoding="utf-8"))) == 2


def test_it_writes_an_empty_list_when_nothing_is_settled(db):
    out = io.StringIO()

    call_command("export_annotations", "--format", "claimreview", stdout=out)

    assert json.loads(out.getvalue()) == []


def test_the_desk_link_downloads_the_same_items(client, viewer, verdicts):
    client.force_login(viewer)

    response = client.get("/desk/claimreview.jsonld")

    assert response["Content-Type"] == "application/ld+json"
    assert 'filename="claimreview.jsonld"' in response["Content-Disposition"]
    items = json.loads(b"".join(response.streaming_content))
    assert len(items) == 2
    assert all(item["url"].startswith("http://testserver/articles/") for item in items)
