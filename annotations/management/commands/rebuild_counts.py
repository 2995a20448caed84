"""`manage.py rebuild_counts`: recount the counts the article lists and the statistics read
(annotations/services/counts.py) from the annotations themselves."""

import time

from django.core.management.base import BaseCommand

from annotations.services import rebuild_counts


class Command(BaseCommand):
    help = (
        "Recount each article's annotations and the statistics' daily and per-editor counts. "
        "Run it after writing annotations around the app (a bulk load, an SQL fix) or "
        "changing TIME_ZONE."
    )

    def handle(self, *args, **options):
        started = time.perf_counter()
        rebuild_counts()
        self.stdout.write(f"Counts rebuilt in {time.perf_counter() - started:.1f} s.")
