"""The downloads (export.py), the JSON API (api/), the pages and annotating endpoints
(views.py), and the desk's: review, replies, answers, For you (views_desk.py)."""

from django.urls import path

from . import api, export, views, views_desk

urlpatterns = [
    path("export/annotations.csv", export.export_csv_all, name="export_csv_all"),
    path(
        "articles/<str:source_id>/export.csv",
        export.export_csv_article,
        name="export_csv_article",
    ),
    path("export/annotations.jsonld", export.export_jsonld_all, name="export_jsonld_all"),
    path(
        "articles/<str:source_id>/export.jsonld",
        export.export_jsonld_article,
        name="export_jsonld_article",
    ),
    # The JSON API (the api package).
    path("api/", api.api_urls()),
    # The pages and the annotating endpoints (views.py); every change is a POST.
    path("articles/<str:source_id>/", views.article_detail, name="article_detail"),
    path(
        "articles/<str:source_id>/annotations/",
        views.annotation_create,
        name="annotation_create",
    ),
    path("articles/<str:source_id>/changes/", views.article_changes, name="article_changes"),
    path("articles/<str:source_id>/entries/", views.annotation_page, name="annotation_page"),
    path("annotations/<int:pk>/", views.annotation_entry, name="annotation_entry"),
    path("annotations/<int:pk>/update/", views.annotation_update, name="annotation_update"),
    path("annotations/<int:pk>/delete/", views.annotation_delete, name="annotation_delete"),
    path("annotations/<int:pk>/restore/", views.annotation_restore, name="annotation_restore"),
    path("annotations/<int:pk>/reselect/", views.annotation_reselect, name="annotation_reselect"),
    # The desk (views_desk.py).
    path("annotations/<int:pk>/review/", views_desk.annotation_review, name="annotation_review"),
    path(
        "annotations/<int:pk>/review/history/",
        views_desk.annotation_review_history,
        name="annotation_review_history",
    ),
    path("annotations/<int:pk>/replies/", views_desk.annotation_replies, name="annotation_replies"),
    path("annotations/<int:pk>/answers/", views_desk.annotation_answers, name="annotation_answers"),
    path("replies/<int:pk>/edit/", views_desk.reply_edit, name="reply_edit"),
    path("replies/<int:pk>/update/", views_desk.reply_update, name="reply_update"),
    path("replies/<int:pk>/delete/", views_desk.reply_delete, name="reply_delete"),
    path("for-you/", views_desk.for_you, name="for_you"),
    path("for-you/read/", views_desk.for_you_read, name="for_you_read"),
    path("for-you/<int:pk>/open/", views_desk.mention_open, name="mention_open"),
]
