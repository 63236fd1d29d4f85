"""The results of a wave series (namespace ``series``)."""

from django.urls import path

from analysis.series import views

app_name = "series"

urlpatterns = [
    path(
        "programs/<slug:slug>/surveys/series/<slug:series>/results/",
        views.series_results_page,
        name="results",
    ),
    path(
        "programs/<slug:slug>/surveys/series/<slug:series>/results/<slug:name>.svg",
        views.series_chart,
        name="chart",
    ),
]
