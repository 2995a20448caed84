"""What an open article page shows and what changed on it since the version it shows.

The page carries its article's `annotations_version`. Every change (page, API, admin, import,
restore) advances that version and logs events (annotations/services/, `record_changes`); a
page then asks for the events after its version and redraws only what they touched: the
highlights that changed (taken out of the text and laid over it again where they are now, so
the answer's size does not depend on how many others share the paragraph), the list entries
created, changed or removed, the counts.
Nothing is kept in the process, so any number of app processes can answer.

The side list is long on a heavily annotated article: it comes in pages, in reading order,
filtered on the server (tag, author, review state, text), continued by a keyset cursor.
"""

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.http import urlencode

from newsroom.models import Article

from .highlighting import Highlight, RenderedBlock, highlights_for, render_blocks
from .models import (
    ORPHANED_LAST,
    AnchorStatus,
    Annotation,
    AnnotationEvent,
    ChangeKind,
    ReviewState,
)

# Entries in the first page of the side list and in each page loaded after it: about two
# screenfuls of entries with their review controls; more load as the editor scrolls.
PAGE_SIZE = 12
# The most entries a page shows at once without JavaScript (?show=).
MAX_SHOWN = 5000
# Beyond this many annotations touched in one delta, the page gets the whole text again.
MAX_DELTA = 200
STATUS_FILTERS = {"review", AnchorStatus.ANCHORED, AnchorStatus.FUZZY, AnchorStatus.ORPHANED}
HIGHLIGHT_COLUMNS = ("pk", "start", "end", "status", "tag__slug")


# The list: order, filters, pages -----------------------------------------------------------

Key = tuple[int, int, int, int]  # (orphaned, start, end, id): reading order, orphans last


def list_key(annotation: Annotation) -> Key:
    orphaned = int(annotation.status == AnchorStatus.ORPHANED)
    return (orphaned, annotation.start, annotation.end, annotation.pk)


def key_text(key: Key) -> str:
    return ".".join(str(part) for part in key)


def key_from(text: str | None) -> Key | None:
    parts = (text or "").split(".")
    if len(parts) != 4 or not all(part.isdigit() and len(part) < 12 for part in parts):
        return None
    return tuple(int(part) for part in parts)  # type: ignore[return-value]


def after(annotations: QuerySet, key: Key) -> QuerySet:
    """The annotations after `key` in list order (call on an `in_reading_order()` queryset)."""
    o, start, end, pk = key
    return annotations.filter(
        Q(orphaned__gt=o)
        | Q(orphaned=o, start__gt=start)
        | Q(orphaned=o, start=start, end__gt=end)
        | Q(orphaned=o, start=start, end=end, pk__gt=pk)
    )


@dataclass(frozen=True)
class Filters:
    """The side list's filter, read from and written back to the page's URL."""

    tag: str = ""
    author: str = ""
    status: str = ""
    review: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> "Filters":
        status = query.get("status", "")
        review = query.get("review", "")
        return cls(
            tag=query.get("tag", "").strip()[:50],
            author=query.get("author", "").strip()[:150],
            status=status if status in STATUS_FILTERS else "",
            review=review if review in ReviewState.values else "",
            q=" ".join(query.get("q", "").split())[:200],
        )

    def __bool__(self) -> bool:
        return any((self.tag, self.author, self.status, self.review, self.q))

    def apply(self, annotations: QuerySet) -> QuerySet:
        if self.tag:
            annotations = annotations.filter(tag__slug=self.tag)
        if self.author:
            annotations = annotations.filter(author__username=self.author)
        if self.status == "review":
            annotations = annotations.needing_review()
        elif self.status:
            annotations = annotations.filter(status=self.status)
        if self.review:
            annotations = annotations.filter(review_state=self.review)
        if self.q:
            annotations = annotations.filter(Q(quote__icontains=self.q) | Q(note__icontains=self.q))
        return annotations

    def query(self) -> str:
        values = {
            "tag": self.tag,
            "author": self.author,
            "status": self.status,
            "review": self.review,
            "q": self.q,
        }
        return urlencode({name: value for name, value in values.items() if value})


def listed(article: Article, filters: Filters) -> QuerySet:
    annotations = (
        Annotation.objects.for_article(article)
        .select_related("tag", "author", "edited_by")
        .with_desk()
    )
    return filters.apply(annotations).in_reading_order()


def entries_page(
    article: Article, filters: Filters, *, cursor: Key | None = None, size: int = PAGE_SIZE
) -> tuple[list[Annotation], Key | None]:
    """One page of the list after `cursor`, and the cursor for the next page (None: the end).
    One query."""
    annotations = listed(article, filters)
    if cursor is not None:
        annotations = after(annotations, cursor)
    page = list(annotations[: size + 1])
    if len(page) > size:
        page = page[:size]
        return page, list_key(page[-1])
    return page, None


def rank_in_list(article: Article, filters: Filters, annotation: Annotation) -> int:
    """How many listed entries come before `annotation` (one query)."""
    everything = filters.apply(Annotation.objects.for_article(article)).in_reading_order()
    return everything.count() - after(everything, list_key(annotation)).count() - 1


