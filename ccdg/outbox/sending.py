"""Delivering outbox rows in batches: claim, check they are still useful, render, send over
one SMTP connection, record."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ccdg.outbox.models import OutboxMessage

from . import kinds
from .rendering import Lookups, render_message
from .scan import paused_program_ids

logger = logging.getLogger(__name__)

S = OutboxMessage.Status
# What a retry can cure: the server refused for now, or could not be reached.
RETRYABLE = (smtplib.SMTPException, OSError)


def error_label(exc: BaseException) -> str:
    """The exception's class and SMTP code: never its text, which may echo an address."""
    code = getattr(exc, "smtp_code", None)
    if code is None and isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = next((c for c, _ in exc.recipients.values()), None)
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# A held SMTP connection idle longer than this is closed rather than reused (servers drop idle
# clients; reopening is cheaper than a failed first command).
SMTP_IDLE_SECONDS = 30.0
_held = threading.local()  # per thread: the connection, the settings it was made with, last use


def _smtp_settings() -> tuple[Any, ...]:
    return (
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER,
        settings.EMAIL_HOST_PASSWORD, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL,
        settings.EMAIL_SSL_CERTFILE, settings.EMAIL_SSL_KEYFILE, settings.EMAIL_TIMEOUT,
    )  # fmt: skip


def close_smtp_connection() -> None:
    """Close this thread's held SMTP connection, if any (errors ignored)."""
    connection: BaseEmailBackend | None = getattr(_held, "connection", None)
    _held.connection = None
    if connection is not None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail: it is gone
            connection.close()


def _open(key: tuple[Any, ...]) -> BaseEmailBackend:
    """A new SMTP connection, held for this thread (closed again if opening fails midway)."""
    connection = get_connection()
    try:
        connection.open()
    except BaseException:
        with contextlib.suppress(Exception):
            connection.close()
        raise
    _held.connection, _held.key = connection, key
    return connection


def deliver(message: EmailMessage) -> None:
    """Send one message with Django's email backend.

    With the SMTP backend the connection is kept open and reused by the next message in this
    thread (a worker sends many in a row); it is dropped on any error, and a reused connection
    the server has closed in the meantime is reopened once. Any other backend: one connection
    per message, as before. Raises what the backend raises.
    """
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        with get_connection() as backend:
            backend.send_messages([message])
        return
    key = _smtp_settings()
    connection: BaseEmailBackend | None = getattr(_held, "connection", None)
    if connection is not None and (
        _held.key != key or time.monotonic() - _held.used > SMTP_IDLE_SECONDS
    ):
        close_smtp_connection()
        connection = None
    reused = connection is not None
    if connection is None:
        connection = _open(key)
    try:
        connection.send_messages([message])
    except (smtplib.SMTPServerDisconnected, ConnectionError):
        close_smtp_connection()
        if not reused:
            raise
        # The server closed the connection we kept: say it again on a new one.
        connection = _open(key)
        try:
            connection.send_messages([message])
        except BaseException:
            close_smtp_connection()
            raise
    except BaseException:
        close_smtp_connection()
        raise
    _held.used = time.monotonic()


