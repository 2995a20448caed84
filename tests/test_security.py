"""Hardening that holds for every page (SECURITY.md): headers, throttling, caps."""

import pytest
from django.urls import reverse

from . import factories

pytestmark = pytest.mark.django_db


def test_it_sends_a_strict_csp_with_a_nonce(client):
    response = client.get(reverse("login"))
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_it_puts_no_inline_script_without_the_nonce_on_the_login_page(client):
    response = client.get(reverse("login"))
    html = response.content.decode()
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    for chunk in html.split("<script")[1:]:
        tag = chunk.split(">", 1)[0]
        assert f'nonce="{nonce}"' in tag or "src=" in tag, tag


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=/")


def test_it_shows_the_login_form_with_labelled_fields(client):
    html = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert '<button type="submit">Log in</button>' in html


def test_it_logs_in_with_the_right_password(client):
    factories.UserFactory(username="maria")
    response = client.post(
        reverse("login"), {"username": "maria", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_it_locks_out_after_repeated_failed_logins(client, settings):
    factories.UserFactory(username="maria")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "maria", "password": "wrong"})
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    response = client.post(reverse("login"), {"username": "maria", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    # Even the right password is refused while locked out.
    response = client.post(
        reverse("login"), {"username": "maria", "password": "correct horse battery staple"}
    )
    assert response.status_code == 429


def test_it_keeps_non_staff_out_of_the_admin(client, editor):
    client.force_login(editor)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.headers["Location"]


def test_it_lets_staff_into_the_admin(client, staff):
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_it_refuses_an_oversized_request_body_without_a_500(client, editor, settings):
    client.force_login(editor)
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    response = client.post(reverse("login"), {"username": "a", "password": big})
    assert response.status_code in (400, 413)


def test_it_rejects_a_post_without_csrf_token(editor):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403


@pytest.mark.parametrize("url", ["/articles/%00/", "/?page=%00", "/api/articles/%00/"])
def test_it_refuses_nul_characters_in_urls_without_a_500(client, editor, url):
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_it_refuses_nul_characters_in_form_fields(client, editor, article):
    client.force_login(editor)
    response = client.post(f"/articles/{article.source_id}/annotations/", {"tag": "cl\x00aim"})
    assert response.status_code == 400
