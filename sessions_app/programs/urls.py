"""A program's settings and team."""

from django.urls import path

from sessions_app.programs import views

urlpatterns = [
    # Not under programs/: that is where a program's own address (its slug) goes.
    path("new-program/", views.program_create, name="program_create"),
    path("programs/<slug:slug>/settings/", views.program_edit, name="program_edit"),
    path("programs/<slug:slug>/team/", views.program_team, name="program_team"),
    path("programs/<slug:slug>/team/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
]
