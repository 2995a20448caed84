"""Helpers for the tests of the tag and annotation admin (annotations/admin.py)."""

TAGS_URL = "/admin/annotations/tag/"
ANNOTATIONS_URL = "/admin/annotations/annotation/"
RECOVER_URL = "/admin/annotations/annotation/recover/"

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
XSS_LABEL = '<script>alert("xss")</script>'  # a tag label holds 50 characters at most


def annotation_form(article, tag, author, **overrides) -> dict:
    start = article.body.index("The mayor denied it")
    data = {
        "article": article.pk,
        "tag": tag.pk,
        "note": "",
        "author": author.pk,
        "status": "anchored",
        "start": start,
        "end": start + len("The mayor denied it"),
        "quote": "The mayor denied it",
    }
    return {**data, **overrides}
