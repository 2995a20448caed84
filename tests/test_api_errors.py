"""The API's errors: JSON with a human message and the right status for bad JSON, invalid
requests, oversized bodies, bad paging, unknown URLs and wrong methods; never a 500."""

import json

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from annotations.models import Annotation

from .api_helpers import (
    ARTICLES,
    annotation_url,
    annotations_url,
    assert_error,
    bearer,
    new_annotation,
    send,
)
from .factories import AnnotationFactory

pytestmark = pytest.mark.django_db


# Bad requests -------------------------------------------------------------------------------------


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


def test_it_refuses_a_nul_character_in_the_path_with_400_json(client, viewer):
    headers = bearer(viewer)
    assert_error(client.get("/api/articles/a%00b/", headers=headers), 400, "NUL")


# Unknown URLs and wrong methods -------------------------------------------------------------------


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


# Bodies that are not JSON -----------------------------------------------------------------


def form_body(fields: int, size: int = 1) -> str:
    return "&".join(f"f{i}={'x' * size}" for i in range(fields))


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_it_refuses_a_multipart_body_with_415_json(client, editor, article, method):
    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    url = annotations_url(article) if method == "POST" else annotation_url(annotation)
    response = client.generic(
        method,
        url,
        data=encode_multipart(BOUNDARY, {"body": "claim"}),
        content_type=MULTIPART_CONTENT,
        headers=bearer(editor),
    )
    assert_error(response, 415, "no file uploads")


@pytest.mark.parametrize("signed_in", ["token", "session"])
def test_it_refuses_a_form_body_over_the_limit_with_413_json(
    client, editor, article, settings, signed_in
):
    headers = bearer(editor) if signed_in == "token" else {}
    client.force_login(editor)
    raw = form_body(1, settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        annotations_url(article), raw, "application/x-www-form-urlencoded", headers=headers
    )
    assert_error(response, 413, "larger than the limit")


@pytest.mark.parametrize("signed_in", ["token", "session"])
def test_it_refuses_a_form_body_with_too_many_fields_with_400_json(
    client, editor, article, settings, signed_in
):
    headers = bearer(editor) if signed_in == "token" else {}
    client.force_login(editor)
    raw = form_body(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)
    response = client.post(
        annotations_url(article), raw, "application/x-www-form-urlencoded", headers=headers
    )
    assert response.status_code == 400
    assert_error(response, 400)
    assert not Annotation.objects.exists()


@pytest.mark.parametrize("source", ["http://[::1", "http://[nope]/articles/x/"])
def test_it_refuses_a_target_source_that_is_not_a_url_with_400(
    client, editor, article, claim, source
):
    data = new_annotation(article, "roads")
    data["target"]["source"] = source
    response = send(client, "POST", annotations_url(article), data, bearer(editor))
    assert_error(response, 400, "not a valid URL")
    assert not Annotation.objects.exists()

    annotation = AnnotationFactory(article=article, quote="roads", author=editor)
    patch = {"target": data["target"]}
    response = send(client, "PATCH", annotation_url(annotation), patch, bearer(editor))
    assert_error(response, 400, "not a valid URL")
