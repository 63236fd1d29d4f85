"""The codes of the message kinds about a program's schedule (stored in ``OutboxMessage.kind``).

What each one does is in ``registration``."""

LAUNCH = "launch"
LAUNCH_SECOND = "launch_second"
SESSION_REMINDER = "session_reminder"
PRESENTER_REMINDER = "presenter_reminder"
NO_PRESENTER = "no_presenter"
NEXT_MEETING = "next_meeting"
SESSION_RESCHEDULED = "session_rescheduled"
SESSION_CANCELLED = "session_cancelled"
BACKUP_ALERT = "backup_alert"
PRESENTER_PROMOTED = "presenter_promoted"
