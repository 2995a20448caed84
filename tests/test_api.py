"""The JSON API (SPEC §8, §9, §10): every endpoint, who may do what, and bad input."""

import json

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from annotations.models import AnchorStatus, Annotation, ApiToken
from newsroom.models import BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, UserFactory

pytestmark = pytest.mark.django_db

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
ARTICLES = "/api/articles/"


def annotations_url(article) -> str:
    return f"/api/articles/{article.source_id}/annotations/"


def annotation_url(annotation) -> str:
    return f"/api/annotations/{annotation.pk}/"


def bearer(user, name="tests") -> dict:
    return {"Authorization": f"Bearer {ApiToken.issue(user=user, name=name)[1]}"}


def new_annotation(article, quote: str, *, tag="claim", note=None, start=None) -> dict:
    """A W3C Web Annotation as a client would POST it."""
    start = article.body.index(quote) if start is None else start
    bodies = [{"type": "TextualBody", "purpose": "tagging", "value": tag}]
    if note is not None:
        bodies.append({"type": "TextualBody", "purpose": "commenting", "value": note})
    return {
        "@context": CONTEXT,
        "type": "Annotation",
        "motivation": "tagging",
        "body": bodies,
        "target": {
            "source": f"http://testserver/articles/{article.source_id}/",
            "selector": [
                {"type": "TextQuoteSelector", "exact": quote},
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
            ],
        },
    }


def send(client, method: str, url: str, data=None, headers=None, raw: str | bytes | None = None):
    payload = raw if raw is not None else (json.dumps(data) if data is not None else None)
    call = getattr(client, method.lower())
    if payload is None:
        return call(url, headers=headers or {})
    return call(url, data=payload, content_type="application/json", headers=headers or {})


def assert_error(response, status: int, *phrases: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    for phrase in phrases:
        assert phrase in detail, detail
    return response.json()


# Authentication -----------------------------------------------------------------------------


ENDPOINTS = [
    ("GET", "/api/"),
    ("GET", ARTICLES),
    ("GET", "/api/articles/council_budget/"),
    ("GET", "/api/articles/council_budget/annotations/"),
    ("POST", "/api/articles/council_budget/annotations/"),
    ("GET", "/api/annotations/1/"),
    ("PATCH", "/api/annotations/1/"),
    ("DELETE", "/api/annotations/1/"),
    ("GET", "/api/openapi.json"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_it_answers_anonymous_calls_with_401_json_not_a_redirect(client, article, method, url):
    response = send(client, method, url, data={} if method in ("POST", "PATCH") else None)

    body = assert_error(response, 401, "Authentication required", "Bearer")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(body) == {"detail"}


def test_it_accepts_a_bearer_token_and_notes_when_it_was_used(client, editor, article):
    raw = ApiToken.issue(user=editor, name="script")[1]

    response = client.get(ARTICLES, headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    assert ApiToken.objects.get(user=editor).last_used is not None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nwr_not-a-real-token",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "nwr_no_scheme",
        "Bearer \x7f",
    ],
)
def test_it_refuses_a_wrong_or_malformed_token(client, editor, article, header):
    ApiToken.issue(user=editor, name="script")
    assert_error(client.get(ARTICLES, headers={"Authorization": header}), 401)


def test_it_refuses_a_revoked_token(client, editor):
    token, raw = ApiToken.issue(user=editor, name="script")
    token.revoked = timezone.now()
    token.save()

    assert_error(client.get(ARTICLES, headers={"Authorization": f"Bearer {raw}"}), 401)


def test_it_refuses_the_token_of_a_deactivated_user(client, editor):
    headers = bearer(editor)
    editor.is_active = False
    editor.save()

    assert_error(client.get(ARTICLES, headers=headers), 401)


def test_it_accepts_the_browser_session(client, viewer, article):
    client.force_login(viewer)
    assert client.get(ARTICLES).status_code == 200


def test_it_checks_csrf_on_changes_through_the_session(editor, article, claim):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    data = new_annotation(article, "roads")

    refused = send(browser, "POST", annotations_url(article), data)
    assert_error(refused, 403, "CSRF")
    assert not Annotation.objects.exists()

    browser.get("/accounts/login/")  # any page that sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = send(browser, "POST", annotations_url(article), data, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_it_needs_no_csrf_token_with_a_bearer_token(editor, article, claim):
    script = Client(enforce_csrf_checks=True)
    response = send(
        script, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(editor)
    )
    assert response.status_code == 201


def test_it_records_the_token_owner_in_the_history(client, editor, article, claim):
    response = send(
        client, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(editor)
    )

    annotation = Annotation.objects.get(pk=response.json()["id"].rstrip("/").rsplit("/", 1)[1])
    assert annotation.author == editor
    assert annotation.history.get().history_user == editor


# Reading ------------------------------------------------------------------------------------


def test_it_links_to_where_to_start(client, viewer):
    response = client.get("/api/", headers=bearer(viewer))
    assert response.json() == {
        "articles": "http://testserver/api/articles/",
        "openapi": "http://testserver/api/openapi.json",
        "docs": "http://testserver/api/docs",
    }


def test_it_lists_articles_newest_first_with_their_annotation_counts(client, viewer, article):
    older = ArticleFactory(source_id="older", date=article.date.replace(year=2020))
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=article, quote="budget")

    response = client.get(ARTICLES, headers=bearer(viewer))

    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 2 and data["page"] == 1 and data["pages"] == 1
    assert "next" not in data and "prev" not in data
    assert [a["source_id"] for a in data["items"]] == ["council_budget", "older"]
    first = data["items"][0]
    assert first == {
        "id": "http://testserver/api/articles/council_budget/",
        "source_id": "council_budget",
        "title": "Council budget row",
        "date": "2025-08-08",
        "url": "http://testserver" + reverse("article_detail", args=["council_budget"]),
        "annotations": "http://testserver/api/articles/council_budget/annotations/",
        "annotation_count": 2,
    }
    assert data["items"][1]["annotation_count"] == 0 and older


def test_it_pages_the_article_list(client, viewer):
    for n in range(5):
        ArticleFactory(source_id=f"story_{n}", title=f"Story {n}")
    headers = bearer(viewer)

    page2 = client.get(ARTICLES + "?page=2&per_page=2", headers=headers).json()

    assert page2["total"] == 5 and page2["pages"] == 3 and len(page2["items"]) == 2
    assert page2["next"] == "http://testserver/api/articles/?page=3&per_page=2"
    assert page2["prev"] == "http://testserver/api/articles/?page=1&per_page=2"
    last = client.get(page2["next"], headers=headers).json()
    assert len(last["items"]) == 1 and "next" not in last
    assert_error(
        client.get(ARTICLES + "?page=4&per_page=2", headers=headers),
        404,
        "no page 4",
        "last page is 3",
    )


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        ("page=0", "page: Input should be greater than or equal to 1"),
        ("page=abc", "page: Input should be a valid integer"),
        ("per_page=201", "per_page: Input should be less than or equal to 200"),
        ("page=99999999999999999999999", "page:"),
    ],
)
def test_it_refuses_bad_paging_with_400(client, viewer, query, phrase):
    body = assert_error(client.get(f"{ARTICLES}?{query}", headers=bearer(viewer)), 400, phrase)
    assert body["errors"]


