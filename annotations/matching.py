"""Finding a quote in a text: exactly, then approximately, scored on its context.

The scoring follows the Hypothesis annotator's `matchQuote` (the quote weighs most, then each
side's context, the position least); a candidate is accepted only with evidence that it is the
same passage (`acceptable`). Pure functions, no database: `anchoring.reanchor` uses them when
an article's text changes (docs/anchoring.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import LCSseq

# Hypothesis's weights: the quote matters most, then each side's context, the position least.
QUOTE_WEIGHT, PREFIX_WEIGHT, SUFFIX_WEIGHT, POSITION_WEIGHT = 50, 20, 20, 2
MAX_SCORE = QUOTE_WEIGHT + PREFIX_WEIGHT + SUFFIX_WEIGHT + POSITION_WEIGHT

# A fuzzy match may differ from the quote in at most this share of its characters.
FUZZY_ERROR_RATIO = 0.25
# A quote at least this long identifies its passage without help from the context (the length
# of the stored context itself: a quote this long carries as much evidence as its context).
DISTINCTIVE_LENGTH = 32
# The context (average similarity of the stored prefix and suffix to the text around a
# candidate) that confirms a shorter quote. Unrelated English text scores about 0.2-0.35.
CONTEXT_SUPPORT = 0.5
# A quote shorter than four characters ("30%") may differ by one character only when its
# context agrees this strongly.
STRONG_CONTEXT = 0.8
# Quotes this short are never placed approximately: one or two characters match anywhere.
MIN_FUZZY_LENGTH = 3
# Fewer characters than this beside a candidate at the body's edge are too few to compare.
EDGE_OVERLAP = 8
# A fuzzy match that cuts a word in two is widened to the whole word, by at most this much.
WORD_SNAP_LIMIT = 20


# --- Finding a quote -------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A place for a quote in a body: `body[start:end]`, `errors` edits away from the quote."""

    start: int
    end: int
    errors: int
    score: float  # 0-1, Hypothesis's weighting of quote, prefix, suffix and position
    context: float  # 0-1, how well the text around it agrees with the stored context

    @property
    def exact(self) -> bool:
        return self.errors == 0


def max_errors(quote: str) -> int:
    """The edits a fuzzy match of `quote` may have (at least one: see `acceptable`)."""
    if len(quote) < MIN_FUZZY_LENGTH:
        return 0
    return max(1, int(len(quote) * FUZZY_ERROR_RATIO))


def acceptable(quote: str, match: Match) -> bool:
    """Whether there is enough evidence that `match` is the passage `quote` was taken from.

    An exact match needs a distinctive quote or agreeing context; a fuzzy one, in addition,
    at most a quarter of its characters changed, or, for a quote of three characters, one
    character changed and strong context ("30%" now "32%" in the same sentence).
    """
    supported = len(quote) >= DISTINCTIVE_LENGTH or match.context >= CONTEXT_SUPPORT
    if match.errors == 0:
        return supported
    if len(quote) < MIN_FUZZY_LENGTH:
        return False
    if match.errors <= int(len(quote) * FUZZY_ERROR_RATIO):
        return supported
    return match.errors == 1 and match.context >= STRONG_CONTEXT


def locate(
    quote: str,
    body: str,
    *,
    prefix: str = "",
    suffix: str = "",
    hint: int | None = None,
    within: Sequence[tuple[int, int]] | None = None,
    exclude=None,
) -> Match | None:
    """The best acceptable place for `quote` in `body`, or None.

    `prefix`/`suffix` are the text stored around the quote, `hint` where it is expected
    (a character offset). `within` limits the search to stretches of the body (the whole body
    when None); `exclude(start, end)` rejects candidates (re-anchoring passes "lies in text
    that did not change"). Identical words with enough evidence always win over near-matching
    ones, so the approximate search only runs when no exact occurrence is acceptable.
    """
    search = dict(prefix=prefix, suffix=suffix, hint=hint, within=within, exclude=exclude)
    for candidates in (
        find_candidates(quote, body, errors=0, **search),
        find_candidates(quote, body, errors=max_errors(quote), exact=False, **search),
    ):
        for match in candidates:
            if acceptable(quote, match):
                return match
    return None


