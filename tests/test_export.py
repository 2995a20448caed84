"""CSV export: the web downloads and `manage.py export_annotations`."""

import csv
import datetime
import io
import json
import re
import tracemalloc
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models.sql import compiler
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from annotations import export
from annotations.models import Annotation
from newsroom.models import BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, TagFactory

COLUMNS = (
    "article_id,article_title,article_date,annotation_id,tag,quote,start,end,prefix,suffix,"
    "note,author,status,created,modified,review_state,review_source,reviewed_by,replies,answers"
).split(",")

ALL_URL = "/export/annotations.csv"

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]

# The README's recipe for a data pipeline: drop one leading ' where the export added it.
README_PATTERN = r"^'(?='*[=+\-@\t\r])"


def body_of(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode("utf-8")


def rows_of(text: str) -> list[dict]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert header == COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def export_via_command(*args) -> str:
    out = io.StringIO()
    call_command("export_annotations", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def client_viewer(client, viewer):
    client.force_login(viewer)
    return client


class TestUrls:
    def test_it_names_the_routes(self):
        assert reverse("export_csv_all") == ALL_URL
        assert reverse("export_csv_article", args=["abc_1"]) == "/articles/abc_1/export.csv"


class TestAccess:
    def test_it_sends_anonymous_users_to_login(self, client, article):
        for url in (ALL_URL, f"/articles/{article.source_id}/export.csv"):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/?next=")

    def test_it_lets_a_signed_in_non_editor_export(self, client_viewer, article, claim):
        AnnotationFactory(article=article, quote="30% of the budget", tag=claim)
        response = client_viewer.get(ALL_URL)
        assert response.status_code == 200
        assert len(rows_of(body_of(response))) == 1

    def test_it_answers_404_for_an_unknown_article(self, client_viewer):
        response = client_viewer.get("/articles/no_such_article/export.csv")
        assert response.status_code == 404

    def test_it_refuses_post(self, client, editor, article):
        client.force_login(editor)
        assert client.post(ALL_URL).status_code == 405
        assert client.post(f"/articles/{article.source_id}/export.csv").status_code == 405


class TestCsvShape:
    def test_it_writes_the_columns_in_order_with_iso_times(self, client_viewer, article, claim):
        annotation = AnnotationFactory(
            article=article, quote="30% of the budget", tag=claim, note="Check the minutes"
        )
        response = client_viewer.get(ALL_URL)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"].startswith('attachment; filename="annotations-')
        assert "no-store" in response["Cache-Control"]
        text = body_of(response)
        assert text.startswith(",".join(COLUMNS) + "\r\n")
        [row] = rows_of(text)
        start = article.body.index("30% of the budget")
        assert row == {
            "article_id": "council_budget",
            "article_title": "Council budget row",
            "article_date": "2025-08-08",
            "annotation_id": str(annotation.pk),
            "tag": "claim",
            "quote": "30% of the budget",
            "start": str(start),
            "end": str(start + len("30% of the budget")),
            "prefix": annotation.prefix,
            "suffix": annotation.suffix,
            "note": "Check the minutes",
            "author": annotation.author.username,
            "status": "anchored",
            "created": row["created"],
            "modified": row["modified"],
            "review_state": "open",
            "review_source": "",
            "reviewed_by": "",
            "replies": "0",
            "answers": "",
        }
        for column in ("created", "modified"):
            parsed = datetime.datetime.fromisoformat(row[column])
            assert parsed.utcoffset() is not None, "times carry their offset"
        assert datetime.datetime.fromisoformat(row["created"]) == annotation.created

    def test_it_writes_an_empty_author_when_the_user_is_gone(self, client_viewer, article):
        annotation = AnnotationFactory(article=article)
        annotation.author.delete()
        [row] = rows_of(body_of(client_viewer.get(ALL_URL)))
        assert row["author"] == ""

    def test_it_writes_only_the_header_when_there_is_nothing(self, client_viewer, db):
        assert body_of(client_viewer.get(ALL_URL)) == ",".join(COLUMNS) + "\r\n"

    def test_it_quotes_commas_quotes_and_line_breaks(self, client_viewer, article):
        note = 'He said "no", then left.\nSecond line,\r\nthird line'
        AnnotationFactory(article=article, note=note)
        text = body_of(client_viewer.get(ALL_URL))
        assert '"He said ""no"", then left.\nSecond line,\r\nthird line"' in text
        [row] = rows_of(text)
        assert row["note"] == note

    @given(st.lists(st.text(alphabet=st.sampled_from("a ,\"\r\n'=é🗳️\t")), min_size=2))
    def test_it_quotes_a_line_exactly_as_csv_writer_does(self, cells):
        written = io.StringIO()
        csv.writer(written, lineterminator="\r\n").writerow(cells)
        assert ",".join(export.quoted(cell) for cell in cells) + "\r\n" == written.getvalue()

    @given(st.text(alphabet=st.sampled_from("a ,\"\r\n'=+-@é🗳️\t")))
    def test_a_spreadsheet_cell_is_the_neutralised_cell_quoted(self, cell):
        assert export.spreadsheet_cell(cell) == export.quoted(export.neutralise(cell))

    def test_it_writes_what_csv_writer_writes_for_the_same_cells(self, client_viewer, article):
        note = 'He said "no", then left.\nSecond line,\r\n=third line'
        AnnotationFactory(article=article, note=note, review_source='"a", b')
        AnnotationFactory(article=article, author=None, note="")
        text = body_of(client_viewer.get(ALL_URL))
        written = io.StringIO()
        writer = csv.writer(written, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in rows_of(text):
            writer.writerow([export.neutralise(cell) for cell in row.values()])
        assert text == written.getvalue()

    def test_it_writes_times_in_the_current_zone_with_its_offset(self, article, settings):
        settings.TIME_ZONE = "America/Sao_Paulo"
        annotation = AnnotationFactory(article=article)
        [row] = rows_of("".join(export.csv_chunks(Annotation.objects.all())))
        created = datetime.datetime.fromisoformat(row["created"])
        assert created.utcoffset() == datetime.timedelta(hours=-3)
        assert created == annotation.created

    def test_it_leaves_out_an_annotation_whose_article_went_while_it_ran(self, article):
        # The rows were read before the article (and with it the annotation) was deleted: the
        # chunk's article lookup no longer finds it.
        kept = AnnotationFactory(article=article)
        gone = AnnotationFactory(article=ArticleFactory())
        rows = [
            row
            for chunk in Annotation.objects.with_reply_count().export_rows(
                *export.FIELDS, chunk_size=10
            )
            for row in chunk
        ]
        gone.article.delete()
        lines = list(export.csv_lines(rows, datetime.UTC))
        assert [line.split(",")[3] for line in lines] == [str(kept.pk)]

    def test_it_round_trips_emoji_and_non_ascii(self, client_viewer):
        text = "Zoë’s café 🗳️ voted — naïve e\u0301 “quoted” 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
        article = ArticleFactory(
            source_id="unicode", title="Élection 🗳️", blocks=[BlockText(BlockKind.PARAGRAPH, text)]
        )
        AnnotationFactory(article=article, quote="🗳️ voted — naïve e\u0301", note="👍🏽 ok")
        raw = b"".join(client_viewer.get(ALL_URL).streaming_content)
        assert "🗳️".encode() in raw  # UTF-8 on the wire
        [row] = rows_of(raw.decode("utf-8"))
        assert row["article_title"] == "Élection 🗳️"
        assert row["quote"] == "🗳️ voted — naïve e\u0301"
        assert row["note"] == "👍🏽 ok"
        assert text[int(row["start"]) : int(row["end"])] == row["quote"]

    def test_it_orders_rows_by_article_then_position(self, client_viewer, article):
        later = AnnotationFactory(article=article, quote="The mayor denied it")
        earlier = AnnotationFactory(article=article, quote="The council said")
        ids = [row["annotation_id"] for row in rows_of(body_of(client_viewer.get(ALL_URL)))]
        assert ids == [str(earlier.pk), str(later.pk)]

    def test_it_keeps_html_as_literal_text(self, client_viewer, article):
        payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
        tag = TagFactory(label=payload[:50], slug="xss")
        AnnotationFactory(article=article, tag=tag, note=payload)
        text = body_of(client_viewer.get(ALL_URL))
        [row] = rows_of(text)
        assert row["note"] == payload
        assert "&lt;" not in text


class TestPerArticle:
    def test_it_exports_only_that_article(self, client_viewer, article):
        other = ArticleFactory(source_id="other")
        mine = AnnotationFactory(article=article, quote="The council said")
        AnnotationFactory(article=other, quote="The council said")
        response = client_viewer.get(f"/articles/{article.source_id}/export.csv")
        assert 'filename="annotations-council_budget.csv"' in response["Content-Disposition"]
        rows = rows_of(body_of(response))
        assert [(r["article_id"], r["annotation_id"]) for r in rows] == [
            ("council_budget", str(mine.pk))
        ]

    def test_it_exports_all_articles_at_the_all_url(self, client_viewer, article):
        AnnotationFactory(article=article)
        AnnotationFactory(article=ArticleFactory(source_id="other"))
        rows = rows_of(body_of(client_viewer.get(ALL_URL)))
        assert sorted(r["article_id"] for r in rows) == ["council_budget", "other"]

    def test_it_makes_a_safe_file_name_from_an_odd_source_id(self, client_viewer):
        odd = ArticleFactory(source_id='we"ird; name\u00e9')
        response = client_viewer.get(reverse("export_csv_article", args=[odd.source_id]))
        assert response.status_code == 200
        assert response["Content-Disposition"] == (
            'attachment; filename="annotations-we_ird_name.csv"'
        )


class TestFormulaInjection:
    @pytest.mark.parametrize("first", FORMULA_STARTS, ids=repr)
    def test_it_neutralises_each_formula_start_in_every_text_cell(self, client_viewer, first):
        payload = f'{first}HYPERLINK("http://evil.example","x")'
        # Article text never holds a tab or a line break (the importer collapses them), so for
        # those two the quote is ordinary and the other text cells carry the payload.
        body_can_hold = first not in "\t\r"
        quote = payload if body_can_hold else "plain words"
        text = f"{quote} and more words here"
        article = ArticleFactory(
            source_id=f"{first}src", title=payload, blocks=[BlockText(BlockKind.PARAGRAPH, text)]
        )
        tag = TagFactory(label="Formula", slug="formula")
        user = EditorFactory(username=f"{first}user")
        AnnotationFactory(article=article, tag=tag, quote=quote, note=payload, author=user)
        [row] = rows_of(body_of(client_viewer.get(ALL_URL)))
        assert row["quote"] == ("'" + payload if body_can_hold else quote)
        assert row["note"] == "'" + payload
        assert row["article_title"] == "'" + payload
        assert row["article_id"] == f"'{first}src"
        assert row["author"] == f"'{first}user"
        assert row["suffix"] == " and more words here"  # a space first: left alone

    def test_it_leaves_ordinary_cells_and_inner_formula_characters_alone(
        self, client_viewer, article
    ):
        AnnotationFactory(article=article, note="a=b+c-d@e")
        [row] = rows_of(body_of(client_viewer.get(ALL_URL)))
        assert row["note"] == "a=b+c-d@e"
        assert row["start"].isdigit() and row["annotation_id"].isdigit()

    def test_it_neutralises_what_a_cell_starts_with_not_what_a_line_starts_with(
        self, client_viewer, article
    ):
        # A note whose second line starts with "=" is one cell, starting with "x": unchanged.
        AnnotationFactory(article=article, note="x\n=1+1")
        [row] = rows_of(body_of(client_viewer.get(ALL_URL)))
        assert row["note"] == "x\n=1+1"

    def test_the_neutraliser_covers_exactly_owasps_characters(self):
        for first in FORMULA_STARTS:
            assert export.neutralise(first + "1") == "'" + first + "1"
        for safe in ["1", "a", " =1", "'a", "''", "", "\n=1", "％1", "＝1"]:
            assert export.neutralise(safe) == safe

    def test_it_doubles_an_apostrophe_that_already_precedes_a_formula(self):
        # Otherwise a note that really starts "'=" and a neutralised "=" would read the same.
        assert export.neutralise("'=1") == "''=1"
        assert export.neutralise("''@x") == "'''@x"

    @given(st.text())
    def test_stripping_gives_every_cell_back_and_no_output_starts_a_formula(self, cell):
        out = export.neutralise(cell)
        assert not out.startswith(tuple(FORMULA_STARTS))
        assert re.sub(README_PATTERN, "", out, count=1) == cell

    @given(st.text(alphabet="'=+-@\t\r\nab "))
    def test_the_readmes_pandas_recipe_undoes_the_neutralising(self, cell):
        # The pattern exactly as README.md shows it, applied the way pandas' str.replace does.
        assert re.sub(README_PATTERN, "", export.neutralise(cell), count=1) == cell

    def test_the_readme_shows_that_pattern(self):
        readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
        assert f'r"{README_PATTERN}"' in readme


class TestStreaming:
    def make_rows(self, article, count: int, note: str = "") -> None:
        author = EditorFactory()
        tag = TagFactory(slug="bulk", label="Bulk")
        Annotation.objects.bulk_create(
            Annotation(
                article=article,
                tag=tag,
                author=author,
                start=4,
                end=11,
                quote="council",
                note=note or f"note {i}",
            )
            for i in range(count)
        )

    def test_it_answers_with_a_stream_before_reading_any_row(self, client_viewer, article):
        self.make_rows(article, 10)
        with CaptureQueriesContext(connection) as queries:
            response = client_viewer.get(ALL_URL)
            before = len(queries)
            assert isinstance(response, StreamingHttpResponse)
            assert len(queries) == before, "no annotation is read until the body is consumed"
            body_of(response)
        assert any('"annotations_annotation"' in q["sql"] for q in queries[before:])

    def test_it_yields_rows_before_the_queryset_is_fully_read(
        self, client_viewer, article, monkeypatch
    ):
        # Count the rows the database driver hands over. Building a list (or letting the
        # queryset cache itself, or a non-chunked fetch) reads all 3,000 before the first
        # piece goes out; the streaming export reads one chunk of 100.
        monkeypatch.setattr(export, "ITERATOR_CHUNK_SIZE", 100)
        self.make_rows(article, 3000)
        fetched = []
        real_cursor_iter = compiler.cursor_iter

        def counting_cursor_iter(*args, **kwargs):
            for rows in real_cursor_iter(*args, **kwargs):
                # the annotations, not the session, the user or a chunk's names
                if rows and len(rows[0]) == len(export.FIELDS):
                    fetched.append(len(rows))
                yield rows

        monkeypatch.setattr(compiler, "cursor_iter", counting_cursor_iter)
        chunks = iter(client_viewer.get(ALL_URL).streaming_content)
        header = next(chunks)
        assert header.startswith(b"article_id,")
        assert fetched == []
        first_rows = next(chunks)
        assert 0 < first_rows.count(b"\r\n") <= 100
        assert fetched == [100], f"{sum(fetched)} rows read for the first piece"
        rest = b"".join(chunks)
        assert sum(fetched) == 3000
        assert (first_rows + rest).count(b"\r\n") == 3000

    def test_it_keeps_memory_flat_however_many_rows(self, client_viewer, article, monkeypatch):
        # 3,000 rows with a 2,000-character note each: ~6 MB of CSV and far more as model
        # instances. Streaming holds one database chunk of rows (100 here) at a time.
        monkeypatch.setattr(export, "ITERATOR_CHUNK_SIZE", 100)
        self.make_rows(article, 3000, note="n" * 2000)
        response = client_viewer.get(ALL_URL)
        total = 0
        tracemalloc.start()
        try:
            for chunk in response.streaming_content:
                total += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert total > 6_000_000
        assert peak < 2_000_000, f"peak {peak:,} bytes while streaming {total:,}"

    def test_it_costs_the_same_queries_for_few_or_many_annotations(
        self, client, viewer, django_assert_max_num_queries
    ):
        def export_queries() -> int:
            client.force_login(viewer)
            with CaptureQueriesContext(connection) as queries:
                body_of(client.get(ALL_URL))
            return len(queries)

        article = ArticleFactory()
        AnnotationFactory(article=article)
        few = export_queries()
        for i in range(30):
            AnnotationFactory(
                article=ArticleFactory(),
                tag=TagFactory(),
                author=EditorFactory(),
                note=f"note {i}",
            )
        many = export_queries()
        assert few == many
        # session, user, the annotations, and the chunk's articles, tags and users
        with django_assert_max_num_queries(6):
            body_of(client.get(ALL_URL))

    @pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query planner")
    def test_it_reads_the_table_in_its_order_on_sqlite(self, article):
        # Through an index on the article the rows would be visited in no order on disk.
        plan = Annotation.objects.with_reply_count().export_order().values_list("id").explain()
        [scan] = [line for line in plan.splitlines() if "SCAN" in line]
        assert scan.endswith("SCAN annotations_annotation"), plan


class TestCommand:
    def test_it_writes_the_same_csv_to_stdout_as_the_web(self, client_viewer, article):
        AnnotationFactory(article=article, note='=1+1, "quoted"\nline')
        output = export_via_command()
        assert output == body_of(client_viewer.get(ALL_URL))
        [row] = rows_of(output)
        assert row["note"] == '\'=1+1, "quoted"\nline'

    def test_it_writes_cells_unchanged_with_raw(self, article):
        AnnotationFactory(article=article, note="=1+1")
        AnnotationFactory(article=article, note="@SUM(A1)", quote="The mayor")
        AnnotationFactory(article=article, note="-2", quote="council")
        AnnotationFactory(article=article, note="\tTab", quote="budget")
        rows = rows_of(export_via_command("--raw"))
        assert sorted(r["note"] for r in rows) == sorted(["=1+1", "@SUM(A1)", "-2", "\tTab"])

    def test_it_exports_one_article(self, article):
        AnnotationFactory(article=article)
        AnnotationFactory(article=ArticleFactory(source_id="other"))
        rows = rows_of(export_via_command("--article", "other"))
        assert [r["article_id"] for r in rows] == ["other"]

    def test_it_refuses_an_unknown_article_clearly(self, db):
        with pytest.raises(CommandError, match="No article with source id 'nope'"):
            export_via_command("--article", "nope")

    def test_it_writes_to_a_file(self, article, tmp_path):
        AnnotationFactory(article=article, note="Zoë 🗳️")
        target = tmp_path / "out.csv"
        assert export_via_command("--output", str(target)) == ""
        data = target.read_bytes()
        assert data.startswith(b"article_id,")
        assert data.count(b"\r\n") == 2 and b"\r\r\n" not in data
        [row] = rows_of(data.decode("utf-8"))
        assert row["note"] == "Zoë 🗳️"
        assert list(tmp_path.iterdir()) == [target], "no temporary file left behind"

    def test_it_replaces_an_existing_file(self, article, tmp_path):
        target = tmp_path / "out.csv"
        target.write_text("old content that is much longer than the header row " * 10)
        export_via_command("--output", str(target))
        assert target.read_bytes().decode("utf-8") == ",".join(COLUMNS) + "\r\n"

    def test_it_explains_a_missing_folder(self, db, tmp_path):
        target = tmp_path / "missing" / "out.csv"
        with pytest.raises(CommandError, match="the folder .*missing does not exist"):
            export_via_command("--output", str(target))

    def test_it_explains_a_folder_given_as_the_output(self, db, tmp_path):
        with pytest.raises(CommandError, match="it is a folder"):
            export_via_command("--output", str(tmp_path))

    def test_it_explains_an_unwritable_folder(self, db, tmp_path):
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            folder = locked if not _can_write(locked) else _unwritable_system_folder()
            with pytest.raises(CommandError, match="Cannot write to .*Permission denied"):
                export_via_command("--output", str(folder / "out.csv"))
        finally:
            locked.chmod(0o700)

    def test_it_writes_a_jsonld_collection(self, article, tmp_path):
        AnnotationFactory(article=article, note="Zoë 🗳️")
        AnnotationFactory(article=ArticleFactory(source_id="other"))
        everything = json.loads(export_via_command("--format", "jsonld"))
        assert everything["type"] == "AnnotationCollection"
        assert everything["total"] == 2
        target = tmp_path / "one.jsonld"
        export_via_command(
            "--format", "jsonld", "--article", "council_budget", "--output", str(target)
        )
        one = json.loads(target.read_text(encoding="utf-8"))
        assert one["total"] == 1
        [item] = one["first"]["items"]
        assert {"type": "TextualBody", "purpose": "commenting", "value": "Zoë 🗳️"} in [
            {k: body.get(k) for k in ("type", "purpose", "value")} for body in item["body"]
        ]

    def test_it_refuses_raw_with_jsonld(self, db):
        with pytest.raises(CommandError, match="--raw applies to CSV only"):
            export_via_command("--format", "jsonld", "--raw")

    def test_it_refuses_an_unknown_format(self, db):
        with pytest.raises(CommandError, match="invalid choice: 'xml'"):
            export_via_command("--format", "xml")


def _can_write(folder) -> bool:
    try:
        (folder / ".probe").touch()
    except PermissionError:
        return False
    (folder / ".probe").unlink()
    return True


def _unwritable_system_folder():
    """A folder even root cannot create files in (root ignores a folder's mode bits)."""
    from pathlib import Path

    sysfs = Path("/sys")
    if sysfs.is_dir() and not _can_write(sysfs):
        return sysfs
    pytest.skip("running as root without a read-only folder to try")