def test_it_shows_an_article_with_its_plain_text_body_and_block_offsets(client, viewer, article):
    response = client.get(f"/api/articles/{article.source_id}/", headers=bearer(viewer))

    assert response.status_code == 200
    data = response.json()
    assert data["body"] == article.body
    assert data["title"] == "Council budget row"
    blocks = data["blocks"]
    assert [b["kind"] for b in blocks] == ["paragraph", "photo_credit", "heading", "paragraph"]
    assert [article.body[b["start"] : b["end"]] for b in blocks] == [
        b.text for b in article.blocks.all()
    ]


@pytest.mark.parametrize("source_id", ["no_such_story", "x" * 300])
def test_it_answers_404_json_for_a_missing_article(client, viewer, source_id):
    headers = bearer(viewer)
    assert_error(client.get(f"/api/articles/{source_id}/", headers=headers), 404, "no")
    assert_error(client.get(f"/api/articles/{source_id}/annotations/", headers=headers), 404)


def test_it_refuses_a_nul_character_in_the_path_with_400_json(client, viewer):
    headers = bearer(viewer)
    assert_error(client.get("/api/articles/a%00b/", headers=headers), 400, "NUL")


def test_it_names_the_missing_article(client, viewer):
    assert_error(
        client.get("/api/articles/gone/", headers=bearer(viewer)), 404, "There is no article 'gone'"
    )


def test_it_lists_an_articles_annotations_as_a_w3c_annotation_page(client, viewer, article):
    roads = AnnotationFactory(article=article, quote="roads", note="Which roads?")
    budget = AnnotationFactory(article=article, quote="budget")
    AnnotationFactory(article=ArticleFactory(), quote="budget")  # another article's

    response = client.get(annotations_url(article), headers=bearer(viewer))

    assert response.status_code == 200
    page = response.json()
    collection = "http://testserver" + annotations_url(article)
    assert page["@context"] == CONTEXT
    assert page["type"] == "AnnotationPage"
    assert page["id"] == collection + "?page=1"
    assert page["partOf"] == {
        "id": collection,
        "type": "AnnotationCollection",
        "label": "Annotations of “Council budget row”",
        "total": 2,
        "first": collection + "?page=1",
        "last": collection + "?page=1",
    }
    assert page["startIndex"] == 0
    assert "next" not in page and "prev" not in page
    # In body order; the page carries the context once for all its items.
    assert [item["id"] for item in page["items"]] == [
        f"http://testserver/api/annotations/{budget.pk}/",
        f"http://testserver/api/annotations/{roads.pk}/",
    ]
    assert all("@context" not in item for item in page["items"])
    assert page["items"][1]["body"][1] == {
        "type": "TextualBody",
        "purpose": "commenting",
        "value": "Which roads?",
        "format": "text/plain",
    }


