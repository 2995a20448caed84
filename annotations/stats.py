"""The desk's statistics: each a small table counted by one aggregate query in the database
(never by reading annotations into Python), drawn as a chart by charts.py and downloadable as
CSV. The desk page `/desk/stats/` shows them all.
"""

import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from .export import neutralise
from .finding import CLAIM_TAG, OPEN_STATES
from .models import Annotation, Tag, safe_colour

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
        "open": Count("id", filter=Q(review_state__in=OPEN_STATES)),
        "resolved": Count("id", filter=~Q(review_state__in=OPEN_STATES)),
    }


def _claims():
    return Annotation.objects.filter(tag__slug=CLAIM_TAG).order_by()


OPEN_AND_RESOLVED = [
    Series("Open", OPEN_COLOUR),
    Series("Resolved", RESOLVED_COLOUR),
]


def week_starts(today: datetime.date, weeks: int = WEEKS) -> list[datetime.datetime]:
    """Midnight of the Monday of each of the last `weeks` weeks, oldest first, and of the
    next Monday (the end of the last bucket), in the current time zone."""
    monday = today - datetime.timedelta(days=today.weekday())
    days = [monday - datetime.timedelta(weeks=weeks - 1 - i) for i in range(weeks + 1)]
    zone = timezone.get_current_timezone()
    return [datetime.datetime.combine(day, datetime.time(), tzinfo=zone) for day in days]


def per_tag_per_week() -> Table:
    """Annotations made per week and tag over the last weeks: one query, a count per week as
    a filtered COUNT (plain comparisons of the creation time, which an index can serve)."""
    starts = week_starts(timezone.localdate())
    tags = list(Tag.objects.all())
    buckets = {
        f"w{i}": Count("id", filter=Q(created__gte=starts[i], created__lt=starts[i + 1]))
        for i in range(WEEKS)
    }
    counts = {
        row["tag_id"]: row
        for row in Annotation.objects.filter(created__gte=starts[0], created__lt=starts[-1])
        .order_by()
        .values("tag_id")
        .annotate(**buckets)
    }
    table = Table(
        name="tags-per-week",
        title=f"Annotations per tag, last {WEEKS} weeks",
        label_header="Week of",
        series=[Series(tag.label, safe_colour(tag.color)) for tag in tags],
    )
    for i in range(WEEKS):
        values = [counts.get(tag.pk, {}).get(f"w{i}", 0) for tag in tags]
        table.rows.append(Row(f"{starts[i]:%-d %b %Y}", values))
    return table


def claims_per_editor_and_overall() -> tuple[Table, Table]:
    """Open and resolved claims per editor (the busiest first), and of all claims: one query
    grouped by author; the overall counts add up its few rows (one per editor)."""
    rows = list(
        _claims()
        .values("author__username")
        .annotate(**_open_and_resolved(), total=Count("id"))
        .order_by("-total", "author__username")
    )
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
    open_total = sum(row["open"] for row in rows)
    resolved_total = sum(row["resolved"] for row in rows)
    overall.rows.append(Row("All claims", [open_total, resolved_total]))
    return overall, per_editor


def articles_with_most_open_claims() -> Table:
    """The articles with the most open claims, with their resolved ones: one query grouped by
    article over the claims."""
    rows = (
        _claims()
        .values("article__source_id", "article__title")
        .annotate(**_open_and_resolved())
        .filter(open__gt=0)
        .order_by("-open", "article__title")[:TOP_ARTICLES]
    )
    table = Table(
        name="articles-open-claims",
        title=f"The {TOP_ARTICLES} articles with the most open claims",
        label_header="Article",
        series=OPEN_AND_RESOLVED,
    )
    for row in rows:
        url = reverse("article_detail", args=[row["article__source_id"]])
        table.rows.append(Row(row["article__title"], [row["open"], row["resolved"]], url))
    return table


def all_tables() -> dict[str, Table]:
    """Every table, in the page's order: three aggregate queries (and one for the tags)."""
    overall, per_editor = claims_per_editor_and_overall()
    tables = [overall, per_editor, articles_with_most_open_claims(), per_tag_per_week()]
    return {table.name: table for table in tables}


def table(name: str) -> Table | None:
    builders = {
        "claims": lambda: claims_per_editor_and_overall()[0],
        "claims-per-editor": lambda: claims_per_editor_and_overall()[1],
        "articles-open-claims": articles_with_most_open_claims,
        "tags-per-week": per_tag_per_week,
    }
    build = builders.get(name)
    return build() if build else None


class _Line:
    def write(self, text: str) -> str:
        return text


def csv_chunks(table: Table) -> Iterator[str]:
    """The table as CSV, with formula-like cells neutralised as in the annotations' CSV."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow(table.header())
    for row in table.csv_rows():
        yield writer.writerow([neutralise(cell) for cell in row])
