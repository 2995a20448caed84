"""Who may do what, in one place: every view and API operation asks here.

Anonymous users never reach these (login is required by middleware; the API answers 401).
Signed-in users outside "Editors" read and export; editors annotate and change their own
annotations; staff do everything. On the desk, editors and staff set the review state of any
annotation, link any answer, and reply to any; a reply is changed by its author or staff, as an
annotation is (the annotation permissions of the "Editors" group cover replies too).

The helpers raise Http404 and PermissionDenied with messages a person understands, so the
pages and the API refuse in the same words.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from config.statements import read_one
from newsroom.models import Article

from .models import Annotation, Reply

EDITORS_GROUP = "Editors"


def can_annotate(user) -> bool:
    return user.is_active and (user.is_staff or user.has_perm("annotations.add_annotation"))


def can_change(user, annotation: Annotation) -> bool:
    if not user.is_active:
        return False
    if user.is_staff:
        return True
    return annotation.author_id == user.pk and user.has_perm("annotations.change_annotation")


def can_delete(user, annotation: Annotation) -> bool:
    if not user.is_active:
        return False
    if user.is_staff:
        return True
    return annotation.author_id == user.pk and user.has_perm("annotations.delete_annotation")


def get_article_to_read(source_id: str, *, lock: bool = False) -> Article:
    """Any signed-in user may read any article.

    `lock=True`, inside a transaction, locks the article's row until it ends: a caller that
    creates annotations against the body it read then reads the article only once.
    """
    # A NUL cannot be in a stored source id, and PostgreSQL refuses to even compare with one.
    article = None if "\x00" in source_id else read_one(Article, "source_id", source_id, lock=lock)
    if article is not None:
        return article
    raise Http404(f"There is no article {source_id!r}.")


def get_article_to_annotate(user, source_id: str, *, lock: bool = False) -> Article:
    if not can_annotate(user):
        raise PermissionDenied("Only editors may annotate.")
    return get_article_to_read(source_id, lock=lock)


def get_annotation_to_read(annotation_id: int) -> Annotation:
    """Any signed-in user may read any annotation."""
    try:
        return Annotation.objects.with_related().get(pk=annotation_id)
    except Annotation.DoesNotExist:
        raise Http404(f"There is no annotation {annotation_id}.") from None


def get_annotation_to_change(user, annotation_id: int) -> Annotation:
    annotation = get_annotation_to_read(annotation_id)
    if not can_change(user, annotation):
        raise PermissionDenied("Only the annotation's author or staff may change it.")
    return annotation


def get_annotation_to_delete(user, annotation_id: int) -> Annotation:
    annotation = get_annotation_to_read(annotation_id)
    if not can_delete(user, annotation):
        raise PermissionDenied("Only the annotation's author or staff may delete it.")
    return annotation


def can_review(user) -> bool:
    """Review states, answers and replies: every editor, on every annotation."""
    return can_annotate(user)


def can_change_reply(user, reply: Reply) -> bool:
    if not user.is_active:
        return False
    if user.is_staff:
        return True
    return reply.author_id == user.pk and user.has_perm("annotations.change_annotation")


def get_annotation_to_review(user, annotation_id: int) -> Annotation:
    annotation = get_annotation_to_read(annotation_id)
    if not can_review(user):
        raise PermissionDenied("Only editors may review, reply to or link annotations.")
    return annotation


def get_reply_to_read(reply_id: int) -> Reply:
    """Any signed-in user may read any reply."""
    try:
        return Reply.objects.select_related("author", "annotation").get(pk=reply_id)
    except Reply.DoesNotExist:
        raise Http404(f"There is no reply {reply_id}.") from None


def get_reply_to_change(user, reply_id: int) -> Reply:
    """Editing and deleting a reply: its author (an editor) or staff."""
    reply = get_reply_to_read(reply_id)
    if not can_change_reply(user, reply):
        raise PermissionDenied("Only the reply's author or staff may change or delete it.")
    return reply
