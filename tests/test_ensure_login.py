"""`manage.py ensure_login`, which `make run` calls to print how to sign in."""

from io import StringIO

import pytest
from django.core.management import call_command

from newsroom.management.commands import ensure_login


@pytest.fixture
def password_file(tmp_path, monkeypatch):
    path = tmp_path / ".admin-password"
    monkeypatch.setattr(ensure_login, "PASSWORD_FILE", path)
    return path


def run(**options) -> str:
    out = StringIO()
    call_command("ensure_login", stdout=out, **options)
    return out.getvalue()


def test_it_prints_the_login_at_the_address_the_server_listens_on(db, password_file):
    output = run(address="127.0.0.1:8102")
    password = password_file.read_text().strip()
    assert output.startswith("Log in at http://127.0.0.1:8102/accounts/login/")
    assert f"password: {password}" in output
    assert run(address="127.0.0.1:8102") == output  # the saved password, printed again


def test_it_prints_port_8000_by_default(db, password_file):
    assert "http://127.0.0.1:8000/accounts/login/" in run()


@pytest.mark.parametrize(
    "address,url",
    [
        ("8102", "http://127.0.0.1:8102"),
        ("0.0.0.0:8102", "http://127.0.0.1:8102"),
        ("localhost:9000", "http://localhost:9000"),
        ("[::1]:8102", "http://[::1]:8102"),
        ("[::]:8102", "http://[::1]:8102"),
    ],
)
def test_it_turns_runservers_address_into_a_browsers(address, url):
    assert ensure_login.base_url(address) == url
