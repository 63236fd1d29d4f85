from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

admin.site.site_header = "CCDG administration"
admin.site.site_title = "CCDG administration"

urlpatterns = [
    path("", include("sessions_app.home.urls")),
    path("healthz/", views.healthz, name="healthz"),
    # For browsers and tools that ask for /favicon.ico without reading the page's links.
    path("favicon.ico", views.favicon, name="favicon"),
    path("identifiers/check/", views.identifiers_check, name="identifiers_check"),
    # Sign-in, sign-out, password reset and change, second factors, single sign-on and the
    # list of one's sessions: django-allauth's pages (docs/sign-in.md).
    path("accounts/", include("ccdg.accounts.urls")),
    # The admin signs in through the same page (limits, second factor, single sign-on).
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="account_login", query_string=True)),
        name="admin_login_redirect",
    ),
    path("admin/", admin.site.urls),
    path("", include("sessions_app.urls")),
    path("", include("sessions_app.reminders.urls")),
    path("", include("surveys.urls")),
    path("", include("surveys.urls_answer")),
    path("", include("analysis.runs.urls")),
    path("", include("analysis.coding.urls")),
    path("", include("analysis.exports.urls")),
    path("", include("analysis.series.urls")),
]

handler403 = "ccdg.views.error_403"
