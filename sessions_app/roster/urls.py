"""The roster: clinicians, their import and their invitations."""

from django.urls import path

from sessions_app.roster import views

urlpatterns = [
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
    path("programs/<slug:slug>/team/invite/", views.role_invite, name="role_invite"),
    path(
        "programs/<slug:slug>/facilitators/<int:pk>/invite/",
        views.facilitator_invite,
        name="facilitator_invite",
    ),
    # The e-mailed link trades its token for a cookie and redirects to the account page.
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("accounts/invitation/", views.invitation_account, name="invitation_account"),
]
