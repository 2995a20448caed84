"""What each API request costs in queries, signed in with a session as a browser is, and that
the answers written without ninja's response check still fit the documented schemas."""

import pytest
from django.contrib.auth import get_user

from annotations.api import schemas
from annotations.models import Annotation

from .api_helpers import ARTICLES, annotation_url, annotations_url, new_annotation, send
from .factories import AnnotationFactory, EditorFactory

CSRF = "c" * 32  # a CSRF secret sent as the cookie and the header alike


@pytest.fixture
def session(client, editor):
    """The editor's browser: signed in, with a CSRF cookie and the header to match."""
    client.force_login(editor)
    client.cookies["csrftoken"] = CSRF
    return {"X-CSRFToken": CSRF}


def annotate(article, count: int) -> None:
    authors = [EditorFactory() for _ in range(3)]
    for n in range(count):
        AnnotationFactory(article=article, quote="roads", author=authors[n % 3], note=f"n{n}")


def test_it_loads_a_signed_in_user_with_their_permissions_in_one_query(
    client, editor, django_assert_num_queries
):
    client.force_login(editor)
    request = client.get(ARTICLES).wsgi_request
    del request.user  # the request's lazy user, loaded again below

    with django_assert_num_queries(1):  # the user with their permissions (the session is read)
        user = get_user(request)
        assert user.has_perm("annotations.add_annotation")
        assert user.has_perm("annotations.change_annotation")
        assert not user.has_perm("auth.add_user")


def test_it_creates_an_annotation_in_one_transaction_reading_the_article_once(
    client, session, article, claim, django_assert_num_queries
):
    # session, user with permissions, article (locked), tag, insert, its history row, the
    # change log (the article's version and counts, advanced, recounted and read in one
    # statement; the event), the newsroom's counts (per day, per editor: one upsert each), and
    # the transactions' own statements (here savepoints inside the test's transaction)
    with django_assert_num_queries(14) as captured:
        response = send(
            client, "POST", annotations_url(article), new_annotation(article, "roads"), session
        )

    assert response.status_code == 201, response.content
    article_reads = [
        q
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "newsroom_article"' in q["sql"]
    ]
    assert len(article_reads) == 1
    assert response["Location"] == response.json()["id"]
    schemas.AnnotationOut.model_validate(response.json())


def test_the_history_record_of_a_create_holds_the_annotation_as_stored(
    client, editor, session, article
):
    # The record is copied from the stored row by one statement, not built from the instance.
    response = send(
        client, "POST", annotations_url(article), new_annotation(article, "roads"), session
    )

    annotation = Annotation.objects.get(pk=response.json()["id"].rstrip("/").split("/")[-1])
    (record,) = annotation.history.all()
    assert (record.history_type, record.history_user) == ("+", editor)
    tracked = [f.attname for f in Annotation._meta.concrete_fields]
    assert {name: getattr(record, name) for name in tracked} == {
        name: getattr(annotation, name) for name in tracked
    }
    assert record.history_date >= annotation.created


@pytest.mark.parametrize("count", [3, 60])
def test_it_lists_annotations_in_constant_queries(
    client, session, article, count, django_assert_num_queries
):
    annotate(article, count)

    # session, user, article, page (not full: no count), the page's articles, tags, and
    # users (authors and reviewers)
    with django_assert_num_queries(7):
        response = client.get(annotations_url(article))

    page = response.json()
    assert len(page["items"]) == page["partOf"]["total"] == count
    schemas.AnnotationPageOut.model_validate(page)


def test_it_lists_reviewed_annotations_without_a_query_per_reviewer(
    client, session, article, django_assert_num_queries
):
    annotate(article, 6)
    reviewers = [EditorFactory() for _ in range(3)]
    for n, annotation in enumerate(Annotation.objects.filter(article=article)):
        Annotation.objects.filter(pk=annotation.pk).update(
            reviewed_by=reviewers[n % 3], reviewed_at=annotation.created
        )

    # session, user, article, page (not full: no count), the page's articles, tags, and
    # users (authors and reviewers at once)
    with django_assert_num_queries(7):
        response = client.get(annotations_url(article))

    reviewed_by = {item["review"]["by"] for item in response.json()["items"]}
    assert reviewed_by == {reviewer.username for reviewer in reviewers}


def test_it_counts_the_annotations_only_when_a_page_is_full(
    client, session, article, django_assert_num_queries
):
    annotate(article, 4)

    with django_assert_num_queries(8):  # as above, and the count
        page = client.get(annotations_url(article) + "?per_page=2").json()

    assert page["partOf"]["total"] == 4 and len(page["items"]) == 2
    assert client.get(annotations_url(article) + "?page=3&per_page=2").status_code == 404


def test_it_answers_one_annotation_in_three_queries(
    client, session, mine, django_assert_num_queries
):
    with django_assert_num_queries(3):  # session, user, the annotation with its relations
        response = client.get(annotation_url(mine))

    assert response.status_code == 200
    schemas.AnnotationOut.model_validate(response.json())


def test_it_lists_articles_in_constant_queries(client, session, article, django_assert_num_queries):
    annotate(article, 5)

    with django_assert_num_queries(4):  # session, user, count, page
        response = client.get(ARTICLES)

    schemas.ArticleListOut.model_validate(response.json())


def test_it_removes_an_annotation_in_constant_queries(
    client, session, mine, django_assert_max_num_queries
):
    # session, user, the annotation; the locks on its article and on it, its replies, the
    # delete of its mentions, of its answers' links to it and of it, its history row, the
    # change log (two), the newsroom's counts (two), and the transaction's own statements;
    # and its replies read first, so that each is recorded as deleted with it (Undo brings
    # them back)
    with django_assert_max_num_queries(17):
        response = send(client, "DELETE", annotation_url(mine), headers=session)

    assert response.status_code == 204
    assert not Annotation.objects.filter(pk=mine.pk).exists()
