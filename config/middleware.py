from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpResponse, JsonResponse


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's login-required-by-default, except for the JSON API.

    The API authenticates itself (session or bearer token) and answers 401 JSON: a script
    must never be redirected to an HTML login page (docs/api.md).
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if is_api(request):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def refusal(request, status: int, message: str) -> HttpResponse:
    """The API answers JSON (docs/api.md); pages a short plain sentence."""
    if is_api(request):
        return JsonResponse({"detail": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def body_refusal(request) -> tuple[int, str] | None:
    """(status, message) for a body this site never accepts, judged from the headers alone.

    Nothing here reads the body. Django counts only form fields against
    DATA_UPLOAD_MAX_MEMORY_SIZE: the file parts of a multipart body go to disk at any size,
    so multipart is refused outright (no page and no API operation takes a file), and a
    body announced larger than the limit is refused before a byte of it is read. A chunked
    body without a Content-Length cannot be measured before reading it: refused too.
    """
    if request.content_type.startswith("multipart/"):
        return 415, (
            "This site accepts no file uploads or multipart bodies: send a form URL-encoded, "
            "or JSON to the API."
        )
    length = request.META.get("CONTENT_LENGTH", "").strip()
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if not length:
        if request.META.get("HTTP_TRANSFER_ENCODING"):
            return 411, "Send the request body with a Content-Length header."
        return None
    if not length.isascii() or not length.isdigit():
        return 400, "The Content-Length header is not a number of bytes."
    if limit is not None and int(length) > limit:
        return 413, f"The request body is larger than the limit of {limit:,} bytes."
    return None


def refuse_unwanted_bodies(get_response):
    """Answer 411/413/415 to a body this site never accepts, before anything reads it.

    First among the middleware that could touch the body: it runs before the session, CSRF
    and login checks, so it may only look at headers (`body_refusal`).
    """

    def middleware(request):
        problem = body_refusal(request)
        if problem is not None:
            return refusal(request, *problem)
        return get_response(request)

    return middleware


NUL_MESSAGE = "The request contains a NUL character, which is never valid here."


def has_nul(fields) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in fields)


class RefuseNulCharacters:
    """Answer 400 to a request whose path, query or form fields hold a NUL character.

    No person types one, and PostgreSQL can neither store nor even compare text containing
    it: left alone, a NUL in a URL or a field turns a lookup into a server error. The path
    and query are checked at once; form fields only in `process_view`, which runs after the
    CSRF and login checks (this middleware comes after theirs), so an anonymous or forged
    request never gets its body parsed here. The API reads JSON, not forms, and refuses a
    NUL in its own validation (annotations/api/schemas.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or has_nul(request.GET.lists()):
            return refusal(request, 400, NUL_MESSAGE)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method == "POST" and not is_api(request) and has_nul(request.POST.lists()):
            return refusal(request, 400, NUL_MESSAGE)
        return None
