"""A program's settings."""

from django.urls import path

from sessions_app.programs import views

urlpatterns = [
    path("programs/<slug:slug>/settings/", views.program_edit, name="program_edit"),
]
