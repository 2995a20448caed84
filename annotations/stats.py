"""The desk's statistics: each a small table read from the counts the services keep with every
change (annotations/services/counts.py: per day and tag, per editor and tag, per article),
never by counting the annotations themselves, drawn as a chart by charts.py and downloadable
as CSV. The desk page `/desk/stats/` shows them all.
"""

import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from newsroom.models import Article

from .export import neutralise
from .finding import OPEN_STATES
from .models import CLAIM_TAG, DailyCount, EditorCount, Tag, safe_colour

WEEKS = 12
TOP_ARTICLES = 10
TOP_EDITORS = 15
OPEN_COLOUR, RESOLVED_COLOUR = "#b45309", "#1b6b3a"


@dataclass(frozen=True)
class Series:
    name: str
    colour: str


@dataclass
class Row:
    label: str
    values: list[int]
    url: str = ""

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass
class Table:
    """A chart's numbers: one row per bar, one value per series (stacked in the bar)."""

    name: str
    title: str
    label_header: str
    series: list[Series]
    rows: list[Row] = field(default_factory=list)
    note: str = ""

    def header(self) -> list[str]:
        return [self.label_header, *(s.name for s in self.series), "Total"]

    def csv_rows(self) -> Iterator[list[str]]:
        for row in self.rows:
            yield [row.label, *(str(v) for v in row.values), str(row.total)]

    @property
    def csv_url(self) -> str:
        return reverse("desk_stats_csv", args=[self.name])


def _open_and_resolved() -> dict:
    return {
        "open": Sum("count", filter=Q(review_state__in=OPEN_STATES), default=0),
        "resolved": Sum("count", filter=~Q(review_state__in=OPEN_STATES), default=0),
    }


OPEN_AND_RESOLVED = [
    Series("Open", OPEN_COLOUR),
    Series("Resolved", RESOLVED_COLOUR),
]


def week_starts(today: datetime.date, weeks: int = WEEKS) -> list[datetime.date]:
    """The Monday of each of the last `weeks` weeks, oldest first, and the next Monday (the
    end of the last bucket)."""
    monday = today - datetime.timedelta(days=today.weekday())
    return [monday - datetime.timedelta(weeks=weeks - 1 - i) for i in range(weeks + 1)]


def daily_totals(starts: list[datetime.date]) -> dict[int, dict[str, int]]:
    """Per tag id: how many annotations were made in each week of `starts` (`w0`, `w1`, …),
    and how many are `open` and `resolved` now whenever made. One query over the daily counts
    (a row per day, tag and review state), whatever the number of annotations."""
    weeks = {
        f"w{i}": Sum("count", filter=Q(day__gte=starts[i], day__lt=starts[i + 1]), default=0)
        for i in range(len(starts) - 1)
    }
    rows = DailyCount.objects.order_by().values("tag_id").annotate(**weeks, **_open_and_resolved())
    return {row["tag_id"]: row for row in rows}


def per_tag_per_week(tags: list[Tag], totals: dict[int, dict[str, int]]) -> Table:
    """Annotations made per week and tag over the last weeks (those deleted since not
    counted), from `daily_totals`."""
    starts = week_starts(timezone.localdate())
    table = Table(
        name="tags-per-week",
        title=f"Annotations per tag, last {WEEKS} weeks",
        label_header="Week of",
        series=[Series(tag.label, safe_colour(tag.color)) for tag in tags],
    )
    for i in range(WEEKS):
        values = [totals.get(tag.pk, {}).get(f"w{i}", 0) for tag in tags]
        table.rows.append(Row(f"{starts[i]:%-d %b %Y}", values))
    return table


def claims_per_editor_and_overall(
    tags: list[Tag], totals: dict[int, dict[str, int]]
) -> tuple[Table, Table]:
    """Open and resolved claims per editor (the busiest first), and of all claims: one query
    over the per-editor counts; the claims whose author's account is gone are what the
    `daily_totals` hold beyond the editors'."""
    rows = list(
        EditorCount.objects.filter(tag__slug=CLAIM_TAG)
        .values("author__username")
        .annotate(**_open_and_resolved(), total=Sum("count"))
        .filter(total__gt=0)
    )
    claim = next((tag for tag in tags if tag.slug == CLAIM_TAG), None)
    everyone = totals.get(claim.pk, {}) if claim else {}
    open_total, resolved_total = everyone.get("open", 0), everyone.get("resolved", 0)
    gone = {
        "author__username": None,
        "open": open_total - sum(row["open"] for row in rows),
        "resolved": resolved_total - sum(row["resolved"] for row in rows),
    }
    if gone["open"] or gone["resolved"]:
        rows.append(gone)
    rows.sort(key=lambda row: (-(row["open"] + row["resolved"]), row["author__username"] or ""))
    per_editor = Table(
        name="claims-per-editor",
        title="Open and resolved claims per editor",
        label_header="Editor",
        series=OPEN_AND_RESOLVED,
        note=f"The {TOP_EDITORS} editors with the most claims.",
    )
    for row in rows[:TOP_EDITORS]:
        username = row["author__username"] or "(account deleted)"
        url = ""
        if row["author__username"]:
            url = reverse("desk") + "?" + urlencode({"tag": CLAIM_TAG, "author": username})
        per_editor.rows.append(Row(username, [row["open"], row["resolved"]], url))
    overall = Table(
        name="claims",
        title="Open versus resolved claims",
        label_header="Claims",
        series=OPEN_AND_RESOLVED,
        note="Open: open or needs a source. Resolved: verified, disputed or resolved.",
    )
    overall.rows.append(Row("All claims", [open_total, resolved_total]))
    return overall, per_editor


def articles_with_most_open_claims() -> Table:
    """The articles with the most open claims, with their resolved ones: the first rows of the
    articles sorted by the open claims they count."""
    rows = (
        Article.objects.filter(open_claims__gt=0)
        .values("source_id", "title", "open_claims", "settled_claims")
        .order_by("-open_claims", "title")[:TOP_ARTICLES]
    )
    table = Table(
        name="articles-open-claims",
        title=f"The {TOP_ARTICLES} articles with the most open claims",
        label_header="Article",
        series=OPEN_AND_RESOLVED,
    )
    for row in rows:
        url = reverse("article_detail", args=[row["source_id"]])
        table.rows.append(Row(row["title"], [row["open_claims"], row["settled_claims"]], url))
    return table


def all_tables() -> dict[str, Table]:
    """Every table, in the page's order: four queries (the tags, the daily counts, the
    per-editor counts, the articles)."""
    tags = list(Tag.objects.all())
    totals = daily_totals(week_starts(timezone.localdate()))
    overall, per_editor = claims_per_editor_and_overall(tags, totals)
    tables = [overall, per_editor, articles_with_most_open_claims(), per_tag_per_week(tags, totals)]
    return {table.name: table for table in tables}


def table(name: str) -> Table | None:
    """One table by its name (each costs little: they all come from kept counts)."""
    return all_tables().get(name)


class _Line:
    def write(self, text: str) -> str:
        return text


def csv_chunks(table: Table) -> Iterator[str]:
    """The table as CSV, with formula-like cells neutralised as in the annotations' CSV."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow(table.header())
    for row in table.csv_rows():
        yield writer.writerow([neutralise(cell) for cell in row])