def test_it_pages_annotations_with_next_and_prev(client, viewer, article):
    for _ in range(5):
        AnnotationFactory(article=article, quote="roads")
    headers = bearer(viewer)
    url = "http://testserver" + annotations_url(article)

    page = client.get(annotations_url(article) + "?page=2&per_page=2", headers=headers).json()

    assert page["id"] == url + "?page=2&per_page=2"
    assert page["startIndex"] == 2
    assert len(page["items"]) == 2
    assert page["next"] == url + "?page=3&per_page=2"
    assert page["prev"] == url + "?page=1&per_page=2"
    assert page["partOf"]["total"] == 5
    assert page["partOf"]["last"] == url + "?page=3&per_page=2"
    last = client.get(page["next"], headers=headers).json()
    assert len(last["items"]) == 1 and "next" not in last
    assert_error(client.get(annotations_url(article) + "?page=4&per_page=2", headers=headers), 404)


def test_it_answers_an_empty_page_for_an_article_without_annotations(client, viewer, article):
    page = client.get(annotations_url(article), headers=bearer(viewer)).json()
    assert page["items"] == [] and page["partOf"]["total"] == 0


def test_it_shows_one_annotation_with_its_context(client, viewer, article):
    annotation = AnnotationFactory(article=article, quote="roads")

    data = client.get(annotation_url(annotation), headers=bearer(viewer)).json()

    assert data["@context"] == CONTEXT
    assert data["id"] == f"http://testserver/api/annotations/{annotation.pk}/"
    assert data["creator"]["nickname"] == annotation.author.username
    assert data["status"] == "anchored"


@pytest.mark.parametrize("annotation_id", ["999", "0", "99999999999999999999999", "abc", "-1"])
def test_it_answers_404_json_for_a_missing_annotation(client, viewer, annotation_id):
    headers = bearer(viewer)
    for method in ("GET", "PATCH", "DELETE"):
        response = send(
            client,
            method,
            f"/api/annotations/{annotation_id}/",
            data={} if method == "PATCH" else None,
            headers=headers,
        )
        assert_error(response, 404)


def test_it_answers_404_json_for_an_unknown_endpoint_with_a_hint(client, viewer):
    headers = bearer(viewer)
    assert_error(
        client.get("/api/nothing/here", headers=headers),
        404,
        "There is no API endpoint",
        "/api/docs",
    )
    assert_error(client.get("/api/articles", headers=headers), 404, "Did you mean /api/articles/")
    assert_error(
        client.get("/api/annotations/%0A1/", headers=headers), 404, "There is no API endpoint"
    )
    assert_error(client.get("/api/%0A", headers=headers), 404, "There is no API endpoint")


def test_it_answers_405_json_for_a_wrong_method(client, viewer, article):
    response = send(
        client, "PUT", f"/api/articles/{article.source_id}/", data={}, headers=bearer(viewer)
    )
    assert_error(response, 405, "PUT is not allowed", "GET")
    assert response["Allow"] == "GET"


# Creating -----------------------------------------------------------------------------------


def test_it_creates_an_annotation_from_a_web_annotation(client, editor, article, claim):
    data = new_annotation(article, "30% of the budget", note="Source: council minutes")

    response = send(client, "POST", annotations_url(article), data, bearer(editor))

    assert response.status_code == 201, response.content
    annotation = Annotation.objects.get()
    assert (annotation.tag, annotation.quote, annotation.note, annotation.author) == (
        claim,
        "30% of the budget",
        "Source: council minutes",
        editor,
    )
    assert article.body[annotation.start : annotation.end] == "30% of the budget"
    created = response.json()
    assert (
        response["Location"]
        == created["id"]
        == f"http://testserver/api/annotations/{annotation.pk}/"
    )
    assert created["@context"] == CONTEXT
    assert created["body"][0]["value"] == "claim"
    assert created["target"]["selector"][0]["prefix"] == annotation.prefix


