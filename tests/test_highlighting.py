"""Highlighting as plain functions (annotations/highlighting.py): nested marks, escaping,
the licence link, and tag colours as CSS that the page's own ink stays readable on."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations.highlighting import (
    TINT_ALPHA,
    Highlight,
    block_html,
    contrast_ratio,
    ink_on,
    licence_link,
    tag_css,
)
from annotations.models import DEFAULT_COLOUR, Tag


class Marks(HTMLParser):
    """Reads a block's HTML back: its text, and each mark piece as (id, tag, start, end) in
    text offsets. Fails on a tag closed out of order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.open: list[tuple[str, dict, int]] = []
        self.pieces: list[tuple[int, str, int, int]] = []

    def handle_starttag(self, tag, attrs):
        self.open.append((tag, dict(attrs), len(self.text)))

    def handle_endtag(self, tag):
        name, attrs, start = self.open.pop()
        assert name == tag, f"</{tag}> closes <{name}>"
        if tag == "mark":
            self.pieces.append(
                (int(attrs["data-annotation"]), attrs["data-tag"], start, len(self.text))
            )

    def handle_data(self, data):
        self.text += data


def read_marks(html: str) -> Marks:
    parser = Marks()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    return parser


def test_it_nests_marks_and_cuts_a_highlight_only_where_it_crosses_another():
    text = "0123456789"
    highlights = [
        Highlight(1, 2, 8, "claim"),
        Highlight(2, 4, 6, "figure"),  # inside the claim: one mark inside its mark
        Highlight(3, -3, 3, "x"),  # from the block before; crosses the claim's start
    ]
    assert block_html(text, highlights) == (
        '<mark data-tag="x" data-annotation="3">01'
        '<mark data-tag="claim" data-annotation="1">2</mark></mark>'
        '<mark data-tag="claim" data-annotation="1">3'
        '<mark data-tag="figure" data-annotation="2">45</mark>67</mark>89'
    )


def test_it_marks_fuzzy_highlights_for_a_dashed_line():
    html = block_html("abcdef", [Highlight(4, 1, 3, "claim", fuzzy=True)])
    assert html == 'a<mark data-tag="claim" data-annotation="4" data-status="fuzzy">bc</mark>def'


spans = st.lists(
    st.tuples(st.integers(-5, 40), st.integers(1, 20), st.sampled_from(["claim", "figure"])),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(spans=spans, link=st.booleans())
def test_it_draws_every_highlight_exactly_and_cuts_it_only_where_another_crosses_it(spans, link):
    text = "Photo: by M. P., https://creativecommons.org/licenses/by/2.0/, ok" if link else "x" * 40
    highlights = [Highlight(i + 1, a, a + n, slug) for i, (a, n, slug) in enumerate(spans)]
    found = read_marks(block_html(text, highlights, link=link))
    assert found.text == text  # the page counts offsets from the text nodes
    clipped = {h.id: (max(h.start, 0), min(h.end, len(text))) for h in highlights}
    for h in highlights:
        pieces = sorted((a, b) for pk, slug, a, b in found.pieces if pk == h.id)
        assert all(slug == h.slug for pk, slug, _, _ in found.pieces if pk == h.id)
        lo, hi = clipped[h.id]
        if lo >= hi:
            assert pieces == []
            continue
        # The pieces tile the highlight; a cut is where another highlight crosses its
        # edge (starts outside it and ends inside, or the other way) or at the link's edges.
        cuts = set(licence_link(text)[:2]) if link else set()
        for a, b in clipped.values():
            if a < lo < b < hi:
                cuts.add(b)
            if lo < a < hi < b:
                cuts.add(a)
        assert pieces[0][0] == lo and pieces[-1][1] == hi
        for (_, b), (a, _) in zip(pieces, pieces[1:], strict=False):
            assert a == b and b in cuts


def test_it_finds_the_licence_url_in_a_photo_credit():
    text = (
        "Photo: commons.wikimedia.org by M. P., https://creativecommons.org/licenses/by/2.0/, "
        "refugees"
    )
    start, end, url = licence_link(text)
    assert url == "https://creativecommons.org/licenses/by/2.0/" == text[start:end]
    assert licence_link("Photo: by nobody, all rights reserved") is None


APP_CSS = Path(__file__).resolve().parent.parent / "newsroom/static/newsroom/app.css"


def page_ink() -> str:
    """The body text colour the page uses: `--ink` in app.css."""
    found = re.search(r"--ink:\s*(#[0-9a-fA-F]{6})\s*;", APP_CSS.read_text())
    assert found, "app.css sets no --ink as #rrggbb"
    return found.group(1)


def stacked_tint(colour: str, layers: int) -> str:
    """The opaque colour `layers` translucent tints of `colour` make over white."""
    cover = 1 - (1 - TINT_ALPHA) ** layers
    channels = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(255 + (c - 255) * cover):02x}" for c in channels)


@pytest.mark.django_db
def test_it_keeps_marks_readable_for_every_default_tag_and_any_colour():
    # app.css stops the tint at the fourth nested mark, so at most three tints stack.
    assert re.search(r"mark mark mark mark\s*\{\s*background:\s*transparent;", APP_CSS.read_text())
    ink = page_ink()
    colours = [t.color for t in Tag.objects.all()] + ["#000000", "#ff0000", "#ffff00", "#123456"]
    for colour in colours:
        assert contrast_ratio(ink, stacked_tint(colour, 3)) >= 4.5, colour
        assert contrast_ratio(ink_on(colour), colour) >= 4.5, colour


def test_it_writes_no_css_for_unsafe_slugs_or_colours():
    # As a raw ORM write could store them (forms and the admin validate; the ORM does not).
    evil = Tag(label="Evil", slug='x"]{}</style><script>', color="red;}body{display:none")
    plain = Tag(label="Plain", slug="plain", color="nocolour")
    css = tag_css([evil, plain])
    assert "script" not in css and "</style" not in css and "red" not in css
    assert len(css.splitlines()) == 3  # the three rules of the plain tag only
    assert f'[data-tag="plain"]{{--tag:{DEFAULT_COLOUR};' in css
