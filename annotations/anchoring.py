"""Re-anchoring annotations when an article's body changes (SPEC §4).

Interim version: an annotation stays where its quote still is, moves to the single other
place its quote appears, or is marked orphaned. Never deleted.
"""

from dataclasses import asdict, dataclass

from .models import AnchorStatus, Annotation, context_around


@dataclass
class AnchoringReport:
    kept: int = 0
    moved: int = 0
    fuzzy: int = 0
    orphaned: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def reanchor_article(article, old_body: str) -> AnchoringReport:
    """Re-place every annotation of `article` on its (already saved) new body."""
    report = AnchoringReport()
    body = article.body
    changed = []
    for annotation in Annotation.objects.filter(article=article):
        if body[annotation.start : annotation.end] == annotation.quote:
            report.kept += 1
            if annotation.status != AnchorStatus.ANCHORED:
                annotation.status = AnchorStatus.ANCHORED
                changed.append(annotation)
            continue
        first = body.find(annotation.quote)
        if first != -1 and body.find(annotation.quote, first + 1) == -1:
            annotation.start, annotation.end = first, first + len(annotation.quote)
            annotation.prefix, annotation.suffix = context_around(body, annotation.start, annotation.end)
            annotation.status = AnchorStatus.ANCHORED
            report.moved += 1
        else:
            annotation.status = AnchorStatus.ORPHANED
            report.orphaned += 1
        changed.append(annotation)
    Annotation.objects.bulk_update(changed, ["start", "end", "prefix", "suffix", "status"])
    return report
