from django.urls import path

urlpatterns: list = [
    # Each area adds its routes here: pages and annotating (views.py), exports (export.py),
    # the JSON API (api.py).
]
