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
from itertools import islice

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from newsroom.models import Article

from .models import AnchorStatus, Annotation, Reply, Tag

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# The media type the Web Annotation Protocol names for this representation.
MEDIA_TYPE = f'application/ld+json; profile="{CONTEXT}"'

TAGGING = "tagging"
COMMENTING = "commenting"
LINKING = "linking"
REPLYING = "replying"
QUOTE_SELECTOR = "TextQuoteSelector"
POSITION_SELECTOR = "TextPositionSelector"

# Items per piece of a streamed collection: big enough that the per-piece overhead vanishes,
# small enough that memory stays flat (an item's text takes four bytes a character once it
# holds an emoji).
STREAM_BATCH = 200


# Annotations read from the database at a time, with their articles, tags, users and replies.
EXPORT_CHUNK = 2000

# What the export reads of each annotation (`export_items` turns it into JSON-LD): the values
# as the database driver gives them, the article, tag and users by id.
EXPORT_FIELDS = (
    "id",
    "article_id",
    "tag_id",
    "note",
    "answers_id",
    "quote",
    "prefix",
    "suffix",
    "status",
    "start",
    "end",
    "author_id",
    "created",
    "modified",
    "review_state",
    "review_source",
    "reviewed_by_id",
    "reviewed_at",
    "reply_count",
)


def to_json(item: dict) -> str:
    """One exported item as JSON text: orjson writes it several times faster than the
    standard library (items are plain trees of strings and numbers built here)."""
    return orjson.dumps(item).decode()


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


