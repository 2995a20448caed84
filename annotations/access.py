"""Who may do what (SPEC §9), in one place: every view and API operation asks here.

Anonymous users never reach these (login is required by middleware; the API answers 401).
Signed-in users outside "Editors" read and export; editors annotate and change their own
annotations; staff do everything.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

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


def get_article_for_user(user, source_id: str) -> Article:
    """Any signed-in user may read any article; 404 when there is none."""
    return get_object_or_404(Article, source_id=source_id)


def get_article_to_annotate(user, source_id: str) -> Article:
    if not can_annotate(user):
        raise PermissionDenied("Only editors may annotate.")
    return get_object_or_404(Article, source_id=source_id)


def get_annotation_to_change(user, annotation_id) -> Annotation:
    annotation = get_object_or_404(Annotation.objects.with_related(), pk=annotation_id)
    if not can_change(user, annotation):
        raise PermissionDenied("Only the annotation's author or staff may change it.")
    return annotation


def get_annotation_to_delete(user, annotation_id) -> Annotation:
    annotation = get_object_or_404(Annotation.objects.with_related(), pk=annotation_id)
    if not can_delete(user, annotation):
        raise PermissionDenied("Only the annotation's author or staff may delete it.")
    return annotation
