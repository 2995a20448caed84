"""The desk page: filters from the URL, results grouped by article with the quote in context
and the matched words highlighted, the one-click views, htmx swapping only the results."""

import re

import pytest
from django.db import connection

from annotations import finding
from annotations.models import Reply

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, tag

pytestmark = pytest.mark.django_db

DESK = "/desk/"


@pytest.fixture
def signed_in(client, viewer):
    client.force_login(viewer)
    return client


def test_it_sends_anonymous_users_to_log_in(client):
    response = client.get(DESK)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_groups_results_by_article_with_the_quote_in_context(signed_in, article):
    other = ArticleFactory(title="Harbour dredging")
    first = AnnotationFactory(article=article, quote="30% of the budget")
    AnnotationFactory(article=other, quote="roads")

    page = signed_in.get(DESK).content.decode()

    assert page.count('class="result-group"') == 2
    assert f'href="/articles/{article.source_id}/#annotation-{first.pk}"' in page
    assert "…The council said <strong>30% of the budget</strong> went to roads." in page


def test_it_highlights_the_matched_words(signed_in, article, editor):
    annotation = AnnotationFactory(article=article, quote="30% of the budget", note="Café owners")
    Reply.objects.create(annotation=annotation, author=editor, text="the cafe closed")

    page = signed_in.get(DESK, {"q": "cafe"}).content.decode()

    assert '<mark class="hit">Café</mark> owners' in page
    assert 'In a reply: the <mark class="hit">cafe</mark> closed' in page
    assert "1 annotation matching “cafe”, best match first." in page


def test_it_escapes_what_editors_wrote(signed_in, article):
    AnnotationFactory(article=article, quote="roads", note="<script>alert(1)</script> roads")

    page = signed_in.get(DESK, {"q": "roads"}).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page


def test_it_shows_the_filters_as_chosen_in_the_url(signed_in, article):
    EditorFactory(username="alice")
    AnnotationFactory(article=article, quote="roads", author=EditorFactory(username="bob"))

    page = signed_in.get(
        DESK, {"q": "roads", "tag": "claim", "review": "disputed", "author": "bob"}
    ).content.decode()

    assert 'value="roads"' in page
    assert 'name="tag" value="claim" checked' in page
    assert 'name="review" value="disputed" checked' in page
    assert '<option value="bob" selected>' in page
    assert '<option value="alice"' not in page  # only people who annotated


def test_it_offers_open_claims_and_waiting_for_review_in_one_click(signed_in, article):
    open_claim = AnnotationFactory(article=article, tag=tag("claim"), quote="30% of the budget")
    AnnotationFactory(article=article, tag=tag("claim"), quote="roads", review_state="verified")
    fuzzy = AnnotationFactory(article=article, tag=tag("figure"), quote="12%", status="fuzzy")
    page = signed_in.get(DESK).content.decode()
    assert 'href="/desk/?tag=claim&amp;review=open&amp;review=needs-source">Open claims' in page
    assert 'href="/desk/?status=fuzzy&amp;status=orphaned">Waiting for review' in page

    claims = signed_in.get(DESK + "?tag=claim&review=open&review=needs-source").context
    waiting = signed_in.get(DESK + "?status=fuzzy&status=orphaned").context

    assert [a.pk for g in claims["groups"] for a in g["annotations"]] == [open_claim.pk]
    assert [a.pk for g in waiting["groups"] for a in g["annotations"]] == [fuzzy.pk]


def test_it_answers_htmx_with_the_results_alone(signed_in, article):
    AnnotationFactory(article=article, quote="roads")

    response = signed_in.get(DESK, {"q": "roads"}, headers={"HX-Request": "true"})

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body and "desk-filters" not in body
    assert response["Vary"].count("HX-Request") == 1


def test_it_says_so_when_nothing_matches(signed_in, article):
    AnnotationFactory(article=article, quote="roads")

    page = signed_in.get(DESK, {"q": "zeppelin"}).content.decode()

    assert "0 annotations matching “zeppelin”" in page
    assert "No annotation matches." in page


def test_it_says_what_is_wrong_with_a_filter(signed_in):
    page = signed_in.get(DESK, {"tag": "nonsense", "since": "soon"}).content.decode()

    assert "tag: There is no tag “nonsense”." in page
    assert "since: Give a date" in page


def test_it_pages_by_fifty_and_keeps_the_filters(signed_in, article):
    for _ in range(51):
        AnnotationFactory(article=article, quote="roads")

    page = signed_in.get(DESK, {"q": "roads", "tag": "claim"}).content.decode()

    assert 'href="?q=roads&amp;tag=claim&amp;page=2" rel="next"' in page
    second = signed_in.get(DESK, {"q": "roads", "tag": "claim", "page": 2}).context["found"]
    assert len(second.annotations) == 1


def test_it_links_the_desk_from_every_page_and_offers_claimreview(signed_in):
    page = signed_in.get("/").content.decode()
    desk = signed_in.get(DESK).content.decode()

    assert '<a href="/desk/">Desk</a>' in page
    assert 'href="/desk/claimreview.jsonld" download>Export ClaimReview' in desk


def test_it_shows_a_page_in_constant_queries(signed_in, article, django_assert_max_num_queries):
    for i in range(30):
        AnnotationFactory(article=ArticleFactory() if i % 3 else article, quote="roads")

    # 9, and the header's count of unread mentions ("For you"); on SQLite a search also asks
    # the index what the last word begins (annotations/fts5.py, lookup_query).
    with django_assert_max_num_queries(10 if connection.vendor == "postgresql" else 13):
        signed_in.get(DESK, {"q": "roads", "tag": "claim"})
    with django_assert_max_num_queries(10):
        signed_in.get(DESK)


def test_it_says_more_match_than_it_counts_and_goes_on_to_older_ones(
    signed_in, article, monkeypatch
):
    monkeypatch.setattr(finding, "LIMIT", 50)
    for _ in range(52):
        AnnotationFactory(article=article, quote="roads")

    page = signed_in.get(DESK, {"tag": "claim"})
    older = re.search(r'href="\?tag=claim&amp;before=([0-9.]+)" rel="next">Older', page.text)
    following = signed_in.get(DESK, {"tag": "claim", "before": older[1]}).text

    assert "More than 50 annotations, newest first." in page.text
    assert "Page 1" not in page.text
    assert following.count('<li data-tag="claim">') == 2
    assert '<a href="?tag=claim">Newest</a>' in following and "Older" not in following


def test_it_says_a_search_ranks_the_most_recently_added_when_more_match(
    signed_in, article, monkeypatch
):
    monkeypatch.setattr(finding, "LIMIT", 50)
    for _ in range(52):
        AnnotationFactory(article=article, quote="roads")

    page = signed_in.get(DESK, {"q": "roads"}).text

    assert (
        "More than 50 annotations match “roads”: the 50 most recently added, best match first."
        in page
    )
    assert page.count('<li data-tag="claim">') == 50 and "Page 1 of 1" not in page
