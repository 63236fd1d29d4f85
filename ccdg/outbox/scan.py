"""What is due now: the due-scan that the beat task and ``dispatch_reminders`` run.

The scan is idempotent. It computes every message whose time has come, writes one row each
with ``bulk_create(ignore_conflicts=True)`` against the unique constraint, so running it
twice or two at once writes nothing twice; then, after commit, it enqueues one send task per
batch of pending rows that have no live task. Nothing is scheduled far ahead (no ETA tasks):
the rows are the schedule, and a task lost with the broker is enqueued again by a later scan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ccdg.outbox.models import OutboxMessage, OutboxOptOut, ReminderSettings

from . import kinds

logger = logging.getLogger(__name__)

S = OutboxMessage.Status
# How far back the scan looks for things that came due while nothing ran: older ones are
# neither sent nor recorded.
LOOKBACK = timedelta(days=14)
ENQUEUE_CHUNK = 500


@dataclass(frozen=True)
class Recipient:
    """Who a row goes to: ``OutboxMessage.Recipient`` type, id and address."""

    type: str
    id: int
    email: str


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
            reason = self.skip_reason(
                program_id=program_id, kind=kind, email=r.email, stale_reason=stale_reason
            )
            status = S.SKIPPED if reason else S.PENDING
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

    def skip_reason(self, *, program_id: int, kind: str, email: str, stale_reason: str) -> str:
        """Why a row of this message to this address is written as skipped ("" if it will be
        sent): the moment has passed, or the person unsubscribed from an optional kind."""
        if stale_reason:
            return stale_reason
        if kinds.get(kind).optional and (program_id, email.lower()) in self.opted_out:
            return "The person unsubscribed from optional messages."
        return ""


def opted_out_emails(program_ids: Iterable[int]) -> set[tuple[int, str]]:
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
# message is still useful is judged when the scan will meet it: at ``max(now, due)``. The
# rules themselves belong to the apps that own the kinds (``kinds.MessageKind.due``).


@dataclass
class Due:
    """One message the schedule calls for: what, about which object, to whom, when.

    ``target``: the object it is about (a session, a wave), for the forecast's description."""

    kind: str
    object_id: int
    occurrence: str
    due_at: datetime
    recipients: list[Recipient]
    stale_reason: str = ""
    target: Any = None


def useful_from(now: datetime) -> datetime:
    """Things that came due before this (while nothing ran) are neither sent nor recorded."""
    return now - LOOKBACK


def messages_due(
    *, program: Any, reminder_settings: ReminderSettings, now: datetime, until: datetime
) -> list[Due]:
    """Every message of the program's schedule that is due by ``until``, as things stand at
    ``now``, from every registered kind's ``due`` function (in registration order). Those due
    before ``now - LOOKBACK`` are left out; one whose moment has passed when the scan will meet
    it carries its ``stale_reason``.

    The due-scan asks with ``until=now``; the forecast with a later ``until``. Each finder costs
    a fixed number of queries, whatever the number of sessions and waves.
    """
    found: list[Due] = []
    for finder in kinds.due_finders():
        found += finder(program=program, reminder_settings=reminder_settings, now=now, until=until)
    return found


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


def paused_program_ids() -> QuerySet[ReminderSettings, Any]:
    return ReminderSettings.objects.filter(paused=True).values("program_id")


def enqueue_pending(
    *, now: datetime | None = None, queryset: QuerySet[OutboxMessage] | None = None
) -> int:
    """Send tasks for pending, due rows without a live task, one per ``OUTBOX_BATCH_SIZE``
    rows (a list of ids). Call after commit.

    A row gets ``enqueued_at`` in the same transaction that locks it (SKIP LOCKED), so two scans
    at once enqueue it once; if the broker refuses, the mark is taken back and the next scan
    tries again. A row whose task vanished (the broker lost it) is enqueued again after
    ``OUTBOX_LOST_SECONDS`` (about one scan interval); the claim in the send task makes a
    duplicate task harmless.
    """
    from ccdg.tasks import task_outbox_send_batch  # ccdg.tasks imports this module

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


def _program_model() -> Any:
    """The model rows belong to (the core refers to it by name only, like its foreign keys)."""
    return OutboxMessage._meta.get_field("program").related_model


def reminders_scan(*, now: datetime | None = None, enqueue: bool = True) -> ScanResult:
    """Write the rows of everything due now, take back expired leases, enqueue what waits."""
    now = now or timezone.now()
    result = ScanResult()
    programs = list(_program_model().objects.all())
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
    "Due",
    "LOOKBACK",
    "Recipient",
    "RowBuilder",
    "ScanResult",
    "enqueue_pending",
    "leases_expire",
    "messages_due",
    "reminders_scan",
    "rows_for_event",
    "useful_from",
]
