"""The counts the article list and the statistics read (annotations/services/counts.py) stay
equal to a count made afresh from the annotations, whatever mix of changes came before."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.models import Annotation, DailyCount, EditorCount, deleted_annotation_records
from annotations.services import (
    create_annotation,
    delete_annotation,
    delete_annotations,
    rebuild_counts,
    replace_article_text,
    reselect_annotation,
    restore_deleted_annotation,
    save_annotation,
    set_review,
    update_annotation,
)
from newsroom.models import Article, BlockText

from .admin_pages import TAGS_URL
from .factories import SAMPLE_BLOCKS, AnnotationFactory, ArticleFactory, EditorFactory, tag

pytestmark = pytest.mark.django_db

COUNTED_ON_ARTICLES = ("annotation_count", "needs_review", "open_claims", "settled_claims")


def fresh() -> dict:
    """Every count, made now from the annotations in Python (not by the SQL under test)."""
    articles = {pk: Counter() for pk in Article.objects.values_list("pk", flat=True)}
    daily, editors = Counter(), Counter()
    for a in Annotation.objects.select_related("tag"):
        counts = articles[a.article_id]
        counts["annotation_count"] += 1
        counts["needs_review"] += a.status in ("fuzzy", "orphaned")
        if a.tag.slug == "claim":
            settled = a.review_state not in ("open", "needs-source")
            counts["settled_claims" if settled else "open_claims"] += 1
        daily[(timezone.localdate(a.created), a.tag_id, a.review_state)] += 1
        if a.author_id is not None:
            editors[(a.author_id, a.tag_id, a.review_state)] += 1
    return {
        "articles": {
            pk: {name: c[name] for name in COUNTED_ON_ARTICLES} for pk, c in articles.items()
        },
        "daily": +daily,
        "editors": +editors,
    }


def kept() -> dict:
    """Every count as the services keep it."""
    articles = {
        row["pk"]: {name: row[name] for name in COUNTED_ON_ARTICLES}
        for row in Article.objects.values("pk", *COUNTED_ON_ARTICLES)
    }
    daily, editors = Counter(), Counter()
    for row in DailyCount.objects.all():
        daily[(row.day, row.tag_id, row.review_state)] += row.count
    for row in EditorCount.objects.all():
        editors[(row.author_id, row.tag_id, row.review_state)] += row.count
    return {"articles": articles, "daily": +daily, "editors": +editors}


def at(article, quote: str) -> dict:
    start = article.body.index(quote)
    return {"start": start, "end": start + len(quote), "quote": quote}


@pytest.fixture
def desk(db):
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    first, second = ArticleFactory(title="First"), ArticleFactory(title="Second")
    return {"alice": alice, "bob": bob, "first": first, "second": second}


def test_it_matches_a_fresh_count_after_every_kind_of_change(desk):
    alice, bob, first, second = desk["alice"], desk["bob"], desk["first"], desk["second"]
    claim, figure, rebuttal = tag("claim"), tag("figure"), tag("rebuttal")
    made = {}
    for name, article, tag_, quote, author in [
        ("roads", first, claim, "30% of the budget", alice),
        ("mayor", first, claim, "The mayor denied it", bob),
        ("twelve", first, figure, "12%", alice),
        ("heading", first, rebuttal, "What the Mayor Said", bob),
        ("council", second, claim, "The council said", alice),
        ("second-roads", second, claim, "went to roads", bob),
    ]:
        made[name] = create_annotation(
            article=article, tag=tag_, author=author, **at(article, quote)
        )
    assert kept() == fresh()

    # Edits: a new tag moves it between counts; a new note alone moves nothing.
    update_annotation(made["twelve"], tag=claim, actor=alice)
    update_annotation(made["heading"], note="Which page?", actor=bob)
    # Reviews, by someone else than the author.
    set_review(made["roads"], state="needs-source", by=bob)
    set_review(made["mayor"], state="verified", source="Minutes, p. 4", by=alice)
    set_review(made["council"], state="resolved", by=bob)
    assert kept() == fresh()

    # A delete, and its undo.
    mayor = made["mayor"].pk
    delete_annotation(made["mayor"], actor=bob)
    assert kept() == fresh()
    restore_deleted_annotation(deleted_annotation_records().get(id=mayor), actor=bob)
    assert kept() == fresh()

    # A re-import that leaves some annotations fuzzy or orphaned, and one placed again.
    blocks = [BlockText("paragraph", "The mayor said 12% went to the harbour."), *SAMPLE_BLOCKS[1:]]
    replace_article_text(first, date=first.date, title=first.title, blocks=blocks)
    assert Annotation.objects.filter(article=first).exclude(status="anchored").exists()
    assert kept() == fresh()
    first.refresh_from_db()
    lost = Annotation.objects.filter(article=first).exclude(status="anchored").first()
    reselect_annotation(lost, **at(first, "the harbour"), actor=alice)
    assert kept() == fresh()

    # The admin: a new annotation, and one moved to another article with a new author,
    # tag and review state.
    added = Annotation(article=second, tag=figure, author=None, note="", **at(second, "12%"))
    save_annotation(added, actor=bob)
    moved = Annotation.objects.get(pk=made["twelve"].pk)
    moved.article, moved.author, moved.tag, moved.review_state = second, bob, rebuttal, "disputed"
    moved.start, moved.end, moved.quote = at(second, "A road").values()
    save_annotation(moved, actor=bob)
    assert kept() == fresh()

    # An editor's account deleted: their annotations stay, without an author, and change on.
    bob.delete()
    set_review(
        Annotation.objects.get(pk=made["second-roads"].pk),
        state="disputed",
        source="Audit",
        by=alice,
    )
    delete_annotations(Annotation.objects.filter(pk=made["roads"].pk), actor=alice)
    assert kept() == fresh()
    assert Annotation.objects.filter(author=None).count() == 5  # all of bob's


def test_a_create_adds_to_the_counts_without_recounting_the_article(desk):
    first, alice = desk["first"], desk["alice"]
    for quote in ("30% of the budget", "The mayor denied it", "12%"):
        create_annotation(article=first, tag=tag("claim"), author=alice, **at(first, quote))

    with CaptureQueriesContext(connection) as queries:
        create_annotation(article=first, tag=tag("claim"), author=alice, **at(first, "roads"))

    # Its cost must not grow with the article's annotations: no count over them.
    assert not [q for q in queries.captured_queries if "count(" in q["sql"].lower()]
    assert kept() == fresh()
    assert kept()["articles"][first.pk]["open_claims"] == 4


def test_it_keeps_the_counts_when_a_stale_article_is_saved(desk):
    stale = Article.objects.get(pk=desk["first"].pk)
    AnnotationFactory(article=desk["first"], tag=tag("claim"))

    stale.title = "Renamed"
    stale.save()

    assert kept() == fresh()
    assert Article.objects.get(pk=stale.pk).open_claims == 1


def test_it_counts_the_claims_again_when_the_claims_tag_is_renamed(admin_client, desk):
    AnnotationFactory(article=desk["first"], tag=tag("claim"))
    claim = tag("claim")
    form = {
        "label": "Claim",
        "slug": "assertion",
        "color": claim.color,
        "shortcut": claim.shortcut,
        "description": "",
        "position": "1",
    }

    assert admin_client.post(f"{TAGS_URL}{claim.pk}/change/", form).status_code == 302

    assert kept() == fresh()
    assert Article.objects.get(pk=desk["first"].pk).open_claims == 0


def test_it_rebuilds_what_was_written_around_the_services(desk):
    AnnotationFactory(article=desk["first"], tag=tag("claim"), author=desk["alice"])
    AnnotationFactory(article=desk["second"], tag=tag("figure"), status="fuzzy")
    Annotation.objects.filter(tag=tag("claim")).update(review_state="verified")
    Article.objects.update(annotation_count=7, open_claims=3)
    EditorCount.objects.update(count=99)
    assert kept() != fresh()

    rebuild_counts()

    assert kept() == fresh()


def test_it_rebuilds_from_the_command_line(desk, capsys):
    AnnotationFactory(article=desk["first"], tag=tag("claim"))
    DailyCount.objects.all().delete()

    call_command("rebuild_counts")

    assert kept() == fresh()
    assert "Counts rebuilt" in capsys.readouterr().out