def timestamp(value: datetime | str) -> str:
    """ISO 8601 in UTC with a `Z`, to the second, as the Web Annotation examples write it.

    The export reads times from SQLite as the text stored there, in UTC: Django stores
    `str()` of the datetime, "2025-08-08 14:03:07.120000".
    """
    if isinstance(value, str):
        return value[:10] + "T" + value[11:19] + "Z"
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
    """
    data = web_annotation(
        links.annotation(annotation.pk),
        tagging_body(annotation.tag.slug),
        note=annotation.note,
        answers=links.annotation(annotation.answers_id) if annotation.answers_id else None,
        quote=annotation.quote,
        prefix=annotation.prefix,
        suffix=annotation.suffix,
        status=annotation.status,
        start=annotation.start,
        end=annotation.end,
        page=links.article_page(annotation.article.source_id),
        creator=creator_of(annotation.author),
        created=timestamp(annotation.created),
        modified=timestamp(annotation.modified),
        review=review_of(annotation),
    )
    return {"@context": CONTEXT, **data} if context else data


def tagging_body(slug: str) -> dict:
    return {"type": "TextualBody", "purpose": TAGGING, "value": slug, "format": "text/plain"}


def web_annotation(
    annotation_id: str,
    tagging: dict,
    *,
    note: str,
    answers: str | None,
    quote: str,
    prefix: str,
    suffix: str,
    status: str,
    start: int,
    end: int,
    page: str,
    creator: dict | None,
    created: str,
    modified: str,
    review: dict,
) -> dict:
    """The Web Annotation of an annotation, from its parts: ids as URLs, times as text.

    `annotation_to_jsonld` passes an annotation's, the export a database row's (sharing the
    dicts of a tag or a creator between rows).

    `motivation` is always `tagging`: every annotation here exists to tag a passage; a note is
    a second body whose own `purpose` (`commenting`) says what it is. `status` is our
    extension: `anchored`, or `fuzzy` (the position points at near-matching words awaiting
    review; `exact` keeps the original words) or `orphaned` (no place found in the current
    text: no TextPositionSelector, since its last offsets hold other words now);
    docs/anchoring.md tells how each comes about.
    """
    bodies = [tagging]
    if note:
        bodies.append(
            {"type": "TextualBody", "purpose": COMMENTING, "value": note, "format": "text/plain"}
        )
    if answers:
        bodies.append({"type": "SpecificResource", "purpose": LINKING, "source": answers})
    selectors = [{"type": QUOTE_SELECTOR, "exact": quote, "prefix": prefix, "suffix": suffix}]
    if status != AnchorStatus.ORPHANED:
        # An orphaned annotation's last offsets now hold other words: a tool that trusts
        # positions would highlight the wrong ones, so it gets the quote alone.
        selectors.append({"type": POSITION_SELECTOR, "start": start, "end": end})
    data = {
        "id": annotation_id,
        "type": "Annotation",
        "motivation": TAGGING,
        "body": bodies,
        "target": {"source": page, "selector": selectors},
    }
    if creator is not None:
        data["creator"] = creator
    data["created"] = created
    data["modified"] = modified
    data["status"] = status
    data["review"] = review
    return data


def review_of(annotation: Annotation) -> dict:
    """Our extension: where the fact-check stands (`review_jsonld`). Needs `reviewed_by`
    loaded."""
    by = annotation.reviewed_by if annotation.reviewed_by_id else None
    return review_jsonld(
        annotation.review_state,
        annotation.review_source,
        by=by.get_username() if by is not None else None,
        at=annotation.reviewed_at,
    )


def review_jsonld(state: str, source: str, *, by: str | None, at: datetime | str | None) -> dict:
    """Where the fact-check stands. `by` and `at` are left out until someone has set a state
    (and `by` when that account is gone)."""
    data = {"state": str(state), "source": source}
    if by is not None:
        data["by"] = by
    if at is not None:
        data["at"] = timestamp(at)
    return data


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
    (`reply_to_jsonld` for a thread); None when the items are JSON-LD already (`export_items`).
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
        "items": (
            [present(a, links, context=False) for a in annotations]
            if present
            else list(annotations)
        ),
    }
    if start_index is None:
        del page["startIndex"]
    if next_page:
        page["next"] = next_page
    if prev_page:
        page["prev"] = prev_page
    return page


def export_rows(article: Article | None = None) -> Iterator[list[tuple]]:
    """What the JSON-LD export writes, `EXPORT_FIELDS` of each annotation a chunk at a time."""
    annotations = Annotation.objects.with_reply_count()
    if article is not None:
        annotations = annotations.for_article(article)
    return annotations.export_rows(*EXPORT_FIELDS, chunk_size=EXPORT_CHUNK)


def export_items(rows: list[tuple], links: Links, *, replies: bool = True) -> Iterator[dict]:
    """The export's items for a chunk of `EXPORT_FIELDS` rows: each annotation, followed by
    its replies (W3C annotations "replying" to it, the thread oldest first) unless
    `replies=False` (an API page lists annotations alone).

    The articles, tags and users the chunk names come in one query each, not joined into
    every row, and each tag's body and each user's `creator` is built once and shared by its
    rows; the replies come in one more query when the chunk has any. An annotation whose
    article (or tag) was deleted while the export ran is left out, as it is gone.
    """
    pages = {
        pk: links.article_page(source_id)
        for pk, source_id in Article.objects.filter(pk__in={row[1] for row in rows}).values_list(
            "pk", "source_id"
        )
    }
    tagging = {
        pk: tagging_body(slug)
        for pk, slug in Tag.objects.filter(pk__in={row[2] for row in rows}).values_list(
            "pk", "slug"
        )
    }
    user_ids = {row[11] for row in rows} | {row[16] for row in rows}
    users = get_user_model().objects.in_bulk(user_ids - {None})
    creators = {pk: creator_of(user) for pk, user in users.items()}
    replied = [row[0] for row in rows if row[18]] if replies else []
    threads: dict[int, list[Reply]] = {}
    if replied:
        for reply in Reply.objects.filter(annotation__in=replied).select_related("author"):
            threads.setdefault(reply.annotation_id, []).append(reply)
    for (
        pk,
        article,
        tag,
        note,
        answers,
        quote,
        prefix,
        suffix,
        status,
        start,
        end,
        author,
        created,
        modified,
        review_state,
        review_source,
        reviewed_by,
        reviewed_at,
        _replies,
    ) in rows:
        if article not in pages or tag not in tagging:
            continue
        yield web_annotation(
            links.annotation(pk),
            tagging[tag],
            note=note,
            answers=links.annotation(answers) if answers else None,
            quote=quote,
            prefix=prefix,
            suffix=suffix,
            status=status,
            start=start,
            end=end,
            page=pages[article],
            creator=creators.get(author),
            created=timestamp(created),
            modified=timestamp(modified),
            review=review_jsonld(
                review_state,
                review_source,
                by=users[reviewed_by].get_username() if reviewed_by in users else None,
                at=reviewed_at,
            ),
        )
        for reply in threads.get(pk, ()):
            yield reply_to_jsonld(reply, links, context=False)


def collection_chunks(
    chunks: Iterable[list[tuple]], links: Links, *, collection_id: str, label: str
) -> Iterator[str]:
    """One `AnnotationCollection` with every annotation of `chunks` (`export_rows`) in its
    embedded first page, as JSON text.

    A generator, so an export of any size streams in flat memory. `total` is written last,
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
    for rows in chunks:
        items = export_items(rows, links)
        while batch := [to_json(item) for item in islice(items, STREAM_BATCH)]:
            # The separator joins the first item, not the whole piece: a piece is a copy less.
            batch[0] = ("," if total else "") + "\n" + batch[0]
            yield ",\n".join(batch)
            total += len(batch)
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
    chunks = export_rows(article)
    try:
        yield from collection_chunks(chunks, links, collection_id=collection_id, label=label)
    finally:
        # Close the database cursor now, not when the garbage collector gets to it: a
        # PostgreSQL server-side cursor left open by a client that hung up mid-download would
        # fail later in whatever transaction the connection is in by then.
        chunks.close()


def stream_collection(out, *, article: Article | None = None, links: Links | None = None) -> None:
    """Write the JSON-LD export to a text file (`manage.py export_annotations --format jsonld`).

    Without a request to ask, absolute URLs start with `settings.SITE_URL`.
    """
    for chunk in export_chunks(links or Links.for_site(), article):
        out.write(chunk)