def test_it_accepts_a_single_body_and_a_single_selector_object(client, editor, article, claim):
    # The model allows one object where a list would hold one item.
    start = article.body.index("roads")
    data = {
        "body": {"type": "TextualBody", "purpose": "tagging", "value": "claim"},
        "target": {"selector": {"type": "TextQuoteSelector", "exact": "roads"}},
    }
    data["target"]["selector"] = [
        data["target"]["selector"],
        {"type": "TextPositionSelector", "start": start, "end": start + 5},
    ]

    response = send(client, "POST", annotations_url(article), data, bearer(editor))

    assert response.status_code == 201, response.content


def test_it_creates_a_selection_across_blocks_and_after_an_emoji(client, editor, claim):
    article = ArticleFactory(
        blocks=[
            BlockText(BlockKind.PARAGRAPH, "Fans 🎉 cheered."),
            BlockText(BlockKind.PARAGRAPH, "The mayor left."),
        ]
    )
    quote = "cheered.\n\nThe mayor"

    response = send(
        client, "POST", annotations_url(article), new_annotation(article, quote), bearer(editor)
    )

    assert response.status_code == 201, response.content
    position = response.json()["target"]["selector"][1]
    assert (position["start"], position["end"]) == (7, 7 + len(quote))


def test_it_refuses_a_quote_that_does_not_match_the_body_with_409(client, editor, article, claim):
    data = new_annotation(article, "roads")
    data["target"]["selector"][0]["exact"] = "rails"

    assert_error(
        send(client, "POST", annotations_url(article), data, bearer(editor)),
        409,
        "no longer matches",
    )
    assert not Annotation.objects.exists()


def test_it_refuses_an_unknown_tag_with_400(client, editor, article, claim, figure, rebuttal):
    data = new_annotation(article, "roads", tag="opinion")

    body = assert_error(
        send(client, "POST", annotations_url(article), data, bearer(editor)),
        400,
        "no tag 'opinion'",
        "claim, figure, rebuttal",
    )
    assert body["field"] == "body"


@pytest.mark.parametrize(
    ("start", "end", "phrase"),
    [
        (-1, 4, "outside the article"),
        (5, 10_000, "outside the article"),
        (8, 8, "empty"),
        (9, 3, "empty"),
    ],
)
def test_it_refuses_bad_offsets_with_400(client, editor, article, claim, start, end, phrase):
    data = new_annotation(article, "roads")
    data["target"]["selector"][1].update(start=start, end=end)
    data["target"]["selector"][0]["exact"] = article.body[max(start, 0) : max(end, 0)] or "x"

    assert_error(send(client, "POST", annotations_url(article), data, bearer(editor)), 400, phrase)


@pytest.mark.parametrize(
    ("change", "phrases"),
    [
        (lambda d: d.pop("body"), ["body: Field required"]),
        (lambda d: d.pop("target"), ["target: Field required"]),
        (lambda d: d["target"].pop("selector"), ["target.selector: Field required"]),
        (
            lambda d: d["body"][0].update(purpose="describing"),
            ["body[0].purpose: Input should be 'tagging' or 'commenting'"],
        ),
        (lambda d: d["body"][0].update(type="SpecificResource"), ["body[0].type"]),
        (
            lambda d: d["target"]["selector"][1].update(start="four"),
            ["target.selector[1].start: Input should be a valid integer"],
        ),
        (
            lambda d: d.update(body="claim"),
            ["body: Input should be a JSON object or an array of them"],
        ),
        (lambda d: d["body"].clear(), ["purpose 'tagging'"]),
        (lambda d: d["target"]["selector"].pop(1), ["needs a TextPositionSelector"]),
        (
            lambda d: d["body"].append(dict(d["body"][0])),
            ["at most one body with purpose 'tagging'"],
        ),
        (
            lambda d: d["body"].append(
                {"type": "TextualBody", "purpose": "commenting", "value": "a\x00b"}
            ),
            ["NUL"],
        ),
        (
            lambda d: d["body"].append(
                {"type": "TextualBody", "purpose": "commenting", "value": "x" * 5001}
            ),
            ["note is 5,001 characters", "limit is 5,000"],
        ),
        (
            lambda d: d["target"].update(source="http://testserver/articles/another/"),
            ["is not the article"],
        ),
    ],
)
def test_it_refuses_an_invalid_annotation_with_a_readable_400(
    client, editor, article, claim, change, phrases
):
    data = new_annotation(article, "roads")
    change(data)

    assert_error(
        send(client, "POST", annotations_url(article), data, bearer(editor)), 400, *phrases
    )
    assert not Annotation.objects.exists()


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        ("{not json", "not valid JSON"),
        ('{"body": [', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
        ("[]", "The request is not valid: Input should be a JSON object."),
        ('"a string"', "The request is not valid: Input should be a JSON object."),
        ("", "the body is empty"),
        ('{"body": "\\ud800", "target": {}}', "The request is not valid"),
    ],
)
def test_it_refuses_malformed_json_with_400(client, editor, article, raw, phrase):
    response = send(client, "POST", annotations_url(article), raw=raw, headers=bearer(editor))
    assert_error(response, 400, phrase)


