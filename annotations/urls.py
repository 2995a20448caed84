from django.urls import path

from . import api, export

urlpatterns: list = [
    path("export/annotations.csv", export.export_csv_all, name="export_csv_all"),
    path(
        "articles/<str:source_id>/export.csv",
        export.export_csv_article,
        name="export_csv_article",
    ),
    # The JSON API and the W3C JSON-LD downloads (api.py).
    path("api/", api.api_urls()),
    path("export/annotations.jsonld", api.export_jsonld_all, name="export_jsonld_all"),
    path(
        "articles/<str:source_id>/export.jsonld",
        api.export_jsonld_article,
        name="export_jsonld_article",
    ),
    # Each area adds its routes here: pages and annotating (views.py), exports (export.py),
    # the JSON API (api.py).
]
