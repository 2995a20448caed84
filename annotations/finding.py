"""Finding annotations across articles: the filters the desk page and `GET /api/annotations/`
share, checked by one form so both refuse bad values in the same words, and the pages of
results they show. docs/search.md describes them.

A common word is in hundreds of thousands of annotations: ranking or counting all of them
would take seconds. So a search ranks the `LIMIT` matches most recently added and says when
more match; a list without search words counts up to `LIMIT` and, past that many, goes on
from where the last page ended (a cursor), never by skipping rows.
"""

import datetime
import math
import re
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Q, QuerySet

from newsroom.models import Article

from . import search
from .models import CLAIM_TAG, UNSETTLED_STATES, AnchorStatus, Annotation, ReviewState, Tag

# What the desk calls an open claim: a passage tagged `claim` whose check is not settled.
OPEN_STATES = UNSETTLED_STATES  # claims the desk has not settled (models.py)

# The one-click views of the desk page, as the filters they stand for (shareable URLs).
OPEN_CLAIMS = {"tag": [CLAIM_TAG], "review": [s.value for s in OPEN_STATES]}
WAITING_FOR_REVIEW = {"status": [AnchorStatus.FUZZY.value, AnchorStatus.ORPHANED.value]}

FILTER_NAMES = ("q", "tag", "author", "review", "status", "article", "since")

# How many results are counted, and ranked when searching; page numbers reach this far.
LIMIT = 1000

# A cursor names the last annotation of a page: its creation time (microseconds since the
# epoch, UTC) and its id, e.g. `1764504187120000.4711`.
CURSOR = re.compile(r"([0-9]{1,17})\.([0-9]{1,18})")
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)


def cursor_of(annotation: Annotation) -> str:
    return f"{(annotation.created - EPOCH) // MICROSECOND}.{annotation.pk}"


def _no_such(what: str) -> dict:
    return {
        "invalid_choice": f"There is no {what} “%(value)s”.",
        "invalid_pk_value": f"There is no {what} “%(pk)s”.",
    }


@dataclass
class Found:
    """One page of results. `total` is how many match, None when more than `limit` do.
    Searches are `ranked` (best match first) and paged by number within the `limit` matches
    most recently added; lists are newest first, paged by number up to `limit` results and
    past them by cursor: then `pages` is None and `next_cursor` continues after this page
    (`number` and `start` are None on the pages after a cursor)."""

    annotations: list[Annotation]
    total: int | None
    ranked: bool
    limit: int
    number: int | None = 1
    pages: int | None = 1
    start: int | None = 0
    next_cursor: str | None = None

    @property
    def more_than_limit(self) -> bool:
        return self.total is None

    @property
    def by_cursor(self) -> bool:
        return self.pages is None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None if self.by_cursor else self.number < self.pages


class AnnotationFilter(forms.Form):
    """Each filter may be given several times (`?tag=claim&tag=figure`): any of the values
    matches. Different filters all apply. `q` holds words searched in the quote, the note and
    the replies (annotations/search.py)."""

    q = forms.CharField(required=False, max_length=search.MAX_QUERY_CHARS, strip=True)
    tag = forms.MultipleChoiceField(required=False, error_messages=_no_such("tag"))
    author = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.order_by("username"),
        to_field_name="username",
        required=False,
        error_messages=_no_such("user"),
    )
    review = forms.MultipleChoiceField(
        choices=ReviewState.choices, required=False, error_messages=_no_such("review state")
    )
    status = forms.MultipleChoiceField(
        choices=AnchorStatus.choices, required=False, error_messages=_no_such("anchoring status")
    )
    article = forms.ModelMultipleChoiceField(
        queryset=Article.objects.defer("body"),
        to_field_name="source_id",
        required=False,
        error_messages=_no_such("article"),
    )
    since = forms.DateTimeField(
        required=False,
        help_text="Created at or after this time (a date means its midnight).",
        error_messages={"invalid": "Give a date (2025-08-08) or a time (2025-08-08T14:00)."},
    )
    before = forms.CharField(
        required=False,
        help_text="Continue after the annotation this cursor names (the `next` link's).",
    )

    def __init__(self, data=None, *, tags: list[Tag] | None = None, **kwargs) -> None:
        if data is not None:
            # A form sends its empty controls too (`author=&article=`): they choose nothing.
            data = data.copy()
            for key in list(data):
                data.setlist(key, [value for value in data.getlist(key) if value.strip()])
        super().__init__(data, **kwargs)
        tags = Tag.objects.all() if tags is None else tags
        self.fields["tag"].choices = [(tag.slug, tag.label) for tag in tags]
        self.tag_ids = {tag.slug: tag.pk for tag in tags}

    def clean_before(self) -> tuple[datetime.datetime, int] | None:
        value = self.cleaned_data["before"]
        if not value:
            return None
        matched = CURSOR.fullmatch(value)
        if matched is None:
            raise forms.ValidationError("Not a cursor: take it from a page's `next` link.")
        created = EPOCH + int(matched[1]) * MICROSECOND
        return created, int(matched[2])

    def problems(self) -> list[str]:
        """The errors as sentences naming the filter: `tag: There is no tag “x”.`"""
        return [
            f"{name}: {message}" for name, messages in self.errors.items() for message in messages
        ]

    def filtered(self) -> QuerySet:
        """The annotations that pass every filter but the search words, in no order. Call
        after `is_valid()`.

        Tags, authors and articles are given by their ids (the form has them already): a
        planner that sees the ids can tell how many annotations each one has."""
        data = self.cleaned_data
        annotations = Annotation.objects.order_by()
        if data["tag"]:
            annotations = annotations.filter(tag__in=[self.tag_ids[slug] for slug in data["tag"]])
        if data["author"]:
            annotations = annotations.filter(author__in=[user.pk for user in data["author"]])
        if data["review"]:
            annotations = annotations.filter(review_state__in=data["review"])
        if data["status"]:
            annotations = annotations.filter(status__in=data["status"])
        if data["article"]:
            annotations = annotations.filter(article__in=[a.pk for a in data["article"]])
        if data["since"]:
            annotations = annotations.filter(created__gte=data["since"])
        return annotations

    def find(self, page: int = 1, per_page: int = 50, *, highlight: bool = False) -> Found:
        """Page `page` of what the filters find, with `per_page` results: best match first when
        there are search words, else newest first. With `highlight`, each result of a search
        has the `highlight` of its matched words. Call after `is_valid()`."""
        data = self.cleaned_data
        if search.words_of(data["q"]):
            return _best_first(self.filtered(), data["q"], page, per_page, highlight)
        return _newest_first(self.filtered(), data["before"], page, per_page)

    def is_active(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in FILTER_NAMES)


