"""Re-anchoring benchmark: 2,000 annotations on a 60-paragraph article, a paragraph
inserted near the top, timed through `replace_article_text` (revision, blocks, re-anchoring
and the bulk update of the annotations with their history rows, in one transaction).

Run from the project folder:

    .venv/bin/python bench/bench_reanchor.py [--annotations 2000] [--paragraphs 60] [--runs 5]

It uses a temporary SQLite database (or the database `BENCH_DATABASE_URL` names), and
prints the median and the spread of the runs, with the kept / moved / fuzzy / orphaned counts.
Each run is rolled back, so every run starts from the same article. Two more scenarios show
the slower paths: a typo fixed in every tenth paragraph (changed stretches searched) and the
whole text replaced (every quote searched for in the whole new body). "placing" is the pure
part (diff and placement of every annotation, no database), the rest is the database.

The text is made of a 60-word vocabulary, far more repetitive than prose: when the whole text
is replaced, a few short quotes find the same words with similar context by chance (a real
rewrite of a story would more often deserve it).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from annotations.services import create_article, replace_article_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "council budget roads mayor denied figure percent spending report housing water school "
    "police funding plan city residents officials million tax increase year said according "
    "to the of and in a was that would for on with their new public services transport "
    "district committee meeting vote proposal cuts review audit statement spokesperson"
).split()


class Rollback(Exception):
    pass


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    if rng.random() < 0.4:
        words.insert(rng.randrange(len(words)), f"{rng.randint(1, 99)}%")
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", type=int, default=2000)
    parser.add_argument("--paragraphs", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-reanchor-") as folder:
        os.environ["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{folder}/bench.sqlite3"
        )
        run(args)


def run(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    try:
        measure(args)
    finally:
        connection.close()  # before the temporary folder and its database go


def measure(args) -> None:
    from django.db import connection, transaction

    from annotations.anchoring import Anchor, BodyDiff, context_around, reanchor
    from annotations.models import Annotation, Tag
    from newsroom.models import Article, BlockKind, BlockText

    rng = random.Random(20250808)
    blocks = [BlockText(BlockKind.PARAGRAPH, paragraph(rng)) for _ in range(args.paragraphs)]
    source_id = f"bench-{rng.randrange(10**9)}"
    article = create_article(
        source_id=source_id, date="2025-08-08", title="Benchmark article", blocks=blocks
    )
    body = article.body
    tag = Tag.objects.order_by("pk").first()
    word_starts = [0] + [i + 1 for i, c in enumerate(body) if c == " "]
    annotations = []
    for _ in range(args.annotations):
        start = rng.choice(word_starts)
        end = start + rng.randint(5, 120)
        end = body.find(" ", end) if body.find(" ", end) != -1 else len(body)
        if "\n" in body[start:end] and rng.random() < 0.9:
            end = body.index("\n", start)  # most annotations stay inside one paragraph
        if end <= start:
            end = start + 1
        prefix, suffix = context_around(body, start, end)
        annotations.append(
            Annotation(
                article=article,
                tag=tag,
                start=start,
                end=end,
                quote=body[start:end],
                prefix=prefix,
                suffix=suffix,
            )
        )
    Annotation.objects.bulk_create(annotations)
    print(
        f"article: {args.paragraphs} paragraphs, {len(body):,} characters; "
        f"{args.annotations:,} annotations; database: {connection.vendor}"
    )

    inserted = BlockText(BlockKind.PARAGRAPH, paragraph(random.Random(1)))
    typo_fixed = [
        BlockText(b.kind, b.text.replace("e", "ee", 1) if i % 10 == 5 else b.text)
        for i, b in enumerate(blocks)
    ]
    scenarios = {
        "paragraph inserted near the top": blocks[:2] + [inserted] + blocks[2:],
        "a typo in every tenth paragraph": typo_fixed,
        "whole text replaced": [
            BlockText(BlockKind.PARAGRAPH, paragraph(random.Random(99 + i)))
            for i in range(args.paragraphs)
        ],
    }
    for name, new_blocks in scenarios.items():
        runs = args.runs if name == "paragraph inserted near the top" else max(1, args.runs // 2)
        timings, report = [], None
        for _ in range(runs):
            article = Article.objects.get(source_id=source_id)
            try:
                with transaction.atomic():
                    started = time.perf_counter()
                    revision = replace_article_text(
                        article, date=article.date, title=article.title, blocks=new_blocks
                    )
                    timings.append(time.perf_counter() - started)
                    report = revision.anchoring_report
                    raise Rollback
            except Rollback:
                pass
        new_body = "\n\n".join(b.text for b in new_blocks)
        started = time.perf_counter()
        diff = BodyDiff(body, new_body)
        for a in annotations:
            reanchor(
                Anchor(a.start, a.end, a.quote, a.prefix, a.suffix, a.status), body, new_body, diff
            )
        placing = time.perf_counter() - started
        spread = f"{min(timings):.3f}-{max(timings):.3f} s" if len(timings) > 1 else ""
        print(
            f"{name}: median {statistics.median(timings):.3f} s over {len(timings)} runs "
            f"{spread} (placing {placing:.3f} s); {report['kept']} kept, {report['moved']} moved, "
            f"{report['fuzzy']} fuzzy, {report['orphaned']} orphaned"
        )


if __name__ == "__main__":
    main()
