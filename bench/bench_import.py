"""Benchmark `import_articles`: a first import, a re-import of the same files, the seeds;
each beside the yardstick, a bare read + parse + `sqlite3` insert of the same rows.

    .venv/bin/python bench/bench_import.py [--files 10000] [--paragraphs 12]

Runs against a throw-away SQLite file in a temporary folder (DATABASE_URL is set before
Django starts), so it never touches the project's database. Generates realistic articles
(headings, a photo credit, curly quotes, dashes, an emoji, CRLF on every third file) and
times the real command end to end, through `call_command`. The yardstick reads each file,
splits its header and blank-line blocks, and inserts the article and block rows with the
standard library's `sqlite3` in one transaction, into a table of the same columns.
"""

import argparse
import io
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "council budget roads mayor figure percent report minister statement coalition children "
    "negotiations delegation spokeswoman reunification evidence official source week million "
    "government agency election voters district court ruling appeal contract housing schools"
).split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    words[0] = words[0].capitalize()
    if rng.random() < 0.3:
        words.insert(rng.randint(1, len(words) - 1), f"“{rng.choice(WORDS)} {rng.choice(WORDS)}”")
    if rng.random() < 0.2:
        words.insert(rng.randint(1, len(words) - 1), "—")
    if rng.random() < 0.05:
        words.append("🗳️")
    return " ".join(words) + rng.choice(".....?!")


def article_file(rng: random.Random, number: int, paragraphs: int) -> str:
    blocks = [" ".join(sentence(rng) for _ in range(rng.randint(2, 5)))]
    blocks.append(
        "Photo: commons.wikimedia.org by A. Photographer, "
        "https://creativecommons.org/licenses/by/2.0/ The council chamber"
    )
    for i in range(paragraphs - 1):
        if i % 3 == 2:
            blocks.append(" ".join(w.capitalize() for w in rng.sample(WORDS, 4)))
        blocks.append(" ".join(sentence(rng) for _ in range(rng.randint(2, 6))))
    title = " ".join(w.capitalize() for w in rng.sample(WORDS, 6))
    text = f" date 2025-{1 + number % 12:02d}-{1 + number % 28:02d} {title}\n\n"
    text += "\n\n".join(blocks) + "\n"
    return text.replace("\n", "\r\n") if number % 3 == 0 else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--paragraphs", type=int, default=12)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        run(Path(folder), args.files, args.paragraphs)


def timed_import(*paths: Path) -> tuple[float, str]:
    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    call_command("import_articles", *map(str, paths), stdout=out, stderr=io.StringIO())
    return time.perf_counter() - started, out.getvalue().strip()


def bare_import(seeds: Path, database: Path) -> float:
    """Read, parse and insert the same rows with nothing but the standard library."""
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE article (id INTEGER PRIMARY KEY, source_id TEXT UNIQUE, date TEXT, "
        "title TEXT, body TEXT, content_hash TEXT, created TEXT, modified TEXT)"
    )
    connection.execute(
        "CREATE TABLE block (id INTEGER PRIMARY KEY, article_id INTEGER, position INTEGER, "
        "kind TEXT, text TEXT)"
    )
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with connection:
        for path in sorted(seeds.iterdir()):
            text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
            header, _, rest = text.partition("\n\n")
            _, date, title = header.split(None, 2)
            blocks = [" ".join(b.split()) for b in rest.split("\n\n") if b.strip()]
            cursor = connection.execute(
                "INSERT INTO article (source_id, date, title, body, content_hash, created, "
                "modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (path.stem, date, title, "\n\n".join(blocks), "", now, now),
            )
            connection.executemany(
                "INSERT INTO block (article_id, position, kind, text) VALUES (?, ?, ?, ?)",
                [(cursor.lastrowid, i, "paragraph", b) for i, b in enumerate(blocks)],
            )
    connection.close()
    return time.perf_counter() - started


def run(folder: Path, files: int, paragraphs: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from newsroom.models import Block

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")

    seeds = folder / "articles"
    seeds.mkdir()
    rng = random.Random(20250808)
    for number in range(files):
        (seeds / f"bench_{number:05d}.txt").write_bytes(
            article_file(rng, number, paragraphs).encode("utf-8")
        )
    size = sum(path.stat().st_size for path in seeds.iterdir())
    print(f"generated {files} files, {size / files / 1024:.1f} KiB each on average")

    bare = bare_import(seeds, folder / "bare.sqlite3")
    print(f"yardstick:      {bare:6.2f} s  {files / bare:7.0f} files/s  (read + parse + sqlite3)")
    elapsed, summary = timed_import(seeds)
    blocks = Block.objects.count()
    print(
        f"first import:   {elapsed:6.2f} s  {files / elapsed:7.0f} files/s  "
        f"{bare / elapsed:.2f}x the yardstick  ({blocks:,} blocks; {summary})"
    )
    elapsed, summary = timed_import(seeds)
    print(
        f"re-import:      {elapsed:6.2f} s  {files / elapsed:7.0f} files/s  "
        f"{bare / elapsed:.2f}x the yardstick  ({summary})"
    )

    # A tenth of the files gain a paragraph at the top: updates, with revisions.
    for path in sorted(seeds.iterdir())[: files // 10]:
        header, _, body = path.read_text(encoding="utf-8").replace("\r\n", "\n").partition("\n\n")
        path.write_text(f"{header}\n\nCorrection appended on Monday.\n\n{body}", encoding="utf-8")
    elapsed, summary = timed_import(seeds)
    print(f"10% changed:    {elapsed:6.2f} s  {files / elapsed:7.0f} files/s  ({summary})")

    elapsed, summary = timed_import(ROOT / "seeds")
    print(f"seeds/:         {elapsed * 1000:6.1f} ms  ({summary})")
    elapsed, summary = timed_import(ROOT / "seeds")
    print(f"seeds/ again:   {elapsed * 1000:6.1f} ms  ({summary})")


if __name__ == "__main__":
    main()
