from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.http import HttpResponseBadRequest, JsonResponse


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Django's login-required-by-default, except for the JSON API.

    The API authenticates itself (session or bearer token) and answers 401 JSON: a script
    must never be redirected to an HTML login page (docs/api.md).
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def refuse_nul_characters(get_response):
    """Answer 400 to a request whose path, query or form fields hold a NUL character.

    No person types one, and PostgreSQL can neither store nor even compare text containing
    it: left alone, a NUL in a URL or a field turns a lookup into a server error.
    """

    def middleware(request):
        form = request.POST if request.method == "POST" else {}
        fields = [*request.GET.lists(), *(form.lists() if form else [])]
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in fields
        ):
            message = "The request contains a NUL character, which is never valid here."
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware
