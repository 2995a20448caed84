"""Property-based tests of re-anchoring: for random articles, annotations and sequences of
edits, what docs/anchoring.md promises always holds.

Most properties test the pure functions (`reanchor`, `locate`, the edit-distance scan) without
the database; one walks edit sequences through `replace_article_text` and the database.
"""

import os
import uuid

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from annotations.anchoring import Anchor, BodyDiff, context_around, reanchor
from annotations.matching import _edit_scores, locate, max_errors
from annotations.models import AnchorStatus, Annotation
from annotations.services import create_article, replace_article_text
from newsroom.models import BLOCK_SEPARATOR, BlockKind, BlockText, body_from_blocks

from .factories import tag

# Modest by default so the suite stays fast; ANCHORING_EXAMPLES=2000 for a long hunt.
EXAMPLES = int(os.environ.get("ANCHORING_EXAMPLES", "60"))
PURE = settings(max_examples=EXAMPLES, deadline=None)
WITH_DB = settings(
    max_examples=max(1, EXAMPLES // 3),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

WORDS = (
    "the council said 30% 32% of budget went to roads mayor denied it figure was 12% "
    "residents housing plan — “quoted” café naïve 🎉 year"
).split()

words = st.lists(st.sampled_from(WORDS), min_size=4, max_size=18)
paragraphs = words.map(lambda w: " ".join(w).capitalize() + ".")
articles = st.lists(paragraphs, min_size=1, max_size=6)


@st.composite
def spans(draw, body: str):
    """A selection an editor could make: any stretch holding more than white space."""
    start = draw(st.integers(0, len(body) - 1))
    end = draw(st.integers(start + 1, min(len(body), start + 60)))
    assume(body[start:end].strip())
    return start, end


def anchor_on(body: str, start: int, end: int) -> Anchor:
    prefix, suffix = context_around(body, start, end)
    return Anchor(start, end, body[start:end], prefix, suffix, AnchorStatus.ANCHORED)


@st.composite
def edited(draw, blocks: list[str]) -> list[str]:
    """`blocks` after one edit a newsroom makes: a paragraph inserted, deleted or moved, a word
    changed, added or removed, or the whole text replaced."""
    blocks = list(blocks)
    kind = draw(
        st.sampled_from(["insert", "delete", "swap", "word", "add-word", "drop-word", "rewrite"])
    )
    if kind == "insert":
        blocks.insert(draw(st.integers(0, len(blocks))), draw(paragraphs))
    elif kind == "delete" and len(blocks) > 1:
        del blocks[draw(st.integers(0, len(blocks) - 1))]
    elif kind == "swap" and len(blocks) > 1:
        i, j = draw(st.lists(st.integers(0, len(blocks) - 1), min_size=2, max_size=2, unique=True))
        blocks[i], blocks[j] = blocks[j], blocks[i]
    elif kind == "rewrite":
        blocks = draw(articles)
    else:
        index = draw(st.integers(0, len(blocks) - 1))
        tokens = blocks[index].split(" ")
        at = draw(st.integers(0, len(tokens) - 1))
        if kind == "word":
            tokens[at] = draw(st.sampled_from(WORDS))
        elif kind == "add-word":
            tokens.insert(at, draw(st.sampled_from(WORDS)))
        elif len(tokens) > 1:
            del tokens[at]
        blocks[index] = " ".join(tokens)
    return blocks


def check(placement, anchor: Anchor, body: str) -> None:
    """The promise for each status (docs/data-model.md)."""
    event(placement.outcome)  # --hypothesis-show-statistics shows how often each came up
    if placement.status == AnchorStatus.ANCHORED:
        assert body[placement.start : placement.end] == anchor.quote
        assert (placement.prefix, placement.suffix) == context_around(
            body, placement.start, placement.end
        )
    elif placement.status == AnchorStatus.FUZZY:
        assert 0 <= placement.start < placement.end <= len(body)
        assert (placement.prefix, placement.suffix) == (anchor.prefix, anchor.suffix)
    else:
        assert placement.status == AnchorStatus.ORPHANED
        assert (placement.start, placement.end) == (anchor.start, anchor.end)
        assert (placement.prefix, placement.suffix) == (anchor.prefix, anchor.suffix)


# --- Pure properties -------------------------------------------------------------------------


@PURE
@given(st.text("abc ", max_size=30), st.text("abc ", min_size=1, max_size=10))
def test_it_computes_edit_distances_like_the_textbook_table(text, pattern):
    for free_start in (True, False):
        previous = [0] * (len(text) + 1) if free_start else list(range(len(text) + 1))
        for i, p in enumerate(pattern, 1):
            row = [i]
            for j, t in enumerate(text, 1):
                row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (p != t)))
            previous = row
        assert list(_edit_scores(text, pattern, free_start=free_start)) == list(
            enumerate(previous[1:], 1)
        )


@PURE
@given(st.data(), articles)
def test_it_places_exact_matches_on_the_quote_and_fuzzy_ones_inside_the_body(data, blocks):
    body = BLOCK_SEPARATOR.join(blocks)
    start, end = data.draw(spans(body))
    quote = data.draw(st.sampled_from([body[start:end], body[start:end].replace("e", "a", 1)]))
    prefix, suffix = context_around(body, start, end)
    match = locate(quote, body, prefix=prefix, suffix=suffix, hint=start)
    if match is None:
        return
    assert 0 <= match.start < match.end <= len(body)
    assert match.errors <= max(1, max_errors(quote))
    if match.exact:
        assert body[match.start : match.end] == quote
    else:
        assert Levenshtein.distance(quote, body[match.start : match.end]) >= match.errors > 0


