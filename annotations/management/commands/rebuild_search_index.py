"""`manage.py rebuild_search_index`: make the search tables and triggers if they are missing,
and fill the index again from every annotation, reply and article (docs/search.md)."""

from django.core.management.base import BaseCommand

from annotations import searchindex
from annotations.models import Annotation
from newsroom.models import Article


class Command(BaseCommand):
    help = "Rebuild the full-text search index of annotations and articles."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--database", default="default", help="The database to rebuild.")

    def handle(self, *args, database="default", **options):
        if not searchindex.install(database):
            searchindex.rebuild(database)
        annotations = Annotation.objects.using(database).count()
        articles = Article.objects.using(database).count()
        self.stdout.write(
            f"Search index rebuilt: {annotations:,} annotations, {articles:,} articles."
        )
