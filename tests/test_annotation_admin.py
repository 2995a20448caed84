"""The annotation admin: who gets in, the changelist, the CSV action and the form."""

import csv
import io

import pytest
from django.contrib.admin.sites import site
from django.http import StreamingHttpResponse

from annotations.models import AnchorStatus, Annotation

from .admin_pages import ANNOTATIONS_URL, RECOVER_URL, TAGS_URL, XSS, XSS_LABEL, annotation_form
from .factories import AnnotationFactory, ArticleFactory, TagFactory


def csv_rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


class TestWhoGetsIn:
    @pytest.mark.parametrize("url", ["/admin/", TAGS_URL, ANNOTATIONS_URL, RECOVER_URL])
    def test_it_keeps_non_staff_out(self, client, editor, url):
        client.force_login(editor)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_it_sends_anonymous_users_to_the_login_page(self, client, db):
        response = client.get(ANNOTATIONS_URL)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={ANNOTATIONS_URL}"

    def test_it_lets_staff_in(self, admin_client):
        assert admin_client.get("/admin/").status_code == 200


class TestAnnotationChangelist:
    def test_it_lists_annotations_with_a_constant_number_of_queries(
        self, admin_client, article, claim, figure, django_assert_max_num_queries
    ):
        for i in range(15):
            AnnotationFactory(
                article=ArticleFactory(), tag=figure if i % 2 else claim, note=f"note {i}"
            )
        with django_assert_max_num_queries(15):
            response = admin_client.get(ANNOTATIONS_URL)
        assert response.status_code == 200
        assert response.context["cl"].result_count == 15

    def test_it_shows_the_columns(self, admin_client, article, claim):
        annotation = AnnotationFactory(
            article=article, quote="30% of the budget", tag=claim, note="Check this"
        )
        response = admin_client.get(ANNOTATIONS_URL)
        html = response.content.decode()
        for text in (
            "30% of the budget",
            "Check this",
            "Council budget row",
            annotation.author.username,
            "Anchored",
            "Claim",
        ):
            assert text in html

    def test_it_filters_by_tag_author_article_and_status(
        self, admin_client, article, claim, figure
    ):
        mine = AnnotationFactory(article=article, tag=claim, quote="The council said")
        other_article = ArticleFactory(source_id="other")
        other = AnnotationFactory(
            article=other_article, tag=figure, quote="The mayor", status=AnchorStatus.ORPHANED
        )
        cases = [
            ({"tag__id__exact": claim.pk}, mine),
            ({"author__id__exact": other.author_id}, other),
            ({"article__id__exact": other_article.pk}, other),
            ({"status__exact": "orphaned"}, other),
        ]
        for params, expected in cases:
            response = admin_client.get(ANNOTATIONS_URL, params)
            assert response.status_code == 200, params
            assert list(response.context["cl"].result_list) == [expected], params

    def test_it_searches_quotes_and_notes(self, admin_client, article):
        by_quote = AnnotationFactory(article=article, quote="The council said")
        by_note = AnnotationFactory(article=article, quote="The mayor", note="council minutes")
        AnnotationFactory(article=article, quote="budget")
        response = admin_client.get(ANNOTATIONS_URL, {"q": "council"})
        assert set(response.context["cl"].result_list) == {by_quote, by_note}

    def test_it_escapes_hostile_notes_and_labels(self, admin_client, article):
        AnnotationFactory(article=article, tag=TagFactory(label=XSS_LABEL, slug="xss"), note=XSS)
        html = admin_client.get(ANNOTATIONS_URL).content.decode()
        assert XSS not in html and XSS_LABEL not in html
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_it_links_to_the_recover_page(self, admin_client, db):
        html = admin_client.get(ANNOTATIONS_URL).content.decode()
        assert f'href="{RECOVER_URL}"' in html


