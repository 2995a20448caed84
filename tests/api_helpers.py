"""What the API tests share: URLs, a token for a user, a W3C annotation as a client posts it,
and a check of the JSON error shape."""

import json

from annotations.models import ApiToken

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