def find_candidates(
    quote: str,
    body: str,
    *,
    prefix: str = "",
    suffix: str = "",
    hint: int | None = None,
    errors: int,
    within: Sequence[tuple[int, int]] | None = None,
    exclude=None,
    exact: bool = True,
) -> list[Match]:
    """Every exact occurrence of `quote` (unless `exact` is false) and every approximate one
    (a local best with at most `errors` edits), scored, best first; ties go to the earlier
    place.

    Fuzzy candidates that cut a word in two are widened to whole words when the quote itself
    began or ended on a word boundary; their `errors` stays the count before widening.
    """
    if not quote or not body:
        return []
    windows = [(0, len(body))] if within is None else _clip(within, len(body))
    spans: dict[tuple[int, int], int] = {}
    length = len(quote)
    if exact:
        for lo, hi in windows:
            at = body.find(quote, lo, hi)
            while at != -1:
                spans[(at, at + length)] = 0
                at = body.find(quote, at + 1, hi)
    if errors:
        for start, end, count in approximate_matches(body, quote, errors, windows):
            if count == 0:
                continue  # an exact occurrence
            start, end = _snap_to_words(body, quote, start, end, prefix, suffix)
            if spans.get((start, end), count + 1) > count:
                spans[(start, end)] = count
    matches = [
        _scored(body, quote, prefix, suffix, hint, start, end, count)
        for (start, end), count in spans.items()
        if exclude is None or not exclude(start, end)
    ]
    matches.sort(key=lambda m: (-m.score, m.start, m.end))
    return matches


