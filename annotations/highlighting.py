"""Turning an article's blocks and annotations into escaped HTML with `<mark>` highlights.

Highlights may overlap and nest. Each block's text is cut at every highlight
boundary into segments; a segment covered by several annotations gets one `<mark>` per
annotation, nested in a fixed order, so every mark carries exactly one `data-tag` and one
`data-annotation` and each highlight stays visible and clickable. The text nodes of a block
add up to the block's stored text exactly: the page's script counts offsets from them.

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

# Deeper than this, nested marks share one underline offset (CSS caps the tint stacking too).
MAX_DEPTH_CLASS = 3

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
        # Outer first: earlier start, then longer, then older. The same order in every
        # segment, so an annotation's pieces nest consistently.
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


def segments(
    length: int, highlights: Sequence[Highlight], cuts: Iterable[int] = ()
) -> list[tuple[int, int, list[Highlight]]]:
    """Cut [0, length) at every highlight boundary (and at `cuts`).

    `highlights` are in the block's own coordinates (start may be < 0, end > length when a
    highlight crosses into the next block). Returns (start, end, covering highlights in
    nesting order) for each piece, uncovered pieces included, so the pieces add up to the
    whole text.
    """
    points = {0, length, *(c for c in cuts if 0 < c < length)}
    for h in highlights:
        points.add(min(max(h.start, 0), length))
        points.add(min(max(h.end, 0), length))
    bounds = sorted(points)
    by_start = sorted(highlights, key=lambda h: h.start)
    active: list[tuple[tuple[int, int, int], Highlight]] = []
    pieces = []
    i = 0
    for a, b in zip(bounds, bounds[1:], strict=False):
        active = [item for item in active if item[1].end > a]
        while i < len(by_start) and by_start[i].start <= a:
            h = by_start[i]
            if h.end > a:
                bisect.insort(active, (h.rank, h))
            i += 1
        pieces.append((a, b, [h for _, h in active]))
    return pieces


def _mark_open(h: Highlight, depth: int) -> str:
    classes = f"d{min(depth, MAX_DEPTH_CLASS)}"
    status = ' data-status="fuzzy"' if h.fuzzy else ""
    return f'<mark data-tag="{escape(h.slug)}" data-annotation="{h.id}" class="{classes}"{status}>'


def block_html(text: str, highlights: Sequence[Highlight], *, link: bool = False) -> SafeString:
    """The block's text, escaped, with nested marks (and the licence link for a photo credit).

    Marks are closed and reopened at the link's edges so the HTML stays well nested.
    """
    found = licence_link(text) if link else None
    cuts = (found[0], found[1]) if found else ()
    out = []
    for a, b, covering in segments(len(text), highlights, cuts):
        if found and a == found[0]:
            out.append(format_html('<a href="{}" rel="license noopener">', found[2]))
        out.extend(_mark_open(h, depth) for depth, h in enumerate(covering))
        out.append(escape(text[a:b]))
        out.append("</mark>" * len(covering))
        if found and b == found[1]:
            out.append("</a>")
    return mark_safe("".join(out))


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
