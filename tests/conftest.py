import os
import shutil
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test.client import MULTIPART_CONTENT, RequestFactory

from . import factories

# The browser tests' fixtures (tags, author, story, problems).
pytest_plugins = ["tests.browsing"]


def post_as_a_browser_does(post):
    """The test client posts a dict as multipart, which the site refuses outright (it takes no
    uploads: config/middleware.py); browsers and htmx post a plain form URL-encoded. So does
    the test client here, unless a test names another content type."""

    def wrapper(self, path, data=None, content_type=MULTIPART_CONTENT, *args, **kwargs):
        if content_type == MULTIPART_CONTENT and (data is None or isinstance(data, dict)):
            data = urlencode(data or {}, doseq=True)
            content_type = "application/x-www-form-urlencoded"
        return post(self, path, data, content_type, *args, **kwargs)

    return wrapper


RequestFactory.post = post_as_a_browser_does(RequestFactory.post)

# Factories hash a password for every user; the slow production hasher would dominate the suite.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The ORM is used next to Playwright's sync API, which runs an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM) or os.environ.get("CI"):
        return  # in CI a missing browser must fail loudly, not skip
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (make test installs it)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def viewer(db):
    """Signed in, outside the Editors group: reads and exports only."""
    return factories.UserFactory(username="viewer")


@pytest.fixture
def editor(db):
    return factories.EditorFactory(username="editor")


@pytest.fixture
def other_editor(db):
    return factories.EditorFactory(username="other_editor")


@pytest.fixture
def staff(db):
    return factories.StaffFactory(username="staff")


@pytest.fixture
def admin_client(client, staff):
    """A client signed in as staff."""
    client.force_login(staff)
    return client


@pytest.fixture
def article(db):
    return factories.ArticleFactory(source_id="council_budget", title="Council budget row")


@pytest.fixture
def claim(db):
    return factories.tag("claim")


@pytest.fixture
def figure(db):
    return factories.tag("figure")


@pytest.fixture
def rebuttal(db):
    return factories.tag("rebuttal")


@pytest.fixture
def mine(article, editor, claim):
    """An annotation of the editor's, on a passage of the article."""
    return factories.AnnotationFactory(
        article=article, tag=claim, quote="30% of the budget", author=editor
    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, tmp_path_factory):
    """On SQLite, a test database in a file rather than in memory.

    Then a server in another process (tests/appserver.py) works on the very database the test
    fills and reads, as it does on PostgreSQL.
    """
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("database") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)
