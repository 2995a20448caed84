"""Every URL the app serves × every role × every method, generated from the URL conf.

`POLICIES` says, for each named route, which methods it serves and who may use each. A route
added to the URL conf without an entry here fails `test_it_knows_every_route`, so no new view
ships without someone deciding who may call it — and the matrix then proves the view enforces
that decision.
"""

import json
from urllib.parse import urlencode

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from annotations.models import Annotation, Mention, Reply

from . import factories

PUBLIC, READ, ANNOTATE, OWN = "public", "read", "annotate", "own"
METHODS = ("GET", "POST", "PATCH", "DELETE")

POLICIES: dict[str, dict[str, str]] = {
    "login": {"GET": PUBLIC, "POST": PUBLIC},
    "healthz": {"GET": PUBLIC},
    "logout": {"POST": PUBLIC},
    "article_list": {"GET": READ},
    "article_detail": {"GET": READ},
    "article_changes": {"GET": READ},
    "annotation_page": {"GET": READ},
    "export_csv_all": {"GET": READ},
    "export_csv_article": {"GET": READ},
    "export_jsonld_all": {"GET": READ},
    "export_jsonld_article": {"GET": READ},
    "annotation_entry": {"GET": READ},
    "annotation_create": {"POST": ANNOTATE},
    "annotation_update": {"POST": OWN},
    "annotation_delete": {"POST": OWN},
    "annotation_restore": {"POST": OWN},
    "annotation_reselect": {"POST": OWN},
    "api:api-root": {"GET": READ},
    "api:root": {"GET": READ},
    "api:openapi-json": {"GET": READ},
    "api:openapi-view": {"GET": READ},
    "api:articles": {"GET": READ},
    "api:article": {"GET": READ},
    "api:article_annotations": {"GET": READ, "POST": ANNOTATE},
    "api:annotation": {"GET": READ, "PATCH": OWN, "DELETE": OWN},
    # The desk: any editor reviews, links and replies; a reply is changed by its author or staff.
    "annotation_review": {"GET": READ, "POST": ANNOTATE},
    "annotation_review_history": {"GET": READ},
    "annotation_answers": {"GET": READ, "POST": ANNOTATE},
    "annotation_replies": {"GET": READ, "POST": ANNOTATE},
    "reply_edit": {"GET": OWN},
    "reply_update": {"POST": OWN},
    "reply_delete": {"POST": OWN},
    "for_you": {"GET": READ},
    "for_you_read": {"POST": READ},
    "mention_open": {"POST": READ},
    "api:annotation_replies": {"GET": READ, "POST": ANNOTATE},
    "api:reply": {"GET": READ, "PATCH": OWN, "DELETE": OWN},
    "api:annotations": {"GET": READ},
    "desk": {"GET": READ},
    "desk_stats": {"GET": READ},
    "desk_stats_csv": {"GET": READ},
    "claimreview": {"GET": READ},
}
# Routes that are not views of ours to walk: the Django admin (staff-only, tested below and in
# test_security.py) and the API's catch-all that answers any unknown /api/ path with 404 JSON.
NOT_WALKED = {"api:no_such_endpoint"}
# Pages for people that live under /api/: anonymous visitors go to the login page, not a 401.
HTML_UNDER_API = {"api:openapi-view"}

ROLES = ("anonymous", "viewer", "author", "other_editor", "staff")
ALLOWED = {
    PUBLIC: set(ROLES),
    READ: {"viewer", "author", "other_editor", "staff"},
    ANNOTATE: {"author", "other_editor", "staff"},
    OWN: {"author", "staff"},
}


