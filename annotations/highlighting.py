"""Turning an article's blocks and annotations into escaped HTML with `<mark>` highlights.

Highlights may overlap and nest. Marks nest like the highlights do: one that lies inside
another is a mark inside its mark, and a highlight is cut into pieces only where it crosses
the edge of another one (or the licence link), so the markup grows with the crossings, not
with every boundary times every covering annotation. Every piece carries its highlight's
`data-tag` and `data-annotation`, so each highlight stays visible and clickable; how deep a
mark sits is left to CSS (`mark mark` in app.css). The text nodes of a block add up to the
block's stored text exactly: the page's script counts offsets from them, and lays changed
highlights over the text the same way (annotations/static/annotations/highlights.js).

Also here: the photo-credit licence link, and the tag colours as CSS (with AA contrast).
"""

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from newsroom.models import BlockKind

from .models import AnchorStatus, safe_colour

# Marks are tinted with the tag colour at this opacity; nested tints stack (app.css stops
# after three). The page's ink (`--ink` in app.css) stays readable on three stacked tints of
# any colour, which tests/test_pages.py checks.
TINT_ALPHA = 0.2

_URL = re.compile(r"https?://[^\s<>\"']+")
_SAFE_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


@dataclass(frozen=True)
class Highlight:
    """One annotation as the renderer needs it: where it is in the body and how it looks."""

    id: int
    start: int
    end: int
    slug: str
    fuzzy: bool = False

    @property
    def rank(self) -> tuple[int, int, int]:
        # Outer first: earlier start, then longer, then older. A fixed order, so the same
        # highlights always give the same markup.
        return (self.start, -self.end, self.id)


@dataclass(frozen=True)
class RenderedBlock:
    kind: str
    start: int
    html: SafeString
    position: int = 0

    @property
    def is_heading(self) -> bool:
        return self.kind == BlockKind.HEADING

    @property
    def is_photo_credit(self) -> bool:
        return self.kind == BlockKind.PHOTO_CREDIT


def highlights_for(rows: Iterable[tuple[int, int, int, str, str]]) -> list[Highlight]:
    """The annotations drawn in the text, from (id, start, end, status, tag slug) rows:
    anchored ones, and fuzzy ones (dashed) where the re-anchoring proposes them. Orphaned
    ones have no place and are never drawn."""
    return [
        Highlight(pk, start, end, slug, fuzzy=status == AnchorStatus.FUZZY)
        for pk, start, end, status, slug in rows
        if status != AnchorStatus.ORPHANED and start < end
    ]


def licence_link(text: str) -> tuple[int, int, str] | None:
    """Where the licence URL sits in a photo credit (start, end, url), or None."""
    match = _URL.search(text)
    if match is None:
        return None
    url = match.group().rstrip(".,;:)]")
    return match.start(), match.start() + len(url), url


def mark_open(h: Highlight) -> str:
    status = ' data-status="fuzzy"' if h.fuzzy else ""
    return f'<mark data-tag="{escape(h.slug)}" data-annotation="{h.id}"{status}>'


