"""How the pages refuse: an htmx request gets the article page's error fragment, which its
script shows in the page's alert region, with the status that says why (400, 403, 404, 409);
a plain request keeps Django's own pages. Shared by views.py and factcheck_views.py.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

ERROR_FRAGMENT = "annotations/article_detail.html#error"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def explain_refusals(view):
    """For htmx requests, answer a refusal (403) or a vanished object (404) with the error
    fragment the page shows in its alert region; plain requests keep Django's own pages."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as error:
            if not request.htmx:
                raise
            message = str(error) or "You are not allowed to do that."
            return error_fragment(request, message, status=403)
        except Http404:
            if not request.htmx:
                raise
            message = (
                "That annotation or article no longer exists (someone may have deleted it). "
                "Reload the page to see the current state."
            )
            return error_fragment(request, message, status=404)

    return wrapper


def error_fragment(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, ERROR_FRAGMENT, {"error": message}, status=status)