def _clip(windows: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    return [(max(0, lo), min(length, hi)) for lo, hi in windows if min(length, hi) > max(0, lo)]


def _scored(body, quote, prefix, suffix, hint, start, end, errors) -> Match:
    prefix_score = _side_score(prefix, body[max(0, start - len(prefix)) : start], tail=True)
    suffix_score = _side_score(suffix, body[end : end + len(suffix)], tail=False)
    sides = [s for s in (prefix_score, suffix_score) if s is not None]
    context = sum(sides) / len(sides) if sides else 1.0
    position = 1.0 if hint is None else 1.0 - abs(start - hint) / max(1, len(body))
    raw = (
        QUOTE_WEIGHT * (1.0 - errors / len(quote))
        + PREFIX_WEIGHT * (1.0 if prefix_score is None else prefix_score)
        + SUFFIX_WEIGHT * (1.0 if suffix_score is None else suffix_score)
        + POSITION_WEIGHT * position
    )
    return Match(start, end, errors, raw / MAX_SCORE, context)


def _side_score(stored: str, actual: str, *, tail: bool) -> float | None:
    """How well the text on one side of a candidate agrees with the stored context, or None
    when that tells nothing: nothing was stored (the quote began or ended the article), or
    too little text is there to compare (the candidate is at the body's edge). Near an edge,
    only the part of the stored context that can be there is compared (the end of a prefix,
    the start of a suffix): the rest was cut off by the article's edge, not changed. None
    scores 1 in the weighting, as missing context does in Hypothesis."""
    if not stored or len(actual) < min(len(stored), EDGE_OVERLAP):
        return None
    if len(actual) < len(stored):
        stored = stored[-len(actual) :] if tail else stored[: len(actual)]
    return context_similarity(stored, actual)


def context_similarity(stored: str, actual: str) -> float:
    """1 minus the share of `stored` that must be edited to occur somewhere in `actual`
    (Hypothesis's `textMatchScore`): a context shifted by a character or two still scores
    high, unrelated text scores about 0.2-0.35."""
    if stored == actual:
        return 1.0
    fewest = min(
        (edits for _, edits in _edit_scores(actual, stored, free_start=True)), default=len(stored)
    )
    return max(0.0, 1.0 - fewest / len(stored))


def _snap_to_words(body: str, quote: str, start: int, end: int, prefix: str, suffix: str):
    """Widen a match that starts or ends inside a word, when the quote did not."""
    if quote[0].isalnum() and not (prefix and prefix[-1].isalnum()):
        limit = max(0, start - WORD_SNAP_LIMIT)
        while start > limit and body[start - 1].isalnum() and body[start].isalnum():
            start -= 1
    if quote[-1].isalnum() and not (suffix and suffix[0].isalnum()):
        limit = min(len(body), end + WORD_SNAP_LIMIT)
        while end < limit and body[end].isalnum() and body[end - 1].isalnum():
            end += 1
    return start, end


# --- Approximate search (Myers' bit-vector algorithm) ----------------------------------------


def approximate_matches(
    text: str, pattern: str, errors: int, windows: Sequence[tuple[int, int]] | None = None
) -> list[tuple[int, int, int]]:
    """Places where `pattern` occurs in `text` with at most `errors` edits (Levenshtein:
    insertions, deletions, substitutions), as `(start, end, edits)`: one per run of nearby
    end positions, the run's fewest edits, its shortest such span.

    Long stretches are first narrowed with rapidfuzz (in C): a stretch whose longest common
    subsequence with the pattern is shorter than `len(pattern) - errors` cannot hold a match,
    since every edit costs at least one pattern character that is not matched.
    """
    m = len(pattern)
    if not m or not text:
        return []
    windows = [(0, len(text))] if windows is None else _clip(windows, len(text))
    found: list[tuple[int, int, int]] = []
    for lo, hi in _narrow(text, pattern, errors, windows):
        found.extend(_matches_in(text, pattern, errors, lo, hi))
    return found


def _narrow(text, pattern, errors, windows):
    m = len(pattern)
    # Short chunks filter better (the bound compares the pattern with the whole chunk) but
    # cost more calls; a stride of the error count keeps both in check.
    stride = max(8, errors, m // 2)
    span = stride + m + errors  # any match starting in [p, p + stride) ends before p + span
    narrowed: list[tuple[int, int]] = []
    for lo, hi in windows:
        if hi - lo <= 4 * span:
            narrowed.append((lo, hi))
            continue
        starts = list(range(lo, hi, stride))
        chunks = [text[p : min(hi, p + span)] for p in starts]
        hits = process.extract(
            pattern, chunks, scorer=LCSseq.similarity, score_cutoff=m - errors, limit=None
        )
        for index in sorted(hit[2] for hit in hits):
            a, b = starts[index], min(hi, starts[index] + span)
            if narrowed and a <= narrowed[-1][1]:
                narrowed[-1] = (narrowed[-1][0], max(b, narrowed[-1][1]))
            else:
                narrowed.append((a, b))
    return narrowed


def _matches_in(text, pattern, errors, lo, hi):
    m = len(pattern)
    runs: list[tuple[int, int]] = []  # (end, edits) of each run's best end
    previous_end = -2
    for end, edits in _edit_scores(text[lo:hi], pattern, free_start=True):
        if edits > errors:
            continue
        end += lo
        if end == previous_end + 1 and runs:
            if edits < runs[-1][1]:
                runs[-1] = (end, edits)
        else:
            runs.append((end, edits))
        previous_end = end
    found = []
    for end, edits in runs:
        # The start: run the reversed pattern backwards from `end`, anchored there.
        window_start = max(lo, end - m - errors)
        backwards = text[window_start:end][::-1]
        best = None
        for length, cost in _edit_scores(backwards, pattern[::-1], free_start=False):
            if cost == edits and (best is None or abs(length - m) < abs(best - m)):
                best = length
        if best is not None:
            found.append((end - best, end, edits))
    return found


def _edit_scores(text: str, pattern: str, *, free_start: bool):
    """For each prefix `text[:j]` (j = 1..len), yield `(j, edits)`: the fewest edits turning
    `pattern` into a suffix of `text[:j]` (free_start) or into all of `text[:j]`.

    Myers (1999), "A fast bit-vector algorithm for approximate string matching based on
    dynamic programming", in Hyyrö's formulation; Python integers are the bit vectors.
    """
    m = len(pattern)
    full = (1 << m) - 1
    top = 1 << (m - 1)
    peq: dict[str, int] = {}
    for i, char in enumerate(pattern):
        peq[char] = peq.get(char, 0) | (1 << i)
    pv, mv, score = full, 0, m
    carry = 0 if free_start else 1
    for j, char in enumerate(text, 1):
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | carry) & full
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
        yield j, score
