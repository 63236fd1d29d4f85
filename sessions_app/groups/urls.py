"""Groups, their assignment and rules, and facilitators."""

from django.urls import path

from sessions_app.groups import views

urlpatterns = [
    # Groups and their assignment
    path("programs/<slug:slug>/groups/", views.group_list, name="group_list"),
    path("programs/<slug:slug>/groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("programs/<slug:slug>/groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path(
        "programs/<slug:slug>/groups/<int:pk>/facilitators/",
        views.group_facilitation_add,
        name="group_facilitation_add",
    ),
    path(
        "programs/<slug:slug>/facilitations/<int:pk>/end/",
        views.facilitation_end,
        name="facilitation_end",
    ),
    path(
        "programs/<slug:slug>/groups/assign/",
        views.assignment_start,
        name="assignment_start",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/",
        views.assignment_run,
        name="assignment_run",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/move/",
        views.assignment_move,
        name="assignment_move",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/commit/",
        views.assignment_commit,
        name="assignment_commit",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/discard/",
        views.assignment_discard,
        name="assignment_discard",
    ),
    path("programs/<slug:slug>/groups/rules/", views.constraint_list, name="constraint_list"),
    path(
        "programs/<slug:slug>/groups/rules/<int:pk>/delete/",
        views.constraint_delete,
        name="constraint_delete",
    ),
    path(
        "programs/<slug:slug>/facilitators/",
        views.facilitator_list,
        name="facilitator_list",
    ),
    path(
        "programs/<slug:slug>/facilitators/add/",
        views.facilitator_edit,
        name="facilitator_create",
    ),
    path(
        "programs/<slug:slug>/facilitators/<int:pk>/edit/",
        views.facilitator_edit,
        name="facilitator_edit",
    ),
]
