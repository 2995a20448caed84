"""Hypothesis throws arbitrary form fields at the htmx endpoints: whatever arrives,
the answer is never a 500, and a refused request writes nothing."""

from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from annotations.models import Annotation

from . import factories

# Any text a browser could send, NULs and controls included (lone surrogates cannot be sent).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
# Numbers that look like offsets and numbers that do not.
offset_like = st.one_of(
    st.integers(min_value=-5, max_value=120).map(str),
    st.sampled_from(["", " 3", "1e3", "0x10", "٣", "9" * 40, "NaN", "-0", "3.5"]),
    any_text,
)
tag_like = st.one_of(
    st.sampled_from(["claim", "figure", "rebuttal", "", "CLAIM", "nope"]), any_text
)

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class FormFuzzing(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.editor = factories.EditorFactory(username="fuzz_editor")
        for slug in ("claim", "figure", "rebuttal"):
            factories.tag(slug)
        cls.article = factories.ArticleFactory(source_id="fuzz_article")
        cls.annotation = factories.AnnotationFactory(
            article=cls.article, author=cls.editor, quote="council", note="kept"
        )

    def snapshot(self):
        return list(
            Annotation.objects.order_by("pk").values_list(
                "pk", "start", "end", "quote", "note", "tag_id", "status"
            )
        )

    def assert_consistent(self):
        body = self.article.body
        for a in Annotation.objects.filter(status="anchored"):
            assert body[a.start : a.end] == a.quote

    def post(self, url: str, data: dict, htmx: bool):
        headers = {"HX-Request": "true"} if htmx else {}
        client = Client()  # per example: hypothesis rolls the database back between examples
        client.force_login(self.editor)
        return client.post(url, data, headers=headers)

    @FUZZ
    @given(
        start=offset_like,
        end=offset_like,
        quote=any_text,
        tag=tag_like,
        note=any_text,
        htmx=st.booleans(),
    )
    def test_it_never_fails_on_create(self, start, end, quote, tag, note, htmx):
        before = self.snapshot()
        url = f"/articles/{self.article.source_id}/annotations/"
        response = self.post(
            url, {"start": start, "end": end, "quote": quote, "tag": tag, "note": note}, htmx
        )
        assert response.status_code < 500, response.status_code
        after = self.snapshot()
        if response.status_code >= 400:
            assert after == before
        else:
            assert len(after) in (len(before), len(before) + 1)
        self.assert_consistent()

    @FUZZ
    @given(
        tag=st.one_of(st.none(), tag_like), note=st.one_of(st.none(), any_text), htmx=st.booleans()
    )
    def test_it_never_fails_on_update(self, tag, note, htmx):
        before = self.snapshot()
        data = {k: v for k, v in {"tag": tag, "note": note}.items() if v is not None}
        response = self.post(f"/annotations/{self.annotation.pk}/update/", data, htmx)
        assert response.status_code < 500, response.status_code
        if response.status_code >= 400:
            assert self.snapshot() == before
        self.assert_consistent()

    @FUZZ
    @given(start=offset_like, end=offset_like, quote=any_text, htmx=st.booleans())
    def test_it_never_fails_on_reselect(self, start, end, quote, htmx):
        before = self.snapshot()
        response = self.post(
            f"/annotations/{self.annotation.pk}/reselect/",
            {"start": start, "end": end, "quote": quote},
            htmx,
        )
        assert response.status_code < 500, response.status_code
        if response.status_code >= 400:
            assert self.snapshot() == before
        self.assert_consistent()
