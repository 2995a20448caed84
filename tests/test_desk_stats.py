"""The statistics page: each chart's SVG holds the numbers its table shows, counted in the
database; the CSV downloads say the same."""

import csv
import datetime
import io
import re
from unittest import mock

import pytest
from django.utils import timezone

from annotations import charts, stats

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, tag

pytestmark = pytest.mark.django_db
THREE_WEEKS = datetime.timedelta(weeks=3)


@pytest.fixture
def claims(db):
    alice, bob = EditorFactory(username="alice"), EditorFactory(username="bob")
    busy, calm = ArticleFactory(title="Busy article"), ArticleFactory(title="Calm article")
    for state in ("open", "open", "needs-source", "verified"):
        AnnotationFactory(article=busy, tag=tag("claim"), author=alice, review_state=state)
    AnnotationFactory(article=calm, tag=tag("claim"), author=bob, review_state="open")
    AnnotationFactory(article=calm, tag=tag("claim"), author=bob, review_state="disputed")
    AnnotationFactory(article=calm, tag=tag("figure"), author=bob)
    return {"alice": alice, "bob": bob, "busy": busy, "calm": calm}


def rows(table) -> list[tuple]:
    return [(row.label, *row.values) for row in table.rows]


def test_it_counts_open_and_resolved_claims(claims):
    tables = stats.all_tables()

    assert rows(tables["claims"]) == [("All claims", 4, 2)]
    assert rows(tables["claims-per-editor"]) == [("alice", 3, 1), ("bob", 1, 1)]
    assert rows(tables["articles-open-claims"]) == [("Busy article", 3, 1), ("Calm article", 1, 1)]


def test_it_counts_the_claims_of_a_deleted_account_apart(claims):
    claims["bob"].delete()

    tables = stats.all_tables()

    assert rows(tables["claims"]) == [("All claims", 4, 2)]
    assert rows(tables["claims-per-editor"]) == [("alice", 3, 1), ("(account deleted)", 1, 1)]
    assert tables["claims-per-editor"].rows[1].url == ""


def test_it_counts_annotations_per_tag_and_week(claims):
    # Made three weeks ago (the counts are kept by each write, so the time is the write's).
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - THREE_WEEKS):
        AnnotationFactory(article=claims["calm"], tag=tag("rebuttal"))
    table = stats.all_tables()["tags-per-week"]

    assert len(table.rows) == stats.WEEKS
    names = [s.name for s in table.series]
    this_week, three_weeks_ago = table.rows[-1], table.rows[-4]
    assert this_week.values[names.index("Claim")] == 6
    assert this_week.values[names.index("Figure")] == 1
    assert three_weeks_ago.values[names.index("Rebuttal")] == 1


def test_it_counts_in_a_few_queries(claims, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        stats.all_tables()


def test_the_chart_holds_the_numbers_the_table_shows(client, viewer, claims):
    client.force_login(viewer)
    page = client.get("/desk/stats/").content.decode()

    for table in stats.all_tables().values():
        section = page[page.index(f'id="stat-{table.name}"') :]
        svg = section[section.index("<svg") : section.index("</svg>")]
        numbers = section[section.index("<table") : section.index("</table>")]
        for row in table.rows:
            assert f">{row.total}</text>" in svg
            for series, value in zip(table.series, row.values, strict=True):
                cell = f"{series.name}: {value}</title>"
                assert (cell in svg) or value == 0
                assert f'<td class="num">{value}</td>' in numbers


def test_it_draws_bars_in_proportion():
    table = stats.Table(
        "t",
        "Test",
        "Label",
        [stats.Series("A", "#000000")],
        [stats.Row("x", [2]), stats.Row("y", [4])],
    )

    svg = charts.draw(table)
    widths = [float(w) for w in re.findall(r'width="([\d.]+)" height="22"', svg)]

    assert widths[1] == pytest.approx(2 * widths[0])


def test_it_escapes_labels_in_the_chart():
    table = stats.Table("t", "T", "L", [stats.Series("A", "red; x")], [stats.Row("<b>&", [1])])

    svg = charts.draw(table)

    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    assert 'fill="#6b7280"' in svg  # a colour that is not #rrggbb falls back


def test_it_offers_each_table_as_csv(client, viewer, claims):
    client.force_login(viewer)

    response = client.get("/desk/stats/claims-per-editor.csv")

    text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(text))) == [
        ["Editor", "Open", "Resolved", "Total"],
        ["alice", "3", "1", "4"],
        ["bob", "1", "1", "2"],
    ]
    assert client.get("/desk/stats/nothing.csv").status_code == 404


def test_it_neutralises_formulas_in_the_csv(client, viewer):
    article = ArticleFactory(title="=HYPERLINK(1)")
    AnnotationFactory(article=article, tag=tag("claim"))
    client.force_login(viewer)

    text = b"".join(client.get("/desk/stats/articles-open-claims.csv").streaming_content)

    assert b"'=HYPERLINK(1)" in text


def test_it_shows_empty_charts_without_failing(client, viewer):
    client.force_login(viewer)

    page = client.get("/desk/stats/").content.decode()

    assert page.count("Nothing yet.") >= 2
