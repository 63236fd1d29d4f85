"""Periodic housekeeping: remove what is no longer needed and holds personal data."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(name="ccdg.housekeeping")
def task_housekeeping() -> dict[str, int]:
    from sessions_app.models import Invitation, RosterImport

    now = timezone.now()
    # Roster drafts hold names and emails: a preview nobody confirmed within a day is dropped.
    drafts, _ = RosterImport.objects.filter(
        committed_at__isnull=True, created_at__lt=now - timedelta(days=1)
    ).delete()
    expired = Invitation.objects.filter(
        used_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
    ).update(revoked_at=now)
    return {"roster_drafts_deleted": drafts, "invitations_expired": expired}
