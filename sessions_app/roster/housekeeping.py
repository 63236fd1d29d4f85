"""sessions_app's hourly clean-ups, registered with the core's housekeeping in
``SessionsAppConfig.ready`` (``ccdg.housekeeping``)."""

from __future__ import annotations

from datetime import datetime

from sessions_app.roster.models import Invitation, RosterImport


def roster_drafts_delete(*, now: datetime) -> int:
    """Roster drafts hold names and emails: a preview nobody confirmed within a day is
    dropped."""
    deleted, _ = RosterImport.objects.abandoned(now).delete()
    return deleted


def invitations_expire(*, now: datetime) -> int:
    """Open invitations past their expiry are revoked."""
    return Invitation.objects.filter(
        used_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
    ).update(revoked_at=now)
