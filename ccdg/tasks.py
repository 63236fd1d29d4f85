"""Periodic housekeeping: remove what is no longer needed and holds personal data."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown
from django.utils import timezone


@shared_task(name="ccdg.housekeeping")
def task_housekeeping() -> dict[str, int]:
    from sessions_app.models import Invitation, RosterImport

    now = timezone.now()
    # Roster drafts hold names and emails: a preview nobody confirmed within a day is dropped.
    drafts, _ = RosterImport.objects.filter(
        committed_at__isnull=True, created_at__lt=now - timedelta(days=1)
    ).delete()
    # So do uploaded survey responses: an import nobody confirmed within a day is dropped.
    from surveys.models import ResponseImport

    response_drafts, _ = ResponseImport.objects.filter(
        committed_at__isnull=True, created_at__lt=now - timedelta(days=1)
    ).delete()
    from analysis.exports.services import exports_expire

    exports_expired = exports_expire(now=now)
    expired = Invitation.objects.filter(
        used_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
    ).update(revoked_at=now)
    return {
        "roster_drafts_deleted": drafts,
        "response_drafts_deleted": response_drafts,
        "exports_expired": exports_expired,
        "invitations_expired": expired,
    }


@shared_task(name="ccdg.audit_checkpoint")
def task_audit_checkpoint() -> dict[str, object]:
    """Beat, daily: verify the audit chain and log its head, to be kept outside the database."""
    from ccdg.audit import audit_checkpoint

    event = audit_checkpoint()
    return {"id": event.pk, "count": event.chain_seq, "verified": event.data["verified"]}


@shared_task(name="ccdg.reminders_scan")
def task_reminders_scan() -> dict[str, int]:
    """Beat, every minute (``OUTBOX_SCAN_SECONDS``): write what is due into the outbox, take
    back expired leases, enqueue what waits."""
    from ccdg.outbox.scan import reminders_scan

    result = reminders_scan()
    return {"created": result.created, "expired": result.expired, "enqueued": result.enqueued}


@shared_task(name="ccdg.outbox_send", bind=True, max_retries=None, acks_late=True)
def task_outbox_send(self, message_id: int) -> str:
    """Send one outbox row (claimed first, so a duplicate task sends nothing). Kept for tasks
    already queued by an earlier version and for single sends; the scan sends batches."""
    from ccdg.models import OutboxMessage
    from ccdg.outbox.sending import RETRYABLE, outbox_send, retry_delay

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
    from collections import Counter

    from ccdg.models import OutboxMessage
    from ccdg.outbox.sending import outbox_send_batch, retry_delay

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
    from ccdg.outbox.sending import close_smtp_connection

    close_smtp_connection()
