"""Who may do what, in one place: every view and API operation asks here.

Anonymous users never reach these (login is required by middleware; the API answers 401).
Signed-in users outside "Editors" read and export; editors annotate and change their own
annotations; staff do everything.

The helpers raise Http404 and PermissionDenied with messages a person understands, so the
pages and the API refuse in the same words.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from newsroom.models import Article

from .models import Annotation

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
    if "\x00" not in source_id:
        articles = Article.objects.select_for_update() if lock else Article.objects
        try:
            return articles.get(source_id=source_id)
        except Article.DoesNotExist:
            pass
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