def test_it_refuses_a_lone_surrogate_in_a_note(client, editor, article, claim):
    raw = json.dumps(new_annotation(article, "roads", note="NOTE")).replace("NOTE", "\\ud800")
    response = send(client, "POST", annotations_url(article), raw=raw, headers=bearer(editor))
    assert_error(
        response, 400, "body[1].value: must be valid Unicode text (it holds a lone surrogate)"
    )


def test_it_refuses_an_oversized_body_with_413(client, editor, article, claim, settings):
    data = new_annotation(article, "roads", note="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))

    assert_error(
        send(client, "POST", annotations_url(article), data, bearer(editor)),
        413,
        "larger than the limit",
    )
    assert not Annotation.objects.exists()


def test_it_refuses_to_annotate_a_missing_article_with_404(client, editor, article, claim):
    data = new_annotation(article, "roads")
    assert_error(
        send(client, "POST", "/api/articles/gone/annotations/", data, bearer(editor)),
        404,
        "no article 'gone'",
    )


# Changing and removing ----------------------------------------------------------------------


def test_it_changes_the_note_and_the_tag(client, editor, article, claim, figure):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="old")
    data = {
        "body": [
            {"type": "TextualBody", "purpose": "tagging", "value": "figure"},
            {"type": "TextualBody", "purpose": "commenting", "value": "new"},
        ]
    }

    response = send(client, "PATCH", annotation_url(annotation), data, bearer(editor))

    assert response.status_code == 200, response.content
    annotation.refresh_from_db()
    assert (annotation.tag, annotation.note) == (figure, "new")
    assert [b["value"] for b in response.json()["body"]] == ["figure", "new"]


def test_it_changes_only_what_is_sent(client, editor, article, claim):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="keep me")
    data = {"body": [{"type": "TextualBody", "purpose": "commenting", "value": "changed"}]}

    send(client, "PATCH", annotation_url(annotation), data, bearer(editor))

    annotation.refresh_from_db()
    assert (annotation.tag, annotation.note, annotation.quote) == (claim, "changed", "roads")


def test_it_removes_the_note_with_an_empty_commenting_body(client, editor, article):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="remove me")
    data = {"body": {"type": "TextualBody", "purpose": "commenting", "value": ""}}

    response = send(client, "PATCH", annotation_url(annotation), data, bearer(editor))

    annotation.refresh_from_db()
    assert annotation.note == ""
    assert [b["purpose"] for b in response.json()["body"]] == ["tagging"]


def test_it_accepts_its_own_representation_sent_back_for_a_fuzzy_annotation(
    client, editor, article
):
    # A fuzzy annotation's quote differs from the text at its offsets (SPEC §3); sending the
    # annotation back with a new note must not be mistaken for a move onto mismatching words.
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    Annotation.objects.filter(pk=annotation.pk).update(
        status=AnchorStatus.FUZZY, quote="the roads!"
    )
    headers = bearer(editor)
    data = client.get(annotation_url(annotation), headers=headers).json()
    data["body"].append({"type": "TextualBody", "purpose": "commenting", "value": "Checked"})

    response = send(client, "PATCH", annotation_url(annotation), data, headers)

    assert response.status_code == 200, response.content
    annotation.refresh_from_db()
    assert (annotation.note, annotation.status, annotation.quote) == (
        "Checked",
        "fuzzy",
        "the roads!",
    )


def test_it_moves_an_annotation_to_a_new_passage(client, editor, article):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    Annotation.objects.filter(pk=annotation.pk).update(status=AnchorStatus.ORPHANED)
    target = new_annotation(article, "The mayor denied it")["target"]

    response = send(client, "PATCH", annotation_url(annotation), {"target": target}, bearer(editor))

    assert response.status_code == 200, response.content
    annotation.refresh_from_db()
    assert (annotation.quote, annotation.status) == ("The mayor denied it", "anchored")
    assert article.body[annotation.start : annotation.end] == "The mayor denied it"


def test_it_changes_nothing_when_part_of_a_patch_is_refused(client, editor, article, claim):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor, note="old")
    target = new_annotation(article, "roads")["target"]
    target["selector"][0]["exact"] = "rails"
    data = {
        "body": {"type": "TextualBody", "purpose": "commenting", "value": "new"},
        "target": target,
    }

    assert_error(send(client, "PATCH", annotation_url(annotation), data, bearer(editor)), 409)
    annotation.refresh_from_db()
    assert annotation.note == "old"


