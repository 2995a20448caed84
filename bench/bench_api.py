"""In-process cost of the JSON API: a create and the list of an article's annotations.

    .venv/bin/python bench/bench_api.py [--n 500] [--profile]

Calls the WSGI application directly (no HTTP server, no test client), signed in with a
session as a browser would be, against a throw-away SQLite file in a temporary folder. Prints
the time per request and the queries each one runs; `--profile` adds cProfile's top entries
for the creates. The served figures beside the bare-WSGI limit come from the shared
`vs_limit.sh` (docs/performance.md).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXT = (ROOT / "bench" / "article.txt").read_text(encoding="utf-8").strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        os.environ.setdefault("DJANGO_DEBUG", "0")
        os.environ["DJANGO_HTTPS"] = "0"
        os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
        import django

        django.setup()
        run(args.n, args.profile)


def run(n: int, profile: bool) -> None:
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from annotations.services import create_article
    from newsroom.models import BlockText

    call_command("migrate", verbosity=0)
    paragraphs = [p.strip() for p in TEXT.split("\n\n") if p.strip()]
    article = create_article(
        source_id="bench",
        date="2025-11-28",
        title="Bench article",
        blocks=[BlockText("paragraph", p) for p in paragraphs],
    )
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("editor", password="x")
    user.groups.add(Group.objects.get(name="Editors"))
    app = get_wsgi_application()
    session = login(user, settings)
    cookies = f"sessionid={session['sessionid']}; csrftoken={session['csrftoken']}"
    body = article.body
    url = "/api/articles/bench/annotations/"

    def request(method: str, path: str, data: bytes = b"") -> tuple[str, bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "HTTP_COOKIE": cookies,
            "HTTP_X_CSRFTOKEN": session["csrftoken"],
            "HTTP_ORIGIN": "http://testserver",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
        }
        status = []
        chunks = app(environ, lambda s, h, *a: status.append(s))
        return status[0], b"".join(chunks)

    def create_body(i: int) -> bytes:
        start = (i * 37) % (len(body) - 80)
        end = start + 8 + i % 70
        return json.dumps(
            {
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "type": "Annotation",
                "body": [{"type": "TextualBody", "purpose": "tagging", "value": "claim"}],
                "target": {
                    "source": "http://testserver/api/articles/bench/",
                    "selector": [
                        {"type": "TextQuoteSelector", "exact": body[start:end]},
                        {"type": "TextPositionSelector", "start": start, "end": end},
                    ],
                },
            }
        ).encode()

    payloads = [create_body(i) for i in range(n)]
    status, content = request("POST", url, payloads[0])
    assert status.startswith("201"), (status, content[:300])
    with CaptureQueriesContext(connection) as queries:
        request("POST", url, payloads[1])
    print(f"create: {len(queries)} queries")
    for q in queries:
        print("   ", q["sql"][:150])
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for data in payloads[2:]:
        status, content = request("POST", url, data)
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert status.startswith("201"), (status, content[:300])
    print(
        f"create: {elapsed / (n - 2) * 1000:.3f} ms each ({cpu / (n - 2) * 1000:.3f} ms CPU), "
        f"{(n - 2) / elapsed:.0f}/s in-process"
    )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)

    with CaptureQueriesContext(connection) as queries:
        status, content = request("GET", url)
    page = json.loads(content)
    print(f"list: {len(queries)} queries, {len(page['items'])} items of {page['partOf']['total']}")
    if profiler:
        profiler = cProfile.Profile()
        profiler.runcall(request, "GET", url)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    times, cpus = [], []
    for _ in range(20):
        started, cpu = time.perf_counter(), time.process_time()
        request("GET", url)
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    times.sort()
    cpus.sort()
    print(
        f"list: median {times[10] * 1000:.2f} ms ({cpus[10] * 1000:.2f} ms CPU), "
        f"{len(content) / 1024:.0f} KiB"
    )


def login(user, settings) -> dict:
    """A signed-in session, as a browser holds after the login form; and a CSRF secret."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies[settings.SESSION_COOKIE_NAME].value, "csrftoken": "c" * 32}


if __name__ == "__main__":
    main()
