from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Only the account pages we serve: no e-mail is configured, so no password reset by mail
    # (an admin sets a forgotten password in the Django admin).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("newsroom.urls")),
    path("", include("annotations.urls")),
]
