"""Benchmark the exports: rows per second of the CSV and the JSON-LD export beside
`sqlite3 -csv` of the same join, and how much the process's peak memory grew.

    .venv/bin/python bench/bench_export.py [--rows 1000000]

Runs against a throw-away SQLite file in a temporary folder (DATABASE_URL is set before
Django starts), so it never touches the project's database. Each export writes a file in that
folder, as `manage.py export_annotations` does; the yardstick is the sqlite3 command line
tool writing the same rows, in the same order, as CSV. Then the CSV's web download through
Django's test client (what a browser gets, session and all).
"""

import argparse
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
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
    from annotations.export import write_csv
    from annotations.models import Annotation, Tag
    from annotations.services import create_article
    from annotations.webannotation import stream_collection
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
    database = settings.DATABASES["default"]["NAME"]
    out = Path(database).parent / "export.out"

    def timed(label: str, write) -> float:
        sampler = RssSampler()
        started = time.perf_counter()
        with sampler, open(out, "w", encoding="utf-8", newline="") as file:
            write(file)
        elapsed = time.perf_counter() - started
        grew = sampler.growth_mb
        print(
            f"{label:<22} {rows / elapsed:>10,.0f} rows/s  {elapsed:7.2f} s  "
            f"{out.stat().st_size / 1e6:7.1f} MB  peak memory +{grew:.0f} MB"
        )
        return rows / elapsed

    def sqlite3_csv(file) -> None:
        connection.close()  # let the command line tool read the file alone
        subprocess.run(
            ["sqlite3", "-csv", "-header", database, YARDSTICK_SQL], stdout=file, check=True
        )

    # The first pass pulls the database file into the OS cache: not counted.
    write_csv(queryset, io.StringIO() if rows <= 100_000 else open(os.devnull, "w"))
    print(f"{'':<22} {'rows/s':>10}")
    limit = timed("sqlite3 -csv (limit)", sqlite3_csv) if shutil.which("sqlite3") else None
    csv_speed = timed("CSV export", lambda file: write_csv(queryset, file))
    jsonld_speed = timed("JSON-LD export", lambda file: stream_collection(file))
    if limit:
        print(f"CSV / sqlite3 -csv: {csv_speed / limit:.2f}x")
    print(f"JSON-LD / CSV: {jsonld_speed / csv_speed:.2f}x")

    client = Client()
    client.force_login(get_user_model().objects.create_user("bench_viewer", password=None))
    started = time.perf_counter()
    response = client.get("/export/annotations.csv")
    received = sum(len(chunk) for chunk in response.streaming_content)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    print(
        f"web download (CSV): {rows / elapsed:,.0f} rows/s "
        f"({elapsed:.2f} s, {received / 1e6:.1f} MB)"
    )


class RssSampler:
    """The growth of this process's resident memory while it runs, sampled every 20 ms."""

    def __enter__(self):
        self.start = self.peak = rss_kb()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, rss_kb())

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, rss_kb())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 1024


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# The CSV export's join and order, for the command line tool.
YARDSTICK_SQL = """
SELECT a.source_id, a.title, a.date, n.id, t.slug, n.quote, n.start, n."end", n.prefix,
       n.suffix, n.note, u.username, n.status, n.created, n.modified
FROM annotations_annotation n
JOIN newsroom_article a ON a.id = n.article_id
JOIN annotations_tag t ON t.id = n.tag_id
LEFT JOIN auth_user u ON u.id = n.author_id
ORDER BY a.date DESC, a.source_id, n.start, n."end", n.id
"""


if __name__ == "__main__":
    main()
