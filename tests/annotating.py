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
    # The page's new version first, then out of band only what changed: the blocks whose
    # highlights changed, the counts, the review section, the notice, the entry that changed.
    assert html.lstrip().startswith('<div id="live" data-version="')
    assert '<div id="article-body"' not in html  # never the whole text
    assert '<span id="count-total" class="count" hx-swap-oob="true">' in html
    assert re.search(r'<section id="review"[^>]* hx-swap-oob="true"', html)
    assert '<div id="notice" class="notice" role="status" hx-swap-oob="true">' in html
    assert 'id="annotation-items"' not in html or "beforeend:#annotation-items" in html
    return html
