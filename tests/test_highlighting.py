"""Highlighting as plain functions (annotations/highlighting.py): pieces, marks, escaping,
the licence link, and tag colours as CSS that the page's own ink stays readable on."""

import re
from pathlib import Path

import pytest

from annotations.highlighting import (
    TINT_ALPHA,
    Highlight,
    block_html,
    contrast_ratio,
    ink_on,
    licence_link,
    segments,
    tag_css,
)
from annotations.models import DEFAULT_COLOUR, Tag


def test_it_cuts_text_into_pieces_that_add_up_to_the_whole():
    highlights = [
        Highlight(1, 2, 8, "claim"),
        Highlight(2, 4, 6, "figure"),
        Highlight(3, -3, 3, "x"),
    ]
    pieces = segments(10, highlights)
    assert [(a, b) for a, b, _ in pieces] == [(0, 2), (2, 3), (3, 4), (4, 6), (6, 8), (8, 10)]
    assert [[h.id for h in covering] for _, _, covering in pieces] == [
        [3],
        [3, 1],
        [1],
        [1, 2],
        [1],
        [],
    ]


def test_it_escapes_text_between_marks():
    html = block_html("a<b>&c", [Highlight(7, 1, 4, "claim")])
    assert html == (
        'a<mark data-tag="claim" data-annotation="7" class="d0" aria-describedby="mark-tag-claim">'
        "&lt;b&gt;</mark>&amp;c"
    )


def test_it_describes_each_mark_by_its_tag_and_a_fuzzy_one_as_such():
    html = block_html("abcdef", [Highlight(1, 0, 4, "claim"), Highlight(2, 2, 6, "figure", True)])
    described = re.findall(r'<mark [^>]*aria-describedby="([^"]*)"', html)
    assert described == [
        "mark-tag-claim",
        "mark-tag-claim",
        "mark-tag-figure mark-fuzzy",
        "mark-tag-figure mark-fuzzy",
    ]


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