def _best_first(
    annotations: QuerySet, query: str, page: int, per_page: int, highlight: bool
) -> Found:
    wanted = search.Search(query, annotations.db)
    matches = search.recent_matches(annotations, wanted, LIMIT + 1)
    total = len(matches) if len(matches) <= LIMIT else None
    # Best first; equally good ones newest first.
    matches = sorted(matches[:LIMIT], key=lambda m: (m.rank, m.created, m.id), reverse=True)
    pages = max(1, math.ceil(len(matches) / per_page))
    number = min(max(page, 1), pages)
    start = (number - 1) * per_page
    ids = [match.id for match in matches[start : start + per_page]]
    found = Found(
        _in_order(ids), total, ranked=True, limit=LIMIT, number=number, pages=pages, start=start
    )
    if highlight:
        marked = search.highlights(ids, wanted)
        for annotation in found.annotations:
            annotation.highlight = marked.get(annotation.pk)
    return found


def _newest_first(
    annotations: QuerySet, before: tuple[datetime.datetime, int] | None, page: int, per_page: int
) -> Found:
    counted = annotations[: LIMIT + 1].count()
    total = counted if counted <= LIMIT else None
    newest = annotations.order_by("-created", "-id")
    if before is not None:
        created, pk = before
        newest = newest.filter(Q(created__lt=created) | Q(created=created, id__lt=pk))
        ids = _ids(newest.filter(created__lte=created)[: per_page + 1], many=total is None)
        number = start = pages = None
    else:
        # Page numbers reach the first LIMIT results; past them a cursor goes on.
        last = max(1, math.ceil(min(counted, LIMIT) / per_page))
        number = min(max(page, 1), last)
        start = (number - 1) * per_page
        ids = _ids(newest[start : start + per_page + 1], many=total is None)
        pages = last if total is not None else None
    found = Found(
        _in_order(ids[:per_page]),
        total,
        ranked=False,
        limit=LIMIT,
        number=number,
        pages=pages,
        start=start,
    )
    if pages is None and len(ids) > per_page:
        found.next_cursor = cursor_of(found.annotations[-1])
    return found


DESK_INDEX = "annotation_desk"


def _ids(annotations: QuerySet, *, many: bool) -> list[int]:
    """The ids of `annotations` (sliced, ordered newest first).

    When the filters pass many annotations, SQLite walks the desk index newest first, which
    holds every filtered column: a page takes a few index entries per result. Its planner,
    keeping no statistics, would otherwise read all the rows an equality filter (a tag, a
    review state) selects, maybe hundreds of thousands, and sort them. PostgreSQL's
    statistics choose this walk, or an index and a sort, by themselves.
    """
    ids = annotations.values_list("id", flat=True)
    connection = connections[ids.db]
    if not many or connection.vendor != "sqlite":
        return list(ids)
    sql, params = ids.query.sql_with_params()
    table = f"FROM {connection.ops.quote_name(Annotation._meta.db_table)}"
    sql = sql.replace(table, f"{table} INDEXED BY {connection.ops.quote_name(DESK_INDEX)}", 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def _in_order(ids: list[int]) -> list[Annotation]:
    """The annotations with these ids, in this order, with what a result shows of them."""
    found = Annotation.objects.with_related().defer("article__body").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]
