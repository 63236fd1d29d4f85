"""The outbox pages (namespace ``outbox``, included by ``ccdg/urls.py``)."""

from django.urls import path

from sessions_app.reminders import views

app_name = "outbox"
P = "programs/<slug:slug>/outbox/"

urlpatterns = [
    path(P, views.outbox, name="outbox"),
    path(P + "pause/", views.outbox_pause, name="outbox_pause"),
    path(P + "resume/", views.outbox_resume, name="outbox_resume"),
    path(P + "<int:pk>/", views.outbox_preview, name="outbox_preview"),
    path(P + "<int:pk>/resend/", views.outbox_resend, name="outbox_resend"),
    # The e-mailed link trades its token for a cookie and redirects to the program's page.
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path(
        "programs/<slug:slug>/unsubscribe/",
        views.unsubscribe_confirm,
        name="unsubscribe_confirm",
    ),
]