@PURE
@given(st.data(), articles)
def test_it_finds_an_unedited_quote_where_it_is(data, blocks):
    body = BLOCK_SEPARATOR.join(blocks)
    anchor = anchor_on(body, *data.draw(spans(body)))
    placement = reanchor(anchor, body, body)
    assert (placement.start, placement.end, placement.outcome) == (anchor.start, anchor.end, "kept")
    assert (placement.prefix, placement.suffix) == (anchor.prefix, anchor.suffix)


@PURE
@given(st.data(), articles)
def test_it_keeps_every_promise_over_a_sequence_of_edits(data, blocks):
    body = BLOCK_SEPARATOR.join(blocks)
    anchors = [
        anchor_on(body, *data.draw(spans(body))) for _ in range(data.draw(st.integers(1, 6)))
    ]
    for _ in range(data.draw(st.integers(1, 4))):
        blocks = data.draw(edited(blocks))
        new_body = BLOCK_SEPARATOR.join(blocks)
        diff = BodyDiff(body, new_body)
        placed = []
        for anchor in anchors:
            placement = reanchor(anchor, body, new_body, diff)
            check(placement, anchor, new_body)
            placed.append(
                Anchor(
                    placement.start,
                    placement.end,
                    anchor.quote,  # never rewritten by re-anchoring
                    placement.prefix,
                    placement.suffix,
                    placement.status,
                )
            )
        assert len(placed) == len(anchors)
        anchors, body = placed, new_body


@PURE
@given(st.data(), st.lists(paragraphs, min_size=4, max_size=7, unique=True))
def test_it_keeps_annotations_in_paragraphs_an_edit_did_not_touch(data, blocks):
    body = BLOCK_SEPARATOR.join(blocks)
    edited_index = data.draw(st.integers(0, len(blocks) - 1))
    tokens = blocks[edited_index].split(" ")
    at = data.draw(st.integers(0, len(tokens) - 1))
    tokens[at] = data.draw(st.sampled_from(WORDS))
    new_blocks = [*blocks[:edited_index], " ".join(tokens), *blocks[edited_index + 1 :]]
    new_body = BLOCK_SEPARATOR.join(new_blocks)
    # An annotation inside a paragraph at least two away from the edited one.
    far = [i for i in range(len(blocks)) if abs(i - edited_index) >= 2]
    assume(far)
    index = data.draw(st.sampled_from(far))
    offset = sum(len(b) + 2 for b in blocks[:index])
    start, end = data.draw(spans(blocks[index]))
    anchor = anchor_on(body, offset + start, offset + end)

    placement = reanchor(anchor, body, new_body)

    assert placement.status == AnchorStatus.ANCHORED
    shift = len(new_body) - len(body) if index > edited_index else 0
    assert placement.start == anchor.start + shift


# --- Through the database --------------------------------------------------------------------


@pytest.mark.django_db
@WITH_DB
@given(st.data(), articles)
def test_it_never_deletes_and_never_misplaces_an_annotation_in_the_database(data, blocks):
    article = create_article(
        source_id=f"prop-{uuid.uuid4().hex}",
        date="2025-08-08",
        title="Property",
        blocks=[BlockText(BlockKind.PARAGRAPH, text) for text in blocks],
    )
    body = article.body
    claim = tag("claim")
    for _ in range(data.draw(st.integers(1, 5))):
        start, end = data.draw(spans(body))
        prefix, suffix = context_around(body, start, end)
        Annotation.objects.create(
            article=article,
            tag=claim,
            start=start,
            end=end,
            quote=body[start:end],
            prefix=prefix,
            suffix=suffix,
        )
    quotes = dict(Annotation.objects.filter(article=article).values_list("pk", "quote"))

    for _ in range(data.draw(st.integers(1, 3))):
        blocks = data.draw(edited(blocks))
        article.refresh_from_db()
        revision = replace_article_text(
            article,
            date=article.date,
            title=article.title,
            blocks=[BlockText(BlockKind.PARAGRAPH, text) for text in blocks],
        )
        article.refresh_from_db()
        assert article.body == body_from_blocks([BlockText("paragraph", t) for t in blocks])
        annotations = list(Annotation.objects.filter(article=article))
        assert dict((a.pk, a.quote) for a in annotations) == quotes  # none lost, none rewritten
        if revision is not None:
            assert sum(revision.anchoring_report.values()) == len(quotes)
        for annotation in annotations:
            if annotation.status == AnchorStatus.ANCHORED:
                assert article.body[annotation.start : annotation.end] == annotation.quote
            elif annotation.status == AnchorStatus.FUZZY:
                assert 0 <= annotation.start < annotation.end <= len(article.body)

    # Saving the same text again changes nothing.
    before = list(Annotation.objects.filter(article=article).order_by("pk").values())
    assert (
        replace_article_text(
            article,
            date=article.date,
            title=article.title,
            blocks=[BlockText(BlockKind.PARAGRAPH, text) for text in blocks],
        )
        is None
    )
    assert list(Annotation.objects.filter(article=article).order_by("pk").values()) == before
