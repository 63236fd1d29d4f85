"""The app's pages, one ``urls`` module per feature; every name stays in the app's namespace."""

from django.urls import include, path

from sessions_app.home import views as home_views

app_name = "sessions_app"

urlpatterns = [
    path("programs/<slug:slug>/", home_views.program_detail, name="program_detail"),
    path("", include("sessions_app.programs.urls")),
    path("", include("sessions_app.roster.urls")),
    path("", include("sessions_app.groups.urls")),
    path("", include("sessions_app.schedule.urls")),
    path("", include("sessions_app.agenda.urls")),
    path("", include("sessions_app.presenters.urls")),
    path("", include("sessions_app.casenotes.urls")),
]
