"""One settings file, read from the environment (README.md lists the variables).

Defaults are safe for production; `DJANGO_DEBUG=1` switches on development comfort.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """A DATABASES entry from `DATABASE_URL`, read by dj-database-url.

    A relative SQLite path is taken from the project folder (not the working directory), so
    `make run` and a test run started elsewhere find the same file. SQLite is set up to hold a
    desk of editors at once: WAL (readers never wait for the writer), a busy timeout (a writer
    waits its turn instead of failing), and transactions that take the write lock when they
    begin, so two writers never both read and then deadlock on the upgrade. Connections are
    kept for a minute (`DJANGO_CONN_MAX_AGE`): opening one costs little, but closing the
    last one to a SQLite file checkpoints its WAL, which would cost every request about a
    millisecond; PostgreSQL's are checked before reuse.
    """
    try:
        config = dj_database_url.parse(url, conn_max_age=envint("DJANGO_CONN_MAX_AGE", 60))
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL: {error}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = config["NAME"]
        if name != ":memory:" and not os.path.isabs(name):
            config["NAME"] = str(BASE_DIR / name)
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": envint("DJANGO_SQLITE_TIMEOUT", 20),
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                f" PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES};"
            ),
        }
    elif config["ENGINE"] in POSTGRES_ENGINES:
        config["ENGINE"] = "django.db.backends.postgresql"
        config["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(f"DATABASE_URL: unsupported engine {config['ENGINE']!r}")
    return config


# SQLite copies the WAL back into the database every this many pages (its default: 1,000). A
# checkpoint writes each page once however often it changed since the last, and a desk's
# writes change the same few pages again and again (the article's row, the counts, the right
# edge of each index): checkpointing a tenth as often cut a create's database time by about a
# sixth. The WAL file grows to some 40 MB between checkpoints.
WAL_CHECKPOINT_PAGES = 10_000

POSTGRES_ENGINES = {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}


DEBUG = envbool("DJANGO_DEBUG")

# Unset, the key falls back to a value `check --deploy` flags (security.W009), so a production
# deployment without DJANGO_SECRET_KEY is caught before it signs a single session.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or "django-insecure-set-DJANGO_SECRET_KEY"

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # For its bundled Swagger UI files (the API docs page is served from our static files).
    "ninja",
    "simple_history",
    "axes",
    "newsroom",
    "annotations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything could read the body: refuses file uploads and oversized bodies from
    # the headers alone (config/middleware.py).
    "config.middleware.refuse_unwanted_bodies",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.LoginRequiredMiddleware",
    # After CSRF and login: it reads form fields only once both have let the request in.
    "config.middleware.RefuseNulCharacters",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks, so it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotations.context_processors.desk",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3")),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, with the permissions read along with the user (config/auth.py).
    "config.auth.ModelBackendOneQuery",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Login throttling: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where `collectstatic` writes and whitenoise serves from (config/serve runs it before gunicorn).
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
# Hashed, compressed files in production (after collectstatic); plain finders otherwise, so
# `make run` with debug on and the test server work without collectstatic.
STATIC_MANIFEST = envbool("DJANGO_STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# Request bodies are small here: a selection and a note. Anything bigger is refused (413/400).
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DJANGO_MAX_REQUEST_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Security: strict CSP with nonces, no inline scripts or styles without a nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Database sessions (shared by every app server), read with one written-out statement.
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads no cookie: the token travels in hx-headers instead

# HTTPS: on unless debug, or explicitly turned off for a plain-HTTP deployment.
HTTPS = envbool("DJANGO_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS and envbool("DJANGO_SSL_REDIRECT", True)
# A load balancer's health check speaks plain HTTP to the app server and wants the answer, not a
# redirect to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if envbool("DJANGO_BEHIND_PROXY"):
    # Only trust X-Forwarded-Proto when a proxy we control sets it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The site's public address, for absolute URLs written where there is no request to ask (the
# JSON-LD export of `manage.py export_annotations --format jsonld`): annotation and article ids.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Who publishes the fact checks: the `author` of the ClaimReview export.
NEWSROOM_NAME = os.environ.get("DJANGO_NEWSROOM_NAME", "Newsroom")

# Annotation limits: a note's length (refused beyond it with a message), and the context kept
# on each side of a quote for re-anchoring (docs/anchoring.md).
ANNOTATION_NOTE_MAX_LENGTH = 5000
ANNOTATION_CONTEXT_LENGTH = 32
IMPORT_MAX_FILE_BYTES = envint("IMPORT_MAX_FILE_BYTES", 5 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}
