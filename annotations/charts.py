"""Charts as SVG drawn on the server: horizontal bars, one per row of a stats.Table, its
series stacked in the bar, with a legend. No script and no style sheet: presentation
attributes only, so the page's strict CSP holds. Every number is in the drawing (the total
beside each bar, each part in its tooltip), and the page shows the same numbers as a table.
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from .models import safe_colour
from .stats import Table

WIDTH = 720
LABEL_WIDTH = 220
BAR_HEIGHT = 22
GAP = 8
LEGEND_HEIGHT = 28
TOTAL_WIDTH = 56
LABEL_CHARS = 32


def draw(table: Table) -> SafeString:
    """The table as an accessible SVG image (its title names it; the table beside it reads
    out the numbers to screen readers)."""
    plot = WIDTH - LABEL_WIDTH - TOTAL_WIDTH
    largest = max((row.total for row in table.rows), default=0) or 1
    height = LEGEND_HEIGHT + max(len(table.rows), 1) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}"'
        f' width="100%" role="img" aria-labelledby="chart-{escape(table.name)}-title">',
        f'<title id="chart-{escape(table.name)}-title">{escape(table.title)}</title>',
    ]
    x = 0
    for series in table.series:
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{safe_colour(series.colour)}"/>'
            f'<text x="{x + 16}" y="16" font-size="12">{escape(series.name)}</text>'
        )
        x += 28 + 7 * len(series.name)
    if not table.rows:
        parts.append(f'<text x="0" y="{LEGEND_HEIGHT + 16}" font-size="13">Nothing yet.</text>')
    for index, row in enumerate(table.rows):
        y = LEGEND_HEIGHT + index * (BAR_HEIGHT + GAP)
        label = escape(Truncator(row.label).chars(LABEL_CHARS))
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" font-size="13" text-anchor="end">'
            f"<title>{escape(row.label)}</title>{label}</text>"
        )
        left = LABEL_WIDTH
        for series, value in zip(table.series, row.values, strict=True):
            if not value:
                continue
            width = round(plot * value / largest, 2)
            parts.append(
                f'<rect x="{left}" y="{y}" width="{width}" height="{BAR_HEIGHT}"'
                f' fill="{safe_colour(series.colour)}" data-value="{value}">'
                f"<title>{escape(row.label)} — {escape(series.name)}: {value}</title></rect>"
            )
            left += width
        parts.append(
            f'<text x="{left + 6}" y="{y + 15}" font-size="13" class="total">{row.total}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
