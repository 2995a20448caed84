"""Who is calling: a bearer token, or the browser's login session with its CSRF token.

Every operation authenticates itself: the login middleware lets /api/ through, so that a
script without credentials gets 401 JSON rather than a redirect to the login page.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from ..models import ApiToken

UNAUTHENTICATED = (
    "Authentication required: send 'Authorization: Bearer <token>' (an administrator makes "
    "tokens in the admin) or call from a signed-in browser session."
)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="api"'}


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
