"""Benchmark the CSV export: 100,000 annotations, rows per second and peak memory.

    .venv/bin/python bench/bench_export.py [--rows 100000]

Runs against a throw-away SQLite file in a temporary folder (DATABASE_URL is set before
Django starts), so it never touches the project's database. Three passes over the same rows:
the export generator alone (speed), the same under tracemalloc (peak Python memory), and the
web download through Django's test client (what a browser gets, session and all).
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

from annotations.services import create_article

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        run(args.rows, args.articles)


def run(rows: int, article_count: int) -> None:
    import datetime

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from annotations.anchoring import context_around
    from annotations.export import csv_chunks
    from annotations.models import Annotation, Tag
    from newsroom.models import BlockKind, BlockText

    # No collectstatic for a benchmark: whitenoise's note about the missing folder is noise.
    warnings.filterwarnings("ignore", message="No directory at")
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} (temporary file)")

    started = time.perf_counter()
    text = (
        "The council said 30% of the budget went to roads, and the mayor — asked on Tuesday "
        "about the figure — denied it: “12%, not 30%,” she said. Zoë’s café 🗳️ disagreed. "
    ) * 8
    blocks = [BlockText(BlockKind.PARAGRAPH, text), BlockText(BlockKind.HEADING, "What Next")]
    articles = [
        create_article(
            source_id=f"bench_{i:04d}",
            date=datetime.date(2025, 1, 1) + datetime.timedelta(days=i),
            title=f"Bench article {i}: budget, roads and “figures”",
            blocks=blocks,
        )
        for i in range(article_count)
    ]
    users = [get_user_model().objects.create_user(f"editor{i}", password=None) for i in range(10)]
    tags = list(Tag.objects.all())
    body = articles[0].body
    spans = [(4, 11), (17, 35), (60, 120), (0, 200), (300, 420)]
    batch = []
    for i in range(rows):
        start, end = spans[i % len(spans)]
        prefix, suffix = context_around(body, start, end)
        batch.append(
            Annotation(
                article=articles[i % article_count],
                tag=tags[i % len(tags)],
                author=users[i % len(users)],
                start=start,
                end=end,
                quote=body[start:end],
                prefix=prefix,
                suffix=suffix,
                note=("=SUM(A1:A9) " if i % 50 == 0 else "") + f"Checked against source {i}, ok.",
            )
        )
        if len(batch) == 5000:
            Annotation.objects.bulk_create(batch)
            batch = []
    Annotation.objects.bulk_create(batch)
    print(
        f"setup: {rows:,} annotations on {article_count} articles in "
        f"{time.perf_counter() - started:.1f} s"
    )

    queryset = Annotation.objects.all()

    # The first pass also pulls the database file into the OS cache: report it apart.
    for label in ("export generator, cold", "export generator, warm"):
        started = time.perf_counter()
        size = sum(len(chunk.encode()) for chunk in csv_chunks(queryset))
        elapsed = time.perf_counter() - started
        print(
            f"{label}: {rows / elapsed:,.0f} rows/s ({elapsed:.2f} s, {size / 1e6:.1f} MB of CSV)"
        )

    tracemalloc.start()
    for _ in csv_chunks(queryset):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak Python memory while exporting: {peak / 1e6:.2f} MB "
        f"({peak / size:.1%} of the CSV's size)"
    )

    client = Client()
    client.force_login(get_user_model().objects.create_user("bench_viewer", password=None))
    started = time.perf_counter()
    response = client.get("/export/annotations.csv")
    received = sum(len(chunk) for chunk in response.streaming_content)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and received == size, (response.status_code, received)
    print(f"web download: {rows / elapsed:,.0f} rows/s ({elapsed:.2f} s, {received / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
