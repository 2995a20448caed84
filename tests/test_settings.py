import datetime
import os
import subprocess
import sys
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends import db as database_sessions
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from config.settings import BASE_DIR, database_from_url, envbool


def test_it_parses_a_postgres_url():
    db = database_from_url("postgres://user:p%40ss@db.example:6543/news")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], str(db["PORT"]), db["NAME"]) == (
        "user",
        "p@ss",
        "db.example",
        "6543",
        "news",
    )


def test_it_parses_sqlite_urls():
    assert database_from_url("sqlite:///db.sqlite3")["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert database_from_url("sqlite:////tmp/x.db")["NAME"] == "/tmp/x.db"


def test_it_refuses_an_unknown_database_scheme():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://localhost/x")


@pytest.mark.parametrize(
    "value,expected",
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("", False),
        ("maybe", False),
    ],
)
def test_it_reads_booleans_as_documented(monkeypatch, value, expected):
    monkeypatch.setenv("X_FLAG", value)
    assert envbool("X_FLAG") is expected


def test_it_has_a_strict_csp_without_unsafe_inline():
    csp = django_settings.SECURE_CSP
    assert "'unsafe-inline'" not in str(csp)
    assert "'self'" in str(csp["script-src"])


def run_check_deploy(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
    )


def test_it_passes_check_deploy_with_production_settings():
    result = run_check_deploy(
        DJANGO_SECRET_KEY="k" * 20 + "x9Fq2Lr8Zt4Wv6Yp1Nc3Hb5Jd7Mg0Se",
        DJANGO_ALLOWED_HOSTS="news.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_flags_a_missing_secret_key_in_check_deploy():
    result = run_check_deploy(DJANGO_ALLOWED_HOSTS="news.example.org")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_it_sets_sqlite_up_for_a_desk_of_writers(monkeypatch):
    monkeypatch.delenv("DJANGO_SQLITE_TIMEOUT", raising=False)
    options = database_from_url("sqlite:////tmp/x.db")["OPTIONS"]
    # The write lock at BEGIN: two writers never both read and then deadlock on the upgrade.
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20  # seconds a writer waits its turn
    assert "PRAGMA journal_mode=WAL" in options["init_command"]
    monkeypatch.setenv("DJANGO_SQLITE_TIMEOUT", "45")
    assert database_from_url("sqlite:////tmp/x.db")["OPTIONS"]["timeout"] == 45


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's journal mode")
def test_it_opens_sqlite_in_wal_mode():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        # A checkpoint a tenth as often as SQLite's default: the hot pages are copied once.
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 10_000


@pytest.mark.django_db
def test_it_reads_a_session_only_while_it_is_stored_and_unexpired():
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    session = store()
    session["editor"] = "zoe"
    session.save()

    assert store(session.session_key).load() == {"editor": "zoe"}
    assert store("x" * 32).load() == {}
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = store(session.session_key)
    assert expired.load() == {}
    assert expired.session_key is None


def test_it_keeps_sessions_in_the_database_for_several_app_servers():
    # Nothing a login needs lives in one process's memory: any server behind the proxy answers.
    engine = import_module(django_settings.SESSION_ENGINE)
    assert issubclass(engine.SessionStore, database_sessions.SessionStore)
    assert django_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
