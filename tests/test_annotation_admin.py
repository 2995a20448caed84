"""The admin for tags and annotations: changelists, forms, the CSV action, history, restore."""

import csv
import io

import pytest
from django.contrib.admin.sites import site
from django.http import StreamingHttpResponse
from django.urls import reverse

from annotations.admin import colour_swatch
from annotations.models import AnchorStatus, Annotation, Tag
from annotations.services import replace_article_text
from newsroom.models import BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory, EditorFactory, TagFactory

TAGS_URL = "/admin/annotations/tag/"
ANNOTATIONS_URL = "/admin/annotations/annotation/"
RECOVER_URL = "/admin/annotations/annotation/recover/"

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
XSS_LABEL = '<script>alert("xss")</script>'  # a tag label holds 50 characters at most


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def csv_rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def tag_form(**overrides) -> dict:
    data = {
        "label": "Opinion",
        "slug": "opinion",
        "color": "#0f766e",
        "shortcut": "o",
        "description": "",
        "position": "4",
    }
    return {**data, **overrides}


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


class TestTagAdmin:
    def test_it_lists_tags_with_an_svg_swatch_and_no_style_attribute(self, admin_client, claim):
        response = admin_client.get(TAGS_URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert '<rect width="16" height="16" rx="3" fill="#b45309"/>' in html
        assert 'aria-label="Claim colour #b45309"' in html
        assert "tag-swatch" in html and 'style="background' not in html

    def test_the_swatch_never_puts_a_bad_colour_into_the_page(self):
        html = colour_swatch('red"/><script>x()</script>', "Bad")
        assert "<script>" not in html
        assert 'fill="#6b7280"' in html

    def test_it_searches_tags(self, admin_client, claim, figure):
        html = admin_client.get(TAGS_URL, {"q": "figu"}).content.decode()
        assert "Figure" in html and ">Claim<" not in html

    def test_it_adds_a_tag(self, admin_client, db):
        response = admin_client.post(f"{TAGS_URL}add/", tag_form())
        assert response.status_code == 302
        tag = Tag.objects.get(slug="opinion")
        assert (tag.label, tag.color, tag.shortcut) == ("Opinion", "#0f766e", "o")
        assert tag.history.first().history_user.username == "staff"

    def test_it_prepopulates_the_slug_from_the_label(self, admin_client, db):
        html = admin_client.get(f"{TAGS_URL}add/").content.decode()
        assert "data-prepopulated-fields" in html and "#id_label" in html

    def test_it_refuses_a_shortcut_another_tag_has_with_a_clear_message(self, admin_client, claim):
        response = admin_client.post(f"{TAGS_URL}add/", tag_form(shortcut="C"))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["shortcut"] == [
            "The shortcut “c” is already used by the tag “Claim”. "
            "Choose another letter or digit, or leave it empty."
        ]
        assert not Tag.objects.filter(slug="opinion").exists()

    def test_it_lets_a_tag_keep_its_own_shortcut(self, admin_client, claim):
        data = tag_form(label="Claim", slug="claim", color="#b45309", shortcut="c")
        response = admin_client.post(f"{TAGS_URL}{claim.pk}/change/", data)
        assert response.status_code == 302

    def test_it_lets_several_tags_have_no_shortcut(self, admin_client, db):
        TagFactory(slug="one", label="One", shortcut="")
        response = admin_client.post(f"{TAGS_URL}add/", tag_form(shortcut=""))
        assert response.status_code == 302

    def test_it_refuses_a_colour_that_is_not_hex(self, admin_client, db):
        response = admin_client.post(f"{TAGS_URL}add/", tag_form(color="red"))
        assert response.status_code == 200
        assert "Enter a colour like #1d4ed8." in response.content.decode()

    def test_it_escapes_a_hostile_label(self, admin_client, db):
        TagFactory(label=XSS_LABEL, slug="xss")
        html = admin_client.get(TAGS_URL).content.decode()
        assert XSS_LABEL not in html
        assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in html

    def test_it_shows_a_tags_history(self, admin_client, db):
        admin_client.post(f"{TAGS_URL}add/", tag_form())
        tag = Tag.objects.get(slug="opinion")
        admin_client.post(f"{TAGS_URL}{tag.pk}/change/", tag_form(label="Opinion piece"))
        response = admin_client.get(f"{TAGS_URL}{tag.pk}/history/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Opinion piece" in html and "staff" in html


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


class TestHistoryAndRestore:
    def delete_in_admin(self, client, annotation):
        response = client.post(f"{ANNOTATIONS_URL}{annotation.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302
        assert not Annotation.objects.filter(pk=annotation.pk).exists()

    def test_it_shows_an_annotations_history(self, admin_client, article, claim, staff):
        annotation = AnnotationFactory(article=article, tag=claim, quote="The council said")
        data = annotation_form(
            article,
            claim,
            annotation.author,
            start=annotation.start,
            end=annotation.end,
            quote="The council said",
            note="Second thoughts",
        )
        assert (
            admin_client.post(f"{ANNOTATIONS_URL}{annotation.pk}/change/", data).status_code == 302
        )
        response = admin_client.get(f"{ANNOTATIONS_URL}{annotation.pk}/history/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Second thoughts" in html and "staff" in html

    def test_it_lists_deleted_annotations_once_each(self, admin_client, article):
        gone = AnnotationFactory(article=article, quote="The council said", note=XSS)
        AnnotationFactory(article=article, quote="The mayor")  # still here: not listed
        self.delete_in_admin(admin_client, gone)
        response = admin_client.get(RECOVER_URL)
        assert response.status_code == 200
        assert [r.id for r in response.context["records"]] == [gone.pk]
        html = response.content.decode()
        assert XSS not in html and "&lt;script&gt;" in html
        assert f'action="{RECOVER_URL}{response.context["records"][0].history_id}/"' in html

    def test_it_restores_a_deleted_annotation_with_its_id_and_times(
        self, admin_client, article, staff
    ):
        annotation = AnnotationFactory(article=article, quote="The council said", note="Keep me")
        created = annotation.created
        self.delete_in_admin(admin_client, annotation)
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        response = admin_client.post(f"{RECOVER_URL}{record.history_id}/")
        assert response.status_code == 302
        assert response["Location"] == f"{ANNOTATIONS_URL}{annotation.pk}/change/"
        restored = Annotation.objects.get(pk=annotation.pk)
        assert (restored.note, restored.quote, restored.status) == (
            "Keep me",
            "The council said",
            "anchored",
        )
        assert restored.author_id == annotation.author_id
        assert restored.created == created
        latest = restored.history.first()
        assert (latest.history_type, latest.history_user, latest.history_change_reason) == (
            "+",
            staff,
            "Restored",
        )
        assert latest.created == created
        assert not list(admin_client.get(RECOVER_URL).context["records"])

    def test_it_restores_as_orphaned_when_the_article_changed_meanwhile(
        self, admin_client, article
    ):
        annotation = AnnotationFactory(article=article, quote="The council said")
        self.delete_in_admin(admin_client, annotation)
        replace_article_text(
            article,
            date=article.date,
            title=article.title,
            blocks=[BlockText(BlockKind.PARAGRAPH, "A wholly different text now.")],
        )
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        response = admin_client.post(f"{RECOVER_URL}{record.history_id}/", follow=True)
        restored = Annotation.objects.get(pk=annotation.pk)
        assert restored.status == "orphaned"
        assert "marked orphaned" in response.content.decode()

    def test_it_restores_where_the_words_moved_when_a_paragraph_came_above(
        self, admin_client, article
    ):
        annotation = AnnotationFactory(article=article, quote="The mayor denied it")
        self.delete_in_admin(admin_client, annotation)
        blocks = [BlockText(b.kind, b.text) for b in article.blocks.all()]
        blocks.insert(0, BlockText(BlockKind.PARAGRAPH, "Update: the vote is on Monday."))
        replace_article_text(article, date=article.date, title=article.title, blocks=blocks)
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        response = admin_client.post(f"{RECOVER_URL}{record.history_id}/", follow=True)
        restored = Annotation.objects.get(pk=annotation.pk)
        assert restored.status == "anchored"
        assert restored.start == annotation.start + len("Update: the vote is on Monday.\n\n")
        assert article.body[restored.start : restored.end] == "The mayor denied it"
        assert "marked" not in response.content.decode()

    def test_it_refuses_to_restore_twice(self, admin_client, article):
        annotation = AnnotationFactory(article=article)
        self.delete_in_admin(admin_client, annotation)
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        admin_client.post(f"{RECOVER_URL}{record.history_id}/")
        response = admin_client.post(f"{RECOVER_URL}{record.history_id}/", follow=True)
        assert "already been restored" in response.content.decode()
        assert Annotation.objects.filter(pk=annotation.pk).count() == 1

    def test_it_refuses_to_restore_when_the_article_is_gone(self, admin_client, article):
        annotation = AnnotationFactory(article=article)
        self.delete_in_admin(admin_client, annotation)
        article.delete()
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        response = admin_client.post(f"{RECOVER_URL}{record.history_id}/", follow=True)
        assert "its article has been deleted" in response.content.decode()
        assert not Annotation.objects.exists()

    def test_it_restores_without_an_author_who_is_gone(self, admin_client, article):
        author = EditorFactory(username="leaver")
        annotation = AnnotationFactory(article=article, author=author)
        self.delete_in_admin(admin_client, annotation)
        author.delete()
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        admin_client.post(f"{RECOVER_URL}{record.history_id}/")
        assert Annotation.objects.get(pk=annotation.pk).author is None

    def test_it_restores_only_by_post(self, admin_client, article):
        annotation = AnnotationFactory(article=article)
        self.delete_in_admin(admin_client, annotation)
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        assert admin_client.get(f"{RECOVER_URL}{record.history_id}/").status_code == 405
        assert not Annotation.objects.filter(pk=annotation.pk).exists()

    def test_it_answers_404_for_a_record_that_is_not_a_deletion(self, admin_client, article):
        annotation = AnnotationFactory(article=article)
        record = Annotation.history.get(id=annotation.pk)
        assert admin_client.post(f"{RECOVER_URL}{record.history_id}/").status_code == 404

    def test_it_keeps_staff_without_the_add_permission_out(self, client, article):
        clerk = EditorFactory(username="clerk", is_staff=True)
        annotation_id = AnnotationFactory(article=article).pk
        Annotation.objects.filter(pk=annotation_id).delete()
        record = Annotation.history.get(id=annotation_id, history_type="-")
        clerk.user_permissions.clear()
        clerk.groups.clear()
        client.force_login(clerk)
        assert client.get(RECOVER_URL).status_code == 403
        assert client.post(f"{RECOVER_URL}{record.history_id}/").status_code == 403
        assert not Annotation.objects.filter(pk=annotation_id).exists()

    def test_it_records_who_deleted_an_annotation(self, admin_client, article, staff):
        annotation = AnnotationFactory(article=article)
        self.delete_in_admin(admin_client, annotation)
        record = Annotation.history.get(id=annotation.pk, history_type="-")
        assert record.history_user == staff
        assert reverse("admin:annotations_annotation_recover", args=[record.history_id]) == (
            f"{RECOVER_URL}{record.history_id}/"
        )


def sign_in_browser(page, live_server, user) -> None:
    """Hand the browser a session cookie for `user` (django-axes guards the login form)."""
    from importlib import import_module

    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
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


@pytest.mark.browser
def test_the_tag_and_annotation_admin_work_in_a_browser_under_our_csp(live_server, page, staff):
    # The admin is served under the site's strict CSP: the swatch must not need a style
    # attribute, and the admin's own scripts (slug prepopulation, actions) must still run.
    from .factories import tag

    claim = tag("claim")
    AnnotationFactory(article=ArticleFactory(title=XSS), tag=claim, note=XSS)
    problems = []
    # Chromium asks for /favicon.ico by itself; any other failed load is a problem.
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and problems.append(m.text)
        ),
    )
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and not r.url.endswith("/favicon.ico")
            and problems.append(f"{r.status} {r.url}")
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
    sign_in_browser(page, live_server, staff)

    page.goto(live_server.url + TAGS_URL)
    swatch = page.get_by_role("img", name="Claim colour #b45309")
    assert swatch.locator("rect").get_attribute("fill") == "#b45309"

    page.goto(live_server.url + TAGS_URL + "add/")
    page.get_by_label("Label").press_sequentially("Needs Context")  # prepopulate.js hears keyup
    assert page.get_by_label("Slug").input_value() == "needs-context"
    page.get_by_label("Keyboard shortcut").fill("c")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("is already used by the tag “Claim”").wait_for()

    page.goto(live_server.url + ANNOTATIONS_URL)
    page.get_by_role("link", name="Recover deleted annotations").wait_for()
    assert page.get_by_text(XSS).first.is_visible()  # shown as text, never run

    assert not problems, problems
