"""What goes in and comes out of the API, and so what its OpenAPI document says; and the
reading of a W3C Web Annotation a client sends.

The annotations in a response are built by annotations/webannotation.py; ninja checks every
response against its `...Out` schema here. docs/api.md describes the contract in words.
"""

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve
from ninja import Field, Schema
from pydantic import AfterValidator, BaseModel, Discriminator
from pydantic import Tag as UnionTag

from newsroom.models import Article

from ..models import Annotation, ReviewState
from ..services import AnnotationError
from ..webannotation import (
    COMMENTING,
    LINKING,
    POSITION_SELECTOR,
    QUOTE_SELECTOR,
    TAGGING,
    Links,
)


def storable(value: str) -> str:
    """Refuse text the databases cannot store, with a clear 400 instead of a database error:
    PostgreSQL refuses a NUL character, and a lone surrogate (valid in JSON's `\\ud800`
    escapes) is not UTF-8."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return value


Text = Annotated[str, AfterValidator(storable)]


# Request bodies are plain pydantic models, not ninja Schemas: a Schema reads attributes off
# anything (a string would be "missing every field"), where a model says "not an object".


class TextualBodyIn(BaseModel):
    type: Literal["TextualBody"] = "TextualBody"
    purpose: Literal["tagging", "commenting"] = Field(
        description="`tagging`: the value is a tag's slug (e.g. `claim`); `commenting`: the note."
    )
    # No maxLength here: the note's limit comes with a plain-words message from the domain
    # check, and the request size cap (413) bounds everything else.
    value: Text


class SpecificResourceIn(BaseModel):
    """A linking body: this annotation answers the one at `source` (its id URL in the API).
    In a PATCH, an empty or null `source` removes the link."""

    type: Literal["SpecificResource"]
    purpose: Literal["linking"]
    source: str | None = Field(
        None, max_length=2000, description="The answered annotation's id URL."
    )


def body_kind(value: Any) -> str:
    """Which kind of body an item is, so a wrong one is described by its own schema only."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "SpecificResource" if kind == "SpecificResource" else "TextualBody"


BodyIn = Annotated[
    Annotated[TextualBodyIn, UnionTag("TextualBody")]
    | Annotated[SpecificResourceIn, UnionTag("SpecificResource")],
    Discriminator(body_kind),
]


class SelectorIn(BaseModel):
    """A TextQuoteSelector (`exact`, `prefix`, `suffix`) or a TextPositionSelector
    (`start`, `end`, code points, end exclusive). Other selector types are ignored."""

    type: str = Field(max_length=100, examples=["TextQuoteSelector", "TextPositionSelector"])
    exact: Text | None = None
    prefix: str | None = None
    suffix: str | None = None
    start: int | None = None
    end: int | None = None


class TargetIn(BaseModel):
    source: str | None = Field(None, description="The article's URL; optional, checked when given.")
    selector: list[SelectorIn] | SelectorIn


class AnnotationIn(BaseModel):
    """A Web Annotation to create: a tagging body, optionally a commenting body, and a target
    with both a TextQuoteSelector and a TextPositionSelector."""

    context: Any = Field(None, alias="@context")
    type: Any = None
    motivation: Any = None
    body: list[BodyIn] | BodyIn
    target: TargetIn


class ReviewIn(BaseModel):
    """The review state to set, and optionally its source (left out: the stored one stays)."""

    state: Literal[tuple(ReviewState.values)]  # type: ignore[valid-type]
    source: Text | None = Field(
        None,
        description="A URL or a citation; required for `verified` and `disputed` on a claim or "
        "a figure (unless one is stored already).",
    )


class AnnotationPatchIn(BaseModel):
    """What to change: a tagging body changes the tag, a commenting body the note (an empty
    value removes it), a linking body what it answers (an empty source removes that), a target
    moves the annotation (its quote is checked against the body), `review` its review state.
    Anything left out stays as it is; read-only properties sent back are ignored."""

    body: list[BodyIn] | BodyIn | None = None
    target: TargetIn | None = None
    review: ReviewIn | None = None