def lease_owner_new() -> str:
    """Who holds a claim: this host and process, and a random part unique to the claim (the
    same worker claiming the row again later is a different holder)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(6)}"


def message_id_for(*, pk: int) -> str:
    """The row's Message-ID: its id, a keyed hash of it (ids alone are guessable across
    installations) and our mail domain; no personal data."""
    digest = salted_hmac("ccdg.outbox.message-id", str(pk), algorithm="sha256").hexdigest()
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = address.rpartition("@")[2] or urlsplit(settings.BASE_URL).hostname or "localhost"
    return f"<ccdg-outbox-{pk}.{digest[:16]}@{domain}>"


def outbox_claim_batch(
    *, message_ids: list[int], limit: int | None = None
) -> tuple[str, list[int]]:
    """pending -> sending for at most ``limit`` of ``message_ids`` (``OUTBOX_BATCH_SIZE``), in
    one conditional UPDATE; each claimed row gets the same lease (this claim's owner and
    deadline) and one more attempt, so a row whose lease expired shows that a delivery may have
    started. On PostgreSQL the rows are chosen with ``FOR UPDATE SKIP LOCKED``: two workers
    claiming at once take disjoint rows and neither waits for the other. Returns the owner and
    the ids claimed ("" and [] when none).
    """
    limit = limit or settings.OUTBOX_BATCH_SIZE
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return "", []
    owner = lease_owner_new()
    now = timezone.now()
    expires = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    ops = connection.ops
    candidates = (
        OutboxMessage.objects.filter(pk__in=ids, status=S.PENDING)
        .exclude(program_id__in=paused_program_ids())
        .order_by("pk")
    )
    table = OutboxMessage._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        chosen_sql, chosen_params = (
            candidates.select_for_update(skip_locked=True).values("pk")[:limit].query
        ).sql_with_params()
        # The choice is a MATERIALIZED CTE: run once. As a plain ``IN (subquery)`` the planner
        # may run it again per row, and with SKIP LOCKED each run can pick other rows, so more
        # than ``limit`` would be claimed.
        # Only the table name and SQL built by Django are formatted in; values are parameters.
        sql = (
            f"WITH chosen (id) AS MATERIALIZED ({chosen_sql}) "  # noqa: S608
            f"UPDATE {table} SET status = %s, claimed_at = %s, lease_owner = %s, "
            f"attempts = attempts + 1, lease_expires_at = %s "
            f"WHERE status = %s AND id IN (SELECT id FROM chosen) RETURNING id"
        )
        cursor.execute(
            sql,
            [
                *chosen_params, S.SENDING, ops.adapt_datetimefield_value(now), owner,
                ops.adapt_datetimefield_value(expires), S.PENDING,
            ],
        )  # fmt: skip
        claimed = sorted(pk for (pk,) in cursor.fetchall())
    return (owner, claimed) if claimed else ("", [])


def outbox_claim(*, message_id: int) -> str:
    """Claim one row (see ``outbox_claim_batch``). Returns the lease owner ("" when not
    claimed)."""
    return outbox_claim_batch(message_ids=[message_id], limit=1)[0]


def _stale_reason(
    row: OutboxMessage, kind: kinds.MessageKind, lookups: Lookups, now: datetime
) -> str:
    """Why a claimed row is no longer worth sending ("" when it is): unsubscribed from an
    optional message, or what its kind's re-check finds (a session started, a survey closed)."""
    if kind.optional and lookups.opted_out_of(row):
        return "The person unsubscribed from optional messages."
    if kind.recheck is not None:
        return kind.recheck(row, lookups.of(row), now)
    return ""


def _finish(pks: list[int], owner: str, **fields: Any) -> int:
    """Record an outcome, only while we still hold the lease: a worker that wakes up after its
    lease expired must not overwrite what a newer claim did. Returns how many rows it set."""
    return OutboxMessage.objects.filter(pk__in=pks, status=S.SENDING, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None, **fields
    )


@dataclass
class BatchResult:
    """What happened to each row (``outcomes``: id -> "sent", "skipped", "failed", "not
    claimed", "lease lost", "sent after lease", "retry"), and the SMTP error of each row put
    back to pending for a retry."""

    outcomes: dict[int, str] = field(default_factory=dict)
    errors: dict[int, BaseException] = field(default_factory=dict)

    @property
    def retry_ids(self) -> list[int]:
        return [pk for pk, outcome in self.outcomes.items() if outcome == "retry"]


def outbox_send_batch(*, message_ids: list[int]) -> BatchResult:
    """Claim up to ``OUTBOX_BATCH_SIZE`` of the rows, render them, send them over one SMTP
    connection and record each outcome.

    Everything except the send is done for the batch at once: one claim, the lookups that the
    staleness check and rendering need (``Lookups.load``), one UPDATE per skip reason or
    failure label. Each ``sent`` mark is its own short UPDATE right after that message's SMTP
    reply (the delivery guarantee in docs/reminders.md depends on it). An SMTP error puts only
    that row back to pending (with its backoff in ``enqueued_at``) and the batch goes on.
    """
    result = BatchResult()
    owner, claimed = outbox_claim_batch(message_ids=message_ids)
    for pk in message_ids:
        result.outcomes[pk] = "not claimed"
    if not claimed:
        return result
    rows = _claimed_rows(claimed)
    lookups = Lookups.load(rows)
    now = timezone.now()
    grouped: dict[tuple[str, str], list[int]] = {}  # (status, reason or error) -> ids
    messages = []
    for row in rows:
        prepared = _prepare(row, lookups, now)
        if isinstance(prepared, EmailMessage):
            messages.append((row, prepared))
        else:
            grouped.setdefault(prepared, []).append(row.pk)
    _record_unsent(grouped, owner, result)
    _send_all(messages, owner, result)
    return result


