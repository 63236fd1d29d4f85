"""What the coordinator does with the outbox: pause, resume, resend; and a person's opt-out."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from ccdg.audit import audit_record
from ccdg.outbox.models import OutboxMessage, OutboxOptOut, ReminderSettings, UnsubscribeToken

from .rendering import token_hash
from .scan import LEASE_EXPIRED, enqueue_pending

S = OutboxMessage.Status
TABS = {
    "upcoming": [S.PENDING, S.SENDING],
    "sent": [S.SENT],
    "failed": [S.FAILED],
    "skipped": [S.SKIPPED],
}
# What a coordinator may send again: a failed row, or (after confirming) one that may have
# been delivered. A stuck row only exists in data from before leases.
RESENDABLE = [S.FAILED, S.SENT, S.STUCK]
#: Rows per page of an outbox tab.
PAGE = 50
# The program a row belongs to (the app's model; the core names it only in its foreign keys).
Program = Any


def reminder_settings_get(*, program: Program) -> ReminderSettings:
    rs, _ = ReminderSettings.objects.get_or_create(program=program)
    return rs


def outbox_counts(*, program: Program) -> dict[str, int]:
    by_status = dict(
        OutboxMessage.objects.filter(program=program)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {tab: sum(by_status.get(s, 0) for s in statuses) for tab, statuses in TABS.items()}


def outbox_list(*, program: Program, tab: str) -> QuerySet[OutboxMessage]:
    order = "due_at" if tab == "upcoming" else "-due_at"
    return OutboxMessage.objects.filter(program=program, status__in=TABS[tab]).order_by(order, "pk")


def outbox_pause(*, program: Program, paused: bool, actor: Any) -> None:
    """While paused no row is claimed; due rows wait as pending. Resuming enqueues them."""
    with transaction.atomic():
        rs = reminder_settings_get(program=program)
        rs.paused = paused
        rs.save(update_fields=["paused", "updated_at"])
        audit_record(
            actor=actor, action="outbox.pause" if paused else "outbox.resume",
            program_id=program.pk,
        )  # fmt: skip
        if not paused:
            scope = OutboxMessage.objects.filter(program=program)
            transaction.on_commit(lambda: enqueue_pending(queryset=scope))


def may_have_been_delivered(message: OutboxMessage) -> bool:
    """Sent, or a lease expired during an attempt: the SMTP server may have accepted it."""
    return message.status in (S.SENT, S.STUCK) or (
        message.attempts > 0 and message.last_error == LEASE_EXPIRED
    )


def outbox_resend(*, message: OutboxMessage, actor: Any, confirmed: bool = False) -> str:
    """Put a row back to pending, at once, with the same Message-ID.

    Returns "queued"; "confirm" (nothing changed) for a row that may have been delivered
    when the coordinator has not confirmed sending it again; "no" for a row that is not
    failed or delivered (pending, being sent, skipped) or changed in the meantime.
    """
    if message.status not in RESENDABLE:
        return "no"
    possibly_delivered = may_have_been_delivered(message)
    if possibly_delivered and not confirmed:
        return "confirm"
    with transaction.atomic():
        # Conditional on what the coordinator saw: a row that moved on is left alone.
        changed = OutboxMessage.objects.filter(
            pk=message.pk, status=message.status, attempts=message.attempts
        ).update(
            status=S.PENDING, attempts=0, enqueued_at=None, claimed_at=None, sent_at=None,
            due_at=min(message.due_at, timezone.now()),
        )  # fmt: skip
        if changed:
            audit_record(
                actor=actor, action="outbox.resend", obj=message, program_id=message.program_id,
                data={"may_have_been_delivered": possibly_delivered},
            )  # fmt: skip
            scope = OutboxMessage.objects.filter(pk=message.pk)
            transaction.on_commit(lambda: enqueue_pending(queryset=scope))
    return "queued" if changed else "no"


def unsubscribe_resolve(*, token: str) -> UnsubscribeToken | None:
    return (
        UnsubscribeToken.objects.filter(token_hash=token_hash(token))
        .select_related("program")
        .first()
    )


def optout_create(*, unsubscribe: UnsubscribeToken) -> None:
    OutboxOptOut.objects.get_or_create(program=unsubscribe.program, email=unsubscribe.email)
