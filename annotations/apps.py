from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Annotations"

    def ready(self) -> None:
        # The search tables and their triggers live outside the models (annotations/search.py):
        # every `migrate` makes sure they are there, and rebuilds the index when they were not.
        from .search import install_after_migrate

        post_migrate.connect(install_after_migrate, sender=self)
