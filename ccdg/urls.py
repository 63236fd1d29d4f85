from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

admin.site.site_header = "CCDG administration"
admin.site.site_title = "CCDG administration"

urlpatterns = [
    path("", include("sessions_app.home.urls")),
    path("healthz/", views.healthz, name="healthz"),
    path("identifiers/check/", views.identifiers_check, name="identifiers_check"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("", include("sessions_app.urls")),
    path("", include("sessions_app.reminders.urls")),
    path("", include("surveys.urls")),
    path("", include("surveys.urls_answer")),
    path("", include("analysis.runs.urls")),
    path("", include("analysis.coding.urls")),
    path("", include("analysis.exports.urls")),
]

handler403 = "ccdg.views.error_403"
