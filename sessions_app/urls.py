from django.urls import include, path

from . import views, views_groups

app_name = "sessions_app"

urlpatterns = [
    path("programs/<slug:slug>/", views.program_detail, name="program_detail"),
    path("programs/<slug:slug>/settings/", views.program_edit, name="program_edit"),
    path("programs/<slug:slug>/roster/", views.roster_list, name="roster_list"),
    path("programs/<slug:slug>/roster/add/", views.clinician_create, name="clinician_create"),
    path("programs/<slug:slug>/roster/export.csv", views.roster_export, name="roster_export"),
    path("programs/<slug:slug>/roster/import/", views.roster_import, name="roster_import"),
    path(
        "programs/<slug:slug>/roster/import/<int:pk>/",
        views.roster_import_preview,
        name="roster_import_preview",
    ),
    path("programs/<slug:slug>/roster/<int:pk>/", views.clinician_detail, name="clinician_detail"),
    path("programs/<slug:slug>/roster/<int:pk>/edit/", views.clinician_edit, name="clinician_edit"),
    path(
        "programs/<slug:slug>/roster/<int:pk>/deactivate/",
        views.clinician_deactivate,
        name="clinician_deactivate",
    ),
    path(
        "programs/<slug:slug>/roster/<int:pk>/reactivate/",
        views.clinician_reactivate,
        name="clinician_reactivate",
    ),
    path(
        "programs/<slug:slug>/roster/<int:pk>/invite/",
        views.clinician_invite,
        name="clinician_invite",
    ),
    # The e-mailed link trades its token for a cookie and redirects to the account page.
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("accounts/invitation/", views.invitation_account, name="invitation_account"),
    # Groups and their assignment
    path("programs/<slug:slug>/groups/", views_groups.group_list, name="group_list"),
    path("programs/<slug:slug>/groups/<int:pk>/", views_groups.group_detail, name="group_detail"),
    path("programs/<slug:slug>/groups/<int:pk>/edit/", views_groups.group_edit, name="group_edit"),
    path(
        "programs/<slug:slug>/groups/<int:pk>/facilitators/",
        views_groups.group_facilitation_add,
        name="group_facilitation_add",
    ),
    path(
        "programs/<slug:slug>/facilitations/<int:pk>/end/",
        views_groups.facilitation_end,
        name="facilitation_end",
    ),
    path(
        "programs/<slug:slug>/groups/assign/",
        views_groups.assignment_start,
        name="assignment_start",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/",
        views_groups.assignment_run,
        name="assignment_run",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/move/",
        views_groups.assignment_move,
        name="assignment_move",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/commit/",
        views_groups.assignment_commit,
        name="assignment_commit",
    ),
    path(
        "programs/<slug:slug>/groups/assign/<int:pk>/discard/",
        views_groups.assignment_discard,
        name="assignment_discard",
    ),
    path(
        "programs/<slug:slug>/groups/rules/", views_groups.constraint_list, name="constraint_list"
    ),
    path(
        "programs/<slug:slug>/groups/rules/<int:pk>/delete/",
        views_groups.constraint_delete,
        name="constraint_delete",
    ),
    path(
        "programs/<slug:slug>/facilitators/",
        views_groups.facilitator_list,
        name="facilitator_list",
    ),
    path(
        "programs/<slug:slug>/facilitators/add/",
        views_groups.facilitator_edit,
        name="facilitator_create",
    ),
    path(
        "programs/<slug:slug>/facilitators/<int:pk>/edit/",
        views_groups.facilitator_edit,
        name="facilitator_edit",
    ),
    path("", include("sessions_app.urls_schedule")),
    path("", include("sessions_app.urls_agenda")),
    path("", include("sessions_app.urls_presenters")),
    path("", include("sessions_app.urls_casenotes")),
]