@pytest.mark.parametrize(
    ("data", "status", "phrase"),
    [
        (
            {"body": {"type": "TextualBody", "purpose": "tagging", "value": "nope"}},
            400,
            "no tag 'nope'",
        ),
        (
            {"body": {"type": "TextualBody", "purpose": "commenting", "value": "x" * 5001}},
            400,
            "limit is 5,000",
        ),
        ({"body": {"purpose": "tagging"}}, 400, "body.value: Field required"),
    ],
)
def test_it_refuses_a_bad_patch(client, editor, article, claim, data, status, phrase):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    assert_error(
        send(client, "PATCH", annotation_url(annotation), data, bearer(editor)), status, phrase
    )


def test_it_deletes_an_annotation(client, editor, article):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    headers = bearer(editor)

    response = client.delete(annotation_url(annotation), headers=headers)

    assert response.status_code == 204
    assert response.content == b""
    assert not Annotation.objects.exists()
    assert_error(
        client.get(annotation_url(annotation), headers=headers),
        404,
        f"no annotation {annotation.pk}",
    )


# Who may do what (SPEC §9) ------------------------------------------------------------------

NOTE = {"body": {"type": "TextualBody", "purpose": "commenting", "value": "changed"}}


@pytest.fixture
def editors_annotation(article, editor):
    return AnnotationFactory(article=article, quote="roads", author=editor)


def test_a_viewer_reads_everything(client, viewer, editors_annotation, article):
    headers = bearer(viewer)
    for url in (
        ARTICLES,
        f"/api/articles/{article.source_id}/",
        annotations_url(article),
        annotation_url(editors_annotation),
    ):
        assert client.get(url, headers=headers).status_code == 200, url


def test_a_viewer_may_not_annotate(client, viewer, article, claim):
    response = send(
        client, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(viewer)
    )
    assert_error(response, 403, "Only editors may annotate")
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("who", ["viewer", "other_editor"])
def test_only_the_author_or_staff_change_or_delete(client, request, editors_annotation, who):
    headers = bearer(request.getfixturevalue(who))

    assert_error(
        send(client, "PATCH", annotation_url(editors_annotation), NOTE, headers),
        403,
        "author or staff",
    )
    assert_error(
        client.delete(annotation_url(editors_annotation), headers=headers), 403, "author or staff"
    )
    editors_annotation.refresh_from_db()
    assert editors_annotation.note == ""


@pytest.mark.parametrize("who", ["editor", "staff"])
def test_the_author_and_staff_change_and_delete(client, request, editors_annotation, who):
    headers = bearer(request.getfixturevalue(who))

    assert (
        send(client, "PATCH", annotation_url(editors_annotation), NOTE, headers).status_code == 200
    )
    editors_annotation.refresh_from_db()
    assert editors_annotation.note == "changed"
    assert client.delete(annotation_url(editors_annotation), headers=headers).status_code == 204
    assert not Annotation.objects.exists()


def test_staff_annotate_without_being_editors(client, staff, article, claim):
    response = send(
        client, "POST", annotations_url(article), new_annotation(article, "roads"), bearer(staff)
    )
    assert response.status_code == 201


def test_an_editor_removed_from_the_group_loses_the_right_to_change(
    client, editor, editors_annotation
):
    headers = bearer(editor)
    editor.groups.clear()
    assert_error(send(client, "PATCH", annotation_url(editors_annotation), NOTE, headers), 403)


# A round trip shows up everywhere -----------------------------------------------------------


