"""URLs of the schedule pages (included by sessions_app/urls.py)."""

from django.urls import path

from sessions_app.schedule import views as v

P = "programs/<slug:slug>/"

urlpatterns = [
    path(P + "sessions/", v.session_list, name="session_list"),
    path(P + "sessions/generate/", v.schedule_generate, name="schedule_generate"),
    path(P + "sessions/coverage/", v.coverage, name="session_coverage"),
    path(P + "sessions/<int:pk>/", v.session_detail, name="session_detail"),
    path(P + "sessions/<int:pk>.ics", v.session_ics, name="session_ics"),
    path(P + "sessions/<int:pk>/reschedule/", v.session_reschedule, name="session_reschedule"),
    path(P + "sessions/<int:pk>/cancel/", v.session_cancel, name="session_cancel"),
    path(P + "sessions/<int:pk>/plan/", v.session_plan, name="session_plan"),
    path(P + "sessions/<int:pk>/absences/", v.session_absence_add, name="session_absence_add"),
    path(
        P + "sessions/<int:pk>/absences/remove/",
        v.session_absence_remove,
        name="session_absence_remove",
    ),
    path(P + "rooms/", v.room_list, name="room_list"),
    path(P + "rooms/<int:pk>/edit/", v.room_edit, name="room_edit"),
    path(P + "rooms/<int:pk>/delete/", v.room_delete, name="room_delete"),
    path(P + "blackout-dates/", v.blackout_list, name="blackout_list"),
    path(P + "blackout-dates/<int:pk>/delete/", v.blackout_delete, name="blackout_delete"),
    path(P + "refreshments/", v.refreshment_list, name="refreshment_list"),
    path(P + "refreshments/<str:day>/", v.refreshment_edit, name="refreshment_edit"),
    path("calendar/", v.calendar_feeds, name="calendar_feeds"),
    path("calendar/revoke/", v.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", v.calendar_feed, name="calendar_feed"),
]
