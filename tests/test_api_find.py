"""`GET /api/annotations/`: annotations across articles, each filter alone and together,
paging that keeps the filters, refusals in plain words, and a constant number of queries."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from annotations import finding
from annotations.models import Annotation, Reply

from .api_helpers import CONTEXT, assert_error, bearer
from .factories import AnnotationFactory, ArticleFactory, EditorFactory, tag

pytestmark = pytest.mark.django_db

URL = "/api/annotations/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [int(item["id"].rstrip("/").rsplit("/", 1)[1]) for item in response.json()["items"]]


@pytest.fixture
def desk(db):
    """Two articles, two editors, annotations of every kind spread over them."""
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    budget = ArticleFactory(source_id="budget", title="Council budget")
    harbour = ArticleFactory(source_id="harbour", title="Harbour dredging")
    made = {
        "claim_open": AnnotationFactory(
            article=budget, tag=tag("claim"), quote="30% of the budget", author=alice
        ),
        "claim_disputed": AnnotationFactory(
            article=harbour,
            tag=tag("claim"),
            quote="the figure was 12%",
            author=bob,
            review_state="disputed",
            note="The harbour dredging cost more",
        ),
        "figure_verified": AnnotationFactory(
            article=budget, tag=tag("figure"), quote="12%", author=bob, review_state="verified"
        ),
        "rebuttal_fuzzy": AnnotationFactory(
            article=harbour, tag=tag("rebuttal"), quote="denied it", author=alice, status="fuzzy"
        ),
    }
    # Newest first means by creation time: make it explicit.
    start = timezone.now() - datetime.timedelta(days=10)
    for days, annotation in enumerate(made.values()):
        Annotation.objects.filter(pk=annotation.pk).update(
            created=start + datetime.timedelta(days=days * 3)
        )
    return made


def test_it_lists_every_annotation_newest_first_as_an_annotation_page(client, viewer, desk):
    response = client.get(URL, headers=bearer(viewer))

    data = response.json()
    assert data["@context"] == CONTEXT
    assert data["type"] == "AnnotationPage"
    assert data["partOf"]["total"] == 4
    assert ids(response) == [a.pk for a in reversed(desk.values())]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=claim", ["claim_disputed", "claim_open"]),
        ("tag=claim&tag=figure", ["figure_verified", "claim_disputed", "claim_open"]),
        ("author=alice", ["rebuttal_fuzzy", "claim_open"]),
        ("review=disputed", ["claim_disputed"]),
        ("review=verified&review=disputed", ["figure_verified", "claim_disputed"]),
        ("review=open", ["rebuttal_fuzzy", "claim_open"]),
        ("status=fuzzy", ["rebuttal_fuzzy"]),
        ("article=harbour", ["rebuttal_fuzzy", "claim_disputed"]),
        ("q=dredging", ["claim_disputed"]),
        ("q=BUDGET", ["claim_open"]),
    ],
)
def test_it_filters_by_each_filter(client, viewer, desk, query, expected):
    response = client.get(f"{URL}?{query}", headers=bearer(viewer))

    assert ids(response) == [desk[name].pk for name in expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=claim&author=bob", ["claim_disputed"]),
        ("tag=claim&review=open&review=needs-source", ["claim_open"]),
        ("article=budget&author=bob&review=verified", ["figure_verified"]),
        ("article=harbour&q=dredging&tag=claim", ["claim_disputed"]),
        ("article=budget&q=dredging", []),
        ("author=alice&status=anchored", ["claim_open"]),
    ],
)
def test_it_combines_filters(client, viewer, desk, query, expected):
    response = client.get(f"{URL}?{query}", headers=bearer(viewer))

    assert ids(response) == [desk[name].pk for name in expected]


def test_it_filters_by_creation_time(client, viewer, desk):
    since = Annotation.objects.get(pk=desk["figure_verified"].pk).created

    response = client.get(URL, {"since": since.isoformat()}, headers=bearer(viewer))

    assert ids(response) == [desk["rebuttal_fuzzy"].pk, desk["figure_verified"].pk]


def test_it_takes_a_date_for_since(client, viewer, desk):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    assert ids(client.get(URL, {"since": tomorrow}, headers=bearer(viewer))) == []


def test_it_finds_words_in_replies(client, viewer, editor, desk):
    Reply.objects.create(annotation=desk["claim_open"], author=editor, text="Check the ledger")

    assert ids(client.get(URL, {"q": "ledgers"}, headers=bearer(viewer))) == [desk["claim_open"].pk]


def test_it_ranks_a_match_in_the_quote_above_one_in_a_reply(client, viewer, editor, desk):
    in_reply = desk["claim_open"]
    Reply.objects.create(annotation=in_reply, author=editor, text="about the roads")
    in_quote = AnnotationFactory(article=in_reply.article, quote="roads", author=editor)

    assert ids(client.get(URL, {"q": "roads"}, headers=bearer(viewer))) == [
        in_quote.pk,
        in_reply.pk,
    ]


def test_it_pages_and_keeps_the_filters_in_the_links(client, viewer, desk):
    response = client.get(URL, {"tag": ["claim", "figure"], "per_page": 2}, headers=bearer(viewer))

    data = response.json()
    assert data["partOf"]["total"] == 3
    assert len(data["items"]) == 2
    assert "tag=claim&tag=figure" in data["next"] and "page=2" in data["next"]
    second = client.get(data["next"], headers=bearer(viewer)).json()
    assert second["startIndex"] == 2
    assert [i["id"] for i in second["items"]] == [
        f"http://testserver/api/annotations/{desk['claim_open'].pk}/"
    ]
    assert "next" not in second and "page=1" in second["prev"]


def test_it_answers_404_past_the_last_page(client, viewer, desk):
    assert_error(client.get(URL, {"page": 9}, headers=bearer(viewer)), 404, "last page is 1")


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        ("tag=nonsense", "There is no tag “nonsense”"),
        ("author=nobody", "There is no user “nobody”"),
        ("review=maybe", "There is no review state “maybe”"),
        ("status=lost", "There is no anchoring status “lost”"),
        ("article=nowhere", "There is no article “nowhere”"),
        ("since=yesterday", "Give a date"),
        ("q=" + "x" * 201, "at most 200 characters"),
    ],
)
def test_it_refuses_bad_filters_in_plain_words(client, viewer, desk, query, phrase):
    assert_error(client.get(f"{URL}?{query}", headers=bearer(viewer)), 400, phrase)


def test_it_ignores_empty_filters_as_a_form_sends_them(client, viewer, desk):
    query = "q=&tag=&author=&review=&status=&article=&since="

    assert len(ids(client.get(f"{URL}?{query}", headers=bearer(viewer)))) == 4


def test_it_ignores_a_search_of_punctuation_only(client, viewer, desk):
    assert len(ids(client.get(URL, {"q": "“—!?”"}, headers=bearer(viewer)))) == 4


def test_it_treats_search_operators_as_plain_words(client, viewer, desk):
    for q in ['budget" OR "x', "budget & !roads", "NEAR(budget)", "budget:*|(x"]:
        response = client.get(URL, {"q": q}, headers=bearer(viewer))
        assert response.status_code == 200, (q, response.content)


def test_it_needs_authentication(client, desk):
    assert_error(client.get(URL), 401, "Authentication required")


def test_it_lists_in_constant_queries(client, viewer, desk, django_assert_max_num_queries):
    headers = bearer(viewer)
    for _ in range(20):
        AnnotationFactory(article=desk["claim_open"].article, quote="roads")
    # On SQLite a search asks the index what the last word begins (two or three small
    # statements: annotations/fts5.py, lookup_query), and filters passing few
    # annotations are counted, then listed.
    with django_assert_max_num_queries(8 if connection.vendor == "postgresql" else 11):
        response = client.get(
            URL, {"q": "roads", "tag": "claim", "author": "alice"}, headers=headers
        )
    assert response.status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(URL, headers=headers).status_code == 200


def test_it_leaves_out_the_total_past_the_limit_and_goes_on_by_cursor(
    client, viewer, desk, monkeypatch
):
    monkeypatch.setattr(finding, "LIMIT", 2)
    headers = bearer(viewer)

    first = client.get(
        URL, {"tag": ["claim", "figure", "rebuttal"], "per_page": 1}, headers=headers
    )

    data = first.json()
    assert data["partOf"]["label"] == "Annotations found: more than 2, newest first"
    assert "total" not in data["partOf"] and "last" not in data["partOf"]
    assert data["startIndex"] == 0 and "prev" not in data
    assert "before=" in data["next"] and "tag=rebuttal" in data["next"]
    seen = ids(first)
    while "next" in data:
        page = client.get(data["next"], headers=headers)
        data = page.json()
        assert "startIndex" not in data and "prev" not in data
        assert data["id"] == page.wsgi_request.build_absolute_uri()
        seen += ids(page)
    assert seen == [a.pk for a in reversed(desk.values())]


def test_it_reaches_pages_by_number_up_to_the_limit(client, viewer, desk, monkeypatch):
    monkeypatch.setattr(finding, "LIMIT", 2)
    headers = bearer(viewer)

    second = client.get(URL, {"per_page": 1, "page": 2}, headers=headers).json()

    assert second["startIndex"] == 1 and "page=1" in second["prev"] and "before=" in second["next"]
    assert_error(
        client.get(URL, {"per_page": 1, "page": 3}, headers=headers),
        404,
        "page numbers reach the first 2 results",
    )


def test_it_says_a_search_ranks_the_most_recently_added_past_the_limit(
    client, viewer, editor, desk, monkeypatch
):
    monkeypatch.setattr(finding, "LIMIT", 2)
    made = [
        AnnotationFactory(article=desk["claim_open"].article, quote="roads", author=editor)
        for _ in range(3)
    ]

    data = client.get(URL, {"q": "roads"}, headers=bearer(viewer)).json()

    assert data["partOf"]["label"] == (
        "Annotations found: the 2 most recently added of more, best match first"
    )
    assert "total" not in data["partOf"] and "page=1" in data["partOf"]["last"]
    assert sorted(int(i["id"].rstrip("/").rsplit("/", 1)[1]) for i in data["items"]) == [
        a.pk for a in made[1:]
    ]


def test_it_refuses_a_cursor_it_did_not_make(client, viewer, desk):
    assert_error(client.get(URL, {"before": "yesterday"}, headers=bearer(viewer)), 400, "before:")
