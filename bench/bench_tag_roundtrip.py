"""Benchmark the tag round trip on the server: htmx POST create → re-rendered fragments.

    .venv/bin/python bench/bench_tag_roundtrip.py [--annotations 0 1000] [--runs 40]

What an editor waits for (minus the network) when pressing a tag: the view checks the
selection, inserts the annotation (and its history row), and renders the article text with
every highlight plus the side list. Timed with Django's test client against a throw-away
SQLite file in a temporary folder (DATABASE_URL is set before Django starts), on a
60-paragraph article carrying 0 and then 1,000 annotations. Each created annotation is
deleted again (untimed) so every run sees the same count. Prints median and 90th percentile
milliseconds, and the full page load for comparison.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from annotations.services import create_article

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "The council said {n}% of the budget went to roads, while the opposition argued that "
    "“the real figure is closer to {m}%” and called for an audit — the third this year. "
    "Residents in ward {n} told reporters the potholes had not been fixed since 2019 🚧."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", type=int, nargs="+", default=[0, 1000])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--paragraphs", type=int, default=60)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-tag-") as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ["DJANGO_STATIC_MANIFEST"] = "0"  # no collectstatic for a benchmark
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        run(args.annotations, args.runs, args.paragraphs)


def run(counts: list[int], runs: int, paragraphs: int) -> None:
    import datetime

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from annotations.access import EDITORS_GROUP
    from annotations.anchoring import context_around
    from annotations.models import Annotation, Tag
    from newsroom.models import BlockKind, BlockText

    warnings.filterwarnings("ignore", message="No directory at")
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} (temporary file); {runs} runs per case")

    editor = get_user_model().objects.create_user("bench-editor", password="unused-password")
    editor.groups.add(Group.objects.get(name=EDITORS_GROUP))  # made by the data migration
    client = Client()
    client.force_login(editor)
    tags = list(Tag.objects.all())

    blocks = []
    for n in range(paragraphs):
        if n % 8 == 4:
            blocks.append(BlockText(BlockKind.HEADING, f"Section {n // 8 + 1} of the Story"))
        blocks.append(BlockText(BlockKind.PARAGRAPH, PARAGRAPH.format(n=n + 10, m=n + 20)))

    print(
        f"{'annotations':>11}  {'tag round trip median':>21}  {'p90':>8}  {'fragment':>9}  "
        f"{'page load median':>16}"
    )
    for count in counts:
        article = create_article(
            source_id=f"bench-{count}",
            date=datetime.date(2025, 8, 8),
            title="Council budget row",
            blocks=blocks,
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
        Annotation.objects.bulk_create(rows)

        quote = "called for an audit"
        start = body.index(quote, len(body) // 2)
        data = {"start": start, "end": start + len(quote), "quote": quote, "tag": "claim"}
        url = reverse("annotation_create", args=[article.source_id])
        page_url = article.get_absolute_url()

        timings, size = [], 0
        for _ in range(runs):
            begun = time.perf_counter()
            response = client.post(url, data, HTTP_HX_REQUEST="true")
            timings.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200, response.content[:300]
            size = len(response.content)
            Annotation.objects.filter(article=article).order_by("-id").first().delete()
        page_timings = []
        for _ in range(max(5, runs // 4)):
            begun = time.perf_counter()
            assert client.get(page_url).status_code == 200
            page_timings.append((time.perf_counter() - begun) * 1000)
        assert Annotation.objects.filter(article=article).count() == count

        p90 = statistics.quantiles(timings, n=10)[-1]
        print(
            f"{count:>11,}  {statistics.median(timings):>18.1f} ms  {p90:>5.1f} ms  "
            f"{size / 1024:>6.0f} kB  {statistics.median(page_timings):>13.1f} ms"
        )


if __name__ == "__main__":
    main()
