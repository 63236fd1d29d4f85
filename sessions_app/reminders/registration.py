"""The message kinds about a program's schedule, registered with the core's outbox in
``SessionsAppConfig.ready`` (``ccdg.outbox.kinds``)."""

from __future__ import annotations

from ccdg.outbox.kinds import MessageKind, register
from sessions_app.reminders import kinds as K
from sessions_app.reminders.due import launch_due, next_meeting_due, session_due
from sessions_app.reminders.rendering import (
    SessionLookups,
    session_context,
    session_describe,
    session_recheck,
)

_common = dict(
    load=SessionLookups.load,
    context=session_context,
    recheck=session_recheck,
    describe=session_describe,
)

KINDS = (
    MessageKind(
        code=K.LAUNCH,
        label="Launch announcement",
        subject="{program}: your case discussion group starts soon",
        due=launch_due,
        **_common,
    ),
    MessageKind(
        code=K.LAUNCH_SECOND,
        label="Second launch announcement",
        subject="{program}: the first sessions are next week",
        optional=True,
        due=launch_due,
        **_common,
    ),
    MessageKind(
        code=K.SESSION_REMINDER,
        label="Session reminder",
        subject="Reminder: {group} meets {when}",
        due=session_due,
        **_common,
    ),
    MessageKind(
        code=K.PRESENTER_REMINDER,
        label="Presenter reminder",
        subject="You present at {group} on {when}",
        due=session_due,
        **_common,
    ),
    MessageKind(
        code=K.NO_PRESENTER,
        label="No presenter yet (facilitators)",
        subject="No presenter yet for {group} on {when}",
        due=session_due,
        **_common,
    ),
    MessageKind(
        code=K.NEXT_MEETING,
        label="Next meeting",
        subject="{group} meets next on {when}",
        optional=True,
        due=next_meeting_due,
        **_common,
    ),
    # Written when something happens (handlers), never by the scan; always sent.
    MessageKind(
        code=K.SESSION_RESCHEDULED,
        label="Session moved",
        subject="Moved: {group} now meets {when}",
        **_common,
    ),
    MessageKind(
        code=K.SESSION_CANCELLED,
        label="Session cancelled",
        subject="Cancelled: {group} on {when}",
        **_common,
    ),
    MessageKind(
        code=K.BACKUP_ALERT,
        label="Backup facilitator alert",
        subject="You lead {group} on {when}",
        **_common,
    ),
    MessageKind(
        code=K.PRESENTER_PROMOTED,
        label="Presenter promoted from the waitlist",
        subject="You present at {group} on {when}",
        **_common,
    ),
)


def kinds_register() -> None:
    register(*KINDS)
