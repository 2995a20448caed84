"""Annotations presented as W3C Web Annotation JSON-LD, one at a time, in pages, or streamed
as one collection.

The compact form the Web Annotation context defines: the tag is a `TextualBody` with purpose
`tagging`, the note one with purpose `commenting`, the target the article's page with a
`TextQuoteSelector` and a `TextPositionSelector` (code points, end exclusive, as stored; see
docs/anchoring.md). docs/api.md describes the API that serves them.

Plain functions, no HTTP: the API and the downloads (absolute URLs from the request) and the
export command (absolute URLs from `settings.SITE_URL`) share them through `Links`. Reading
what a client sends is the API's business: annotations/api/schemas.py.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import cached_property

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse

from newsroom.models import Article

from .models import AnchorStatus, Annotation, Reply

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# The media type the Web Annotation Protocol names for this representation.
MEDIA_TYPE = f'application/ld+json; profile="{CONTEXT}"'

TAGGING = "tagging"
COMMENTING = "commenting"
LINKING = "linking"
REPLYING = "replying"
QUOTE_SELECTOR = "TextQuoteSelector"
POSITION_SELECTOR = "TextPositionSelector"

# Items per chunk of a streamed collection: big enough that the per-chunk overhead vanishes,
# small enough that memory stays flat.
STREAM_BATCH = 200


# Annotations read from the database at a time, with their articles, tags and authors.
EXPORT_CHUNK = 2000

# Reversing a URL costs more than writing the rest of an annotation, so the export reverses
# the annotation URL once, with this id, and splits it there (and each article's URL once).
ID_PLACEHOLDER = 9_876_543_210


class Links:
    """Absolute URLs for the ids of annotations, articles and collections.

    `base` is `scheme://host[:port]`, without a trailing slash.
    """

    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self._article_pages: dict[str, str] = {}

    @classmethod
    def for_request(cls, request) -> "Links":
        return cls(request.build_absolute_uri("/"))

    @classmethod
    def for_site(cls) -> "Links":
        return cls(settings.SITE_URL)

    def absolute(self, path: str) -> str:
        return self.base + path

    @cached_property
    def _annotation_url_parts(self) -> tuple[str, str]:
        head, tail = reverse("api:annotation", args=[ID_PLACEHOLDER]).split(str(ID_PLACEHOLDER))
        return self.base + head, tail

    def annotation(self, annotation_id: int) -> str:
        head, tail = self._annotation_url_parts
        return f"{head}{int(annotation_id)}{tail}"

    def reply(self, reply_id: int) -> str:
        return self.absolute(reverse("api:reply", args=[int(reply_id)]))

    def annotation_replies(self, annotation_id: int) -> str:
        return self.absolute(reverse("api:annotation_replies", args=[int(annotation_id)]))

    def article_page(self, source_id: str) -> str:
        url = self._article_pages.get(source_id)
        if url is None:
            url = self._article_pages[source_id] = self.absolute(
                reverse("article_detail", args=[source_id])
            )
        return url

    def article_api(self, source_id: str) -> str:
        return self.absolute(reverse("api:article", args=[source_id]))

    def article_annotations(self, source_id: str) -> str:
        return self.absolute(reverse("api:article_annotations", args=[source_id]))


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, to the second, as the Web Annotation examples write it."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def creator_of(user) -> dict | None:
    if user is None:
        return None  # the author's account was deleted; the annotation stays
    return {
        "type": "Person",
        "nickname": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
    }


def annotation_to_jsonld(annotation: Annotation, links: Links, *, context: bool = True) -> dict:
    """One annotation as a Web Annotation.

    Needs `annotation.article`, `.tag` and `.author` loaded (select_related) to cost no query.
    `context=False` leaves out `@context` for an annotation embedded in a page or collection,
    which carries it once for all its items.

    `motivation` is always `tagging`: every annotation here exists to tag a passage; a note is
    a second body whose own `purpose` (`commenting`) says what it is. `status` is our
    extension: `anchored`, or `fuzzy` (the position points at near-matching words awaiting
    review; `exact` keeps the original words) or `orphaned` (no place found in the current
    text: no TextPositionSelector, since its last offsets hold other words now);
    docs/anchoring.md tells how each comes about.
    """
    bodies = [
        {
            "type": "TextualBody",
            "purpose": TAGGING,
            "value": annotation.tag.slug,
            "format": "text/plain",
        }
    ]
    if annotation.note:
        bodies.append(
            {
                "type": "TextualBody",
                "purpose": COMMENTING,
                "value": annotation.note,
                "format": "text/plain",
            }
        )
    if annotation.answers_id:
        bodies.append(
            {
                "type": "SpecificResource",
                "purpose": LINKING,
                "source": links.annotation(annotation.answers_id),
            }
        )
    selectors = [
        {
            "type": QUOTE_SELECTOR,
            "exact": annotation.quote,
            "prefix": annotation.prefix,
            "suffix": annotation.suffix,
        }
    ]
    if annotation.status != AnchorStatus.ORPHANED:
        # An orphaned annotation's last offsets now hold other words: a tool that trusts
        # positions would highlight the wrong ones, so it gets the quote alone.
        selectors.append(
            {"type": POSITION_SELECTOR, "start": annotation.start, "end": annotation.end}
        )
    data = {
        "@context": CONTEXT,
        "id": links.annotation(annotation.pk),
        "type": "Annotation",
        "motivation": TAGGING,
        "body": bodies,
        "target": {
            "source": links.article_page(annotation.article.source_id),
            "selector": selectors,
        },
        "creator": creator_of(annotation.author),
        "created": timestamp(annotation.created),
        "modified": timestamp(annotation.modified),
        "status": annotation.status,
        "review": review_of(annotation),
    }
    if data["creator"] is None:
        del data["creator"]
    if not context:
        del data["@context"]
    return data


def review_of(annotation: Annotation) -> dict:
    """Our extension: where the fact-check stands. `by` and `at` are left out until someone
    has set a state (and `by` when that account is gone). Needs `reviewed_by` loaded."""
    review = {"state": str(annotation.review_state), "source": annotation.review_source}
    if annotation.reviewed_by_id and annotation.reviewed_by is not None:
        review["by"] = annotation.reviewed_by.get_username()
    if annotation.reviewed_at is not None:
        review["at"] = timestamp(annotation.reviewed_at)
    return review


def reply_to_jsonld(reply: Reply, links: Links, *, context: bool = True) -> dict:
    """A reply as a Web Annotation whose motivation is `replying` and whose target is the
    annotation it answers (by its id URL). Needs `reply.author` loaded to cost no query."""
    data = {
        "@context": CONTEXT,
        "id": links.reply(reply.pk),
        "type": "Annotation",
        "motivation": REPLYING,
        "body": [
            {
                "type": "TextualBody",
                "purpose": REPLYING,
                "value": reply.text,
                "format": "text/plain",
            }
        ],
        "target": links.annotation(reply.annotation_id),
        "creator": creator_of(reply.author),
        "created": timestamp(reply.created),
        "modified": timestamp(reply.modified),
    }
    if data["creator"] is None:
        del data["creator"]
    if not context:
        del data["@context"]
    return data


def annotation_page(
    annotations: Iterable[Annotation | Reply],
    links: Links,
    *,
    page_id: str,
    collection_id: str,
    label: str,
    total: int | None,
    start_index: int | None,
    first: str,
    last: str | None,
    next_page: str | None = None,
    prev_page: str | None = None,
    present=annotation_to_jsonld,
) -> dict:
    """An `AnnotationPage` of a paged `AnnotationCollection`, as the Web Annotation model
    pages a collection.

    `next`/`prev` are left out, not null, where there is no such page: the model allows only a
    URI there. So are `total`, `last` and `startIndex` where they are not known (a search
    across articles does not count past a limit). `present` turns each item into JSON-LD
    (`reply_to_jsonld` for a thread).
    """
    collection = {
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": label,
        "total": total,
        "first": first,
        "last": last,
    }
    page = {
        "@context": CONTEXT,
        "id": page_id,
        "type": "AnnotationPage",
        "partOf": {key: value for key, value in collection.items() if value is not None},
        "startIndex": start_index,
        "items": [present(a, links, context=False) for a in annotations],
    }
    if start_index is None:
        del page["startIndex"]
    if next_page:
        page["next"] = next_page
    if prev_page:
        page["prev"] = prev_page
    return page


def export_queryset(article: Article | None = None):
    """What the JSON-LD export writes, streamed from the database a chunk at a time.

    The articles, tags, authors and replies come in one query each per chunk, not joined into
    every row: building them anew for each annotation cost more than writing it. The
    article's body is left out (an annotation needs only its source id).
    """
    annotations = Annotation.objects.prefetch_related(
        "tag",
        "author",
        Prefetch("article", queryset=Article.objects.defer("body")),
        Prefetch("replies", queryset=Reply.objects.select_related("author")),
    )
    if article is not None:
        annotations = annotations.for_article(article)
    return annotations.export_order().iterator(chunk_size=EXPORT_CHUNK)


def collection_chunks(
    annotations: Iterable[Annotation], links: Links, *, collection_id: str, label: str
) -> Iterator[str]:
    """One `AnnotationCollection` with every annotation in its embedded first page, as JSON text.

    Each annotation is followed by its replies (W3C annotations "replying" to it, the thread
    oldest first), when the annotations come with their replies prefetched. A generator, so
    an export of any size streams in flat memory. `total` is written last,
    counted while streaming: a count taken before could disagree with the rows that follow
    if someone annotates meanwhile, and JSON readers do not care about key order.
    """
    head = {
        "@context": CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "label": label,
    }
    first = {"id": f"{collection_id}#page-1", "type": "AnnotationPage", "startIndex": 0}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "first": '
    yield json.dumps(first, ensure_ascii=False)[:-1] + ', "items": ['
    total = 0
    batch: list[str] = []
    for annotation in annotations:
        items = [annotation_to_jsonld(annotation, links, context=False)]
        if "replies" in getattr(annotation, "_prefetched_objects_cache", {}):
            items += [reply_to_jsonld(r, links, context=False) for r in annotation.replies.all()]
        for item in items:
            batch.append(json.dumps(item, ensure_ascii=False))
            total += 1
            if len(batch) == STREAM_BATCH:
                yield ("," if total > STREAM_BATCH else "") + "\n" + ",\n".join(batch)
                batch = []
    if batch:
        yield ("," if total > len(batch) else "") + "\n" + ",\n".join(batch)
    yield f'\n]}}, "total": {total}}}\n'


def export_chunks(links: Links, article: Article | None = None) -> Iterator[str]:
    """The JSON-LD export: all annotations, or one article's, as one collection.

    Its id is the download's URL, so the file says where it came from.
    """
    if article is None:
        collection_id = links.absolute(reverse("export_jsonld_all"))
        label = "All annotations"
    else:
        collection_id = links.absolute(reverse("export_jsonld_article", args=[article.source_id]))
        label = f"Annotations of “{article.title}”"
    rows = export_queryset(article)
    try:
        yield from collection_chunks(rows, links, collection_id=collection_id, label=label)
    finally:
        # Close the database cursor now, not when the garbage collector gets to it: a
        # PostgreSQL server-side cursor left open by a client that hung up mid-download would
        # fail later in whatever transaction the connection is in by then.
        rows.close()


def stream_collection(out, *, article: Article | None = None, links: Links | None = None) -> None:
    """Write the JSON-LD export to a text file (`manage.py export_annotations --format jsonld`).

    Without a request to ask, absolute URLs start with `settings.SITE_URL`.
    """
    for chunk in export_chunks(links or Links.for_site(), article):
        out.write(chunk)
