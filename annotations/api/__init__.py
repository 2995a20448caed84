"""The JSON API: articles, and their annotations as W3C Web Annotation JSON-LD.

docs/api.md describes the contract. Here the API is put together: authentication (auth.py),
JSON errors (errors.py), schemas and the reading of request bodies (schemas.py), and the
operations: articles and their annotations (operations.py), replies (replies.py) and the
search across articles (finding.py).

Why django-ninja (rather than Django REST framework with drf-spectacular): the request and
response shapes are typed pydantic schemas, and the OpenAPI document is generated from those
same types, so what the docs promise is what the code checks; it is small (one dependency
besides pydantic), and its operations are plain functions with Django requests, so they read
like our views and call the same access helpers and domain functions.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger

from . import errors, finding, operations, replies
from .auth import BearerToken, SessionWithCsrf, signed_in_for_docs


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
    renderer=errors.RENDERER,
    # No deep links: Swagger UI would put them inside each operation's button (a link in a
    # button is unreachable for the keyboard and confuses screen readers).
    docs=SwaggerUnderCsp(
        settings={"validatorUrl": None, "tryItOutEnabled": False, "deepLinking": False}
    ),
    docs_decorator=signed_in_for_docs,
)
errors.install(api)
api.add_router("", operations.router)
api.add_router("", replies.router)
api.add_router("", finding.router)
api.add_router("", errors.unknown_endpoints)  # last: it answers what the others do not


def api_urls():
    """`api.urls`, with ninja's plain-text 405 answers turned into JSON like every error."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        pattern.callback = errors.json_method_not_allowed(pattern.callback)
    return patterns, app_name, namespace
