"""One list order for every place that lists an article's annotations: the page's side list,
the API and the exports (AnnotationQuerySet.in_reading_order)."""

import csv
import io
import re

from annotations.models import AnchorStatus, Annotation

from .factories import AnnotationFactory


def test_it_lists_orphans_last_on_the_page_in_the_api_and_in_the_csv(
    client, editor, article, claim
):
    body = article.body
    first = AnnotationFactory(article=article, tag=claim, quote=body[0:6], author=editor)
    later = AnnotationFactory(article=article, tag=claim, quote=body[10:16], author=editor)
    Annotation.objects.filter(pk=first.pk).update(status=AnchorStatus.ORPHANED)
    expected = [later.pk, first.pk]
    client.force_login(editor)

    page = client.get(article.get_absolute_url()).content.decode()
    listed = [int(pk) for pk in re.findall(r'<li[^>]* id="annotation-(\d+)"', page)]
    assert listed == expected

    api = client.get(f"/api/articles/{article.source_id}/annotations/").json()
    assert [int(item["id"].rstrip("/").rsplit("/", 1)[1]) for item in api["items"]] == expected

    exported = client.get(f"/articles/{article.source_id}/export.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [int(row["annotation_id"]) for row in rows] == expected
