"""The annotation admin's history pages, and restoring deleted annotations."""

from django.urls import reverse

from annotations.models import Annotation
from annotations.services import replace_article_text
from newsroom.models import BlockKind, BlockText

from .admin_pages import ANNOTATIONS_URL, RECOVER_URL, XSS, annotation_form
from .factories import AnnotationFactory, EditorFactory


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
