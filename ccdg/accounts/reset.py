"""Password reset without telling who has an account, at a pace a mail server cannot betray.

The request (allauth's reset page, form :class:`ccdg.accounts.forms.QueuedResetPasswordForm`)
only writes a :class:`PasswordResetRequest` row and queues its id: the same work, the same
time, whatever the address. The worker (:func:`password_reset_send`) looks the address up and
sends each active account behind it a one-time link; an unknown address gets nothing.
allauth's rate limits bound the requests (``PASSWORD_RESET_PER_ADDRESS_HOUR`` per address,
``PASSWORD_RESET_PER_CLIENT_HOUR`` per client address).
"""

from __future__ import annotations

from typing import Any

from allauth.account.forms import default_token_generator
from allauth.account.utils import filter_users_by_email, user_pk_to_url_str
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ccdg.outbox.sending import RETRYABLE

from .models import PasswordResetRequest


def password_reset_request(*, email: str) -> PasswordResetRequest:
    """Record the request and queue the worker's send once the transaction commits."""
    row = PasswordResetRequest.objects.create(email=email.strip().lower())
    transaction.on_commit(lambda: task_password_reset_send.delay(row.pk))
    return row


def password_reset_link(user: Any) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return f"{settings.BASE_URL}{path}"


def password_reset_send(*, request_id: int) -> int:
    """Send the links for one request; the number of messages sent. The row is deleted once
    they are sent, so a retried task after a mail failure sends again, and a duplicate task
    finds nothing."""
    row = PasswordResetRequest.objects.filter(pk=request_id).first()
    if row is None:
        return 0
    users = filter_users_by_email(row.email, is_active=True, prefer_verified=True)
    for user in users:
        context = {
            "user": user,
            "link": password_reset_link(user),
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }
        subject = render_to_string("account/email/ccdg_password_reset_subject.txt", context)
        body = render_to_string("account/email/ccdg_password_reset_message.txt", context)
        message = EmailMultiAlternatives(
            " ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL, [row.email]
        )
        message.send()
    row.delete()
    return len(users)


def password_reset_requests_expire(*, now=None) -> int:  # type: ignore[no-untyped-def]
    """Housekeeping: requests older than an hour will not be sent (the worker was down)."""
    cutoff = (now or timezone.now()) - PasswordResetRequest.LIFETIME
    deleted, _ = PasswordResetRequest.objects.filter(requested_at__lt=cutoff).delete()
    return deleted


@shared_task(
    name="ccdg.password_reset_send",
    autoretry_for=RETRYABLE,
    retry_backoff=30,
    max_retries=5,
    acks_late=True,
)
def task_password_reset_send(request_id: int) -> int:
    """Send the reset links of one request (its id only: the address stays in the database)."""
    return password_reset_send(request_id=request_id)
