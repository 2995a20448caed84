"""Finding and counting at scale: 1,000,000 annotations over 10,000 articles, timed through
Django's whole request stack (middleware, session, view, templates): the search API, the desk
page with filters, and the statistics page.

Run from the project folder:

    .venv/bin/python bench/bench_find.py [--annotations 1000000] [--articles 10000] [--runs 7]
        [--only stats,articles]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_find \
        .venv/bin/python bench/bench_find.py

It uses a temporary SQLite database, or the database `BENCH_DATABASE_URL` names (kept between
runs: when it already holds the annotations, they are reused). The rows are made with bulk
inserts while the search triggers are set aside, then `searchindex.install()` puts the triggers
back and builds the index in one statement per table (as `rebuild_search_index` does).

Words come from a vocabulary with a Zipf-like spread, as in prose: a few words are in a large
share of the annotations, most in few. Each timing is the median of `--runs` requests.
Figures to reach: search < 100 ms, desk page with filters < 200 ms, statistics and the article
list (each sort and filter) < 300 ms.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMON = (
    "council budget harbour dredging school roads mayor figure percent million ferry quay "
    "tax housing police hospital minister report claim said year week court water energy "
    "price rent wage cafe zoe election vote bridge river port ship cargo"
).split()
STATES = ["open"] * 60 + ["needs-source"] * 10 + ["verified"] * 12 + ["disputed"] * 8
STATES += ["resolved"] * 10
STATUSES = ["anchored"] * 95 + ["fuzzy"] * 3 + ["orphaned"] * 2


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    syllables = ["ba", "ko", "ri", "ten", "mar", "lo", "sen", "du", "pha", "vel", "or", "ist"]
    made = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size * 2)}
    return COMMON + sorted(made)[: size - len(COMMON)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--only", default="", help="time only these kinds of page, e.g. 'stats,articles'"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-find-") as folder:
        os.environ["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3"
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        os.environ["DJANGO_STATIC_MANIFEST"] = "0"  # no collectstatic for a benchmark
        import django

        django.setup()
        from django.db import connection

        try:
            run(args)
        finally:
            connection.close()


def fill(args, rng: random.Random) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from annotations import searchindex
    from annotations.models import Annotation, Tag
    from annotations.services import create_article, rebuild_counts
    from newsroom.models import Article, BlockKind, BlockText

    words = vocabulary(rng)
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        cumulative.append(total)

    def text(low: int, high: int) -> str:
        return " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(low, high)))

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "DROP TRIGGER IF EXISTS annotations_search_insert_delete ON annotations_annotation"
            )
        else:
            cursor.execute("DROP TRIGGER IF EXISTS annotations_search_insert")
    started = time.perf_counter()
    existing = Article.objects.count()
    for i in range(existing, args.articles):
        blocks = [BlockText(BlockKind.PARAGRAPH, text(40, 80).capitalize() + ".") for _ in range(4)]
        create_article(
            source_id=f"bench-{i:05d}",
            date=datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 700),
            title=text(4, 9).title(),
            blocks=blocks,
        )
    users = [
        get_user_model().objects.get_or_create(username=f"editor{i:02d}")[0] for i in range(50)
    ]
    tags = {tag.slug: tag for tag in Tag.objects.all()}
    tag_choice = [tags["claim"]] * 4 + [tags["figure"]] * 3 + [tags["rebuttal"]] * 3
    article_ids = list(Article.objects.values_list("id", flat=True))
    now = timezone.now()
    made = Annotation.objects.count()
    # Spread over two years: the creation times are given, not stamped with now.
    for name in ("created", "modified"):
        field = Annotation._meta.get_field(name)
        field.auto_now = field.auto_now_add = False
    while made < args.annotations:
        batch = []
        for _ in range(min(20_000, args.annotations - made)):
            created = now - datetime.timedelta(seconds=rng.randrange(730 * 86400))
            quote = text(3, 12)
            batch.append(
                Annotation(
                    article_id=rng.choice(article_ids),
                    tag=rng.choice(tag_choice),
                    start=0,
                    end=len(quote),
                    quote=quote,
                    note=text(5, 20) if rng.random() < 0.3 else "",
                    author=rng.choice(users),
                    status=rng.choice(STATUSES),
                    review_state=rng.choice(STATES),
                    created=created,
                    modified=created,
                )
            )
        Annotation.objects.bulk_create(batch, batch_size=2000)
        made += len(batch)
        print(f"\r  {made:,} annotations", end="", flush=True)
    print(f"\nrows made in {time.perf_counter() - started:.0f} s; building the index…")
    started = time.perf_counter()
    if not searchindex.install():  # puts back the trigger set aside, and builds the index
        searchindex.rebuild()
    print(f"index built in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    rebuild_counts()  # the rows were made around the services, which keep the counts
    print(f"counts rebuilt in {time.perf_counter() - started:.0f} s")


def timed(client, url: str, runs: int) -> tuple[float, int]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        body = response.content
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, body[:300])
    return statistics.median(times), len(body)


def run(args) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from annotations.finding import cursor_of
    from annotations.models import Annotation

    warnings.filterwarnings("ignore", message="No directory at")
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False
    call_command("migrate", verbosity=0)
    rng = random.Random(20251201)
    if Annotation.objects.count() < args.annotations:
        fill(args, rng)
    if connection.vendor == "postgresql":
        # As autovacuum leaves a settled table: statistics, and the visibility map that lets
        # counts read the indexes alone.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    total = Annotation.objects.count()
    print(f"database: {connection.vendor}; {total:,} annotations; median of {args.runs} runs")

    user = get_user_model().objects.get_or_create(username="bench-reader")[0]
    client = Client()
    client.force_login(user)
    # A page far into a list (after the annotation added halfway), and the last month.
    deep = cursor_of(Annotation.objects.get(pk=Annotation.objects.order_by("-pk")[0].pk // 2))
    month = (timezone.now() - datetime.timedelta(days=30)).date().isoformat()
    cases = [
        ("search API", "/api/annotations/?q=harbour+dredging", 100),
        ("search API", "/api/annotations/?q=budget", 100),
        ("search API", "/api/annotations/?q=cafe+zoe+ferry", 100),
        ("search API", "/api/annotations/?q=budget&tag=claim&review=open", 100),
        ("search API", "/api/annotations/?q=harb", 100),
        ("list API", "/api/annotations/?tag=claim&review=disputed&author=editor07", 100),
        ("desk", "/desk/?q=harbour&tag=claim&review=open&review=needs-source", 200),
        ("desk", "/desk/?tag=claim&review=open&review=needs-source", 200),
        ("desk", "/desk/?status=fuzzy&status=orphaned&since=2025-06-01", 200),
        ("desk", "/desk/?q=council+budget&author=editor03", 200),
        # More cases of the search at scale (docs/search.md): a common word with filters that
        # pass few annotations, a pair of words in some 1,400, a word in one article or in
        # the last month, and a list's page far from its start.
        ("search API", "/api/annotations/?q=budget&tag=claim&review=disputed&author=editor07", 100),
        ("search API", "/api/annotations/?q=cafe+zoe", 100),
        ("desk", "/desk/?q=budget&article=bench-00042", 200),
        ("desk", f"/desk/?q=harbour&since={month}", 200),
        ("list API", f"/api/annotations/?tag=claim&before={deep}", 100),
        ("stats", "/desk/stats/", 300),
        ("articles", "/", 300),
        ("articles", "/?sort=oldest", 300),
        ("articles", "/?sort=most-annotated", 300),
        ("articles", "/?sort=most-annotated&page=150", 300),
        ("articles", "/?open_claims=on", 300),
        ("articles", "/?open_claims=on&sort=most-annotated", 300),
        ("articles", "/?start=2024-06-01&end=2024-08-31&sort=most-annotated", 300),
        ("articles", "/?q=harbour", 300),
        ("articles", "/?q=harbour&open_claims=on&sort=most-annotated", 300),
    ]
    client.get("/desk/")  # warm the caches (templates, URL resolver)
    worst = True
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    for what, url, limit in (case for case in cases if not only or case[0] in only):
        median, size = timed(client, url, args.runs)
        ok = median < limit
        worst = worst and ok
        print(f"  {what:11} {median:7.1f} ms  (< {limit} ms {'ok' if ok else 'MISSED'})  {url}")
    print("all figures reached" if worst else "some figures missed")


if __name__ == "__main__":
    main()
