"""Coordinator and report-viewer pages of the surveys (namespace ``surveys``)."""

from django.urls import path

from . import views

app_name = "surveys"

W = "programs/<slug:slug>/surveys/<slug:wave>/"

urlpatterns = [
    path("programs/<slug:slug>/surveys/", views.wave_list, name="wave_list"),
    path("programs/<slug:slug>/surveys/new/", views.wave_create, name="wave_create"),
    path(
        "programs/<slug:slug>/surveys/new/recipients/",
        views.wave_recipients_count,
        name="wave_recipients_count",
    ),
    path(
        "programs/<slug:slug>/surveys/paper/new/", views.paper_wave_create, name="paper_wave_create"
    ),
    path("programs/<slug:slug>/surveys/series/", views.series_list, name="series_list"),
    path("programs/<slug:slug>/surveys/series/recipe/", views.series_recipe, name="series_recipe"),
    path(
        "programs/<slug:slug>/surveys/series/<slug:series>/",
        views.series_detail,
        name="series_detail",
    ),
    path(
        "programs/<slug:slug>/surveys/series/<slug:series>/remove/<slug:wave>/",
        views.series_remove_wave,
        name="series_remove_wave",
    ),
    path(W, views.wave_detail, name="wave_detail"),
    path(W + "close/", views.wave_close, name="wave_close"),
    path(W + "extend/", views.wave_extend, name="wave_extend"),
    path(W + "remind/", views.wave_remind, name="wave_remind"),
    path(W + "pilot/", views.wave_pilot, name="wave_pilot"),
    path(W + "responses/", views.response_list, name="response_list"),
    path(W + "responses/new/", views.paper_entry, name="paper_entry"),
    path(W + "responses/<int:pk>/", views.response_detail, name="response_detail"),
    path(W + "responses/<int:pk>/exclude/", views.response_exclude, name="response_exclude"),
    path(W + "responses/<int:pk>/include/", views.response_include, name="response_include"),
    path(W + "import/", views.response_import, name="response_import"),
    path(W + "import/<int:pk>/", views.response_import_preview, name="response_import_preview"),
    path("surveys/codebook/<slug:instrument>/", views.codebook, name="codebook"),
    path(
        "surveys/codebook/<slug:instrument>/v<int:version>/",
        views.codebook,
        name="codebook_version",
    ),
]
