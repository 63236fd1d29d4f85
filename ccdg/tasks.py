"""The core's tasks: housekeeping, the audit checkpoint, the outbox's scan and sends."""

from __future__ import annotations

from collections import Counter

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown
from django.utils import timezone

from ccdg.accounts.reset import task_password_reset_send  # noqa: F401  (registers it)
from ccdg.audit import audit_checkpoint
from ccdg.housekeeping import housekeeping_run
from ccdg.outbox.models import OutboxMessage
from ccdg.outbox.scan import reminders_scan
from ccdg.outbox.sending import (
    RETRYABLE,
    close_smtp_connection,
    outbox_send,
    outbox_send_batch,
    retry_delay,
)


@shared_task(name="ccdg.housekeeping")
def task_housekeeping() -> dict[str, int]:
    """Hourly: the clean-ups the apps registered (``ccdg.housekeeping``), with their counts."""
    return housekeeping_run(now=timezone.now())


@shared_task(name="ccdg.audit_checkpoint")
def task_audit_checkpoint() -> dict[str, object]:
    """Beat, daily: verify the audit chain and log its head, to be kept outside the database."""
    event = audit_checkpoint()
    return {"id": event.pk, "count": event.chain_seq, "verified": event.data["verified"]}


@shared_task(name="ccdg.reminders_scan")
def task_reminders_scan() -> dict[str, int]:
    """Beat, every minute (``OUTBOX_SCAN_SECONDS``): write what is due into the outbox, take
    back expired leases, enqueue what waits."""
    result = reminders_scan()
    return {"created": result.created, "expired": result.expired, "enqueued": result.enqueued}


@shared_task(name="ccdg.outbox_send", bind=True, max_retries=None, acks_late=True)
def task_outbox_send(self, message_id: int) -> str:
    """Send one outbox row (claimed first, so a duplicate task sends nothing). Kept for tasks
    already queued by an earlier version and for single sends; the scan sends batches."""
    try:
        return outbox_send(message_id=message_id)
    except OutboxMessage.DoesNotExist:
        return "gone"
    except RETRYABLE as exc:
        if self.request.is_eager:
            # Eager mode (tests, embedded development) has no queue to come back through:
            # retry in place; the row's attempts bound it.
            return self.run(message_id)
        attempts = OutboxMessage.objects.filter(pk=message_id).values_list("attempts", flat=True)
        raise self.retry(exc=exc, countdown=retry_delay(max(attempts.first() or 1, 1))) from exc


@shared_task(name="ccdg.outbox_send_batch", bind=True, acks_late=True)
def task_outbox_send_batch(self, message_ids: list[int]) -> dict[str, int]:
    """Send a batch of outbox rows over one SMTP connection (ids only in the arguments).

    Rows the SMTP server refused for now are already back to pending with their backoff; one
    follow-up task retries them after the shortest backoff (if it is lost, the scan sends them
    once ``OUTBOX_LOST_SECONDS`` have passed after their backoff).
    """
    result = outbox_send_batch(message_ids=message_ids)
    retry = result.retry_ids
    if retry:
        if self.request.is_eager:
            # No queue to come back through: retry in place; the rows' attempts bound it.
            self.run(retry)
        else:
            attempts = OutboxMessage.objects.filter(pk__in=retry).values_list("attempts", flat=True)
            countdown = retry_delay(max(min(attempts, default=1), 1))
            self.apply_async((retry,), countdown=countdown)
    return dict(Counter(result.outcomes.values()))


@worker_process_shutdown.connect
@worker_shutdown.connect
def _close_smtp_connection(**kwargs) -> None:
    """The send task keeps its SMTP connection open between messages: say goodbye on exit."""
    close_smtp_connection()
