"""The downloads (export.py), the JSON API (api/), the pages and annotating endpoints
(views.py), and the desk's: review, replies, answers, For you (factcheck_views.py)."""

from django.urls import path

from . import api, desk_views, export, factcheck_views, views

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
    # The desk: search across articles, statistics, ClaimReview (desk_views.py).
    path("desk/", desk_views.desk, name="desk"),
    path("desk/stats/", desk_views.desk_stats, name="desk_stats"),
    path("desk/stats/<slug:name>.csv", desk_views.desk_stats_csv, name="desk_stats_csv"),
    path("desk/claimreview.jsonld", desk_views.claimreview_download, name="claimreview"),
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
    # The desk (factcheck_views.py).
    path(
        "annotations/<int:pk>/review/", factcheck_views.annotation_review, name="annotation_review"
    ),
    path(
        "annotations/<int:pk>/review/history/",
        factcheck_views.annotation_review_history,
        name="annotation_review_history",
    ),
    path(
        "annotations/<int:pk>/replies/",
        factcheck_views.annotation_replies,
        name="annotation_replies",
    ),
    path(
        "annotations/<int:pk>/answers/",
        factcheck_views.annotation_answers,
        name="annotation_answers",
    ),
    path("replies/<int:pk>/edit/", factcheck_views.reply_edit, name="reply_edit"),
    path("replies/<int:pk>/update/", factcheck_views.reply_update, name="reply_update"),
    path("replies/<int:pk>/delete/", factcheck_views.reply_delete, name="reply_delete"),
    path("for-you/", factcheck_views.for_you, name="for_you"),
    path("for-you/read/", factcheck_views.for_you_read, name="for_you_read"),
    path("for-you/<int:pk>/open/", factcheck_views.mention_open, name="mention_open"),
]
