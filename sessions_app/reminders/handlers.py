"""Notifications that become messages at once: a change, a cancellation, a backup's turn, a
presenter promoted from the waitlist. Subscribed in ``SessionsAppConfig.ready``."""

from __future__ import annotations

from ccdg import notifications
from ccdg.outbox.scan import rows_for_event
from sessions_app.presenters.models import Presentation
from sessions_app.reminders import kinds as K
from sessions_app.reminders import recipients as people
from sessions_app.schedule.models import Session


def _session(session_id: int) -> Session | None:
    return Session.objects.filter(pk=session_id).select_related("group").first()


def on_session_changed(kind: str):
    def handler(*, session_id: int) -> None:
        session = _session(session_id)
        if session is None:
            return
        rows_for_event(
            program_id=session.group.program_id,
            kind=kind,
            object_id=session.pk,
            recipients=people.session_people(session),
            # Each change has its own SEQUENCE: a second move is a second notice.
            occurrence=f"seq{session.sequence}",
        )

    return handler


def on_facilitator_absent(*, session_id: int, facilitator_id: int) -> None:
    session = _session(session_id)
    if session is None:
        return
    rows_for_event(
        program_id=session.group.program_id,
        kind=K.BACKUP_ALERT,
        object_id=session.pk,
        recipients=people.covering_facilitators(session),
        occurrence=f"absent:{facilitator_id}",
    )


def on_presenter_promoted(*, presentation_id: int) -> None:
    p = (
        Presentation.objects.filter(pk=presentation_id)
        .select_related("clinician", "session__group")
        .first()
    )
    if p is None:
        return
    rows_for_event(
        program_id=p.session.group.program_id,
        kind=K.PRESENTER_PROMOTED,
        object_id=p.pk,
        recipients=[people.presenter(p)],
        occurrence="promoted",
    )


def register() -> None:
    if notifications.handlers_for("session.rescheduled"):
        return  # already registered (ready() may run twice in tests)
    notifications.subscribe("session.rescheduled", on_session_changed(K.SESSION_RESCHEDULED))
    notifications.subscribe("session.cancelled", on_session_changed(K.SESSION_CANCELLED))
    notifications.subscribe("facilitator.absent", on_facilitator_absent)
    notifications.subscribe("presenter.promoted", on_presenter_promoted)
