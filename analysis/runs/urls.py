"""The analysis pages of a survey wave (namespace ``analysis``)."""

from django.urls import path

from analysis.runs import views

app_name = "analysis"

A = "programs/<slug:slug>/surveys/<slug:wave>/analysis/"
R = A + "runs/<int:pk>/"

urlpatterns = [
    path(A, views.run_list, name="run_list"),
    path(A + "start/", views.run_start, name="run_start"),
    path(R, views.run_detail, name="run_detail"),
    path(R + "progress/", views.run_progress, name="run_progress"),
    path(R + "retry/", views.run_retry, name="run_retry"),
    path(R + "results.json", views.run_json, name="run_json"),
    path(R + "charts/<slug:name>.svg", views.run_chart, name="run_chart"),
]
