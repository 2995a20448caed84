"""Production serving: /healthz, and `make serve`'s server (config/serve) answering for real."""

import re
import shutil
import subprocess
import sys
from unittest import mock

import pytest
from django.db import OperationalError, connection

from .appserver import BASE_DIR, AppServer, Visitor, server_environment


def test_it_answers_ok_on_healthz_without_a_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


def test_it_answers_503_on_healthz_when_the_database_does_not(client, db):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert b"database" in response.content


def test_it_refuses_writes_on_healthz(client, db):
    assert client.post("/healthz").status_code == 405


def test_it_exempts_healthz_from_the_https_redirect(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301  # everything else is redirected


def make_dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", *args],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_it_prints_the_login_for_the_port_make_run_serves():
    commands = make_dry_run("run", "HOST_PORT=127.0.0.1:8102")
    assert "ensure_login --address 127.0.0.1:8102" in commands
    assert "runserver 127.0.0.1:8102" in commands


def test_it_passes_the_address_to_bin_serve():
    assert "HOST_PORT=127.0.0.1:8103 config/serve" in make_dry_run(
        "serve", "HOST_PORT=127.0.0.1:8103"
    )


@pytest.mark.serve
def test_it_serves_pages_and_static_files_with_gunicorn(tmp_path):
    """config/serve as `make serve` runs it: collectstatic, migrate, gunicorn; then a visit."""
    env = server_environment(
        f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SECRET_KEY="serve-test-" + "k7Qp2Zr9Lx4Wv8Ys1Nd6Hb3Jf5Mg0Tc",
        PY=sys.executable,
    )
    server = AppServer(["config/serve"], env, tmp_path / "serve.log", workers=2)
    try:
        server.wait_until_ready()
        subprocess.run(
            [sys.executable, "manage.py", "createsuperuser", "--no-input"],
            cwd=BASE_DIR,
            env={
                **env,
                "DJANGO_SUPERUSER_USERNAME": "chief",
                "DJANGO_SUPERUSER_EMAIL": "chief@localhost",
                "DJANGO_SUPERUSER_PASSWORD": "a long editorial passphrase",
            },
            check=True,
            capture_output=True,
        )
        visitor = Visitor()

        assert visitor.get(server.url + "/")[1].startswith(server.url + "/accounts/login/")
        status, url, page = visitor.log_in(server.url, "chief", "a long editorial passphrase")
        assert (status, url) == (200, server.url + "/")
        assert "chief" in page
        # The manifest's hashed, compressed copies, served by whitenoise from DJANGO_STATIC_ROOT.
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page).group(1)
        status, _, css = visitor.get(server.url + stylesheet)
        assert status == 200 and css
        assert (tmp_path / "static" / "staticfiles.json").exists()
    finally:
        server.stop()
    log = server.log
    assert "Traceback" not in log, log
    # The access log gives each request's time in milliseconds.
    assert re.search(r'"GET /healthz HTTP/1\.[01]" 200 2 \d+ms', log), log
    assert re.search(r'"POST /accounts/login/ HTTP/1\.[01]" 302 0 \d+ms', log), log