class TextualBodyOut(Schema):
    type: Literal["TextualBody"]
    purpose: Literal["tagging", "commenting"]
    value: str
    format: Literal["text/plain"]


class LinkingBodyOut(Schema):
    type: Literal["SpecificResource"]
    purpose: Literal["linking"]
    source: str = Field(description="The id URL of the annotation this one answers.")


class TextQuoteSelectorOut(Schema):
    type: Literal["TextQuoteSelector"]
    exact: str
    prefix: str
    suffix: str


class TextPositionSelectorOut(Schema):
    type: Literal["TextPositionSelector"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class TargetOut(Schema):
    source: str = Field(description="The article page's URL.")
    selector: list[
        Annotated[TextQuoteSelectorOut | TextPositionSelectorOut, Field(discriminator="type")]
    ]


class PersonOut(Schema):
    type: Literal["Person"]
    nickname: str
    name: str


DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class ReviewOut(Schema):
    state: Literal[tuple(ReviewState.values)]  # type: ignore[valid-type]
    source: str = Field(description="What the verdict rests on (a URL or a citation), or empty.")
    by: str | None = Field(None, description="Who set the state; left out until someone has.")
    at: DateTime | None = Field(None, description="When; left out until someone has.")


class AnnotationOut(Schema):
    context: Literal["http://www.w3.org/ns/anno.jsonld"] | None = Field(
        None, alias="@context", description="Left out on annotations inside a page."
    )
    id: str = Field(description="This annotation's URL in the API.")
    type: Literal["Annotation"]
    motivation: Literal["tagging"]
    body: list[Annotated[TextualBodyOut | LinkingBodyOut, Field(discriminator="type")]]
    target: TargetOut
    creator: PersonOut | None = Field(
        None, description="Left out when the author's account is gone."
    )
    created: DateTime
    modified: DateTime
    status: Literal["anchored", "fuzzy", "orphaned"] = Field(
        description="Extension: `fuzzy` awaits an editor's review (the position is on "
        "near-matching words, `exact` keeps the original ones); `orphaned` found no place in "
        "the current text."
    )
    review: ReviewOut = Field(description="Extension: where the fact-check of it stands.")


class CollectionRefOut(Schema):
    id: str
    type: Literal["AnnotationCollection"]
    label: str
    total: int | None = Field(
        None, ge=0, description="Left out when more annotations match than are counted."
    )
    first: str
    last: str | None = Field(None, description="Left out when pages go on by cursor.")


class AnnotationPageOut(Schema):
    context: Literal["http://www.w3.org/ns/anno.jsonld"] = Field(alias="@context")
    id: str
    type: Literal["AnnotationPage"]
    partOf: CollectionRefOut
    startIndex: int | None = Field(None, ge=0, description="Left out on a page after a cursor.")
    items: list[AnnotationOut]
    next: str | None = None
    prev: str | None = None


class ReplyBodyIn(BaseModel):
    type: Literal["TextualBody"] = "TextualBody"
    purpose: Literal["replying", "commenting"] | None = None
    value: Text


class ReplyIn(BaseModel):
    """A reply: a W3C annotation with one TextualBody (the text) whose target, when sent,
    is the parent annotation's id URL. `@context`, `type` and `motivation` are ignored."""

    context: Any = Field(None, alias="@context")
    type: Any = None
    motivation: Any = None
    body: list[ReplyBodyIn] | ReplyBodyIn
    target: str | None = Field(None, max_length=2000, description="The parent's id URL.")


class ReplyPatchIn(BaseModel):
    """The reply's new text, as one TextualBody; read-only properties sent back are ignored."""

    body: list[ReplyBodyIn] | ReplyBodyIn


class ReplyBodyOut(Schema):
    type: Literal["TextualBody"]
    purpose: Literal["replying"]
    value: str
    format: Literal["text/plain"]


class ReplyOut(Schema):
    context: Literal["http://www.w3.org/ns/anno.jsonld"] | None = Field(
        None, alias="@context", description="Left out on replies inside a page."
    )
    id: str = Field(description="This reply's URL in the API.")
    type: Literal["Annotation"]
    motivation: Literal["replying"]
    body: list[ReplyBodyOut]
    target: str = Field(description="The id URL of the annotation replied to.")
    creator: PersonOut | None = None
    created: DateTime
    modified: DateTime


class ReplyPageOut(Schema):
    context: Literal["http://www.w3.org/ns/anno.jsonld"] = Field(alias="@context")
    id: str
    type: Literal["AnnotationPage"]
    partOf: CollectionRefOut
    startIndex: int | None = Field(None, ge=0, description="Left out on a page after a cursor.")
    items: list[ReplyOut]
    next: str | None = None
    prev: str | None = None


class ArticleOut(Schema):
    id: str = Field(description="The article's URL in the API.")
    source_id: str
    title: str
    date: date
    url: str = Field(description="The article's page.")
    annotations: str = Field(description="Its annotations in the API (an AnnotationPage).")
    annotation_count: int


class BlockOut(Schema):
    kind: Literal["paragraph", "heading", "photo_credit"]
    start: int = Field(description="Offset of the block's first character in `body`.")
    end: int


class ArticleDetailOut(ArticleOut):
    body: str = Field(description="The blocks' text joined by a blank line; offsets count into it.")
    blocks: list[BlockOut]


class ArticleListOut(Schema):
    total: int
    page: int
    pages: int
    next: str | None = None
    prev: str | None = None
    items: list[ArticleOut]


class ApiRootOut(Schema):
    articles: str
    openapi: str
    docs: str


# Reading what a client sends (POST and PATCH) ---------------------------------------------
# The schemas above have already checked the shape (types, required keys); these check the
# meaning and say in plain words what is wrong.


@dataclass(frozen=True)
class Selection:
    start: int
    end: int
    exact: str


def bodies_of(value) -> list[dict]:
    """The bodies of a request: W3C allows one object or a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def read_bodies(bodies: list[dict]) -> tuple[str | None, str | None]:
    """(tag slug, note) from the tagging and commenting bodies; None for what is absent."""
    by_purpose: dict[str, list[str]] = {TAGGING: [], COMMENTING: []}
    for body in bodies:
        if body["purpose"] in by_purpose:  # linking bodies: `read_link`
            by_purpose[body["purpose"]].append(body["value"])
    for purpose, values in by_purpose.items():
        if len(values) > 1:
            what = "the tag" if purpose == TAGGING else "the note"
            raise AnnotationError(
                f"Send at most one body with purpose '{purpose}' ({what}); this request has "
                f"{len(values)}.",
                field="body",
            )
    tag = by_purpose[TAGGING][0] if by_purpose[TAGGING] else None
    note = by_purpose[COMMENTING][0] if by_purpose[COMMENTING] else None
    return tag, note


def read_selection(target: dict) -> Selection:
    """The passage a target points at: both a TextQuoteSelector and a TextPositionSelector.

    The server never trusts offsets alone (docs/anchoring.md), and a quote alone can be
    ambiguous, so both are required; selectors of other types (XPath, Range, ...) are ignored.
    """
    selectors = target["selector"] if isinstance(target["selector"], list) else [target["selector"]]
    quotes = [s for s in selectors if s["type"] == QUOTE_SELECTOR]
    positions = [s for s in selectors if s["type"] == POSITION_SELECTOR]
    missing = [
        name
        for name, found in ((QUOTE_SELECTOR, quotes), (POSITION_SELECTOR, positions))
        if not found
    ]
    if missing:
        raise AnnotationError(
            f"The target needs a {' and a '.join(missing)}: the quoted text and its code-point "
            f"offsets in the article body, so the server can check one against the other.",
            field="target",
        )
    if len(quotes) > 1 or len(positions) > 1:
        raise AnnotationError(
            f"Send one {QUOTE_SELECTOR} and one {POSITION_SELECTOR}; several of a kind are "
            "ambiguous.",
            field="target",
        )
    quote, position = quotes[0], positions[0]
    if quote.get("exact") is None:
        raise AnnotationError(
            f"The {QUOTE_SELECTOR} needs `exact`, the quoted text.", field="target"
        )
    if position.get("start") is None or position.get("end") is None:
        raise AnnotationError(f"The {POSITION_SELECTOR} needs `start` and `end`.", field="target")
    return Selection(start=position["start"], end=position["end"], exact=quote["exact"])


def repeats_the_quote_alone(target: dict, quote: str) -> bool:
    """Whether `target` is the stored passage sent back as the API gave it for an orphaned
    annotation: its quote and no position (annotations/webannotation.py leaves the position
    out there). Such a target moves nothing."""
    selectors = target["selector"] if isinstance(target["selector"], list) else [target["selector"]]
    kinds = [s["type"] for s in selectors]
    return (
        POSITION_SELECTOR not in kinds
        and kinds.count(QUOTE_SELECTOR) == 1
        and next(s for s in selectors if s["type"] == QUOTE_SELECTOR).get("exact") == quote
    )


def check_target_source(source: str | None, article: Article, links: Links) -> None:
    """Refuse a target whose `source` names another article than the URL posted to.

    Only the path is compared: behind a proxy the client may know the site by another host.
    """
    if not source:
        return
    try:
        path = urlsplit(source).path
    except ValueError:  # e.g. an unclosed or invalid IPv6 host: "http://[::1"
        raise AnnotationError(
            f"The target's source {source!r} is not a valid URL; send the article's URL, or "
            "leave `source` out.",
            field="target",
        ) from None
    ours = {
        urlsplit(links.article_page(article.source_id)).path,
        urlsplit(links.article_api(article.source_id)).path,
    }
    if path not in ours:
        raise AnnotationError(
            f"The target's source {source!r} is not the article {article.source_id!r} this "
            f"request is for; post the annotation to that article's annotations instead.",
            field="target",
        )


# The link between annotations ---------------------------------------------------------------

NO_LINK = object()  # no linking body was sent: the relation stays as it is


def read_link(bodies: list[dict]) -> "int | None | object":
    """The id of the annotation a linking body points at; None when it asks to remove the
    link (an empty source); NO_LINK when no linking body was sent."""
    links = [body for body in bodies if body["purpose"] == LINKING]
    if not links:
        return NO_LINK
    if len(links) > 1:
        raise AnnotationError(
            f"Send at most one body with purpose 'linking' (what the annotation answers); this "
            f"request has {len(links)}.",
            field="body",
        )
    source = (links[0]["source"] or "").strip()
    if not source:
        return None
    try:
        match = resolve(urlsplit(source).path)
    except (Resolver404, ValueError):
        match = None
    if match is None or match.view_name != "api:annotation":
        raise AnnotationError(
            f"The linking body's source {source!r} is not an annotation's id URL "
            "(…/api/annotations/<id>/).",
            field="body",
        )
    return match.kwargs["annotation_id"]


def find_answered(annotation_id: int) -> Annotation:
    answered = Annotation.objects.filter(pk=annotation_id).first()
    if answered is None:
        raise AnnotationError(
            f"The linking body points at annotation {annotation_id}, which does not exist.",
            field="body",
        )
    return answered


def read_reply_text(bodies: list[dict]) -> str:
    if len(bodies) != 1:
        raise AnnotationError(
            f"A reply has exactly one TextualBody, its text; this request has {len(bodies)}.",
            field="body",
        )
    return bodies[0]["value"]


def check_reply_target(target: str | None, annotation: Annotation, links: Links) -> None:
    """Refuse a reply whose target names another annotation than the URL posted to."""
    if target and urlsplit(target).path != urlsplit(links.annotation(annotation.pk)).path:
        raise AnnotationError(
            f"The reply's target {target!r} is not annotation {annotation.pk}, whose replies "
            "this request is for.",
            field="target",
        )