def named_routes(patterns=None, namespace: str = "", prefix: str = ""):
    """(full name, route) for every named view in the URL conf, admin excluded."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_routes(entry.url_patterns, ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern)


def test_it_knows_every_route():
    served = {name for name, _ in named_routes()}
    unknown = served - set(POLICIES) - NOT_WALKED
    assert not unknown, f"Routes without a permission policy in this test: {sorted(unknown)}"
    gone = set(POLICIES) - served
    assert not gone, f"Policies for routes the URL conf no longer serves: {sorted(gone)}"


def url_for(name: str, article, annotation, reply=None, mention=None) -> str:
    route = dict(named_routes())[name]
    kwargs = {}
    if "<str:source_id>" in route or "<source_id>" in route:
        kwargs["source_id"] = article.source_id
    if "<slug:name>" in route:
        kwargs["name"] = "claims"  # a statistic of the desk
    # The reply routes take the reply's id, "open a mention" the mention's (without them, the
    # annotation's id stands in: a walk that only wants some URL of each route).
    pk = annotation.pk
    if name.startswith("reply_") and reply is not None:
        pk = reply.pk
    elif name == "mention_open" and mention is not None:
        pk = mention.pk
    reply_pk = reply.pk if reply is not None else annotation.pk
    for key in ("pk", "annotation_id", "reply_id"):
        if f":{key}>" in route or f"<{key}>" in route:
            kwargs[key] = reply_pk if key == "reply_id" else pk
    return reverse(name, kwargs=kwargs)


def payload(name: str, method: str, article, annotation, answered=None) -> tuple[bytes | dict, str]:
    """A valid request body for the route, so an allowed role succeeds and a refused one can
    only have been refused for who it is, not for what it sent."""
    start = article.body.index("mayor")
    selection = {"start": start, "end": start + 5, "quote": "mayor"}
    reply_body = {"body": {"type": "TextualBody", "value": "matrix"}}
    desk = {
        "annotation_review": ({"state": "resolved"}, "form"),
        "annotation_answers": ({"answers": answered.pk if answered else ""}, "form"),
        "annotation_replies": ({"text": "matrix"}, "form"),
        "reply_update": ({"text": "matrix"}, "form"),
        "api:annotation_replies": (reply_body, "json"),
        "api:reply": (reply_body, "json"),
    }
    if name in desk and method != "GET":
        return desk[name]
    if name == "annotation_create":
        return {**selection, "tag": "figure", "note": "matrix"}, "form"
    if name == "annotation_update":
        return {"note": "matrix"}, "form"
    if name == "annotation_reselect":
        return selection, "form"
    if name == "api:article_annotations" and method == "POST":
        return {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "type": "Annotation",
            "body": [
                {"type": "TextualBody", "purpose": "tagging", "value": "figure"},
                {"type": "TextualBody", "purpose": "commenting", "value": "matrix"},
            ],
            "target": {
                "source": "http://testserver" + article.get_absolute_url(),
                "selector": [
                    {"type": "TextQuoteSelector", "exact": "mayor"},
                    {"type": "TextPositionSelector", "start": start, "end": start + 5},
                ],
            },
        }, "json"
    if name == "api:annotation" and method == "PATCH":
        return {"body": {"type": "TextualBody", "purpose": "commenting", "value": "matrix"}}, "json"
    return {}, "form" if not name.startswith("api:") else "json"


def send(client, method: str, url: str, body, kind: str):
    if kind == "json":
        data = json.dumps(body).encode() if body else b""
        return client.generic(method, url, data=data, content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.generic(
        method, url, data=urlencode(body), content_type="application/x-www-form-urlencoded"
    )


CASES = [(name, method, role) for name in POLICIES for method in METHODS for role in ROLES]


@pytest.mark.django_db
@pytest.mark.parametrize("name,method,role", CASES, ids=["-".join(c) for c in CASES])
def test_it_enforces_the_policy(client, name, method, role):
    author = factories.EditorFactory(username="author")
    users = {
        "viewer": factories.UserFactory(username="viewer"),
        "author": author,
        "other_editor": factories.EditorFactory(username="other_editor"),
        "staff": factories.StaffFactory(username="staff"),
    }
    factories.tag("figure")
    article = factories.ArticleFactory(source_id="matrix_article")
    annotation = factories.AnnotationFactory(article=article, author=author, quote="council")
    answered = factories.AnnotationFactory(article=article, author=author, quote="roads")
    reply = Reply.objects.create(annotation=annotation, author=author, text="first")
    mention = Mention.objects.create(
        annotation=annotation, reply=reply, user=users.get(role, author), mentioned_by=author
    )
    url = url_for(name, article, annotation, reply, mention)
    if name == "annotation_restore":
        annotation.delete()  # only a deleted annotation can be restored
    if role != "anonymous":
        client.force_login(users[role])
    before = Annotation.objects.count()
    replies_before = Reply.objects.count()

    response = send(client, method, url, *payload(name, method, article, annotation, answered))
    status = response.status_code
    level = POLICIES[name].get(method)
    is_api = url.startswith("/api/") and name not in HTML_UNDER_API
    to_login = status == 302 and "/accounts/login/" in response.headers.get("Location", "")
    where = f"{method} {url} as {role}"
    assert status < 500, f"{where}: {status}"

    if level is None:
        # A method the route does not serve: refused for everyone, before or after login.
        if role == "anonymous":
            assert (status == 401 if is_api else to_login) or status == 405, f"{where}: {status}"
        else:
            assert status in (403, 405), f"{where} answered {status}"
    elif role in ALLOWED[level]:
        # (Logging out sends everyone to the login page: a public route may redirect there.)
        assert status < 400 and (level == PUBLIC or not to_login), f"{where}: {status}"
        return
    elif role == "anonymous":
        if is_api:
            assert status == 401, f"{where}: {status}"
            assert response.headers["Content-Type"].startswith("application/json")
        else:
            assert to_login, f"{where}: {status}"
    else:
        assert status == 403, f"{where} should be refused, got {status}"

    # A refusal changes nothing.
    assert Annotation.objects.count() == before
    assert Reply.objects.count() == replies_before
    if name != "annotation_restore":
        annotation.refresh_from_db()
        assert (annotation.note, annotation.quote) == ("", "council")
        assert (annotation.review_state, annotation.answers_id) == ("open", None)
        assert Reply.objects.get(pk=reply.pk).text == "first"
        assert Mention.objects.get(pk=mention.pk).read is None
    else:
        assert not Annotation.objects.filter(quote="council").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_it_lets_only_staff_into_the_admin(client, role):
    users = {
        "viewer": factories.UserFactory(username="viewer"),
        "author": factories.EditorFactory(username="author"),
        "other_editor": factories.EditorFactory(username="other_editor"),
        "staff": factories.StaffFactory(username="staff"),
    }
    if role != "anonymous":
        client.force_login(users[role])
    for url in ("/admin/", "/admin/annotations/annotation/", "/admin/newsroom/article/"):
        response = client.get(url)
        if role == "staff":
            assert response.status_code == 200, url
        else:
            assert response.status_code == 302, url
            assert "login/" in response.headers["Location"]
