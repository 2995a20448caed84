"""Benchmark the article page as the annotation count grows: 0, 500 and 2,000 annotations.

    .venv/bin/python bench/bench_live.py [--annotations 0 500 2000] [--runs 20] [--no-browser]

For a 60-paragraph article carrying overlapping annotations it prints:
- page: server time (median of warm loads, taken in turn across the counts; the text is
  cached per article version), the first load after a change (cache cold), bytes, and
  queries;
- tag round trip: server time of the htmx POST that tags a passage (median), and the bytes
  of its answer (a delta: the new highlight, the new entry, the counts);
- poll: bytes and queries of "anything new?" when nothing changed;
- in Chromium (Playwright, /usr/bin/chromium): milliseconds from navigation to the
  highlights painted, and to the toolbar answering a selection.

Runs against a throw-away SQLite file in a temporary folder (DATABASE_URL is set before
Django starts) and an in-process HTTP server for the browser.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "The council said {n}% of the budget went to roads, while the opposition argued that "
    "“the real figure is closer to {m}%” and called for an audit — the third this year. "
    "Residents in ward {n} told reporters the potholes had not been fixed since 2019 🚧."
)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, nargs="+", default=[0, 500, 2000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--paragraphs", type=int, default=60)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["DJANGO_STATIC_MANIFEST"] = "0"  # no collectstatic for a benchmark
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM next to Playwright
        import django

        django.setup()
        run(args)


def make_article(count: int, paragraphs: int, editor, tags):
    import datetime

    from annotations.anchoring import context_around
    from annotations.models import Annotation
    from annotations.services import create_article, record_changes
    from newsroom.models import BlockKind, BlockText

    blocks = []
    for n in range(paragraphs):
        if n % 8 == 4:
            blocks.append(BlockText(BlockKind.HEADING, f"Section {n // 8 + 1} of the Story"))
        blocks.append(BlockText(BlockKind.PARAGRAPH, PARAGRAPH.format(n=n + 10, m=n + 20)))
    article = create_article(
        source_id=f"bench-{count}",
        date=datetime.date(2025, 8, 8),
        title="Council budget row",
        blocks=blocks[:paragraphs],
    )
    body = article.body
    # Spread over the text, overlapping often, as a heavily annotated article would be.
    step = max(1, (len(body) - 40) // max(count, 1))
    rows = []
    for i in range(count):
        start = (i * step) % (len(body) - 40)
        end = start + 12 + (i % 25)
        while not body[start:end].strip():
            start += 1
        prefix, suffix = context_around(body, start, end)
        rows.append(
            Annotation(
                article=article,
                tag=tags[i % len(tags)],
                start=start,
                end=end,
                quote=body[start:end],
                prefix=prefix,
                suffix=suffix,
                note="Checked against the budget papers." if i % 3 == 0 else "",
                author=editor,
            )
        )
    Annotation.objects.bulk_create(rows, batch_size=500)
    record_changes(article.pk, [], actor=editor)
    article.refresh_from_db()
    return article


def run(args) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from annotations.access import EDITORS_GROUP
    from annotations.models import Annotation, Tag
    from annotations.services import delete_annotation

    warnings.filterwarnings("ignore", message="No directory at")
    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_HSTS_SECONDS = 0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    editor = get_user_model().objects.create_user("bench-editor", password="unused-password")
    editor.groups.add(Group.objects.get(name=EDITORS_GROUP))  # made by a data migration
    client = Client()
    client.force_login(editor)
    tags = list(Tag.objects.all())
    print(f"database: {connection.vendor} (temporary file); {args.runs} runs per case")

    results = []
    for count in args.annotations:
        article = make_article(count, args.paragraphs, editor, tags)
        url = article.get_absolute_url()

        cache.clear()
        begun = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200
        cold = (time.perf_counter() - begun) * 1000
        page_bytes = len(response.content)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        page_queries = len(queries)

        quote = "called for an audit"
        start = article.body.index(quote, len(article.body) // 2)
        data = {"start": start, "end": start + len(quote), "quote": quote, "tag": "claim"}
        create = reverse("annotation_create", args=[article.source_id])
        trips, trip_bytes = [], 0
        for _ in range(args.runs):
            article.refresh_from_db(fields=["annotations_version"])
            body = {**data, "since": article.annotations_version}
            begun = time.perf_counter()
            answer = client.post(
                create,
                urlencode(body),  # as a browser sends a form: the site refuses multipart
                content_type="application/x-www-form-urlencoded",
                HTTP_HX_REQUEST="true",
            )
            trips.append((time.perf_counter() - begun) * 1000)
            assert answer.status_code == 200, answer.content[:300]
            trip_bytes = len(answer.content)
            delete_annotation(Annotation.objects.filter(article=article).latest("id"))
        assert Annotation.objects.filter(article=article).count() == count

        article.refresh_from_db(fields=["annotations_version"])
        changes = reverse("article_changes", args=[article.source_id])
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            idle = client.get(changes, {"since": article.annotations_version})
        assert idle.status_code == 204
        row = {
            "count": count,
            "cold_ms": cold,
            "page_kb": page_bytes / 1024,
            "queries": page_queries,
            "trip_ms": statistics.median(trips),
            "trip_kb": trip_bytes / 1024,
            "poll": f"{len(idle.content)} B / {len(queries)} q",
            "article": article,
        }
        results.append(row)

    # Warm page loads, taken in turn across the articles, so a busy machine slows every count
    # alike and the ratios between counts stay fair.
    timings: dict[int, list[float]] = {id(row): [] for row in results}
    for _ in range(args.runs):
        for row in results:
            url = row["article"].get_absolute_url()
            begun = time.perf_counter()
            client.get(url)
            timings[id(row)].append((time.perf_counter() - begun) * 1000)
    for row in results:
        row["page_ms"] = statistics.median(timings[id(row)])

    if not args.no_browser and os.path.exists(CHROMIUM):
        browser_times(results, client)
    print()
    print(
        f"{'annotations':>11} | {'page ms':>7} | {'cold ms':>7} | {'page kB':>7} | "
        f"{'queries':>7} | {'tag trip ms':>11} | {'trip kB':>7} | {'idle poll':>11} | "
        f"{'painted ms':>10} | {'toolbar ms':>10}"
    )
    for row in results:
        print(
            f"{row['count']:>11,} | {row['page_ms']:>7.1f} | {row['cold_ms']:>7.1f} | "
            f"{row['page_kb']:>7.1f} | {row['queries']:>7} | {row['trip_ms']:>11.1f} | "
            f"{row['trip_kb']:>7.1f} | {row['poll']:>11} | "
            f"{row.get('painted', float('nan')):>10.0f} | {row.get('toolbar', float('nan')):>10.0f}"
        )


def browser_times(results, client) -> None:
    """Navigation → highlights painted → toolbar shown for a selection, in Chromium."""
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from playwright.sync_api import sync_playwright

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    settings.WHITENOISE_USE_FINDERS = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(WSGIHandler()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
        page = context.new_page()
        for row in results:
            painted, answered = [], []
            for _ in range(5):
                begun = time.perf_counter()
                page.goto(base + row["article"].get_absolute_url(), wait_until="commit")
                page.wait_for_selector("#article-body .block", state="attached")
                if row["count"]:
                    page.wait_for_selector("#article-body mark", state="attached")
                page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r()))")
                painted.append((time.perf_counter() - begun) * 1000)
                page.wait_for_function("() => typeof htmx !== 'undefined'")
                page.evaluate(SELECT_SCRIPT)
                page.wait_for_selector("#tag-toolbar:not([hidden])")
                answered.append((time.perf_counter() - begun) * 1000)
            row["painted"] = statistics.median(painted)
            row["toolbar"] = statistics.median(answered)
        browser.close()
    server.shutdown()


# Selects a few words of the third paragraph, as a mouse would (then mouseup).
SELECT_SCRIPT = """() => {
  const block = document.querySelectorAll('#article-body p.block')[2];
  const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
  const first = walker.nextNode();
  const range = document.createRange();
  range.setStart(first, 0);
  range.setEnd(first, Math.min(first.length, 3));
  const selection = document.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  document.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
}"""


if __name__ == "__main__":
    main()
