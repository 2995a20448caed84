from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Annotations"

    def ready(self) -> None:
        # The search tables and their triggers live outside the models (annotations/searchindex.py):
        # on SQLite the triggers step aside while migrations alter tables; after every
        # `migrate` they are made again where missing, and the index rebuilt.
        from .fts5 import prepare_connection
        from .searchindex import install_after_migrate, set_aside_before_migrate

        pre_migrate.connect(set_aside_before_migrate, sender=self)
        post_migrate.connect(install_after_migrate, sender=self)
        # Each SQLite connection gets the temporary tables a search asks about its words.
        connection_created.connect(prepare_connection)
