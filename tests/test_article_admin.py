"""The article admin: the list with its counts and filters, editing an article's text (one
transaction: revision, blocks, re-anchoring, a message with the counts), the revisions and
their diff, and who may see any of it."""

import datetime
import re

import pytest
from django.urls import reverse

from annotations import services
from annotations.models import AnchorStatus, Annotation
from annotations.services import replace_article_text
from newsroom.models import Article, ArticleRevision, BlockKind, BlockText

from .factories import AnnotationFactory, ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

P, H = BlockKind.PARAGRAPH, BlockKind.HEADING
CHANGELIST = reverse("admin:newsroom_article_changelist")
ADD = reverse("admin:newsroom_article_add")

BLOCKS = [
    BlockText(P, "The council said 30% of the budget went to roads last year."),
    BlockText(H, "What the Mayor Said"),
    BlockText(P, "The mayor denied it and said the figure was 12%."),
    BlockText(P, "Zebras were not consulted about the xylophone fund."),
]


def change_url(article: Article) -> str:
    return reverse("admin:newsroom_article_change", args=[article.pk])


def revision_url(revision: ArticleRevision) -> str:
    return reverse("admin:newsroom_article_revision", args=[revision.article_id, revision.pk])


def form_data(article: Article, text: str, **changes) -> dict:
    return {
        "source_id": article.source_id,
        "date": article.date.isoformat(),
        "title": article.title,
        "text": text,
        **changes,
    }


def texts(*paragraphs: str) -> str:
    # As a browser sends a text area: CRLF line ends.
    return "\r\n\r\n".join(paragraphs)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def story(db):
    return ArticleFactory(source_id="council", title="Council budget row", blocks=BLOCKS)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


class TestWhoMayUseIt:
    @pytest.mark.parametrize("who", [None, "viewer", "editor"])
    def test_it_sends_everyone_but_staff_to_the_admin_login(self, client, story, who, request):
        if who:
            client.force_login(request.getfixturevalue(who))
        revision = replace_article_text(
            story, date=story.date, title=story.title, blocks=[*BLOCKS, BlockText(P, "More.")]
        )
        for url in (CHANGELIST, change_url(story), revision_url(revision)):
            response = client.get(url)
            assert response.status_code == 302, url
            assert "login/" in response["Location"]
        response = client.post(change_url(story), form_data(story, "Hijacked."))
        assert response.status_code == 302
        assert Article.objects.get(pk=story.pk).body.endswith("xylophone fund.\n\nMore.")

    def test_it_refuses_staff_without_the_view_permission(self, client, story):
        clerk = UserFactory(username="clerk", is_staff=True)
        client.force_login(clerk)
        revision = replace_article_text(
            story, date=story.date, title=story.title, blocks=[*BLOCKS, BlockText(P, "More.")]
        )
        assert client.get(CHANGELIST).status_code == 403
        assert client.get(revision_url(revision)).status_code == 403