def _claimed_rows(claimed: list[int]) -> list[OutboxMessage]:
    """The claimed rows in id order, each with its Message-ID (given and stored on the first
    attempt)."""
    rows = list(OutboxMessage.objects.filter(pk__in=claimed).order_by("pk"))
    unnamed = [r for r in rows if not r.message_id]
    for r in unnamed:
        r.message_id = message_id_for(pk=r.pk)
    if unnamed:
        OutboxMessage.objects.bulk_update(unnamed, ["message_id"])
    return rows


def _prepare(row: OutboxMessage, lookups: Lookups, now: datetime) -> EmailMessage | tuple[str, str]:
    """The row's message, ready to send; or why it is not sent: (skipped or failed, the skip
    reason or error)."""
    try:
        kind = kinds.get(row.kind)
    except kinds.UnknownKind:
        # No installed app writes this kind (any more): this row fails, the batch goes on.
        logger.error("Outbox: row %s has a kind no app registers", row.pk)
        return S.FAILED, f"Unknown message kind: {row.kind}"[:200]
    reason = _stale_reason(row, kind, lookups, now)
    if reason:
        return S.SKIPPED, reason
    try:
        validate_email(row.email)
    except ValidationError:
        return S.FAILED, "Invalid email address on the roster."
    try:
        message = render_message(row, lookups).email(to=row.email)
    except Exception as exc:  # a broken (customised) template fails this row only
        logger.exception("Outbox: rendering row %s failed", row.pk)
        return S.FAILED, f"Template error: {type(exc).__name__}"
    # The same on every attempt: a copy sent again after a crash is the same message.
    message.extra_headers["Message-ID"] = row.message_id
    return message


def _record_unsent(
    grouped: dict[tuple[str, str], list[int]], owner: str, result: BatchResult
) -> None:
    """Mark the rows not sent as skipped or failed: one UPDATE per (status, reason or error)."""
    for (status, text), pks in grouped.items():
        field_name = "skip_reason" if status == S.SKIPPED else "last_error"
        lost = len(pks) - _finish(pks, owner, status=status, **{field_name: text})
        for pk in pks:
            result.outcomes[pk] = "skipped" if status == S.SKIPPED else "failed"
        if lost:
            logger.warning("Outbox: %d rows had lost their lease before their outcome", lost)


def _send_all(
    messages: list[tuple[OutboxMessage, EmailMessage]], owner: str, result: BatchResult
) -> None:
    """Send the messages one after the other, renewing the lease of those still to send
    whenever a third of it has passed."""
    lease = settings.OUTBOX_LEASE_SECONDS
    renewed = time.monotonic()
    for i, (row, message) in enumerate(messages):
        if time.monotonic() - renewed > lease / 3:
            # A slow server: keep the rest of the batch ours (only while we still hold it).
            OutboxMessage.objects.filter(
                pk__in=[r.pk for r, _ in messages[i:]], status=S.SENDING, lease_owner=owner
            ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease))
            renewed = time.monotonic()
        result.outcomes[row.pk] = _send_one(row, message, owner, result)


def _send_one(row: OutboxMessage, message: EmailMessage, owner: str, result: BatchResult) -> str:
    try:
        deliver(message)
    except RETRYABLE as exc:
        label = error_label(exc)
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _finish([row.pk], owner, status=S.FAILED, last_error=label)
            return "failed"
        # Back to pending; the retry (countdown) comes first, the scan only if it is lost.
        if not _finish(
            [row.pk], owner, status=S.PENDING, last_error=label,
            enqueued_at=timezone.now() + timedelta(seconds=retry_delay(row.attempts)),
        ):  # fmt: skip
            return "lease lost"
        result.errors[row.pk] = exc
        return "retry"
    # send_messages returned: the server accepted the message (its final reply to DATA).
    # Marked at once, in its own statement: a crash before this line is the only way to a
    # second copy.
    if not _finish([row.pk], owner, status=S.SENT, sent_at=timezone.now()):
        logger.warning("Outbox: row %s was sent after its lease expired", row.pk)
        return "sent after lease"
    return "sent"


def outbox_send(*, message_id: int) -> str:
    """Send one row if it can be claimed (a batch of one). Returns what happened.

    Raises a ``RETRYABLE`` error (after putting the row back to pending) when the SMTP server
    refused or was unreachable and attempts remain; the task retries with backoff.
    """
    result = outbox_send_batch(message_ids=[message_id])
    if message_id in result.errors:
        raise result.errors[message_id]
    return result.outcomes[message_id]


def retry_delay(attempts: int) -> int:
    """Exponential backoff: base, 2x base, 4x base... capped at an hour."""
    backoff: int = settings.OUTBOX_RETRY_BACKOFF
    return min(backoff * (1 << max(attempts - 1, 0)), 3600)
