"""URLs of the agenda pages (included by sessions_app/urls.py)."""

from django.urls import path

from sessions_app.agenda import views as v

SESSION = "programs/<slug:slug>/sessions/<int:pk>/"

urlpatterns = [
    # Agenda templates (coordinator)
    path("programs/<slug:slug>/agendas/", v.agenda_list, name="agenda_list"),
    path("programs/<slug:slug>/agendas/new/", v.agenda_edit, name="agenda_create"),
    path("programs/<slug:slug>/agendas/<int:pk>/edit/", v.agenda_edit, name="agenda_edit"),
    path("programs/<slug:slug>/agendas/<int:pk>/copy/", v.agenda_copy, name="agenda_copy"),
    path("programs/<slug:slug>/agendas/<int:pk>/apply/", v.agenda_apply, name="agenda_apply"),
    # One session: the facilitator's agenda, the live view, take-home points
    path(SESSION + "agenda/", v.session_agenda, name="session_agenda"),
    path(SESSION + "live/", v.session_live, name="session_live"),
    path(SESSION + "live/state/", v.session_live_state, name="session_live_state"),
    path(SESSION + "live/start/", v.session_live_start, name="session_live_start"),
    path(SESSION + "live/pause/", v.session_live_pause, name="session_live_pause"),
    path(SESSION + "live/resume/", v.session_live_resume, name="session_live_resume"),
    path(SESSION + "live/next/", v.session_live_next, name="session_live_next"),
    path(SESSION + "live/extend/", v.session_live_extend, name="session_live_extend"),
    path(SESSION + "live/reset/", v.session_live_reset, name="session_live_reset"),
    path(SESSION + "take-home/", v.session_take_home, name="session_take_home"),
    path(SESSION + "take-home/edit/", v.session_take_home_edit, name="session_take_home_edit"),
]
