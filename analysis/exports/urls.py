"""Reports and exports (namespace ``reports``): the reports page, direct downloads and
background export jobs. Access rules are in :mod:`analysis.exports.views`."""

from django.urls import path

from analysis.exports import views

app_name = "reports"

urlpatterns = [
    path("programs/<slug:slug>/reports/", views.index, name="index"),
    path(
        "programs/<slug:slug>/reports/clinicians/",
        views.clinician_search,
        name="clinician_search",
    ),
    path(
        "programs/<slug:slug>/reports/jobs/<int:pk>/",
        views.job_detail,
        name="job",
    ),
    path(
        "programs/<slug:slug>/reports/jobs/<int:pk>/progress/",
        views.job_progress,
        name="job_progress",
    ),
    path(
        "programs/<slug:slug>/reports/jobs/<int:pk>/download/",
        views.job_download,
        name="job_download",
    ),
    path(
        "programs/<slug:slug>/reports/jobs/<int:pk>/retry/",
        views.job_retry,
        name="job_retry",
    ),
    path(
        "programs/<slug:slug>/reports/<str:key>/download/",
        views.download_now,
        name="download_now",
    ),
    path(
        "programs/<slug:slug>/reports/<str:key>/request/",
        views.request_export,
        name="request",
    ),
]
