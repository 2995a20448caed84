"""Every failure under /api/ answers JSON `{"detail": "<what is wrong>"}` with the right
status, never an HTML page, and never a 500 for anything a client can send.

`install(api)` registers the exception handlers; `describe_validation_errors` turns
pydantic's errors into short sentences; `unknown_endpoints` answers URLs the API does not
serve; `json_method_not_allowed` rewrites ninja's plain-text 405.
"""

import logging
from functools import wraps

import orjson
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, register_converter, resolve, reverse
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

from ..services import AnnotationError
from .auth import CHALLENGE, UNAUTHENTICATED

logger = logging.getLogger(__name__)


class ErrorOut(Schema):
    detail: str = Field(description="What is wrong, in plain words.")
    field: str | None = Field(None, description="The part of the request at fault, when one is.")
    errors: list[str] | None = Field(None, description="Each problem found in an invalid request.")
    version: int | None = Field(
        None, description="The annotation's current version, when If-Match named an older one."
    )


def error_responses(*codes: int) -> dict:
    """`response=` entries saying that these statuses answer an ErrorOut."""
    return dict.fromkeys(codes, ErrorOut)


class OrjsonRenderer(BaseRenderer):
    """ninja's JSON renderer, written by orjson: a page of 500 annotations took 3 ms with the
    standard library's encoder, a fifth of that with orjson. Types orjson does not know, and
    datetimes (so they read as before), go to ninja's own encoder."""

    media_type = "application/json"
    charset = "utf-8"
    default = NinjaJSONEncoder().default
    options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS

    def render(self, request, data, *, response_status):
        return orjson.dumps(data, default=self.default, option=self.options)


# The renderer every answer is written with, errors included (the API's `renderer`).
RENDERER = OrjsonRenderer()


def error(request: HttpRequest, status: int, detail: str, **extra) -> HttpResponse:
    content = RENDERER.render(request, {"detail": detail, **extra}, response_status=status)
    return HttpResponse(
        content, status=status, content_type=f"{RENDERER.media_type}; charset={RENDERER.charset}"
    )


def on_unauthenticated(request, exc):
    response = error(request, 401, UNAUTHENTICATED)
    response["WWW-Authenticate"] = CHALLENGE["WWW-Authenticate"]
    return response


def on_http_error(request, exc: HttpError):
    # ninja turns any failure to parse the body into "Cannot parse request body"; say why.
    # (JSONDecodeError and UnicodeDecodeError are ValueErrors.)
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, ValueError):
        return error(request, 400, f"The request body is not valid JSON: {cause}.")
    if exc.status_code == 400 and isinstance(cause, RecursionError):
        return error(request, 400, "The request body is not valid JSON: it is nested too deeply.")
    return error(request, exc.status_code, str(exc))


def on_invalid(request, exc: ValidationError):
    problems = describe_validation_errors(exc.errors)
    return error(
        request, 400, "The request is not valid: " + "; ".join(problems) + ".", errors=problems
    )


def on_annotation_error(request, exc: AnnotationError):
    extra = {"field": exc.field} if exc.field else {}
    return error(request, exc.status, exc.message, **extra)


def on_not_found(request, exc: Http404):
    return error(request, 404, str(exc) or "Not found.")


def on_forbidden(request, exc: PermissionDenied):
    return error(request, 403, str(exc) or "You may not do this.")


def on_too_big(request, exc: RequestDataTooBig):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error(request, 413, f"The request body is larger than the limit of {limit:,} bytes.")


def on_bug(request, exc: Exception):
    # A bug, not bad input: log it with its traceback and still answer JSON.
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return error(request, 500, "Something went wrong on the server; it has been logged.")


# ninja picks the handler of the closest class in the exception's ancestry, so the order here
# does not matter (AuthenticationError is an HttpError, and gets its own answer).
HANDLERS = {
    AuthenticationError: on_unauthenticated,
    HttpError: on_http_error,
    ValidationError: on_invalid,
    AnnotationError: on_annotation_error,
    Http404: on_not_found,
    PermissionDenied: on_forbidden,
    RequestDataTooBig: on_too_big,
    Exception: on_bug,
}


def install(api: NinjaAPI) -> None:
    for exc_class, handler in HANDLERS.items():
        api.add_exception_handler(exc_class, handler)


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


# URLs the API does not serve ----------------------------------------------------------------


class AnyPathConverter:
    """Like Django's `path` converter, but also across a newline (`.` stops at one), so that
    no URL under /api/ falls through to the HTML error page."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyPathConverter, "anypath")

# Mounted after every other router: it answers whatever URL they do not.
unknown_endpoints = Router()


@unknown_endpoints.api_operation(
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


def json_method_not_allowed(view):
    """ninja answers a method an operation does not serve in plain text; answer JSON."""

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
