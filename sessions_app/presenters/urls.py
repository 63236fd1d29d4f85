"""URLs of the presenters pages (included by sessions_app/urls.py)."""

from django.urls import path

from sessions_app.presenters import views as v

P = "programs/<slug:slug>/"

urlpatterns = [
    path(P + "my-sessions/", v.my_sessions, name="my_sessions"),
    path(P + "sessions/<int:pk>/volunteer/", v.presenter_volunteer, name="presenter_volunteer"),
    path(P + "sessions/<int:pk>/rsvp/", v.rsvp_set, name="rsvp_set"),
    path(P + "sessions/<int:pk>/presenters/", v.session_presenters, name="session_presenters"),
    path(P + "sessions/<int:pk>/presenters/invite/", v.presenter_invite, name="presenter_invite"),
    path(P + "sessions/<int:pk>/attendance/", v.attendance_record, name="attendance_record"),
    path(P + "sessions/<int:pk>/attendance/guests/", v.attendance_guests, name="attendance_guests"),
    path(P + "sessions/<int:pk>/attendance/clear/", v.attendance_clear, name="attendance_clear"),
    path(
        P + "presentations/<int:pk>/withdraw/",
        v.presentation_withdraw,
        name="presentation_withdraw",
    ),
    path(P + "presentations/<int:pk>/accept/", v.presentation_accept, name="presentation_accept"),
    path(
        P + "presentations/<int:pk>/decline/", v.presentation_decline, name="presentation_decline"
    ),
    path(P + "presenters/", v.presenter_turns, name="presenter_turns"),
    path(P + "attendance/", v.attendance_figures, name="attendance_figures"),
    path(P + "attendance/credit/", v.credit_summary, name="credit_summary"),
    path(P + "attendance/credit.csv", v.credit_export, name="credit_export"),
]
