"""What is due now: the due-scan that the beat task and ``dispatch_reminders`` run.

The scan is idempotent. It computes every message whose time has come, writes one row each
with ``bulk_create(ignore_conflicts=True)`` against the unique constraint, so running it
twice or two at once writes nothing twice; then, after commit, it enqueues one send task per
batch of pending rows that have no live task. Nothing is scheduled far ahead (no ETA tasks):
the rows are the schedule, and a task lost with the broker is enqueued again by a later scan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ccdg.models import OutboxMessage, OutboxOptOut, ReminderSettings
from sessions_app.models import Presentation, Program, Session

from . import recipients as people
from .recipients import Recipient

logger = logging.getLogger(__name__)

K = OutboxMessage.Kind
S = OutboxMessage.Status
# Messages a person may opt out of; changes and cancellations always go out.
OPTIONAL_KINDS = frozenset({K.LAUNCH_SECOND, K.NEXT_MEETING, K.SURVEY_REMINDER})
# Survey messages: ``object_id`` is the wave, the recipient a clinician with a link.
SURVEY_KINDS = frozenset({K.SURVEY_INVITATION, K.SURVEY_REMINDER})
# How far back the scan looks for things that came due while nothing ran: older ones are
# neither sent nor recorded.
LOOKBACK = timedelta(days=14)
# A next-meeting note more than a day after the session is no longer news.
NEXT_MEETING_USEFUL = timedelta(days=1)
ENQUEUE_CHUNK = 500


def occurrence_of(session: Session) -> str:
    """A reschedule (new start, higher SEQUENCE) is a new occurrence: it gets new reminders."""
    return f"{session.starts_at.astimezone(UTC).isoformat()}#{session.sequence}"


@dataclass
class ScanResult:
    created: int = 0
    expired: int = 0
    enqueued: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


@dataclass
class _Builder:
    """Collects rows; marks the stale and the unsubscribed as skipped, with the reason."""

    now: datetime
    opted_out: set[tuple[int, str]]
    rows: list[OutboxMessage] = field(default_factory=list)

    def add(
        self,
        *,
        program_id: int,
        kind: str,
        object_id: int,
        recipients: list[Recipient],
        occurrence: str,
        due_at: datetime,
        stale_reason: str = "",
    ) -> None:
        for r in recipients:
            status, reason = S.PENDING, ""
            if stale_reason:
                status, reason = S.SKIPPED, stale_reason
            elif kind in OPTIONAL_KINDS and (program_id, r.email.lower()) in self.opted_out:
                status, reason = S.SKIPPED, "The person unsubscribed from optional messages."
            self.rows.append(
                OutboxMessage(
                    program_id=program_id,
                    kind=kind,
                    object_id=object_id,
                    recipient_type=r.type,
                    recipient_id=r.id,
                    email=r.email,
                    occurrence=occurrence,
                    due_at=due_at,
                    status=status,
                    skip_reason=reason,
                )
            )


def _opted_out(program_ids) -> set[tuple[int, str]]:
    return set(
        OutboxOptOut.objects.filter(program_id__in=program_ids).values_list("program_id", "email")
    )


def rows_create(rows: list[OutboxMessage]) -> int:
    """Insert the rows that do not exist yet; return how many are new (counted, since
    ``ignore_conflicts`` does not say)."""
    if not rows:
        return 0
    before = OutboxMessage.objects.count()
    OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return OutboxMessage.objects.count() - before


def _session_rows(b: _Builder, program: Program, rs: ReminderSettings) -> None:
    now = b.now
    horizon = max(rs.session_days, rs.presenter_days, rs.no_presenter_days)
    sessions = list(
        Session.objects.filter(
            group__program=program,
            status=Session.Status.SCHEDULED,
            starts_at__gt=now - LOOKBACK,
            starts_at__lte=now + timedelta(days=horizon),
        )
        .select_related("group")
        .annotate(confirmed=Count("presentations", filter=Q(presentations__status="confirmed")))
    )
    if not sessions:
        return
    gids = {s.group_id for s in sessions}
    members, facilitators = people.group_members(gids), people.group_facilitators(gids)
    confirmed = Presentation.objects.filter(
        session__in=sessions, status=Presentation.Status.CONFIRMED
    ).select_related("clinician")
    presenters: dict[int, list[Recipient]] = {}
    for p in confirmed:
        presenters.setdefault(p.session_id, []).append(people.presenter(p))
    for s in sessions:
        occ = occurrence_of(s)
        stale = "The session had already started when this came due." if s.starts_at <= now else ""
        for kind, days, recipients in (
            (K.SESSION_REMINDER, rs.session_days, members[s.group_id] + facilitators[s.group_id]),
            (K.PRESENTER_REMINDER, rs.presenter_days, presenters.get(s.pk, [])),
            (
                K.NO_PRESENTER,
                rs.no_presenter_days,
                facilitators[s.group_id] if not s.confirmed else [],
            ),
        ):
            due = s.starts_at - timedelta(days=days)
            if due > now or due <= now - LOOKBACK:
                continue
            b.add(
                program_id=program.pk, kind=kind, object_id=s.pk, recipients=recipients,
                occurrence=occ, due_at=due, stale_reason=stale,
            )  # fmt: skip


def _launch_rows(b: _Builder, program: Program, rs: ReminderSettings) -> None:
    first = (
        Session.objects.filter(group__program=program, status=Session.Status.SCHEDULED)
        .order_by("starts_at")
        .first()
    )
    if first is None:
        return
    # Once per program and person: moving the first session does not announce it again.
    stale = "The program had already begun when this came due." if first.starts_at <= b.now else ""
    invited = None
    for kind, days in ((K.LAUNCH, rs.launch_days), (K.LAUNCH_SECOND, rs.second_launch_days)):
        due = first.starts_at - timedelta(days=days)
        if due > b.now or due <= b.now - LOOKBACK:
            continue
        if invited is None:
            invited = people.invited_clinicians(program.pk)
        b.add(
            program_id=program.pk, kind=kind, object_id=program.pk, recipients=invited,
            occurrence="program", due_at=due, stale_reason=stale,
        )  # fmt: skip


def _next_meeting_rows(b: _Builder, program: Program) -> None:
    now = b.now
    ended = [
        s
        for s in Session.objects.filter(
            group__program=program,
            status=Session.Status.SCHEDULED,
            starts_at__gt=now - LOOKBACK,
            starts_at__lte=now,
        )
        if s.starts_at + timedelta(minutes=s.duration_minutes) <= now
    ]
    if not ended:
        return
    members = people.group_members({s.group_id for s in ended})
    for s in ended:
        nxt = (
            Session.objects.filter(
                group_id=s.group_id, status=Session.Status.SCHEDULED, starts_at__gt=s.starts_at
            )
            .order_by("starts_at")
            .first()
        )
        if nxt is None:
            continue
        end = s.starts_at + timedelta(minutes=s.duration_minutes)
        stale = ""
        if nxt.starts_at <= now:
            stale = "The next meeting had already taken place."
        elif end < now - NEXT_MEETING_USEFUL:
            stale = "More than a day had passed since the session."
        b.add(
            program_id=program.pk, kind=K.NEXT_MEETING, object_id=s.pk,
            recipients=members[s.group_id], occurrence=f"next:{nxt.pk}", due_at=end,
            stale_reason=stale,
        )  # fmt: skip


def survey_recipients(wave) -> list[Recipient]:
    """Recipients of a wave who have not answered yet (nor left the program)."""
    from sessions_app.models import Clinician
    from surveys.models import WaveRecipient

    rows = (
        WaveRecipient.objects.filter(wave=wave, responded=False)
        .exclude(clinician__status=Clinician.Status.INACTIVE)
        .values_list("clinician_id", "email")
    )
    return [Recipient(OutboxMessage.Recipient.CLINICIAN, cid, email) for cid, email in rows]


def _survey_rows(b: _Builder, program: Program) -> None:
    """The invitation when an online wave opens; one reminder ``reminder_days`` before it
    closes, to those who have not answered."""
    from surveys.models import Wave

    now = b.now
    waves = Wave.objects.filter(
        program=program,
        source=Wave.Source.ONLINE,
        closed_at__isnull=True,
        opens_at__lte=now,
        closes_at__gt=now,
    )
    for wave in waves:
        due_invite = wave.opens_at
        due_remind = wave.closes_at - timedelta(days=wave.reminder_days)
        todo = []
        if due_invite > now - LOOKBACK:
            todo.append((K.SURVEY_INVITATION, "invite", due_invite))
        if wave.reminder_days and wave.opens_at < due_remind <= now:
            todo.append((K.SURVEY_REMINDER, "reminder", due_remind))
        if not todo:
            continue
        recipients = survey_recipients(wave)
        for kind, occurrence, due in todo:
            b.add(
                program_id=program.pk, kind=kind, object_id=wave.pk, recipients=recipients,
                occurrence=occurrence, due_at=due,
            )  # fmt: skip


def survey_invitations_now(wave) -> int:
    """The invitations of a wave just opened: rows now, tasks after commit."""
    recipients = survey_recipients(wave)
    rows_for_event(
        program_id=wave.program_id, kind=K.SURVEY_INVITATION, object_id=wave.pk,
        recipients=recipients, occurrence="invite",
    )  # fmt: skip
    return len(recipients)


def survey_reminders_now(wave, *, now: datetime) -> int:
    """A reminder the coordinator sends by hand, to those who have not answered yet."""
    recipients = survey_recipients(wave)
    rows_for_event(
        program_id=wave.program_id, kind=K.SURVEY_REMINDER, object_id=wave.pk,
        recipients=recipients, occurrence=f"reminder:{now.astimezone(UTC):%Y%m%dT%H%M%S}",
    )  # fmt: skip
    return len(recipients)


LEASE_EXPIRED = "lease expired"


def leases_expire(*, now: datetime) -> int:
    """Rows whose sender's lease ran out without an outcome (the worker died or hung) go back
    to pending, attempts kept, and are sent again; the message may have left before the crash,
    and the copy carries the same Message-ID. A row out of attempts fails instead, so a message
    that kills its worker every time is not retried forever. One conditional UPDATE each: a
    late outcome of the old holder no longer matches (``sending._finish``)."""
    expired = OutboxMessage.objects.filter(status=S.SENDING, lease_expires_at__lt=now)
    gone = dict(lease_owner="", lease_expires_at=None, last_error=LEASE_EXPIRED)
    failed = expired.filter(attempts__gte=settings.OUTBOX_MAX_ATTEMPTS).update(
        status=S.FAILED, **gone
    )
    return failed + expired.update(status=S.PENDING, enqueued_at=None, **gone)


def paused_program_ids() -> QuerySet:
    return ReminderSettings.objects.filter(paused=True).values("program_id")


def enqueue_pending(*, now: datetime | None = None, queryset: QuerySet | None = None) -> int:
    """Send tasks for pending, due rows without a live task, one per ``OUTBOX_BATCH_SIZE``
    rows (a list of ids). Call after commit.

    A row gets ``enqueued_at`` in the same transaction that locks it (SKIP LOCKED), so two scans
    at once enqueue it once; if the broker refuses, the mark is taken back and the next scan
    tries again. A row whose task vanished (the broker lost it) is enqueued again after
    ``OUTBOX_LOST_SECONDS`` (about one scan interval); the claim in the send task makes a
    duplicate task harmless.
    """
    from ccdg.tasks import task_outbox_send_batch

    now = now or timezone.now()
    lost = now - timedelta(seconds=settings.OUTBOX_LOST_SECONDS)
    qs = OutboxMessage.objects.all() if queryset is None else queryset
    qs = (
        qs.filter(status=S.PENDING, due_at__lte=now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=lost))
        .exclude(program_id__in=paused_program_ids())
        .order_by("due_at", "pk")
    )
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                qs.select_for_update(skip_locked=True).values_list("pk", flat=True)[:ENQUEUE_CHUNK]
            )
            OutboxMessage.objects.filter(pk__in=ids).update(enqueued_at=now)
        if not ids:
            return total
        published = 0
        size = max(settings.OUTBOX_BATCH_SIZE, 1)
        try:
            for i in range(0, len(ids), size):
                task_outbox_send_batch.delay(ids[i : i + size])
                published += len(ids[i : i + size])
        except Exception as exc:
            # The broker is down: the rows stay pending and a later scan enqueues them.
            logger.warning("Outbox: broker refused (%s); %d rows wait", type(exc).__name__,
                           len(ids) - published)  # fmt: skip
            OutboxMessage.objects.filter(pk__in=ids[published:], enqueued_at=now).update(
                enqueued_at=None
            )
            return total + published
        total += published
        if len(ids) < ENQUEUE_CHUNK:
            return total


def reminders_scan(*, now: datetime | None = None, enqueue: bool = True) -> ScanResult:
    """Write the rows of everything due now, take back expired leases, enqueue what waits."""
    now = now or timezone.now()
    result = ScanResult()
    programs = list(Program.objects.all())
    settings_by_program = {
        rs.program_id: rs for rs in ReminderSettings.objects.filter(program__in=programs)
    }
    builder = _Builder(now=now, opted_out=_opted_out([p.pk for p in programs]))
    for program in programs:
        rs = settings_by_program.get(program.pk) or ReminderSettings(program=program)
        _launch_rows(builder, program, rs)
        _session_rows(builder, program, rs)
        _next_meeting_rows(builder, program)
        _survey_rows(builder, program)
    for row in builder.rows:
        result.by_kind[row.kind] = result.by_kind.get(row.kind, 0) + 1
    with transaction.atomic():
        result.created = rows_create(builder.rows)
        result.expired = leases_expire(now=now)
    if enqueue:
        # After commit (at once outside a transaction): a worker must find the rows.
        def run() -> None:
            result.enqueued = enqueue_pending(now=now)

        transaction.on_commit(run)
    return result


def rows_for_event(
    *,
    program_id: int,
    kind: str,
    object_id: int,
    recipients: list[Recipient],
    occurrence: str,
) -> None:
    """Immediate notices (a change, a cancellation): rows now, tasks after commit."""
    now = timezone.now()
    builder = _Builder(now=now, opted_out=_opted_out([program_id]))
    builder.add(
        program_id=program_id, kind=kind, object_id=object_id, recipients=recipients,
        occurrence=occurrence, due_at=now,
    )  # fmt: skip
    with transaction.atomic():
        rows_create(builder.rows)
        scope = OutboxMessage.objects.filter(kind=kind, object_id=object_id, occurrence=occurrence)
        transaction.on_commit(lambda: enqueue_pending(queryset=scope))


__all__ = [
    "OPTIONAL_KINDS",
    "SURVEY_KINDS",
    "ScanResult",
    "enqueue_pending",
    "occurrence_of",
    "reminders_scan",
    "leases_expire",
    "rows_for_event",
    "survey_invitations_now",
    "survey_recipients",
    "survey_reminders_now",
]