class TestChangelist:
    def test_it_lists_articles_with_counts_in_a_constant_number_of_queries(
        self, staff_client, django_assert_max_num_queries
    ):
        for n in range(12):
            article = ArticleFactory(source_id=f"story_{n:02d}", title=f"Story {n:02d}")
            AnnotationFactory(article=article, quote="30% of the budget")
            AnnotationFactory(article=article, quote="12%", status=AnchorStatus.FUZZY)
        # session, user, count, total count, rows with their counts, date hierarchy, filters:
        # the same however many articles
        with django_assert_max_num_queries(7):
            response = staff_client.get(CHANGELIST)
        html = response.content.decode()
        assert response.status_code == 200
        assert "Story 00" in html and "story_11" in html
        assert re.search(r'<td class="field-annotation_count">2</td>', html)
        assert re.search(r'<td class="field-needs_review">1</td>', html)

    def test_it_searches_titles_and_source_ids(self, staff_client, story):
        ArticleFactory(source_id="weather", title="Storm warning")
        by_id = staff_client.get(CHANGELIST, {"q": "counc"})
        by_title = staff_client.get(CHANGELIST, {"q": "storm"})
        assert [a.source_id for a in by_id.context["cl"].result_list] == ["council"]
        assert [a.source_id for a in by_title.context["cl"].result_list] == ["weather"]

    def test_it_filters_articles_with_annotations_awaiting_review(self, staff_client, story):
        calm = ArticleFactory(source_id="calm")
        AnnotationFactory(article=story, quote="12%", status=AnchorStatus.ORPHANED)
        AnnotationFactory(article=calm, quote="12%")
        waiting = staff_client.get(CHANGELIST, {"review": "yes"}).context["cl"].result_list
        none = staff_client.get(CHANGELIST, {"review": "no"}).context["cl"].result_list
        assert [a.source_id for a in waiting] == ["council"]
        assert [a.source_id for a in none] == ["calm"]

    def test_it_filters_edited_articles_and_drills_down_by_date(self, staff_client, story):
        ArticleFactory(source_id="old", date=datetime.date(2024, 1, 5))
        replace_article_text(story, date=story.date, title=story.title, blocks=BLOCKS[:2])
        edited = staff_client.get(CHANGELIST, {"edited": "yes"}).context["cl"].result_list
        assert [a.source_id for a in edited] == ["council"]
        in_2024 = staff_client.get(CHANGELIST, {"date__year": "2024"}).context["cl"].result_list
        assert [a.source_id for a in in_2024] == ["old"]

    def test_it_answers_the_annotation_forms_article_autocomplete(self, staff_client, story):
        response = staff_client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": "annotations",
                "model_name": "annotation",
                "field_name": "article",
                "term": "budget",
            },
        )
        assert [r["text"] for r in response.json()["results"]] == ["Council budget row"]


