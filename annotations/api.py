"""The JSON API (SPEC §8): articles, and their annotations as W3C Web Annotation JSON-LD.

Why django-ninja (rather than Django REST framework with drf-spectacular): the request and
response shapes are typed pydantic schemas, and the OpenAPI document is generated from those
same types, so what the docs promise is what the code checks; it is small (one dependency
besides pydantic), and its operations are plain functions with Django requests, so they read
like our views and call the same access helpers and domain functions.

Every operation authenticates itself (the login middleware lets /api/ through, SPEC §8):
`Authorization: Bearer <token>` (tokens are made in the admin), or the browser's session, with
the CSRF check on unsafe methods. Errors are JSON `{"detail": "<what is wrong>"}`.
"""

import logging
import math
from datetime import date
from functools import wraps
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import Resolver404, register_converter, resolve, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf
from pydantic import AfterValidator, BaseModel

from newsroom.models import Article

from . import webannotation as wa
from .access import (
    get_annotation_to_change,
    get_annotation_to_delete,
    get_article_for_user,
    get_article_to_annotate,
)
from .export import streamed_download
from .models import Annotation, ApiToken
from .services import (
    AnnotationError,
    create_annotation,
    delete_annotation,
    reselect_annotation,
    update_annotation,
)

logger = logging.getLogger(__name__)

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000


