"""The notification hook: services announce what happened, by ids only.

Services call :func:`notify` after their transaction commits. The reminders and outbox
feature subscribes handlers here (``subscribe``) that turn events into messages. Until a
handler is subscribed for a kind, the event is only recorded in the audit trail, so nothing
is lost: the outbox can be filled from the trail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from .audit import audit_record

logger = logging.getLogger(__name__)

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = {}

# The kinds services emit, with the ids each carries.
KINDS = {
    "session.rescheduled": "session_id",
    "session.cancelled": "session_id",
    "facilitator.absent": "session_id, facilitator_id",
    "presenter.promoted": "presentation_id",
    "presenter.invited": "presentation_id",
}


def subscribe(kind: str, handler: Handler) -> None:
    _handlers.setdefault(kind, []).append(handler)


def notify(kind: str, *, program_id: int | None = None, **ids: int) -> None:
    """Record the event now and run its handlers once the transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}")
    audit_record(actor=None, action=f"notify.{kind}", program_id=program_id, data=ids)

    def run() -> None:
        for handler in _handlers.get(kind, ()):
            try:
                handler(**ids)
            except Exception:  # one failing handler must not stop the others
                logger.exception("Notification handler failed for %s %s", kind, ids)

    transaction.on_commit(run)


def handlers_for(kind: str) -> list[Handler]:
    return list(_handlers.get(kind, ()))


__all__ = ["KINDS", "notify", "subscribe", "handlers_for"]