class TestEditingText:
    def test_it_shows_the_text_blocks_and_revisions_on_the_change_page(self, staff_client, story):
        replace_article_text(story, date=story.date, title=story.title, blocks=BLOCKS[:3])
        html = staff_client.get(change_url(story)).content.decode()
        assert "What the Mayor Said" in html
        assert '<textarea name="text"' in html
        assert '<span class="block-kind">Heading</span> What the Mayor Said' in html
        assert "1 block removed, -53 characters" in html
        assert 'href="/static/newsroom/admin-diff.css"' in html

    def test_it_shows_the_change_page_in_a_constant_number_of_queries_escaped(
        self, staff_client, story, django_assert_max_num_queries
    ):
        for n in range(8):
            replace_article_text(
                story,
                date=story.date,
                title=story.title,
                blocks=[*BLOCKS, BlockText(P, f"<script>alert({n})</script> edition {n}.")],
            )
        # session, user, article (with counts), its body, blocks, revisions (with who), and
        # the admin's own log entries: the same however many revisions
        with django_assert_max_num_queries(7):
            response = staff_client.get(change_url(story))
        html = response.content.decode()
        assert html.count('href="/admin/newsroom/article/') >= 8
        assert "&lt;script&gt;alert(7)&lt;/script&gt; edition 7." in html
        assert "<script>alert(" not in html

    def test_it_re_anchors_annotations_and_reports_the_counts(self, staff_client, staff, story):
        moved = AnnotationFactory(article=story, quote="the figure was 12%")
        kept = AnnotationFactory(article=story, quote="30% of the budget")
        fuzzy = AnnotationFactory(article=story, quote="30%")
        orphan = AnnotationFactory(article=story, quote="Zebras were not consulted")
        old_body = story.body

        response = staff_client.post(
            change_url(story),
            form_data(
                story,
                texts(
                    "The council said 32% of the budget went to roads last year.",
                    "What the Mayor Said",
                    "Updated on Monday.",
                    "The mayor denied it and said the figure was 12%.",
                ),
            ),
            follow=True,
        )

        assert response.status_code == 200
        revision = ArticleRevision.objects.get(article=story)
        assert (revision.origin, revision.changed_by, revision.body) == ("admin", staff, old_body)
        story.refresh_from_db()
        assert [b.kind for b in story.blocks.all()] == [P, H, P, P]
        moved.refresh_from_db()
        assert story.body[moved.start : moved.end] == "the figure was 12%"
        statuses = {a.pk: a.status for a in Annotation.objects.filter(article=story)}
        assert statuses[fuzzy.pk] == AnchorStatus.FUZZY
        assert statuses[orphan.pk] == AnchorStatus.ORPHANED
        # "30% of the budget" lost its exact words: fuzzy too, for review.
        assert statuses[kept.pk] == AnchorStatus.FUZZY
        report = revision.anchoring_report
        assert report == {"kept": 0, "moved": 1, "fuzzy": 2, "orphaned": 1}
        [message, saved] = messages_of(response)
        assert message == (
            "Text changed: 0 annotations kept, 1 moved, 2 fuzzy awaiting review, 1 orphaned. "
            f'<a href="{revision_url(revision)}">See what changed</a>.'
        )
        assert "was changed successfully" in saved
        assert '<li class="warning">Text changed' in response.content.decode()

    def test_it_says_plainly_when_every_annotation_stayed(self, staff_client, story):
        AnnotationFactory(article=story, quote="the figure was 12%")
        response = staff_client.post(
            change_url(story),
            form_data(story, texts(*(b.text for b in BLOCKS), "A last paragraph.")),
            follow=True,
        )
        assert messages_of(response)[0].startswith(
            "Text changed: 1 annotation kept, 0 moved, 0 fuzzy awaiting review, 0 orphaned."
        )
        assert 'class="success"' in response.content.decode()

    def test_it_refuses_an_empty_text_with_a_message(self, staff_client, story):
        AnnotationFactory(article=story, quote="30%")
        response = staff_client.post(change_url(story), form_data(story, " \r\n\r\n  "))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["text"] == [
            "An article needs some text. To take an article down, delete it instead."
        ]
        assert Article.objects.get(pk=story.pk).body == story.body
        assert not ArticleRevision.objects.exists()

    def test_it_refuses_control_characters_saying_where(self, staff_client, story):
        response = staff_client.post(
            change_url(story), form_data(story, "Fine.\r\n\r\nBad\x07 one.")
        )
        [error] = response.context["adminform"].form.errors["text"]
        assert "U+0007" in error and "line 3" in error
        assert Article.objects.get(pk=story.pk).body == story.body

    def test_it_writes_nothing_when_saved_unchanged(self, staff_client, story):
        annotation = AnnotationFactory(article=story, quote="30%")
        history = Annotation.history.count()
        response = staff_client.post(
            change_url(story), form_data(story, story.body.replace("\n", "\r\n")), follow=True
        )
        assert response.status_code == 200
        assert not ArticleRevision.objects.exists()
        assert Annotation.history.count() == history
        assert not any(m.startswith("Text changed") for m in messages_of(response))
        annotation.refresh_from_db()
        assert annotation.status == AnchorStatus.ANCHORED

    def test_it_changes_the_title_without_a_revision(self, staff_client, story):
        staff_client.post(change_url(story), form_data(story, story.body, title="Budget row"))
        assert Article.objects.get(pk=story.pk).title == "Budget row"
        assert not ArticleRevision.objects.exists()

    def test_it_collapses_white_space_and_classifies_blocks_like_the_importer(
        self, staff_client, story
    ):
        staff_client.post(
            change_url(story),
            form_data(
                story,
                "  Budget   Row\r\n\r\n\r\nThe council said\r\n30%\tof it.\r\n\r\n"
                "Photo: example.org, https://creativecommons.org/licenses/by/2.0/ A road",
            ),
        )
        story.refresh_from_db()
        assert [(b.kind, b.text) for b in story.blocks.all()] == [
            (H, "Budget Row"),
            (P, "The council said 30% of it."),
            (
                BlockKind.PHOTO_CREDIT,
                "Photo: example.org, https://creativecommons.org/licenses/by/2.0/ A road",
            ),
        ]
        assert story.body.startswith("Budget Row\n\nThe council said 30% of it.\n\nPhoto:")

    def test_it_adds_an_article_with_its_blocks_and_no_revision(self, staff_client):
        response = staff_client.post(
            ADD,
            {
                "source_id": "fresh",
                "date": "2025-09-01",
                "title": "Fresh story",
                "text": texts("A Heading", "A paragraph."),
            },
        )
        assert response.status_code == 302
        article = Article.objects.get(source_id="fresh")
        assert article.body == "A Heading\n\nA paragraph."
        assert [b.kind for b in article.blocks.all()] == [H, P]
        assert not ArticleRevision.objects.exists()

    def test_it_rolls_everything_back_when_re_anchoring_fails(
        self, client, staff, story, monkeypatch
    ):
        annotation = AnnotationFactory(article=story, quote="the figure was 12%")

        def broken(*args, **kwargs):
            raise RuntimeError("re-anchoring failed")

        monkeypatch.setattr(services.articles, "reanchor_article", broken)
        client.force_login(staff)
        with pytest.raises(RuntimeError):
            client.post(
                change_url(story), form_data(story, texts("New first.", *(b.text for b in BLOCKS)))
            )

        story = Article.objects.get(pk=story.pk)
        assert story.body == "\n\n".join(b.text for b in BLOCKS)
        assert [b.text for b in story.blocks.all()] == [b.text for b in BLOCKS]
        assert not ArticleRevision.objects.exists()
        assert Annotation.objects.get(pk=annotation.pk).start == annotation.start

    def test_it_does_not_revert_history_records(self, staff_client, story):
        # The history leaves the body out (revisions keep it), so a revert could not restore
        # the text: the record opens read-only, and a crafted POST is refused.
        staff_client.post(change_url(story), form_data(story, story.body, title="Budget row"))
        record = story.history.order_by("history_id").first()
        url = reverse("admin:newsroom_article_simple_history", args=[story.pk, record.history_id])
        page = staff_client.get(url)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert staff_client.post(url, form_data(story, "Reverted?")).status_code == 403
        story.refresh_from_db()
        assert (story.title, story.body) == ("Budget row", "\n\n".join(b.text for b in BLOCKS))


