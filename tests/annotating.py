"""Helpers for the tests of the annotating endpoints (annotations/views.py)."""

import re

from django.urls import reverse

HTMX = {"HTTP_HX_REQUEST": "true"}


def create_url(article):
    return reverse("annotation_create", args=[article.source_id])


def selection(article, quote, **extra):
    start = article.body.index(quote)
    return {"start": start, "end": start + len(quote), "quote": quote, "tag": "claim", **extra}


def assert_fragments_only(response):
    html = response.content.decode()
    assert "<html" not in html and "site-header" not in html
    assert html.lstrip().startswith('<div id="article-body"')
    # Out of band: the counts, the review section and the notice; of the list, only the
    # entry that changed.
    assert '<div id="annotation-list-head" hx-swap-oob="true">' in html
    assert re.search(r'<section id="review"[^>]* hx-swap-oob="true"', html)
    assert '<div id="notice" class="notice" role="status" hx-swap-oob="true">' in html
    assert 'id="annotation-items"' not in html or "beforeend:#annotation-items" in html
    return html
