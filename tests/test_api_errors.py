"""The API's errors: JSON with a human message and the right status for bad JSON, invalid
requests, oversized bodies, bad paging, unknown URLs and wrong methods; never a 500."""

import json

import pytest

from annotations.models import Annotation

from .api_helpers import (
    ARTICLES,
    annotations_url,
    assert_error,
    bearer,
    new_annotation,
    send,
)

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
