"""Property-based tests of the API against its own OpenAPI document (docs/api.md).

schemathesis reads /api/openapi.json from the live test server and sends generated requests,
valid and invalid, with a bearer token: no answer may be a 500, and every answer must match
the document (status codes, content types, response schemas; invalid input refused). The
same generated bodies sent as a form or as multipart must be refused in JSON too.
A bounded number of examples per operation keeps it to a few seconds; run it alone with
`pytest tests/test_api_schemathesis.py` or leave it out with `-m "not schemathesis"`.
"""

import json
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from annotations.models import ApiToken, Reply

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, tag

pytestmark = pytest.mark.schemathesis

ARTICLE = "council_budget"


@pytest.fixture
def api_world(live_server, transactional_db):
    """An article, a few annotations and an editor's token, visible to the server thread."""
    for slug in ("claim", "rebuttal", "figure"):
        tag(slug)  # a transactional test flushes the migration's tags
    editor = EditorFactory(username="fuzzer")
    article = ArticleFactory(source_id=ARTICLE)
    for quote in ("roads", "budget", "The mayor denied it"):
        AnnotationFactory(article=article, quote=quote, author=editor, note="note")
    raw = ApiToken.issue(user=editor, name="schemathesis")[1]
    return {"editor": editor, "article": article, "headers": {"Authorization": f"Bearer {raw}"}}


@pytest.fixture
def api_schema(api_world, live_server):
    return schemathesis.openapi.from_url(
        live_server.url + "/api/openapi.json", headers=api_world["headers"], timeout=30
    )


OPERATIONS = [
    ("GET", "/api/"),
    ("GET", "/api/articles/"),
    ("GET", "/api/articles/{source_id}/"),
    ("GET", "/api/articles/{source_id}/annotations/"),
    ("POST", "/api/articles/{source_id}/annotations/"),
    ("GET", "/api/annotations/"),
    ("GET", "/api/annotations/{annotation_id}/"),
    ("PATCH", "/api/annotations/{annotation_id}/"),
    ("DELETE", "/api/annotations/{annotation_id}/"),
    ("GET", "/api/annotations/{annotation_id}/replies/"),
    ("POST", "/api/annotations/{annotation_id}/replies/"),
    ("GET", "/api/replies/{reply_id}/"),
    ("PATCH", "/api/replies/{reply_id}/"),
    ("DELETE", "/api/replies/{reply_id}/"),
]
# Per operation and mode; API_FUZZ_EXAMPLES=500 digs deeper when there is time.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))


def test_it_fuzzes_every_operation_the_document_lists(api_schema):
    listed = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert listed == set(OPERATIONS)


# schemathesis's own `@schema.parametrize()` with a lazily loaded schema does not run under
# pytest 9 (it rewrites a node attribute pytest dropped), so each operation gets a Hypothesis
# test built from schemathesis's strategy for it: the same cases and the same checks.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_it_answers_generated_requests_as_its_openapi_document_says(
    api_schema, api_world, live_server, method, path, mode
):
    operation = api_schema[path][method]
    # A body can fit the schema and still be refused for what it means (an unknown tag, a
    # quote that is not in the article): 400 is right there, so "valid data is accepted" is
    # not a fair check for the operations that write, nor for the search across articles,
    # whose filters name tags, people and articles that must exist.
    judged_by_meaning = method in {"POST", "PATCH"} or path == "/api/annotations/"
    excluded = [positive_data_acceptance] if judged_by_meaning else []
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case, real):
        # Random path values almost never name a stored article or annotation; half the
        # valid cases use real ones, so the happy paths (and their response schemas) are
        # exercised too, and the other half keep the random ones.
        if real and mode is GenerationMode.POSITIVE:
            if "{source_id}" in path:
                case.path_parameters["source_id"] = ARTICLE
            if "{annotation_id}" in path:
                fresh = AnnotationFactory(
                    article=api_world["article"], quote="roads", author=api_world["editor"]
                )
                case.path_parameters["annotation_id"] = fresh.pk
            if "{reply_id}" in path:
                fresh = AnnotationFactory(
                    article=api_world["article"], quote="roads", author=api_world["editor"]
                )
                reply = Reply.objects.create(
                    annotation=fresh, author=api_world["editor"], text="a reply"
                )
                case.path_parameters["reply_id"] = reply.pk
        response = case.call_and_validate(
            base_url=live_server.url, headers=api_world["headers"], excluded_checks=excluded
        )
        calls.append(response.status_code)

    check()
    assert calls, "no request was sent"


def as_form_fields(body) -> dict:
    """A generated JSON body as the fields of a form, the way a confused client would."""
    if isinstance(body, dict):
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    return {"body": json.dumps(body)}


WRITES = [(m, p) for m, p in OPERATIONS if m in {"POST", "PATCH"}]


@pytest.mark.parametrize("encoding", ["form", "multipart"])
@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_it_refuses_generated_form_and_multipart_bodies_in_json(
    api_schema, api_world, live_server, method, path, encoding
):
    """The document promises JSON bodies; the same generated bodies sent as a form or as
    multipart (with a file part) must be refused in JSON, never a 500."""
    operation = api_schema[path][method]
    statuses = []

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case):
        if "{source_id}" in path:
            case.path_parameters["source_id"] = ARTICLE
        if "{annotation_id}" in path:
            fresh = AnnotationFactory(
                article=api_world["article"], quote="roads", author=api_world["editor"]
            )
            case.path_parameters["annotation_id"] = fresh.pk
        if "{reply_id}" in path:
            fresh = AnnotationFactory(
                article=api_world["article"], quote="roads", author=api_world["editor"]
            )
            reply = Reply.objects.create(annotation=fresh, author=api_world["editor"], text="x")
            case.path_parameters["reply_id"] = reply.pk
        url = live_server.url + case.formatted_path
        fields = as_form_fields(case.body)
        files = (
            {"file": ("notes.txt", b"x" * 1024, "text/plain")} if encoding == "multipart" else None
        )
        response = requests.request(
            method, url, data=fields, files=files, headers=api_world["headers"], timeout=30
        )
        assert response.status_code in {400, 413, 415}, (response.status_code, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["detail"]
        statuses.append(response.status_code)

    check()
    assert statuses, "no request was sent"
