"""Sending an invitation: a thin task that takes the invitation's id."""

from __future__ import annotations

import smtplib

from celery import shared_task

from sessions_app.roster.models import Invitation
from sessions_app.roster.services import invitation_send


@shared_task(
    name="sessions_app.invitation_send",
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=6,
)
def task_invitation_send(invitation_id: int) -> None:
    invitation = (
        Invitation.objects.select_related("clinician__program")
        .filter(pk=invitation_id, used_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None:
        return
    invitation_send(invitation=invitation)
