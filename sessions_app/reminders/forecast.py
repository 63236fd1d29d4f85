"""What the outbox will send in the next days: the forecast of the coordinator's Upcoming tab.

The reminders of a schedule become outbox rows only when they come due (the due-scan), so the
rows alone say nothing about next week. The forecast asks the scan's own rules
(``ccdg.outbox.scan.messages_due``: every registered kind's) what will come due by then, builds
the very rows the scan will write (``RowBuilder``: the stale and the unsubscribed are left out,
as the scan skips them), drops those already in the outbox, and renders each message with the
sending code (``ccdg.outbox.rendering.render_message``). As things stand now: a session moved
or cancelled, a presenter confirming or a person leaving changes the forecast as it will change
the scan.

A fixed number of queries, whatever the number of sessions, waves and recipients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import cached_property

from django.utils import timezone

from ccdg.models import OutboxMessage, ReminderSettings
from ccdg.outbox import kinds
from ccdg.outbox.rendering import Lookups, Rendered, render_message
from ccdg.outbox.scan import Due, Recipient, RowBuilder, messages_due, opted_out_emails
from sessions_app.programs.models import Program

S = OutboxMessage.Status
FORECAST_DAYS = 30


@dataclass
class Planned:
    """One message not queued yet, to everyone it will reach (``reaching``; ``rows``: the
    unsaved rows the scan will write for them, made when asked)."""

    due: Due
    tz: tzinfo  # the program's time zone
    reaching: list[Recipient]
    recipients: list[tuple[str, str]] = field(default_factory=list)  # (first name, address)
    preview: Rendered | None = None
    error: str = ""
    program_id: int = 0

    @property
    def kind_label(self) -> str:
        return kinds.label(self.due.kind)

    @property
    def due_local(self) -> datetime:
        return timezone.localtime(self.due.due_at, self.tz)

    @cached_property
    def about(self) -> str:
        """What the message is about (worked out for the messages listed only)."""
        return _about(self.due, self.tz)

    @property
    def recipient_count(self) -> int:
        return len(self.reaching)

    @cached_property
    def rows(self) -> list[OutboxMessage]:
        d = self.due
        return [
            OutboxMessage(
                program_id=self.program_id,
                kind=d.kind,
                object_id=d.object_id,
                recipient_type=r.type,
                recipient_id=r.id,
                email=r.email,
                occurrence=d.occurrence,
                due_at=d.due_at,
                status=S.PENDING,
            )  # fmt: skip
            for r in self.reaching
        ]


def _about(due: Due, tz) -> str:
    """What the message is about, in the program's time zone (said by its kind)."""
    describe = kinds.get(due.kind).describe
    return describe(due, tz) if describe is not None else ""


def outbox_forecast(
    *,
    program: Program,
    now: datetime | None = None,
    days: int = FORECAST_DAYS,
    previews: bool = True,
    detailed: int | None = None,
) -> list[Planned]:
    """The messages the due-scan will queue for ``program`` in the next ``days`` (and any that
    came due since its last run), each with its recipients and, with ``previews``, the message
    as its first recipient will read it (personal links as placeholders, no ``.ics``); with
    ``detailed``, recipients and previews of the first ``detailed`` messages only (a program of
    dozens of groups plans hundreds of messages a month). Ordered by due time."""
    now = now or timezone.now()
    tz = program.tz
    dues = messages_due(
        program=program,
        reminder_settings=ReminderSettings.for_program(program.pk),
        now=now,
        until=now + timedelta(days=days),
    )
    if not dues:
        return []
    existing = set(
        OutboxMessage.objects.filter(
            program=program,
            kind__in={d.kind for d in dues},
            occurrence__in={d.occurrence for d in dues},
            object_id__in={d.object_id for d in dues},
        ).values_list("kind", "object_id", "recipient_type", "recipient_id", "occurrence")
    )
    builder = RowBuilder(now=now, opted_out=opted_out_emails([program.pk]))
    planned = []
    for due in dues:
        # Skipped by the scan (stale, unsubscribed) or already written: not to come. Rows
        # (model instances) are made only for the messages shown in detail.
        reaching = [
            r
            for r in due.recipients
            if not builder.skip_reason(
                program_id=program.pk, kind=due.kind, email=r.email, stale_reason=due.stale_reason
            )
            and (due.kind, due.object_id, r.type, r.id, due.occurrence) not in existing
        ]
        if reaching:
            planned.append(Planned(due=due, tz=tz, reaching=reaching, program_id=program.pk))
    planned.sort(key=lambda p: (p.due.due_at, p.due.kind, p.due.object_id))
    if not previews or not planned:
        return planned
    shown = planned if detailed is None else planned[:detailed]
    lookups = Lookups.load([r for p in shown for r in p.rows], tokens=False)
    for p in shown:
        p.recipients = [(lookups.of(r).recipient_name(r), r.email) for r in p.rows]
        try:
            p.preview = render_message(p.rows[0], lookups, attachments=False, personal_links=False)
        except Exception as exc:  # the coordinator sees why it would fail
            p.error = f"This message cannot be rendered: {type(exc).__name__}."
    return planned


__all__ = ["FORECAST_DAYS", "Planned", "outbox_forecast"]