def block_html(text: str, highlights: Sequence[Highlight], *, link: bool = False) -> SafeString:
    """The block's text, escaped, with nested marks (and the licence link for a photo credit).

    `highlights` are in the block's own coordinates (start may be < 0, end > length when a
    highlight crosses into the next block). Walking the text from edge to edge, the open
    marks form a stack. Where a highlight ends, it and the marks opened inside it close;
    those that go on are opened again, the longest-lasting outermost, so they are cut as
    rarely as possible. At the licence link's edges every mark closes and reopens, so the
    HTML stays well nested.
    """
    length = len(text)
    spans = sorted(
        (
            (max(h.start, 0), min(h.end, length), h)
            for h in highlights
            if max(h.start, 0) < min(h.end, length)
        ),
        key=lambda span: (span[0], span[2].rank),
    )
    found = licence_link(text) if link else None
    cuts = {found[0], found[1]} if found else set()
    points = sorted({0, length, *cuts, *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    opening = {h.id: mark_open(h) for _, _, h in spans}
    stack: list[tuple[int, Highlight]] = []  # (end, highlight), outermost first
    out = []
    i = 0
    for a, b in zip(points, points[1:], strict=False):
        ended = [depth for depth, (end, _) in enumerate(stack) if end <= a]
        keep = 0 if a in cuts else (ended[0] if ended else len(stack))
        out.append("</mark>" * (len(stack) - keep))
        going_on = [item for item in stack[keep:] if item[0] > a]
        del stack[keep:]
        if found and a == found[1]:
            out.append("</a>")
        if found and a == found[0]:
            out.append(format_html('<a href="{}" rel="license noopener">', found[2]))
        while i < len(spans) and spans[i][0] == a:
            going_on.append((spans[i][1], spans[i][2]))
            i += 1
        going_on.sort(key=lambda item: (-item[0], item[1].rank))
        stack.extend(going_on)
        out.extend(opening[h.id] for _, h in going_on)
        out.append(escape(text[a:b]))
    out.append("</mark>" * len(stack))
    if found and found[1] == length:
        out.append("</a>")
    return mark_safe("".join(out))


def marks_to_lay(highlights: Iterable[Highlight]) -> SafeString:
    """Empty marks saying where each highlight now goes (`data-start`, `data-end`: offsets
    in the body), for a page that already shows the text: its script lays them over it
    (annotations/static/annotations/highlights.js), so a change sends a few bytes whatever
    else the paragraph holds."""
    return mark_safe(
        "".join(
            f'{mark_open(h)[:-1]} data-start="{h.start}" data-end="{h.end}"></mark>'
            for h in highlights
        )
    )


def render_blocks(
    blocks_with_starts: Iterable[tuple], highlights: Sequence[Highlight]
) -> list[RenderedBlock]:
    """Every block with its start offset and its highlighted HTML.

    Each highlight is handed only to the blocks it overlaps (found by bisection), so the
    cost grows with the number of highlight pieces, not blocks × annotations.
    """
    blocks = list(blocks_with_starts)
    starts = [start for _, start in blocks]
    per_block: list[list[Highlight]] = [[] for _ in blocks]
    for h in highlights:
        i = max(bisect.bisect_right(starts, h.start) - 1, 0)
        while i < len(blocks) and starts[i] < h.end:
            block, start = blocks[i]
            if start + len(block.text) > h.start:
                per_block[i].append(
                    Highlight(h.id, h.start - start, h.end - start, h.slug, h.fuzzy)
                )
            i += 1
    # Shifting to block coordinates moves every highlight by the same amount, so the
    # nesting order (`rank`) is the same in every block an annotation spans.
    return [
        RenderedBlock(
            kind=block.kind,
            start=start,
            html=block_html(block.text, per_block[i], link=block.kind == BlockKind.PHOTO_CREDIT),
            position=block.position,
        )
        for i, (block, start) in enumerate(blocks)
    ]


# Colours ------------------------------------------------------------------------------


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""

    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(colour: str) -> str:
    """Black or white, whichever reads better on `colour` (always at least 4.5:1)."""
    return max(("#000000", "#ffffff"), key=lambda ink: contrast_ratio(colour, ink))


def tag_css(tags: Iterable) -> SafeString:
    """Per-tag CSS custom properties and filter rules, for a nonce'd `<style>` element.

    Only slugs of plain letters, digits, `-` and `_` get rules (the value ends up in a
    selector); colours go through `safe_colour`. Nothing else from the database is written.
    """
    rules = []
    for tag in tags:
        if not _SAFE_SLUG.match(tag.slug or ""):
            continue
        colour = safe_colour(tag.color)
        r, g, b = _rgb(colour)
        rules.append(
            f'[data-tag="{tag.slug}"]{{--tag:{colour};--tag-ink:{ink_on(colour)};'
            f"--tag-tint:rgba({r},{g},{b},{TINT_ALPHA})}}"
        )
        rules.append(
            f'.hide-{tag.slug} mark[data-tag="{tag.slug}"]{{--tag-tint:transparent;'
            f"--tag:transparent}}"
        )
        rules.append(f'.hide-{tag.slug} .annotation[data-tag="{tag.slug}"]{{display:none}}')
    return mark_safe("\n".join(rules))