def article_page(client, article) -> str:
    response = client.get(reverse("article_detail", args=[article.source_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_round_trips_post_get_patch_delete_and_shows_on_the_page_and_in_the_csv(
    client, editor, article, claim, figure
):
    headers = bearer(editor)
    client.force_login(editor)

    created = send(
        client,
        "POST",
        annotations_url(article),
        new_annotation(article, "30% of the budget", note="Check"),
        headers,
    )
    assert created.status_code == 201
    url = created.json()["id"]
    annotation = Annotation.objects.get()

    fetched = client.get(url, headers=headers).json()
    assert fetched == created.json()
    listed = client.get(annotations_url(article), headers=headers).json()
    assert [item["id"] for item in listed["items"]] == [url]

    assert f'<mark data-tag="claim" data-annotation="{annotation.pk}"' in article_page(
        client, article
    )
    csv_text = b"".join(
        client.get(f"/articles/{article.source_id}/export.csv").streaming_content
    ).decode()
    assert "30% of the budget" in csv_text and ",claim," in csv_text

    patched = send(
        client,
        "PATCH",
        url,
        {"body": {"type": "TextualBody", "purpose": "tagging", "value": "figure"}},
        headers,
    )
    assert patched.json()["body"][0]["value"] == "figure"
    csv_text = b"".join(
        client.get(f"/articles/{article.source_id}/export.csv").streaming_content
    ).decode()
    assert ",figure," in csv_text and ",claim," not in csv_text
    assert f'<mark data-tag="figure" data-annotation="{annotation.pk}"' in article_page(
        client, article
    )

    assert client.delete(url, headers=headers).status_code == 204
    csv_text = b"".join(
        client.get(f"/articles/{article.source_id}/export.csv").streaming_content
    ).decode()
    assert "30% of the budget" not in csv_text
    assert f'data-annotation="{annotation.pk}"' not in article_page(client, article)
    assert client.get(annotations_url(article), headers=headers).json()["items"] == []


def test_annotations_made_on_the_page_show_up_in_the_api(client, editor, article, claim):
    # The reverse direction: what an editor makes on the article page, the API lists.
    client.force_login(editor)
    start = article.body.index("roads")
    made = client.post(
        reverse("annotation_create", args=[article.source_id]),
        {
            "start": start,
            "end": start + 5,
            "quote": "roads",
            "tag": "claim",
            "note": "from the page",
        },
    )
    assert made.status_code in (200, 302)
    annotation = Annotation.objects.get()

    items = client.get(annotations_url(article), headers=bearer(editor)).json()["items"]

    assert [
        (i["id"], i["body"][1]["value"], i["target"]["selector"][0]["exact"]) for i in items
    ] == [(f"http://testserver/api/annotations/{annotation.pk}/", "from the page", "roads")]


# Query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 40])
def test_it_lists_annotations_in_constant_queries(
    client, viewer, article, count, django_assert_max_num_queries
):
    authors = [EditorFactory() for _ in range(3)]
    for n in range(count):
        AnnotationFactory(article=article, quote="roads", author=authors[n % 3], note=f"n{n}")
    headers = bearer(viewer)

    # token lookup + last_used update, article, count, page
    with django_assert_max_num_queries(5):
        response = client.get(annotations_url(article) + "?per_page=200", headers=headers)
    assert len(response.json()["items"]) == count


@pytest.mark.parametrize("count", [2, 40])
def test_it_lists_articles_in_constant_queries(
    client, viewer, count, django_assert_max_num_queries
):
    for _ in range(count):
        AnnotationFactory(article=ArticleFactory(), quote="roads")
    headers = bearer(viewer)

    with django_assert_max_num_queries(4):  # token, last_used, count, page
        response = client.get(ARTICLES + "?per_page=200", headers=headers)
    assert len(response.json()["items"]) == count


def test_it_reads_one_annotation_in_constant_queries(
    client, viewer, article, django_assert_max_num_queries
):
    annotation = AnnotationFactory(article=article, quote="roads", note="n")
    headers = bearer(viewer)
    with django_assert_max_num_queries(3):
        assert client.get(annotation_url(annotation), headers=headers).status_code == 200


# The JSON-LD downloads ----------------------------------------------------------------------


def download(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    assert (
        response["Content-Type"]
        == 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    )
    return response, json.loads(b"".join(response.streaming_content))


def test_it_downloads_all_annotations_as_json_ld(client, viewer, article):
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=ArticleFactory(), quote="budget")
    client.force_login(viewer)

    response, data = download(client, reverse("export_jsonld_all"))

    assert response["Content-Disposition"] == 'attachment; filename="annotations.jsonld"'
    assert data["type"] == "AnnotationCollection" and data["total"] == 2
    assert data["id"] == "http://testserver/export/annotations.jsonld"


def test_it_downloads_one_articles_annotations_as_json_ld(client, viewer, article):
    AnnotationFactory(article=article, quote="roads")
    AnnotationFactory(article=ArticleFactory(), quote="budget")
    client.force_login(viewer)

    response, data = download(client, reverse("export_jsonld_article", args=[article.source_id]))

    assert (
        response["Content-Disposition"]
        == 'attachment; filename="council_budget-annotations.jsonld"'
    )
    assert data["total"] == 1


def test_it_sends_anonymous_downloaders_to_the_login_page(client, article):
    response = client.get(reverse("export_jsonld_all"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_answers_404_for_the_download_of_a_missing_article(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("export_jsonld_article", args=["gone"])).status_code == 404


@pytest.mark.parametrize("count", [2, 40])
def test_it_downloads_in_constant_queries(
    client, viewer, article, count, django_assert_max_num_queries
):
    for _ in range(count):
        AnnotationFactory(article=article, quote="roads")
    client.force_login(viewer)

    with django_assert_max_num_queries(3):  # session, user, annotations
        response = client.get(reverse("export_jsonld_all"))
        text = b"".join(response.streaming_content)
    assert json.loads(text)["total"] == count


# OpenAPI and the docs page ------------------------------------------------------------------


def test_it_serves_the_openapi_document_to_signed_in_users(client, viewer):
    client.force_login(viewer)
    schema = client.get("/api/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert {
        "/api/articles/",
        "/api/articles/{source_id}/",
        "/api/articles/{source_id}/annotations/",
        "/api/annotations/{annotation_id}/",
    } <= set(schema["paths"])
    assert set(schema["paths"]["/api/annotations/{annotation_id}/"]) == {"get", "patch", "delete"}
    assert "@context" in schema["components"]["schemas"]["AnnotationOut"]["properties"]
    assert schema["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }


def test_it_serves_the_openapi_document_to_a_token(client, viewer):
    assert client.get("/api/openapi.json", headers=bearer(viewer)).status_code == 200


def test_it_sends_anonymous_visitors_of_the_docs_page_to_the_login_page(client):
    response = client.get("/api/docs")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs")


def test_it_serves_the_docs_page_from_our_static_files_under_the_csp(client, viewer):
    from django.contrib.staticfiles import finders

    client.force_login(viewer)
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    scripts = html.split("<script")[1:]
    assert len(scripts) == 3
    for chunk in scripts:
        tag = chunk.split(">", 1)[0]
        # Executable scripts come from our own files; the settings are a JSON data block.
        assert (
            'src="/static/' in tag and f'nonce="{nonce}"' in tag
        ) or 'type="application/json"' in tag, tag
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert " style=" not in html and "onload=" not in html
    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"):
        assert f"/static/{name}" in html
        assert finders.find(name), name


@pytest.mark.browser
def test_the_docs_page_runs_in_a_browser_without_csp_violations(live_server, page, viewer):
    from importlib import import_module

    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(viewer.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = viewer.get_session_auth_hash()
    store.save()
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": store.session_key,
                "url": live_server.url,
            }
        ]
    )
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server.url + "/api/docs")
    page.get_by_text("/api/articles/{source_id}/annotations/").first.wait_for()

    assert page.title() == "Newsroom annotations API — documentation"
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not problems, problems


def test_the_article_page_route_exists_for_target_sources():
    # Annotation targets point at the article page; the page area owns that route.
    try:
        reverse("article_detail", args=["x"])
    except NoReverseMatch:  # pragma: no cover - only while the page area is not merged
        pytest.fail("The article page route 'article_detail' is missing")


def test_a_user_without_an_account_cannot_be_reached_by_a_token_of_another(client, editor):
    # Tokens are per user: one user's token never acts for another.
    other = UserFactory(username="someone")
    headers = bearer(other)
    annotation = AnnotationFactory(article=ArticleFactory(), quote="roads", author=editor)
    assert_error(client.delete(annotation_url(annotation), headers=headers), 403)


# Tokens in the admin ------------------------------------------------------------------------


def test_staff_make_a_token_in_the_admin_and_see_it_once(client, staff, editor, article):
    client.force_login(staff)

    response = client.post(
        reverse("admin:annotations_apitoken_add"),
        {"user": editor.pk, "name": "fact-check desk"},
        follow=True,
    )

    assert response.status_code == 200
    token = ApiToken.objects.get()
    (message,) = [str(m) for m in response.context["messages"] if "<code>" in str(m)]
    raw = message.split("<code>")[1].split("</code>")[0]
    assert raw.startswith(token.prefix) and token.digest == ApiToken.digest_of(raw)
    assert raw not in token.digest and (token.user, token.name) == (editor, "fact-check desk")
    assert client.get(ARTICLES, headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    # Shown once: the token's page never shows the raw value again.
    page = client.get(
        reverse("admin:annotations_apitoken_change", args=[token.pk])
    ).content.decode()
    assert raw not in page and token.prefix in page


def test_staff_revoke_tokens_in_the_admin(client, staff, editor):
    token, raw = ApiToken.issue(user=editor, name="script")
    client.force_login(staff)

    client.post(
        reverse("admin:annotations_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked is not None
    assert_error(Client().get(ARTICLES, headers={"Authorization": f"Bearer {raw}"}), 401)
    page = client.get(
        reverse("admin:annotations_apitoken_change", args=[token.pk])
    ).content.decode()
    assert 'name="revoked' not in page  # a revoked token stays revoked


def test_staff_who_are_not_superusers_make_tokens_for_themselves_only(client, editor):
    from django.contrib.auth.models import Permission

    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__endswith="_apitoken"))
    ApiToken.issue(user=editor, name="editor's own")
    client.force_login(clerk)

    refused = client.post(
        reverse("admin:annotations_apitoken_add"), {"user": editor.pk, "name": "impersonate"}
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    client.post(reverse("admin:annotations_apitoken_add"), {"user": clerk.pk, "name": "mine"})
    assert list(ApiToken.objects.filter(user=clerk).values_list("name", flat=True)) == ["mine"]
    listing = client.get(reverse("admin:annotations_apitoken_changelist")).content.decode()
    assert (
        "mine" in listing and "editor&#x27;s own" not in listing and "editor's own" not in listing
    )
