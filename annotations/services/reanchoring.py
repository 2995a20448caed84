"""Re-anchoring stored annotations: `anchoring.reanchor` applied to an article's rows, writing
only what changed (docs/anchoring.md)."""

from django.db import models

from ..anchoring import Anchor, AnchoringReport, BodyDiff, Outcome, reanchor
from ..models import (
    AnchorStatus,
    Annotation,
    ChangeKind,
)
from .errors import Change

PLACEMENT_FIELDS = ("start", "end", "status", "prefix", "suffix")
ID_BATCH = 900  # ids per `IN (...)`, under SQLite's smallest parameter limit


def reanchor_article(
    article,
    old_body: str,
    *,
    changed_by=None,
    reason: str = "",
    changes: list[Change] | None = None,
) -> AnchoringReport:
    """Re-place every annotation of `article` on its new body (already set on `article`,
    whether saved yet or not), after its text was `old_body`.

    Call it inside the transaction that changes the body, with the article row locked (as
    `replace_article_text` does). Annotations are never deleted. Queries: one to read the
    annotations; when some changed, one UPDATE per kind of simple change (the same shift, the
    same new status), one bulk update for the rest, and one bulk insert of history records for
    all of them (by `changed_by`, with `reason`), so each annotation's history shows what
    re-anchoring did. Batched by 500-900 rows beyond that. Each annotation it moves is added
    to `changes` with its old place, for the caller's `record_changes`.
    """
    report = AnchoringReport()
    annotations = list(Annotation.objects.filter(article=article).order_by("pk"))
    if article.body == old_body:
        for annotation in annotations:
            anchored = annotation.status == AnchorStatus.ANCHORED
            report.count(Outcome.KEPT if anchored else Outcome(annotation.status))
        return report
    diff = BodyDiff(old_body, article.body)
    # Most changes are one of a few kinds: shifted by the same amount (a paragraph inserted
    # above), or only a new status (orphaned where they were). Each kind is one UPDATE; the
    # rest (new context, fuzzy places) go through one bulk update.
    grouped: dict[tuple[int, str | None], list[Annotation]] = {}
    rewritten, fields = [], set()
    for annotation in annotations:
        anchor = Anchor.of(annotation)
        placement = reanchor(anchor, old_body, article.body, diff)
        report.count(placement.outcome)
        differs = [
            name
            for name in PLACEMENT_FIELDS
            if getattr(annotation, name) != getattr(placement, name)
        ]
        if not differs:
            continue
        if changes is not None:
            changes.append((annotation.pk, ChangeKind.CHANGED, annotation.start, annotation.end))
        delta = placement.start - annotation.start
        if set(differs) <= {"start", "end", "status"} and placement.end - annotation.end == delta:
            status = placement.status if "status" in differs else None
            grouped.setdefault((delta, status), []).append(annotation)
        else:
            rewritten.append(annotation)
            fields.update(differs)
        for name in differs:
            setattr(annotation, name, getattr(placement, name))
    for (delta, status), group in grouped.items():
        values = {"status": status} if status else {}
        if delta:
            values |= {"start": models.F("start") + delta, "end": models.F("end") + delta}
        for i in range(0, len(group), ID_BATCH):
            ids = [annotation.pk for annotation in group[i : i + ID_BATCH]]
            Annotation.objects.filter(pk__in=ids).update(**values)
    if rewritten:
        Annotation.objects.bulk_update(rewritten, sorted(fields), batch_size=500)
    changed = [annotation for group in grouped.values() for annotation in group] + rewritten
    if changed:
        Annotation.history.bulk_history_create(
            changed,
            batch_size=500,
            update=True,
            default_user=changed_by,
            default_change_reason=reason or "Re-anchored: the article's text changed",
        )
    report.written = len(changed)
    return report


def reanchor_restored(annotation: Annotation, article, deleted_at) -> Outcome:
    """Place an annotation coming back from its history on its article's current body.

    It was last placed on the body as it read when it was deleted: the body the first revision
    after that moment kept, or the current body if there has been none. Sets the annotation's
    place, context and status (unsaved) and returns the outcome. One query.
    """
    later = article.revisions.filter(created__gt=deleted_at).order_by("created", "pk").first()
    old_body = later.body if later else article.body
    placement = reanchor(Anchor.of(annotation), old_body, article.body)
    for name in PLACEMENT_FIELDS:
        setattr(annotation, name, getattr(placement, name))
    return placement.outcome
