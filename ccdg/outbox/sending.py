"""Delivering one outbox row: claim, check it is still useful, render, send, record."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import smtplib
import socket
import threading
import time
from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.validators import validate_email
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ccdg.models import OutboxMessage, OutboxOptOut
from sessions_app.models import Presentation, Session

from .rendering import render_message
from .scan import OPTIONAL_KINDS, SURVEY_KINDS, paused_program_ids

logger = logging.getLogger(__name__)

K = OutboxMessage.Kind
S = OutboxMessage.Status
# What a retry can cure: the server refused for now, or could not be reached.
RETRYABLE = (smtplib.SMTPException, OSError)
SESSION_KINDS = frozenset(
    {
        K.SESSION_REMINDER,
        K.PRESENTER_REMINDER,
        K.NO_PRESENTER,
        K.SESSION_RESCHEDULED,
        K.SESSION_CANCELLED,
        K.BACKUP_ALERT,
    }
)


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


def _smtp_settings() -> tuple:
    return (
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER,
        settings.EMAIL_HOST_PASSWORD, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL,
        settings.EMAIL_SSL_CERTFILE, settings.EMAIL_SSL_KEYFILE, settings.EMAIL_TIMEOUT,
    )  # fmt: skip


def close_smtp_connection() -> None:
    """Close this thread's held SMTP connection, if any (errors ignored)."""
    connection = getattr(_held, "connection", None)
    _held.connection = None
    if connection is not None:
        with contextlib.suppress(Exception):  # closing a broken connection may fail: it is gone
            connection.close()


def _open(key: tuple):
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


def deliver(message) -> None:
    """Send one message with Django's email backend.

    With the SMTP backend the connection is kept open and reused by the next message in this
    thread (a worker sends many in a row); it is dropped on any error, and a reused connection
    the server has closed in the meantime is reopened once. Any other backend: one connection
    per message, as before. Raises what the backend raises.
    """
    if settings.EMAIL_BACKEND != SMTP_BACKEND:
        with get_connection() as connection:
            connection.send_messages([message])
        return
    key = _smtp_settings()
    connection = getattr(_held, "connection", None)
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


def outbox_claim(*, message_id: int) -> str:
    """pending -> sending, for one caller only: the UPDATE's row count says who won.

    Returns the lease owner ("" when not claimed). The claim counts as an attempt, so a row
    whose lease expired shows that a delivery may have started.
    """
    owner = lease_owner_new()
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, status=S.PENDING)
        .exclude(program_id__in=paused_program_ids())
        .update(
            status=S.SENDING, claimed_at=now, lease_owner=owner, attempts=F("attempts") + 1,
            lease_expires_at=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS),
        )  # fmt: skip
    )
    return owner if claimed else ""


def _stale_reason(row: OutboxMessage) -> str:
    """Why a claimed row is no longer worth sending ("" when it is)."""
    now = timezone.now()
    if (
        row.kind in OPTIONAL_KINDS
        and OutboxOptOut.objects.filter(program_id=row.program_id, email=row.email.lower()).exists()
    ):
        return "The person unsubscribed from optional messages."
    if row.kind in SURVEY_KINDS:
        from surveys.models import WaveRecipient

        link = (
            WaveRecipient.objects.select_related("wave")
            .filter(wave_id=row.object_id, clinician_id=row.recipient_id)
            .first()
        )
        if link is None or not link.wave.is_open(now):
            return "The survey had closed."
        if link.responded:
            return "The person had already answered."
    if row.kind in SESSION_KINDS:
        session = Session.objects.filter(pk=row.object_id).first()
        if session is None:
            return "The session no longer exists."
        if session.starts_at <= now:
            return "The session had already started."
        cancelled = session.status == Session.Status.CANCELLED
        if cancelled and row.kind != K.SESSION_CANCELLED:
            return "The session was cancelled."
        if (
            row.kind == K.NO_PRESENTER
            and session.presentations.filter(status=Presentation.Status.CONFIRMED).exists()
        ):
            return "A presenter confirmed in the meantime."
    return ""


def _finish(row: OutboxMessage, owner: str, **fields) -> bool:
    """Record an outcome, only while we still hold the lease: a worker that wakes up after its
    lease expired must not overwrite what a newer claim did."""
    return bool(
        OutboxMessage.objects.filter(pk=row.pk, status=S.SENDING, lease_owner=owner).update(
            lease_owner="", lease_expires_at=None, **fields
        )
    )


def outbox_send(*, message_id: int) -> str:
    """Send one row if it can be claimed. Returns what happened.

    Raises a ``RETRYABLE`` error (after putting the row back to pending) when the SMTP server
    refused or was unreachable and attempts remain; the task retries with backoff.
    """
    owner = outbox_claim(message_id=message_id)
    if not owner:
        return "not claimed"
    row = OutboxMessage.objects.get(pk=message_id)
    if not row.message_id:
        row.message_id = message_id_for(pk=row.pk)
        OutboxMessage.objects.filter(pk=row.pk, message_id="").update(message_id=row.message_id)
    reason = _stale_reason(row)
    if reason:
        _finish(row, owner, status=S.SKIPPED, skip_reason=reason)
        return "skipped"
    try:
        validate_email(row.email)
    except ValidationError:
        _finish(row, owner, status=S.FAILED, last_error="Invalid email address on the roster.")
        return "failed"
    try:
        message = render_message(row).email(to=row.email)
    except Exception as exc:  # a broken (customised) template fails this row only
        logger.exception("Outbox: rendering row %s failed", row.pk)
        _finish(row, owner, status=S.FAILED, last_error=f"Template error: {type(exc).__name__}")
        return "failed"
    # The same on every attempt: a copy sent again after a crash is the same message.
    message.extra_headers["Message-ID"] = row.message_id
    try:
        deliver(message)
    except RETRYABLE as exc:
        label = error_label(exc)
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            _finish(row, owner, status=S.FAILED, last_error=label)
            return "failed"
        # Back to pending; the retry (countdown) comes first, the scan only if it is lost.
        if not _finish(
            row, owner, status=S.PENDING, last_error=label,
            enqueued_at=timezone.now() + timedelta(seconds=retry_delay(row.attempts)),
        ):  # fmt: skip
            return "lease lost"
        raise
    # send_messages returned: the server accepted the message (its final reply to DATA).
    # Marked at once, in its own statement: a crash before this line is the only way to a
    # second copy.
    if not _finish(row, owner, status=S.SENT, sent_at=timezone.now()):
        logger.warning("Outbox: row %s was sent after its lease expired", row.pk)
        return "sent after lease"
    return "sent"


def retry_delay(attempts: int) -> int:
    """Exponential backoff: base, 2x base, 4x base... capped at an hour."""
    return min(settings.OUTBOX_RETRY_BACKOFF * 2 ** (attempts - 1), 3600)
