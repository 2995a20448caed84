"""Real app servers for the tests: gunicorn in its own process, on a free port.

The tests that need several processes at once (tests/test_concurrency.py, tests/test_serve.py)
start the same gunicorn that `make serve` runs (config/gunicorn.py) and talk to it over HTTP.
"""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.py"]
WSGI_APP = "config.wsgi:application"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """DATABASE_URL for the database a connection's settings describe (the test database)."""
    if settings_dict["ENGINE"] == "django.db.backends.sqlite3":
        return "sqlite:///" + settings_dict["NAME"]
    quote = urllib.parse.quote
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def server_environment(database: str, **extra: str) -> dict:
    """A production environment on plain HTTP: no debug, this machine's address only."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return {
        **base,
        "DATABASE_URL": database,
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # sessions made by the tests stay valid
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_HTTPS": "0",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class AppServer:
    """One server process: started with `command`, ready once /healthz answers 200."""

    def __init__(self, command: list[str], env: dict, log_path: Path, *, workers: int = 4):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**env, "HOST_PORT": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers)}
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_until_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                status = self.process.returncode
                raise RuntimeError(f"the server stopped (status {status}):\n{self.log}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log}")

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """gunicorn's graceful shutdown: a worker may still be finishing the last answer's
        sendfile after the client has read it all, and a quick shutdown (SIGINT) would log that
        interrupted request as an error."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def gunicorn(database: str, log_path: Path, *, workers: int = 4, **env: str) -> AppServer:
    """gunicorn as config/serve starts it (without collectstatic and migrate), ready to answer."""
    server = AppServer(
        [*GUNICORN, WSGI_APP],
        server_environment(database, DJANGO_STATIC_MANIFEST="0", **env),
        log_path,
        workers=workers,
    )
    server.wait_until_ready()
    return server


def give_password(user, raw: str) -> None:
    """A password a server process can check: the tests' fast hasher is not in its list."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(raw, hasher.salt(), iterations=1000)
    user.save(update_fields=["password"])


class Visitor:
    """A person at a browser: a cookie jar, pages fetched over plain HTTP, redirects followed."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, url: str) -> tuple[int, str, str]:
        """Status, final URL and text of a page."""
        return self.open(urllib.request.Request(url))

    def log_in(self, base_url: str, username: str, password: str) -> tuple[int, str, str]:
        """Through the login form, with its CSRF token, as a browser does."""
        _, _, form = self.get(base_url + "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        fields = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        data = urllib.parse.urlencode(fields).encode()
        return self.open(urllib.request.Request(base_url + "/accounts/login/", data=data))

    def open(self, request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode(errors="replace")
