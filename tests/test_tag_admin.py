"""The tag admin, and both admins in a real browser under the site's CSP."""

import pytest

from annotations.admin import colour_swatch
from annotations.models import Tag

from .admin_pages import ANNOTATIONS_URL, TAGS_URL, XSS, XSS_LABEL
from .factories import AnnotationFactory, ArticleFactory, TagFactory


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


def sign_in_browser(page, live_server, user) -> None:
    """Hand the browser a session cookie for `user` (django-axes guards the login form)."""
    from importlib import import_module

    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(django_settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = django_settings.AUTHENTICATION_BACKENDS[-1]
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


class TestDeletingTags:
    def test_it_refuses_to_delete_a_tag_that_an_annotations_history_names(
        self, admin_client, claim, figure
    ):
        annotation = AnnotationFactory(tag=claim)
        annotation.tag = figure
        annotation.save()  # no annotation carries "claim" now, but its history does
        url = f"{TAGS_URL}{claim.pk}/delete/"

        page = admin_client.get(url).content.decode()
        response = admin_client.post(url, {"post": "yes"})

        assert "The history of 1 annotation names the tag “Claim”" in page
        assert response.status_code == 200
        assert Tag.objects.filter(pk=claim.pk).exists()

    def test_it_refuses_the_bulk_delete_of_such_a_tag_too(self, admin_client, claim, figure):
        annotation = AnnotationFactory(tag=claim)
        annotation.tag = figure
        annotation.save()
        data = {"action": "delete_selected", "_selected_action": [claim.pk], "post": "yes"}

        admin_client.post(TAGS_URL, data)

        assert Tag.objects.filter(pk=claim.pk).exists()

    def test_it_deletes_a_tag_nothing_ever_named(self, admin_client, claim):
        unused = TagFactory(slug="unused", label="Unused", shortcut="")
        admin_client.post(f"{TAGS_URL}{unused.pk}/delete/", {"post": "yes"})
        assert not Tag.objects.filter(pk=unused.pk).exists()

    def test_it_still_shows_the_history_of_an_annotation_whose_tag_is_gone(
        self, admin_client, claim, figure
    ):
        # Data from before the refusal: a tag deleted behind the history's back.
        annotation = AnnotationFactory(tag=claim)
        annotation.tag = figure
        annotation.save()
        Tag.objects.filter(pk=claim.pk).delete()

        response = admin_client.get(f"{ANNOTATIONS_URL}{annotation.pk}/history/")

        assert response.status_code == 200
        assert "(deleted tag)" in response.content.decode()


@pytest.mark.browser
def test_the_history_pages_raise_no_csp_error_in_a_browser(live_server, page, staff, claim):
    annotation = AnnotationFactory(tag=claim, note="first")
    annotation.note = "second"
    annotation.save()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in_browser(page, live_server, staff)

    for url in (
        f"{ANNOTATIONS_URL}{annotation.pk}/history/",
        f"/admin/newsroom/article/{annotation.article_id}/history/",
    ):
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        assert page.locator("p.paginator").count() == 1  # the part that had the inline style

    assert not [p for p in problems if "Content Security Policy" in p], problems
