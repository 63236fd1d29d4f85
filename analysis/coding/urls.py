"""Qualitative coding of the open answers (namespace ``coding``)."""

from django.urls import path

from analysis.coding import views

app_name = "coding"

C = "programs/<slug:slug>/surveys/<slug:wave>/coding/"

urlpatterns = [
    path(C, views.overview, name="overview"),
    path(C + "themes/", views.themes, name="themes"),
    path(C + "themes/<int:pk>/", views.theme_edit, name="theme_edit"),
    path(C + "themes/<int:pk>/delete/", views.theme_delete, name="theme_delete"),
    path(C + "reviewers/", views.reviewers, name="reviewers"),
    path(C + "code/", views.code, name="code"),
    path(C + "disagreements/", views.disagreements, name="disagreements"),
    path(C + "consensus/", views.consensus, name="consensus"),
]