class TestExportAction:
    def test_it_exports_exactly_the_selected_rows(self, admin_client, article):
        picked = [
            AnnotationFactory(article=article, quote="The council said", note="=HYPERLINK(1)"),
            AnnotationFactory(article=article, quote="The mayor denied it"),
        ]
        AnnotationFactory(article=article, quote="budget")
        response = admin_client.post(
            ANNOTATIONS_URL,
            {"action": "export_csv", "_selected_action": [a.pk for a in picked]},
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith(
            'attachment; filename="annotations-selected-'
        )
        rows = csv_rows(response)
        assert [int(r["annotation_id"]) for r in rows] == [a.pk for a in picked]
        assert rows[0]["note"] == "'=HYPERLINK(1)"
        assert list(rows[0]) == [
            "article_id",
            "article_title",
            "article_date",
            "annotation_id",
            "tag",
            "quote",
            "start",
            "end",
            "prefix",
            "suffix",
            "note",
            "author",
            "status",
            "created",
            "modified",
        ]

    def test_it_exports_a_filtered_selection(self, admin_client, article, claim, figure):
        AnnotationFactory(article=article, tag=claim, quote="The council said")
        wanted = AnnotationFactory(article=article, tag=figure, quote="30%")
        response = admin_client.post(
            f"{ANNOTATIONS_URL}?tag__id__exact={figure.pk}",
            {"action": "export_csv", "select_across": "1", "_selected_action": [wanted.pk]},
        )
        assert [int(r["annotation_id"]) for r in csv_rows(response)] == [wanted.pk]

    def test_it_keeps_hostile_text_literal_in_the_csv(self, admin_client, article):
        annotation = AnnotationFactory(article=article, note=XSS)
        response = admin_client.post(
            ANNOTATIONS_URL, {"action": "export_csv", "_selected_action": [annotation.pk]}
        )
        [row] = csv_rows(response)
        assert row["note"] == XSS


class TestAnnotationForm:
    def test_it_adds_an_anchored_annotation_with_context_from_the_body(
        self, admin_client, article, claim, staff
    ):
        data = annotation_form(article, claim, staff, prefix="forged", suffix="forged")
        response = admin_client.post(f"{ANNOTATIONS_URL}add/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        annotation = Annotation.objects.get()
        assert article.body[annotation.start : annotation.end] == "The mayor denied it"
        assert annotation.prefix == article.body[max(0, annotation.start - 32) : annotation.start]
        assert annotation.suffix.startswith(" and said")
        assert annotation.history.get().history_user == staff

    def test_it_refuses_a_quote_that_is_not_at_its_offsets(
        self, admin_client, article, claim, staff
    ):
        data = annotation_form(article, claim, staff, quote="Something else")
        response = admin_client.post(f"{ANNOTATIONS_URL}add/", data)
        assert response.status_code == 200
        errors = response.context["adminform"].form.non_field_errors()
        assert "no longer matches the article" in errors[0]
        assert "“The mayor denied it”" in errors[0]
        assert not Annotation.objects.exists()

    def test_it_refuses_offsets_outside_the_article(self, admin_client, article, claim, staff):
        data = annotation_form(article, claim, staff, start=5, end=100_000)
        response = admin_client.post(f"{ANNOTATIONS_URL}add/", data)
        assert response.status_code == 200
        assert (
            "lies outside the article" in response.context["adminform"].form.non_field_errors()[0]
        )

    def test_it_lets_staff_edit_the_note_of_a_fuzzy_annotation(self, admin_client, article, claim):
        fuzzy = AnnotationFactory(article=article, quote="The council said", tag=claim)
        Annotation.objects.filter(pk=fuzzy.pk).update(status="fuzzy", quote="The council says")
        data = annotation_form(
            article,
            claim,
            fuzzy.author,
            status="fuzzy",
            start=fuzzy.start,
            end=fuzzy.end,
            quote="The council says",
            note="Reviewed",
        )
        response = admin_client.post(f"{ANNOTATIONS_URL}{fuzzy.pk}/change/", data)
        assert response.status_code == 302
        fuzzy.refresh_from_db()
        assert (fuzzy.note, fuzzy.quote, fuzzy.status) == ("Reviewed", "The council says", "fuzzy")

    def test_it_refuses_an_oversized_note(self, admin_client, article, claim, staff, settings):
        data = annotation_form(
            article, claim, staff, note="x" * (settings.ANNOTATION_NOTE_MAX_LENGTH + 1)
        )
        response = admin_client.post(f"{ANNOTATIONS_URL}add/", data)
        assert response.status_code == 200
        assert "the limit is" in response.context["adminform"].form.errors["note"][0]

    def test_it_offers_the_signed_in_user_as_author(self, admin_client, staff):
        response = admin_client.get(f"{ANNOTATIONS_URL}add/")
        assert response.context["adminform"].form.initial["author"] == staff.pk

    def autocomplete(self, client, field: str, term: str) -> list[str]:
        response = client.get(
            "/admin/autocomplete/",
            {
                "app_label": "annotations",
                "model_name": "annotation",
                "field_name": field,
                "term": term,
            },
        )
        assert response.status_code == 200, (field, response.content)
        return [r["text"] for r in response.json()["results"]]

    def widget_of(self, client, field: str) -> str:
        form = client.get(f"{ANNOTATIONS_URL}add/").context["adminform"].form
        return form.fields[field].widget.widget.__class__.__name__

    def test_it_picks_tags_and_authors_by_autocomplete(self, admin_client, claim):
        assert self.widget_of(admin_client, "tag") == "AutocompleteSelect"
        assert self.widget_of(admin_client, "author") == "AutocompleteSelect"
        assert self.autocomplete(admin_client, "tag", "cla") == ["Claim"]
        assert self.autocomplete(admin_client, "author", "staf") == ["staff"]

    def test_it_picks_articles_by_autocomplete(self, admin_client, article):
        assert self.widget_of(admin_client, "article") == "AutocompleteSelect"
        assert self.autocomplete(admin_client, "article", "budget") == ["Council budget row"]

    def test_the_admin_checks_pass(self):
        errors = [e for model_admin in site._registry.values() for e in model_admin.check()]
        assert errors == []
