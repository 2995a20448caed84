"""Re-anchoring annotations when an article's body changes (docs/anchoring.md tells the story).

The promise: an annotation is never deleted, and never silently put on the wrong words. Each
one ends up in one of four states, and the report counts them:

- **kept**: anchored at the same offsets (`body[start:end] == quote`);
- **moved**: anchored at new offsets, either carried there by the edit (a paragraph inserted
  above shifts everything below it) or found again by its quote and context;
- **fuzzy**: placed on near-matching words (a typo fixed inside the quote, "30%" now "32%"),
  awaiting an editor's review; the stored quote and context keep the original words, so
  `body[start:end] != quote` is expected;
- **orphaned**: no place found; start and end keep their last values (see `reanchor`).

How an annotation is placed, cheapest first:

1. Through the diff between the old and the new body: if the characters the annotation covered
   are still there, unchanged, with unchanged text around them, it stays on them. Almost every
   annotation of an edited article is settled here, with a bisection and a string comparison.
2. Otherwise its quote is searched for, exactly and then approximately (edit distance at most a
   quarter of the quote's length), and every candidate is scored on the quote, the stored
   prefix and suffix, and the distance from where the edit carried it, with the weights of
   the Hypothesis web annotator's `matchQuote`. A candidate is accepted only with evidence
   that it is the same passage: a quote long enough to identify itself, or context that
   agrees (see `matching.acceptable`).
3. Only text the edit inserted or changed is searched: text that was already in the old body,
   elsewhere, is by construction not the passage an anchored annotation was on, and was
   already searched (and refused) for a fuzzy or orphaned one. That keeps "30%" from jumping
   onto another, older "30%", and keeps orphans cheap: each edit looks only at what it changed.

Everything here is pure (no database queries); `services.reanchor_article` applies `reanchor`
to an article's stored annotations and writes only what changed, in a handful of queries.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from rapidfuzz.distance import Indel

from .matching import locate, max_errors
from .models import AnchorStatus

if TYPE_CHECKING:
    from .models import Annotation


class Outcome(StrEnum):
    """What re-anchoring did with one annotation (see the module's docstring)."""

    KEPT = "kept"
    MOVED = "moved"
    FUZZY = "fuzzy"
    ORPHANED = "orphaned"

    @property
    def needs_review(self) -> bool:
        return self in (Outcome.FUZZY, Outcome.ORPHANED)


LINE_BREAKS = re.compile(r"(\n+)")

# An unchanged run this many characters beyond each end of a quote means the diff really did
# carry the quote along (two unrelated texts rarely share a run of quote + 16 characters).
SOLID_MARGIN = 8
# Two paragraphs this similar (share of characters in common, rapidfuzz's Indel similarity)
# are taken for one paragraph, edited, and diffed character by character.
SIMILAR_PARAGRAPHS = 0.6
# Paragraph pairs compared within one changed stretch, at most: beyond, it counts as rewritten.
PAIRING_LIMIT = 10_000
# Paragraphs longer than this (old chars x new chars) are not diffed character by character
# (the diff's memory grows with the product): such a change is searched for instead.
CHAR_DIFF_LIMIT = 25_000_000
# Changed stretches of the new body this close together are searched as one.
CHANGE_GAP = 64


# --- The diff between two bodies --------------------------------------------------------------


class BodyDiff:
    """Character-level opcodes from an old body to a new one, for mapping offsets.

    Built in steps so that a long article stays cheap and similar sentences are not confused:
    paragraphs (and the line breaks between them) are matched whole first, with difflib; in a
    stretch where they differ, each paragraph is paired with its most similar counterpart, and
    only such pairs (recognisably one paragraph, edited) are diffed character by character,
    with rapidfuzz's Indel opcodes (in C). Paragraphs without a counterpart count as removed
    and inserted whole: a character diff of two unrelated paragraphs would line up their
    common words and claim the text "unchanged". Each opcode is `(tag, i1, i2, j1, j2)` as in
    difflib; together they cover both bodies.
    """

    def __init__(self, old: str, new: str):
        self.old_length, self.new_length = len(old), len(new)
        self.ops: list[tuple[str, int, int, int, int]] = []
        self._old_parts, self._new_parts = _paragraphs(old), _paragraphs(new)
        self._old_at, self._new_at = _offsets(self._old_parts), _offsets(self._new_parts)
        matcher = difflib.SequenceMatcher(None, self._old_parts, self._new_parts, autojunk=False)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            if tag == "replace":
                self._pair(a1, a2, b1, b2)
            else:
                self._add_parts(tag, a1, a2, b1, b2)
        del self._old_parts, self._new_parts, self._old_at, self._new_at  # only needed here
        self._old_starts = [op[1] for op in self.ops]
        self._new_starts = [op[3] for op in self.ops]
        # The changed stretches of the new body; near ones joined, since a rewritten sentence
        # diffs into many small pieces and the search widens each one anyway.
        self._changed = _merged(
            ((j1, j2) for tag, _, _, j1, j2 in self.ops if tag != "equal"), gap=CHANGE_GAP
        )
        self._windows: dict[int, list[tuple[int, int]]] = {}

    def _pair(self, a1: int, a2: int, b1: int, b2: int) -> None:
        """Diff old paragraphs a1:a2 against new b1:b2, which differ: the most similar pair
        character by character, then what lies before and after it, the same way."""
        old_parts, new_parts = self._old_parts, self._new_parts
        if a1 == a2 or b1 == b2 or old_parts[a1:a2] == new_parts[b1:b2]:
            self._add_parts("equal" if a1 < a2 and b1 < b2 else "replace", a1, a2, b1, b2)
            return
        best = None
        if (a2 - a1) * (b2 - b1) <= PAIRING_LIMIT:
            for a in range(a1, a2):
                before = old_parts[a]
                if before.startswith("\n"):
                    continue
                for b in range(b1, b2):
                    after = new_parts[b]
                    if after.startswith("\n") or len(before) * len(after) > CHAR_DIFF_LIMIT:
                        continue
                    score = Indel.normalized_similarity(
                        before, after, score_cutoff=SIMILAR_PARAGRAPHS
                    )
                    if score and (best is None or score > best[0]):
                        best = (score, a, b)
        if best is None:
            self._add_parts("replace", a1, a2, b1, b2)
            return
        _, a, b = best
        self._pair(a1, a, b1, b)
        i1, j1 = self._old_at[a], self._new_at[b]
        for tag, x1, x2, y1, y2 in Indel.opcodes(old_parts[a], new_parts[b]):
            self._add(tag, i1 + x1, i1 + x2, j1 + y1, j1 + y2)
        self._pair(a + 1, a2, b + 1, b2)

    def _add_parts(self, tag: str, a1: int, a2: int, b1: int, b2: int) -> None:
        if tag == "replace" and a1 == a2:
            tag = "insert"
        elif tag == "replace" and b1 == b2:
            tag = "delete"
        self._add(tag, self._old_at[a1], self._old_at[a2], self._new_at[b1], self._new_at[b2])

    def _add(self, tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 and j1 == j2:
            return
        if self.ops and self.ops[-1][0] == tag == "equal":
            self.ops[-1] = ("equal", self.ops[-1][1], i2, self.ops[-1][3], j2)
        else:
            self.ops.append((tag, i1, i2, j1, j2))

    def _op_at_old(self, offset: int) -> tuple[str, int, int, int, int] | None:
        """The opcode covering old character `offset` (never an insertion)."""
        index = bisect_right(self._old_starts, offset) - 1
        while index >= 0:
            op = self.ops[index]
            if op[1] <= offset < op[2]:
                return op
            if op[2] <= offset:
                return None
            index -= 1
        return None

    def carry(self, start: int, end: int) -> tuple[int, bool, bool]:
        """Where old `start` lands in the new body, whether all of old `start:end` is
        unchanged there, and whether that unchanged run reaches `SOLID_MARGIN` characters
        beyond both ends (or the edges of both bodies)."""
        op = self._op_at_old(start) if 0 <= start < end else None
        if op is None:
            return min(start, self.new_length), False, False
        tag, i1, i2, j1, j2 = op
        if tag != "equal":
            return j1, False, False
        new_start = j1 + (start - i1)
        intact = end <= i2
        solid = intact and (
            (start - i1 >= SOLID_MARGIN or (i1 == 0 and j1 == 0))
            and (i2 - end >= SOLID_MARGIN or (i2 == self.old_length and j2 == self.new_length))
        )
        return new_start, intact, solid

    def unchanged(self, start: int, end: int) -> bool:
        """Whether new `start:end` lies wholly in text the old body already had."""
        index = bisect_right(self._new_starts, start) - 1
        while index >= 0:
            tag, _, _, j1, j2 = self.ops[index]
            if j1 <= start < j2:
                return tag == "equal" and end <= j2
            if j2 <= start:
                return False
            index -= 1
        return False

    def changed_windows(self, margin: int) -> list[tuple[int, int]]:
        """Stretches of the new body around every insertion, replacement and deletion,
        widened by `margin` on each side and merged."""
        if margin not in self._windows:
            self._windows[margin] = _merged((lo - margin, hi + margin) for lo, hi in self._changed)
        return self._windows[margin]


def _merged(spans: Iterable[tuple[int, int]], gap: int = 0) -> list[tuple[int, int]]:
    """Sorted spans joined where they overlap or lie at most `gap` apart."""
    merged: list[tuple[int, int]] = []
    for lo, hi in spans:
        lo = max(0, lo)
        if merged and lo <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _paragraphs(body: str) -> list[str]:
    """`body` cut into paragraphs and the runs of line breaks between them (joined again,
    they are `body`)."""
    return [part for part in LINE_BREAKS.split(body) if part]


def _offsets(lines: Sequence[str]) -> list[int]:
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    return offsets


def context_around(body: str, start: int, end: int) -> tuple[str, str]:
    """The prefix and suffix stored with a quote: the context that re-anchoring scores
    candidates against (`ANNOTATION_CONTEXT_LENGTH` characters on each side)."""
    n = settings.ANNOTATION_CONTEXT_LENGTH
    return body[max(0, start - n) : start], body[end : end + n]


# --- Re-anchoring one annotation -------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """What re-anchoring needs of an annotation."""

    start: int
    end: int
    quote: str
    prefix: str
    suffix: str
    status: str

    @classmethod
    def of(cls, annotation: Annotation) -> Anchor:
        return cls(
            annotation.start,
            annotation.end,
            annotation.quote,
            annotation.prefix,
            annotation.suffix,
            annotation.status,
        )


@dataclass(frozen=True)
class Placement:
    start: int
    end: int
    status: str
    prefix: str
    suffix: str
    outcome: Outcome


def reanchor(
    anchor: Anchor, old_body: str, new_body: str, diff: BodyDiff | None = None
) -> Placement:
    """Where `anchor` goes when `old_body` becomes `new_body`.

    Anchored placements get fresh context from the new body. Fuzzy ones keep the stored quote
    and context (they describe the original words, which the editor has not accepted yet).
    Orphaned ones keep their start and end: the last place they were known, in the body of the
    revision that orphaned them. They are never clamped to the new body: nothing requires it
    (the database only checks start < end), and clamping would invent a place. Code that
    slices a body must therefore skip orphans, as every status check already does.
    """
    diff = diff or BodyDiff(old_body, new_body)
    quote, length = anchor.quote, len(anchor.quote)
    hint, intact, solid = diff.carry(anchor.start, anchor.end)
    carried = new_body[hint : hint + length] == quote

    if carried and solid:
        # The fast path: the same words, with unchanged text on both sides.
        return _anchored(anchor, new_body, hint, hint + length)

    if anchor.status == AnchorStatus.FUZZY and intact:
        # The near-matching words it sat on are untouched: it stays on them, still for review.
        width = anchor.end - anchor.start
        return _unplaced(anchor, AnchorStatus.FUZZY, hint, hint + width)

    # Only text the edit brought can hold this passage now (see the module's docstring), and
    # the place the edit carried it to, which competes on context with the rest: two similar
    # sentences can share a run of words that the diff lines up across them.
    within = diff.changed_windows(length + max_errors(quote))
    if carried:
        within = _merged(sorted([*within, (hint, hint + length)]))

    def elsewhere_unchanged(start: int, end: int) -> bool:
        return start != hint and diff.unchanged(start, end)

    match = locate(
        quote,
        new_body,
        prefix=anchor.prefix,
        suffix=anchor.suffix,
        hint=hint,
        within=within,
        exclude=elsewhere_unchanged,
    )
    if match is None:
        return _unplaced(anchor, AnchorStatus.ORPHANED, anchor.start, anchor.end)
    if match.exact:
        return _anchored(anchor, new_body, match.start, match.end)
    return _unplaced(anchor, AnchorStatus.FUZZY, match.start, match.end)


def _anchored(anchor: Anchor, body: str, start: int, end: int) -> Placement:
    prefix, suffix = context_around(body, start, end)
    moved = (start, end) != (anchor.start, anchor.end)
    outcome = Outcome.MOVED if moved else Outcome.KEPT
    return Placement(start, end, AnchorStatus.ANCHORED, prefix, suffix, outcome)


def _unplaced(anchor: Anchor, status: str, start: int, end: int) -> Placement:
    return Placement(start, end, status, anchor.prefix, anchor.suffix, Outcome(status))


# --- Re-anchoring an article's annotations ---------------------------------------------------


@dataclass
class AnchoringReport:
    """What became of an article's annotations after its text changed. The four counts add up
    to all its annotations; `written` counts the rows that changed."""

    kept: int = 0
    moved: int = 0
    fuzzy: int = 0
    orphaned: int = 0
    written: int = field(default=0, compare=False)

    @classmethod
    def from_dict(cls, counts: dict) -> AnchoringReport:
        """The report as stored with a revision (`as_dict`); a missing count is 0."""
        return cls(**{outcome.value: int(counts.get(outcome, 0)) for outcome in Outcome})

    def as_dict(self) -> dict[str, int]:
        return {outcome.value: getattr(self, outcome.value) for outcome in Outcome}

    @property
    def needs_review(self) -> int:
        return sum(getattr(self, outcome.value) for outcome in Outcome if outcome.needs_review)

    def describe(self) -> str:
        """`12 annotations kept, 2 moved, 1 fuzzy awaiting review, 0 orphaned`."""
        total = self.kept + self.moved + self.fuzzy + self.orphaned
        noun = "annotation" if self.kept == 1 and total == 1 else "annotations"
        return (
            f"{self.kept} {noun} kept, {self.moved} moved, "
            f"{self.fuzzy} fuzzy awaiting review, {self.orphaned} orphaned"
        )

    def count(self, outcome: Outcome, n: int = 1) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + n)
