"""The API's authentication: bearer tokens, the session with its CSRF check, and who may read
the OpenAPI document and the docs page; tokens made and revoked in the admin."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotations.models import Annotation, ApiToken

from .api_helpers import (
    ARTICLES,
    annotation_url,
    annotations_url,
    assert_error,
    bearer,
    new_annotation,
    send,
)
from .factories import AnnotationFactory, ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db


# Authentication -----------------------------------------------------------------------------------


ENDPOINTS = [
    ("GET", "/api/"),
    ("GET", ARTICLES),
    ("GET", "/api/articles/council_budget/"),
    ("GET", "/api/articles/council_budget/annotations/"),
    ("POST", "/api/articles/council_budget/annotations/"),
    ("GET", "/api/annotations/1/"),
    ("PATCH", "/api/annotations/1/"),
    ("DELETE", "/api/annotations/1/"),
    ("GET", "/api/openapi.json"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_answers_anonymous_calls_with_401_json_not_a_redirect(client, article, method, url):
    response = send(client, method, url, data={} if method in ("POST", "PATCH") else None)

    body = assert_error(response, 401, "Authentication required", "Bearer")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(body) == {"detail"}


def test_it_accepts_a_bearer_token_and_notes_when_it_was_used(client, editor, article):
    raw = ApiToken.issue(user=editor, name="script")[1]

    response = client.get(ARTICLES, headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    assert ApiToken.objects.get(user=editor).last_used is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nwr_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "nwr_no_scheme",
        "Bearer \x7f",
    ],
)
def test_it_refuses_a_wrong_or_malformed_token(client, editor, article, header):
    ApiToken.issue(user=editor, name="script")
    assert_error(client.get(ARTICLES, headers={"Authorization": header}), 401)


def test_it_refuses_a_revoked_token(client, editor):
    token, raw = ApiToken.issue(user=editor, name="script")
    token.revoked = timezone.now()
    token.save()

    assert_error(client.get(ARTICLES, headers={"Authorization": f"Bearer {raw}"}), 401)


def test_it_refuses_the_token_of_a_deactivated_user(client, editor):
    headers = bearer(editor)
    editor.is_active = False
    editor.save()

    assert_error(client.get(ARTICLES, headers=headers), 401)


def test_it_accepts_the_browser_session(client, viewer, article):
    client.force_login(viewer)
    assert client.get(ARTICLES).status_code == 200


def test_it_checks_csrf_on_changes_through_the_session(editor, article, claim):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    data = new_annotation(article, "roads")

    refused = send(browser, "POST", annotations_url(article), data)
    assert_error(refused, 403, "CSRF")
    assert not Annotation.objects.exists()

    browser.get("/accounts/login/")  # any page that sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = send(browser, "POST", annotations_url(article), data, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_it_needs_no_csrf_token_with_a_bearer_token(editor, article, claim):
    script = Client(enforce_csrf_checks=True)
    response = send(
        script, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(editor)
    )
    assert response.status_code == 201


def test_it_records_the_token_owner_in_the_history(client, editor, article, claim):
    response = send(
        client, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(editor)
    )

    annotation = Annotation.objects.get(pk=response.json()["id"].rstrip("/").rsplit("/", 1)[1])
    assert annotation.author == editor
    assert annotation.history.get().history_user == editor


def test_a_user_without_an_account_cannot_be_reached_by_a_token_of_another(client, editor):
    # Tokens are per user: one user's token never acts for another.
    other = UserFactory(username="someone")
    headers = bearer(other)
    annotation = AnnotationFactory(article=ArticleFactory(), quote="roads", author=editor)
    assert_error(client.delete(annotation_url(annotation), headers=headers), 403)


# OpenAPI and the docs page ------------------------------------------------------------------------


def test_it_serves_the_openapi_document_to_signed_in_users(client, viewer):
    client.force_login(viewer)
    schema = client.get("/api/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert {
        "/api/articles/",
        "/api/articles/{source_id}/",
        "/api/articles/{source_id}/annotations/",
        "/api/annotations/{annotation_id}/",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/annotations/{annotation_id}/"]) == {"get", "patch", "delete"}
    assert "@context" in schema["components"]["schemas"]["AnnotationOut"]["properties"]
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_it_serves_the_openapi_document_to_a_token(client, viewer):
    assert client.get("/api/openapi.json", headers=bearer(viewer)).status_code == 200


def test_it_sends_anonymous_visitors_of_the_docs_page_to_the_login_page(client):
    response = client.get("/api/docs")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs")


def test_it_serves_the_docs_page_from_our_static_files_under_the_csp(client, viewer):
    from django.contrib.staticfiles import finders

    client.force_login(viewer)
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    scripts = html.split("<script")[1:]
    assert len(scripts) == 3
    for chunk in scripts:
        tag = chunk.split(">", 1)[0]
        # Executable scripts come from our own files; the settings are a JSON data block.
        assert (
            'src="/static/' in tag and f'nonce="{nonce}"' in tag
        ) or 'type="application/json"' in tag, tag
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert " style=" not in html and "onload=" not in html
    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"):
        assert f"/static/{name}" in html
        assert finders.find(name), name


@pytest.mark.browser
def test_the_docs_page_runs_in_a_browser_without_csp_violations(live_server, page, viewer):
    from importlib import import_module

    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(viewer.pk)
    store[BACKEND_SESSION_KEY] = django_settings.AUTHENTICATION_BACKENDS[-1]
    store[HASH_SESSION_KEY] = viewer.get_session_auth_hash()
    store.save()
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": store.session_key,
                "url": live_server.url,
            }
        ]
    )
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server.url + "/api/docs")
    page.get_by_text("/api/articles/{source_id}/annotations/").first.wait_for()

    assert page.title() == "Newsroom annotations API — documentation"
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems


# Tokens in the admin ------------------------------------------------------------------------------


def test_staff_make_a_token_in_the_admin_and_see_it_once(client, staff, editor, article):
    client.force_login(staff)

    response = client.post(
        reverse("admin:annotations_apitoken_add"),
        {"user": editor.pk, "name": "fact-check desk"},
        follow=True,
    )

    assert response.status_code == 200
    token = ApiToken.objects.get()
    (message,) = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    raw = message.split("<code>")[1].split("</code>")[0]
    assert raw.startswith(token.prefix) and token.digest == ApiToken.digest_of(raw)
    assert raw not in token.digest and (token.user, token.name) == (editor, "fact-check desk")
    assert client.get(ARTICLES, headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    # Shown once: the token's page never shows the raw value again.
    page = client.get(
        reverse("admin:annotations_apitoken_change", args=[token.pk])
    ).content.decode()
    assert raw not in page and token.prefix in page


def test_staff_revoke_tokens_in_the_admin(client, staff, editor):
    token, raw = ApiToken.issue(user=editor, name="script")
    client.force_login(staff)

    client.post(
        reverse("admin:annotations_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked is not None
    assert_error(Client().get(ARTICLES, headers={"Authorization": f"Bearer {raw}"}), 401)
    page = client.get(
        reverse("admin:annotations_apitoken_change", args=[token.pk])
    ).content.decode()
    assert 'name="revoked' not in page  # a revoked token stays revoked


def test_staff_who_are_not_superusers_make_tokens_for_themselves_only(client, editor):
    from django.contrib.auth.models import Permission

    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__endswith="_apitoken"))
    ApiToken.issue(user=editor, name="editor's own")
    client.force_login(clerk)

    refused = client.post(
        reverse("admin:annotations_apitoken_add"), {"user": editor.pk, "name": "impersonate"}
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    client.post(reverse("admin:annotations_apitoken_add"), {"user": clerk.pk, "name": "mine"})
    assert list(ApiToken.objects.filter(user=clerk).values_list("name", flat=True)) == ["mine"]
    listing = client.get(reverse("admin:annotations_apitoken_changelist")).content.decode()
    assert (
        "mine" in listing and "editor&#x27;s own" not in listing and "editor's own" not in listing
    )
