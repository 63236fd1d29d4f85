"""Coordinator and report-viewer pages of the surveys (namespace ``surveys``)."""

from django.urls import path

app_name = "surveys"

urlpatterns: list = []
