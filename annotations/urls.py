from django.urls import path

from . import export

urlpatterns: list = [
    path("export/annotations.csv", export.export_csv_all, name="export_csv_all"),
    path(
        "articles/<str:source_id>/export.csv",
        export.export_csv_article,
        name="export_csv_article",
    ),
    # Each area adds its routes here: pages and annotating (views.py), exports (export.py),
    # the JSON API (api.py).
]