class TestRevisionDiff:
    def test_it_shows_the_change_word_by_word_escaped(self, staff_client, staff, story):
        staff_client.post(
            change_url(story),
            form_data(
                story,
                texts(
                    "The council said 32% of the <b>budget</b> went to roads last year.",
                    *(b.text for b in BLOCKS[1:3]),
                ),
            ),
        )
        revision = ArticleRevision.objects.get()
        response = staff_client.get(revision_url(revision))
        html = response.content.decode()
        assert response.status_code == 200
        assert "<del>30</del><ins>32</ins>% of the" in html
        assert "<ins>&lt;b&gt;</ins>budget<ins>&lt;/b&gt;</ins>" in html
        assert '<p class="diff-removed"><del>Zebras were not consulted' in html
        assert "Admin edit" in html and staff.username in html
        assert "<b>budget</b>" not in html
        assert " style=" not in html.split('id="content"')[1]

    def test_it_leaves_out_unchanged_paragraphs_far_from_the_change(self, staff_client):
        paragraphs = [f"Paragraph number {n} says something." for n in range(10)]
        article = ArticleFactory(blocks=[BlockText(P, text) for text in paragraphs])
        edited = [*paragraphs[:9], "Paragraph number 9 says something else."]
        revision = replace_article_text(
            article,
            date=article.date,
            title=article.title,
            blocks=[BlockText(P, t) for t in edited],
        )
        html = staff_client.get(revision_url(revision)).content.decode()
        assert "… 8 unchanged paragraphs …" in html
        assert "Paragraph number 8 says something." in html
        assert "Paragraph number 0" not in html

    def test_it_answers_404_for_another_articles_revision(self, staff_client, story):
        other = ArticleFactory(source_id="other")
        revision = replace_article_text(
            other, date=other.date, title=other.title, blocks=[BlockText(P, "Changed.")]
        )
        url = reverse("admin:newsroom_article_revision", args=[story.pk, revision.pk])
        assert staff_client.get(url).status_code == 404
        missing = reverse("admin:newsroom_article_revision", args=[99999, revision.pk])
        assert staff_client.get(missing).status_code == 404
