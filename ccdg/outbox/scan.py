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
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
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
class RowBuilder:
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
    ) -> list[OutboxMessage]:
        """Add one row per recipient; returns the rows added."""
        added = []
        for r in recipients:
            status, reason = S.PENDING, ""
            if stale_reason:
                status, reason = S.SKIPPED, stale_reason
            elif kind in OPTIONAL_KINDS and (program_id, r.email.lower()) in self.opted_out:
                status, reason = S.SKIPPED, "The person unsubscribed from optional messages."
            added.append(
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
        self.rows.extend(added)
        return added


def opted_out_emails(program_ids) -> set[tuple[int, str]]:
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


# -- What the schedule calls for ------------------------------------------------------------
#
# One set of rules for the due-scan (what is due now) and the outbox's forecast (what will be
# due in the next days): ``messages_due`` with ``until=now`` is exactly what the scan writes,
# and with a later ``until`` what later scans will write, as things stand now. Whether a
# message is still useful is judged when the scan will meet it: at ``max(now, due)``.


@dataclass
class Due:
    """One message the schedule calls for: what, about which object, to whom, when."""

    kind: str
    object_id: int
    occurrence: str
    due_at: datetime
    recipients: list[Recipient]
    stale_reason: str = ""
    session: Session | None = None  # the session it is about (launch: the first one)
    wave: Any = None  # a survey message's wave


def _useful_from(now: datetime) -> datetime:
    """Things that came due before this (while nothing ran) are neither sent nor recorded."""
    return now - LOOKBACK


def _session_due(program: Program, rs: ReminderSettings, now: datetime, until: datetime):
    """Session reminders (members and facilitators), presenter reminders, and the
    facilitators' alert when nobody has confirmed to present."""
    horizon = max(rs.session_days, rs.presenter_days, rs.no_presenter_days)
    sessions = list(
        Session.objects.filter(
            group__program=program,
            status=Session.Status.SCHEDULED,
            starts_at__gt=_useful_from(now),
            starts_at__lte=until + timedelta(days=horizon),
        )
        .select_related("group")
        .annotate(confirmed=Count("presentations", filter=Q(presentations__status="confirmed")))
        .order_by("starts_at", "pk")
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
            if due > until or due <= _useful_from(now):
                continue
            stale = ""
            if s.starts_at <= max(now, due):
                stale = "The session had already started when this came due."
            yield Due(kind, s.pk, occ, due, recipients, stale, session=s)


def _launch_due(program: Program, rs: ReminderSettings, now: datetime, until: datetime):
    first = (
        Session.objects.filter(group__program=program, status=Session.Status.SCHEDULED)
        .select_related("group")
        .order_by("starts_at", "pk")
        .first()
    )
    if first is None:
        return
    invited = None
    for kind, days in ((K.LAUNCH, rs.launch_days), (K.LAUNCH_SECOND, rs.second_launch_days)):
        due = first.starts_at - timedelta(days=days)
        if due > until or due <= _useful_from(now):
            continue
        # Once per program and person: moving the first session does not announce it again.
        stale = ""
        if first.starts_at <= max(now, due):
            stale = "The program had already begun when this came due."
        if invited is None:
            invited = people.invited_clinicians(program.pk)
        yield Due(kind, program.pk, "program", due, invited, stale, session=first)


def _next_meeting_due(program: Program, now: datetime, until: datetime):
    """After a session, its members hear when the group meets next."""
    later = Session.objects.filter(
        group_id=OuterRef("group_id"),
        status=Session.Status.SCHEDULED,
        starts_at__gt=OuterRef("starts_at"),
    ).order_by("starts_at", "pk")
    # The next meeting of each group in the same query (not one query per session).
    ended = [
        s
        for s in Session.objects.filter(
            group__program=program,
            status=Session.Status.SCHEDULED,
            starts_at__gt=_useful_from(now),
            starts_at__lte=until,
        )
        .select_related("group")
        .annotate(
            next_id=Subquery(later.values("pk")[:1]),
            next_starts_at=Subquery(later.values("starts_at")[:1]),
        )
        .order_by("starts_at", "pk")
        if s.starts_at + timedelta(minutes=s.duration_minutes) <= until and s.next_id is not None
    ]
    if not ended:
        return
    members = people.group_members({s.group_id for s in ended})
    for s in ended:
        end = s.starts_at + timedelta(minutes=s.duration_minutes)
        at = max(now, end)
        stale = ""
        if s.next_starts_at <= at:
            stale = "The next meeting had already taken place."
        elif end < at - NEXT_MEETING_USEFUL:
            stale = "More than a day had passed since the session."
        yield Due(K.NEXT_MEETING, s.pk, f"next:{s.next_id}", end, members[s.group_id], stale,
                  session=s)  # fmt: skip


def survey_recipients(wave) -> list[Recipient]:
    """Recipients of a wave who have not answered yet (nor left the program)."""
    return _survey_recipients([wave.pk])[wave.pk]


def _survey_recipients(wave_ids) -> dict[int, list[Recipient]]:
    from sessions_app.models import Clinician
    from surveys.models import WaveRecipient

    out: dict[int, list[Recipient]] = {pk: [] for pk in wave_ids}
    rows = (
        WaveRecipient.objects.filter(wave_id__in=wave_ids, responded=False)
        .exclude(clinician__status=Clinician.Status.INACTIVE)
        .order_by("pk")
        .values_list("wave_id", "clinician_id", "email")
    )
    for wave_id, cid, email in rows:
        out[wave_id].append(Recipient(OutboxMessage.Recipient.CLINICIAN, cid, email))
    return out


def _survey_due(program: Program, now: datetime, until: datetime):
    """The invitation when an online wave opens; one reminder ``reminder_days`` before it
    closes, to those who have not answered."""
    from surveys.models import Wave

    waves = Wave.objects.filter(
        program=program,
        source=Wave.Source.ONLINE,
        closed_at__isnull=True,
        opens_at__lte=until,
        closes_at__gt=now,
    ).order_by("opens_at", "pk")
    todo = []
    for wave in waves:
        due_invite = wave.opens_at
        due_remind = wave.closes_at - timedelta(days=wave.reminder_days)
        if due_invite > _useful_from(now):
            todo.append((wave, K.SURVEY_INVITATION, "invite", due_invite))
        # Useful as long as the wave is open: no look-back limit.
        if wave.reminder_days and wave.opens_at < due_remind <= until:
            todo.append((wave, K.SURVEY_REMINDER, "reminder", due_remind))
    if not todo:
        return
    recipients = _survey_recipients({wave.pk for wave, *_ in todo})
    for wave, kind, occurrence, due in todo:
        yield Due(kind, wave.pk, occurrence, due, recipients[wave.pk], wave=wave)


def messages_due(
    *, program: Program, reminder_settings: ReminderSettings, now: datetime, until: datetime
) -> list[Due]:
    """Every message of the program's schedule that is due by ``until``, as things stand at
    ``now``: launch announcements, session, presenter and no-presenter reminders, next-meeting
    notes, survey invitations and reminders. Those due before ``now - LOOKBACK`` are left out;
    one whose moment has passed when the scan will meet it carries its ``stale_reason``.

    The due-scan asks with ``until=now``; the forecast with a later ``until``. A fixed number
    of queries, whatever the number of sessions and waves.
    """
    rs = reminder_settings
    return [
        *_launch_due(program, rs, now, until),
        *_session_due(program, rs, now, until),
        *_next_meeting_due(program, now, until),
        *_survey_due(program, now, until),
    ]


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
    builder = RowBuilder(now=now, opted_out=opted_out_emails([p.pk for p in programs]))
    for program in programs:
        rs = settings_by_program.get(program.pk) or ReminderSettings(program=program)
        for due in messages_due(program=program, reminder_settings=rs, now=now, until=now):
            builder.add(
                program_id=program.pk, kind=due.kind, object_id=due.object_id,
                recipients=due.recipients, occurrence=due.occurrence, due_at=due.due_at,
                stale_reason=due.stale_reason,
            )  # fmt: skip
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
    builder = RowBuilder(now=now, opted_out=opted_out_emails([program_id]))
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
    "Due",
    "ScanResult",
    "enqueue_pending",
    "occurrence_of",
    "reminders_scan",
    "leases_expire",
    "messages_due",
    "rows_for_event",
    "survey_invitations_now",
    "survey_recipients",
    "survey_reminders_now",
]
