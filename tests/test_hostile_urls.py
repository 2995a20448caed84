"""Every URL the app serves, from the URL conf, with hostile query strings and ids: never a
500. Non-ASCII digits (`isdigit()` accepts "²" and "①", `int()` does not), numbers past any
column, NUL characters and very long values."""

import pytest
from django.contrib import admin
from django.test import Client

from . import factories
from .test_permission_matrix import NOT_WALKED, POLICIES, named_routes, url_for

pytestmark = pytest.mark.django_db

HOSTILE_VALUES = [
    "²",
    "①",
    "٣",
    "-1",
    "0",
    "9" * 40,
    "1e309",
    "NaN",
    "%00",
    "a%00b",
    "x" * 5000,
    "%FF%FE",
    "%F0%9F%92%A9",
]
# The names the app's views and the API read from a query string, and some they do not.
PARAMETERS = ["edit", "page", "per_page", "next", "q", "o", "p", "tag", "status", "_changelist"]


@pytest.fixture
def world(db):
    staff = factories.StaffFactory(is_superuser=True, username="walker")
    article = factories.ArticleFactory(source_id="walk")
    annotation = factories.AnnotationFactory(article=article, quote="roads", author=staff)
    return staff, article, annotation


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_it_answers_every_route_with_hostile_query_strings_without_a_500(world):
    staff, article, annotation = world
    client = signed_in(staff)
    failures = []
    for name in sorted({name for name, _ in named_routes()} - NOT_WALKED):
        url = url_for(name, article, annotation)
        for method in POLICIES.get(name, {"GET": None}):
            if method not in {"GET", "POST"}:
                continue
            for parameter in PARAMETERS:
                for value in HOSTILE_VALUES:
                    query = f"{parameter}={value}"
                    call = client.get if method == "GET" else client.post
                    response = call(f"{url}?{query}", headers={"Authorization": ""})
                    if response.status_code >= 500:
                        failures.append(f"{method} {url}?{query[:60]}: {response.status_code}")
    assert not failures, failures


def test_it_opens_the_article_page_for_editing_with_non_ascii_digits_without_a_500(world):
    staff, article, _ = world
    client = signed_in(staff)
    for value in ("²", "①", "٣", "9" * 40):
        response = client.get(f"{article.get_absolute_url()}?edit={value}")
        assert response.status_code == 200, value


ADMIN_SUFFIXES = ["change/", "history/", "history/1/", "delete/", "revisions/1/"]


def test_it_answers_admin_urls_with_hostile_ids_without_a_500(world):
    staff, _, _ = world
    client = signed_in(staff)
    failures = []
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for value in ["x", "²", "9" * 40, "-1", "1.5", "%00"]:
            for suffix in ADMIN_SUFFIXES:
                response = client.get(f"{base}{value}/{suffix}")
                if response.status_code >= 500:
                    failures.append(f"{base}{value}/{suffix}: {response.status_code}")
        for parameter in PARAMETERS:
            for value in HOSTILE_VALUES:
                response = client.get(f"{base}?{parameter}={value}")
                if response.status_code >= 500:
                    failures.append(f"{base}?{parameter}={value[:40]}: {response.status_code}")
    assert not failures, failures