# The text ------------------------------------------------------------------------------------


def rendered_text(article: Article) -> list[RenderedBlock]:
    """The article's blocks with their highlights, rendered once per article version.

    The version advances with every change to the annotations or the text, so a cached copy
    is never out of date; any process may fill it. Two queries when not cached, none when it is.
    """
    key = f"article-text:{article.pk}:{article.created.timestamp()}:{article.annotations_version}"
    blocks = cache.get(key)
    if blocks is None:
        rows = Annotation.objects.for_article(article).values_list(*HIGHLIGHT_COLUMNS)
        blocks = render_blocks(article.blocks_with_starts(), highlights_for(rows))
        cache.set(key, blocks, timeout=24 * 3600)
    return blocks


# Deltas ----------------------------------------------------------------------------------


@dataclass
class Delta:
    """What a page at version `since` must redraw to show version `version`."""

    version: int
    text_changed: bool = False
    # Annotations whose marks the page takes out of the text, and the highlights it then
    # draws, where they are now (a deleted or orphaned annotation is cleared, not drawn).
    cleared: list[int] = field(default_factory=list)
    highlights: list[Highlight] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    # Entries to put into the list, each with the id of the entry it goes before (None: at
    # the end), in the order they must be inserted.
    inserted: list[tuple[Annotation, int | None]] = field(default_factory=list)
    news: str = ""


def delta_since(
    article: Article, since: int, *, user, filters: Filters, loaded_until: Key | None
) -> Delta:
    """The changes after version `since`, for a page listing `filters` up to `loaded_until`
    (None: the whole list is loaded). A fixed number of queries for a handful of changes,
    whatever the article's annotation count."""
    events = list(
        AnnotationEvent.objects.filter(article=article, version__gt=since).select_related("actor")
    )
    delta = Delta(version=article.annotations_version, news=news_of(events, user))
    ids = {event.annotation_id for event in events if event.annotation_id is not None}
    delta.text_changed = len(ids) > MAX_DELTA or any(
        event.kind == ChangeKind.TEXT for event in events
    )
    current = {a.pk: a for a in listed(article, filters).filter(pk__in=ids)} if ids else {}
    # Out of the list first (an entry the page may show), then back in at its place; one
    # created after `since` is not on the page yet.
    first_kind: dict[int, str] = {}
    for event in events:
        if event.annotation_id is not None:
            first_kind.setdefault(event.annotation_id, event.kind)
    delta.removed = sorted(pk for pk, kind in first_kind.items() if kind != ChangeKind.CREATED)
    if not delta.text_changed and ids:
        delta.cleared = sorted(ids)
        rows = Annotation.objects.for_article(article).filter(pk__in=ids)
        delta.highlights = highlights_for(rows.values_list(*HIGHLIGHT_COLUMNS))
    shown = sorted(
        (a for a in current.values() if loaded_until is None or list_key(a) <= loaded_until),
        key=list_key,
        reverse=True,  # last first: each one's successor is in the list when it goes in
    )
    following = successors(article, filters, [list_key(a) for a in shown])
    delta.inserted = [(a, following[list_key(a)]) for a in shown]
    return delta


def successors(article: Article, filters: Filters, keys: list[Key]) -> dict[Key, int | None]:
    """For each key, the id of the next listed annotation (None: none). One query per key for
    a few keys; one query for many."""
    everything = filters.apply(Annotation.objects.for_article(article)).in_reading_order()
    if len(keys) <= 10:
        return {key: after(everything, key).values_list("pk", flat=True).first() for key in keys}
    rows = sorted(everything.annotate(o=ORPHANED_LAST).values_list("o", "start", "end", "pk"))
    found = {}
    for key in keys:
        i = bisect.bisect_right(rows, key)
        found[key] = rows[i][3] if i < len(rows) else None
    return found


def news_of(events: list[AnnotationEvent], user) -> str:
    """What others changed, in a few words: "2 new annotations by tomas"."""
    counts: Counter = Counter()
    seen: dict[tuple, set] = defaultdict(set)
    text_changed = False
    for event in events:
        if event.actor_id is not None and event.actor_id == user.pk:
            continue
        if event.kind == ChangeKind.TEXT:
            text_changed = True
            continue
        who = event.actor.get_username() if event.actor else ""
        if event.annotation_id in seen[(who, event.kind)]:
            continue
        seen[(who, event.kind)].add(event.annotation_id)
        counts[(who, event.kind)] += 1
    parts = ["the article's text was updated"] if text_changed else []
    words = {
        ChangeKind.CREATED: "new annotation{s}",
        ChangeKind.CHANGED: "annotation{s} changed",
        ChangeKind.DELETED: "annotation{s} removed",
    }
    for (who, kind), n in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0])):
        what = words[kind].format(s="" if n == 1 else "s")
        parts.append(f"{n} {what}" + (f" by {who}" if who else ""))
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""