# Authentication ---------------------------------------------------------------------------


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`: a per-user token from the admin (stored hashed)."""

    def authenticate(self, request: HttpRequest, token: str):
        user = ApiToken.user_for(token)
        if user is not None:
            # The access helpers and django-simple-history ("who changed this") read
            # request.user; for a token call it is the token's owner.
            request.user = user
        return user


class SessionWithCsrf(SessionAuth):
    """The browser's login session, with Django's CSRF check on unsafe methods.

    ninja's SessionAuth checks CSRF before it knows whether anyone is signed in, so an
    anonymous POST would get 403 "CSRF failed"; a script without credentials must get 401.
    """

    def __call__(self, request: HttpRequest):
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise HttpError(
                403,
                "CSRF check failed: a call with the login session must send the CSRF token in "
                "the X-CSRFToken header (scripts should use a bearer token instead).",
            )
        return request.user


def signed_in_for_docs(view):
    """The OpenAPI document and the docs page are for signed-in users, like every page, and
    only answer GET and HEAD."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return JsonResponse(
                {"detail": f"{request.method} is not allowed here: use GET."},
                status=405,
                headers={"Allow": "GET, HEAD"},
            )
        if not request.user.is_authenticated and BearerToken()(request) is None:
            if request.path_info == reverse("api:openapi-json"):
                return JsonResponse({"detail": UNAUTHENTICATED}, status=401, headers=CHALLENGE)
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


class SwaggerUnderCsp(Swagger):
    """Swagger UI from ninja's bundled static files (no CDN), in a page that obeys our CSP.

    ninja's own template already keeps its JavaScript in files; ours adds the nonce anyway and
    renders through Django whether or not ninja's template would pick its CDN variant.
    """

    template = "annotations/api_docs.html"

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": self.settings,
            "api": api,
            "add_csrf": True,
        }
        return render(request, self.template, context)


UNAUTHENTICATED = (
    "Authentication required: send 'Authorization: Bearer <token>' (an administrator makes "
    "tokens in the admin) or call from a signed-in browser session."
)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


api = NinjaAPI(
    title="Newsroom annotations API",
    version="1",
    description=(
        "Articles and their annotations as W3C Web Annotation JSON-LD "
        "(https://www.w3.org/TR/annotation-model/). Authenticate with "
        "`Authorization: Bearer <token>` (tokens are made in the admin) or a browser session "
        "(send the CSRF token in `X-CSRFToken` on POST, PATCH and DELETE). Offsets count "
        "Unicode code points of the article's `body`, end exclusive."
    ),
    urls_namespace="api",
    auth=[BearerToken(), SessionWithCsrf()],
    docs=SwaggerUnderCsp(settings={"validatorUrl": None, "tryItOutEnabled": False}),
    docs_decorator=signed_in_for_docs,
)


# Errors: JSON with a human message, never a 500 for client input ----------------------------


def error(request: HttpRequest, status: int, detail: str, **extra) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    response = error(request, 401, UNAUTHENTICATED)
    response["WWW-Authenticate"] = CHALLENGE["WWW-Authenticate"]
    return response


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # ninja turns any failure to parse the body into "Cannot parse request body"; say why.
    # (JSONDecodeError and UnicodeDecodeError are ValueErrors.)
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, ValueError):
        return error(request, 400, f"The request body is not valid JSON: {cause}.")
    if exc.status_code == 400 and isinstance(cause, RecursionError):
        return error(request, 400, "The request body is not valid JSON: it is nested too deeply.")
    return error(request, exc.status_code, str(exc))


@api.exception_handler(ValidationError)
def on_invalid(request, exc: ValidationError):
    problems = describe_validation_errors(exc.errors)
    return error(
        request, 400, "The request is not valid: " + "; ".join(problems) + ".", errors=problems
    )


@api.exception_handler(AnnotationError)
def on_annotation_error(request, exc: AnnotationError):
    extra = {"field": exc.field} if exc.field else {}
    return error(request, exc.status, exc.message, **extra)


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return error(request, 404, str(exc) or "Not found.")


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc: PermissionDenied):
    return error(request, 403, str(exc) or "You may not do this.")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc: RequestDataTooBig):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error(request, 413, f"The request body is larger than the limit of {limit:,} bytes.")


@api.exception_handler(Exception)
def on_bug(request, exc: Exception):
    # A bug, not bad input: log it with its traceback and still answer JSON.
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error(request, 500, "Something went wrong on the server; it has been logged.")


# pydantic reports a value that fits neither side of `X | list[X]` once per side, with the
# side's type name in the location; these are the "wrong kind of value" errors.
OBJECT_ERRORS = {"model_type", "model_attributes_type", "dict_type"}
LIST_ERRORS = {"list_type"}
SOURCES = {"body", "payload", "query", "path", "header", "cookie"}


def describe_validation_errors(errors: list[dict]) -> list[str]:
    """pydantic's errors as short sentences: `target.selector[1].start: Input should be ...`."""
    entries = []
    for err in errors:
        parts = []
        for i, part in enumerate(err.get("loc", ())):
            if isinstance(part, int):
                parts.append(f"[{part}]")
            elif i < 2 and part in SOURCES:
                continue
            elif "[" in part or part[:1].isupper():  # a union side's name, e.g. list[Selector]
                continue
            else:
                parts.append(("." if parts else "") + part)
        where = "".join(parts)
        kind = err.get("type")
        message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
        if kind in OBJECT_ERRORS:
            message = "Input should be a JSON object"
        elif kind in LIST_ERRORS:
            message = "Input should be a JSON array"
        elif kind == "missing" and not where:
            message = "the body is empty: send a JSON object"
        entries.append((where, kind, message))

    def deeper(where: str) -> bool:
        return any(
            other.startswith(where + ".") or other.startswith(where + "[") or (not where and other)
            for other, _, _ in entries
        )

    kinds_at: dict[str, set] = {}
    for where, kind, _ in entries:
        kinds_at.setdefault(where, set()).add(kind)
    problems = []
    for where, kind, message in entries:
        if kind in OBJECT_ERRORS | LIST_ERRORS:
            if deeper(where):
                continue  # the other side of the union applies, and its error says more
            if kinds_at[where] & OBJECT_ERRORS and kinds_at[where] & LIST_ERRORS:
                message = "Input should be a JSON object or an array of them"
        text = f"{where}: {message}" if where else message
        if text not in problems:
            problems.append(text)
    return problems


# Schemas: what goes in and comes out, and so what the OpenAPI document says ---------------


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


class ErrorOut(Schema):
    detail: str = Field(description="What is wrong, in plain words.")
    field: str | None = Field(None, description="The part of the request at fault, when one is.")
    errors: list[str] | None = Field(None, description="Each problem found in an invalid request.")


def errors(*codes: int) -> dict:
    return dict.fromkeys(codes, ErrorOut)


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
    body: list[TextualBodyIn] | TextualBodyIn
    target: TargetIn


class AnnotationPatchIn(BaseModel):
    """What to change: a tagging body changes the tag, a commenting body the note (an empty
    value removes it), a target moves the annotation (its quote is checked against the body).
    Anything left out stays as it is; read-only properties sent back are ignored."""

    body: list[TextualBodyIn] | TextualBodyIn | None = None
    target: TargetIn | None = None


class TextualBodyOut(Schema):
    type: Literal["TextualBody"]
    purpose: Literal["tagging", "commenting"]
    value: str
    format: Literal["text/plain"]


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


class AnnotationOut(Schema):
    context: Literal["http://www.w3.org/ns/anno.jsonld"] | None = Field(
        None, alias="@context", description="Left out on annotations inside a page."
    )
    id: str = Field(description="This annotation's URL in the API.")
    type: Literal["Annotation"]
    motivation: Literal["tagging"]
    body: list[TextualBodyOut]
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


class CollectionRefOut(Schema):
    id: str
    type: Literal["AnnotationCollection"]
    label: str
    total: int = Field(ge=0)
    first: str
    last: str


class AnnotationPageOut(Schema):
    context: Literal["http://www.w3.org/ns/anno.jsonld"] = Field(alias="@context")
    id: str
    type: Literal["AnnotationPage"]
    partOf: CollectionRefOut
    startIndex: int = Field(ge=0)
    items: list[AnnotationOut]
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


# Helpers ------------------------------------------------------------------------------------


def page_url(request: HttpRequest, page: int, per_page: int) -> str:
    query = {"page": page} | ({"per_page": per_page} if per_page != DEFAULT_PER_PAGE else {})
    return request.build_absolute_uri(request.path) + "?" + urlencode(query)


def page_bounds(total: int, page: int, per_page: int) -> tuple[int, int]:
    """(number of pages, offset of this page's first item); 404 past the last page."""
    pages = max(1, math.ceil(total / per_page))
    if page > pages:
        raise Http404(f"There is no page {page}: the last page is {pages}.")
    return pages, (page - 1) * per_page


def check_source_id(source_id: str) -> str:
    # A NUL cannot be in a stored source id, and PostgreSQL refuses to even compare with one.
    if "\x00" in source_id:
        raise Http404("There is no such article.")
    return source_id


def not_found_says_what(what: str):
    """Turn get_object_or_404's "No Article matches the given query." into plain words."""

    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except Http404:
                raise Http404(what.format(*args[1:], **kwargs)) from None

        return wrapper

    return decorator


@not_found_says_what("There is no article {0!r}.")
def find_article(user, source_id: str) -> Article:
    return get_article_for_user(user, check_source_id(source_id))


@not_found_says_what("There is no article {0!r}.")
def find_article_to_annotate(user, source_id: str) -> Article:
    return get_article_to_annotate(user, check_source_id(source_id))


@not_found_says_what("There is no annotation {0}.")
def find_annotation(user, annotation_id: int) -> Annotation:
    # Any signed-in user reads any annotation (SPEC §9).
    return get_object_or_404(Annotation.objects.with_related(), pk=annotation_id)


@not_found_says_what("There is no annotation {0}.")
def find_annotation_to_change(user, annotation_id: int) -> Annotation:
    return get_annotation_to_change(user, annotation_id)


@not_found_says_what("There is no annotation {0}.")
def find_annotation_to_delete(user, annotation_id: int) -> Annotation:
    return get_annotation_to_delete(user, annotation_id)


def article_summary(article: Article, links: wa.Links) -> dict:
    return {
        "id": links.article_api(article.source_id),
        "source_id": article.source_id,
        "title": article.title,
        "date": article.date,
        "url": links.article_page(article.source_id),
        "annotations": links.article_annotations(article.source_id),
        "annotation_count": article.annotation_count,
    }


# Operations ---------------------------------------------------------------------------------


@api.get("/", response={200: ApiRootOut, **errors(401)}, url_name="root", summary="Where to start")
def api_root(request):
    links = wa.Links.for_request(request)
    return {
        "articles": links.absolute(reverse("api:articles")),
        "openapi": links.absolute(reverse("api:openapi-json")),
        "docs": links.absolute(reverse("api:openapi-view")),
    }


@api.get(
    "/articles/",
    response={200: ArticleListOut, **errors(400, 401, 404)},
    url_name="articles",
    exclude_none=True,
    summary="List articles, newest first",
)
def list_articles(
    request,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    per_page: int = Query(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE),
):
    # Explicit order: Django drops Meta.ordering from GROUP BY queries such as this count;
    # the id makes pages stable among articles of the same date and title.
    articles = (
        Article.objects.with_annotation_count().defer("body").order_by("-date", "title", "id")
    )
    total = articles.count()
    pages, offset = page_bounds(total, page, per_page)
    links = wa.Links.for_request(request)
    return {
        "total": total,
        "page": page,
        "pages": pages,
        "next": page_url(request, page + 1, per_page) if page < pages else None,
        "prev": page_url(request, page - 1, per_page) if page > 1 else None,
        "items": [article_summary(a, links) for a in articles[offset : offset + per_page]],
    }


@api.get(
    "/articles/{source_id}/",
    response={200: ArticleDetailOut, **errors(401, 404)},
    url_name="article",
    summary="One article with its plain-text body",
)
def get_article(request, source_id: str):
    article = find_article(request.auth, source_id)
    article.annotation_count = article.annotations.count()
    blocks = [
        {"kind": block.kind, "start": start, "end": start + len(block.text)}
        for block, start in article.blocks_with_starts()
    ]
    return {
        **article_summary(article, wa.Links.for_request(request)),
        "body": article.body,
        "blocks": blocks,
    }


@api.get(
    "/articles/{source_id}/annotations/",
    response={200: AnnotationPageOut, **errors(400, 401, 404)},
    url_name="article_annotations",
    by_alias=True,
    exclude_none=True,
    summary="An article's annotations: a W3C AnnotationPage",
)
def list_annotations(
    request,
    source_id: str,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    per_page: int = Query(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE),
):
    article = find_article(request.auth, source_id)
    annotations = Annotation.objects.for_article(article).select_related("tag", "author")
    total = annotations.count()
    pages, offset = page_bounds(total, page, per_page)
    items = list(annotations.order_by("start", "end", "id")[offset : offset + per_page])
    for annotation in items:
        annotation.article = article  # already loaded: no query per item
    links = wa.Links.for_request(request)
    return wa.annotation_page(
        items,
        links,
        page_id=page_url(request, page, per_page),
        collection_id=links.article_annotations(article.source_id),
        label=f"Annotations of “{article.title}”",
        total=total,
        start_index=offset,
        first=page_url(request, 1, per_page),
        last=page_url(request, pages, per_page),
        next_page=page_url(request, page + 1, per_page) if page < pages else None,
        prev_page=page_url(request, page - 1, per_page) if page > 1 else None,
    )


@api.post(
    "/articles/{source_id}/annotations/",
    response={201: AnnotationOut, **errors(400, 401, 403, 404, 409, 413)},
    url_name="article_annotations",
    by_alias=True,
    exclude_none=True,
    summary="Annotate a passage (editors)",
)
def create(request, source_id: str, payload: AnnotationIn, response: HttpResponse):
    article = find_article_to_annotate(request.auth, source_id)
    links = wa.Links.for_request(request)
    data = payload.model_dump()
    wa.check_target_source(data["target"]["source"], article, links)
    tag_slug, note = wa.read_bodies(wa.bodies_of(data["body"]))
    if tag_slug is None:
        raise AnnotationError(
            "The annotation needs a body with purpose 'tagging' whose value is a tag's slug, "
            "e.g. 'claim'.",
            field="body",
        )
    selection = wa.read_selection(data["target"])
    annotation = create_annotation(
        article=article,
        tag=wa.find_tag(tag_slug),
        start=selection.start,
        end=selection.end,
        quote=selection.exact,
        note=note or "",
        author=request.auth,
    )
    response["Location"] = links.annotation(annotation.pk)
    return Status(201, wa.annotation_to_jsonld(annotation, links))


@api.get(
    "/annotations/{int:annotation_id}/",
    response={200: AnnotationOut, **errors(401, 404)},
    url_name="annotation",
    by_alias=True,
    exclude_none=True,
    summary="One annotation",
)
def get_annotation(request, annotation_id: int):
    annotation = find_annotation(request.auth, annotation_id)
    return wa.annotation_to_jsonld(annotation, wa.Links.for_request(request))


@api.patch(
    "/annotations/{int:annotation_id}/",
    response={200: AnnotationOut, **errors(400, 401, 403, 404, 409, 413)},
    url_name="annotation",
    by_alias=True,
    exclude_none=True,
    summary="Change an annotation's tag, note or passage (its author, or staff)",
)
def change(request, annotation_id: int, payload: AnnotationPatchIn):
    annotation = find_annotation_to_change(request.auth, annotation_id)
    links = wa.Links.for_request(request)
    data = payload.model_dump()
    tag_slug, note = wa.read_bodies(wa.bodies_of(data["body"]))
    selection = None
    if data["target"] is not None:
        wa.check_target_source(data["target"]["source"], annotation.article, links)
        selection = wa.read_selection(data["target"])
    with transaction.atomic():  # all of it or none of it
        tag = wa.find_tag(tag_slug) if tag_slug is not None else None
        # The representation sent back unchanged keeps the stored passage, even a fuzzy one
        # whose quote differs from the text at its offsets; only a different one moves it.
        if selection is not None and (selection.start, selection.end, selection.exact) != (
            annotation.start,
            annotation.end,
            annotation.quote,
        ):
            reselect_annotation(
                annotation,
                start=selection.start,
                end=selection.end,
                quote=selection.exact,
                actor=request.auth,
            )
        update_annotation(annotation, tag=tag, note=note, actor=request.auth)
    return wa.annotation_to_jsonld(annotation, links)


@api.delete(
    "/annotations/{int:annotation_id}/",
    response={204: None, **errors(401, 403, 404)},
    url_name="annotation",
    summary="Remove an annotation (its author, or staff)",
)
def remove(request, annotation_id: int):
    annotation = find_annotation_to_delete(request.auth, annotation_id)
    delete_annotation(annotation, actor=request.auth)
    return Status(204, None)


class AnyPathConverter:
    """Like Django's `path` converter, but also across a newline (`.` stops at one), so that
    no URL under /api/ falls through to the HTML error page."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyPathConverter, "anypath")


@api.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{anypath:rest}",
    auth=None,
    include_in_schema=False,
    url_name="no_such_endpoint",
)
def no_such_endpoint(request, rest: str):
    """Unknown API URLs answer 404 JSON too, not the HTML error page."""
    hint = ""
    try:
        with_slash = resolve(request.path_info + "/")
    except Resolver404:
        with_slash = None
    if with_slash is not None and with_slash.url_name != "no_such_endpoint":
        hint = f" Did you mean {request.path}/ (with a trailing slash)?"
    raise Http404(
        f"There is no API endpoint at {request.path}.{hint} "
        f"The documentation is at {reverse('api:openapi-view')}."
    )


def api_urls():
    """`api.urls`, with ninja's plain-text 405 answers turned into JSON like every error."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = json_method_not_allowed(pattern.callback)
    return patterns, app_name, namespace


def json_method_not_allowed(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            allowed = response.get("Allow", "")
            replacement = JsonResponse(
                {"detail": f"{request.method} is not allowed here; allowed: {allowed}."}, status=405
            )
            replacement["Allow"] = allowed
            return replacement
        return response

    for attribute in ("csrf_exempt",):
        if hasattr(view, attribute):
            setattr(wrapper, attribute, getattr(view, attribute))
    return wrapper


# Downloads (login required by the middleware, like every page): one AnnotationCollection -----


def jsonld_download(chunks, filename: str) -> StreamingHttpResponse:
    return streamed_download(chunks, filename=filename, content_type=wa.MEDIA_TYPE)


@login_required
@require_safe
@never_cache
def export_jsonld_all(request: HttpRequest) -> StreamingHttpResponse:
    return jsonld_download(wa.export_chunks(wa.Links.for_request(request)), "annotations.jsonld")


@login_required
@require_safe
@never_cache
def export_jsonld_article(request: HttpRequest, source_id: str) -> StreamingHttpResponse:
    article = get_article_for_user(request.user, check_source_id(source_id))
    chunks = wa.export_chunks(wa.Links.for_request(request), article)
    return jsonld_download(chunks, f"{article.source_id}-annotations.jsonld")
