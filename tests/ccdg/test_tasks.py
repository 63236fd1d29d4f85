"""Hourly housekeeping: drop stale roster drafts, close expired invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ccdg.tasks import task_housekeeping
from sessions_app.models import Invitation, RosterImport
from tests.factories import InvitationFactory, RosterImportFactory

pytestmark = pytest.mark.django_db


def aged(draft, **delta):
    RosterImport.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(**delta))
    return draft


def test_housekeeping_deletes_only_uncommitted_drafts_older_than_a_day():
    stale = aged(RosterImportFactory(), hours=25)
    recent = aged(RosterImportFactory(), hours=23)
    committed = aged(RosterImportFactory(committed_at=timezone.now(), content=None), days=3)

    result = task_housekeeping()

    remaining = set(RosterImport.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, committed.pk}
    assert stale.pk not in remaining
    assert result["roster_drafts_deleted"] == 1


def test_housekeeping_revokes_expired_open_invitations_only():
    now = timezone.now()
    expired = InvitationFactory(expires_at=now - timedelta(minutes=1))
    current = InvitationFactory(expires_at=now + timedelta(days=1))
    used = InvitationFactory(expires_at=now - timedelta(days=1), used_at=now - timedelta(days=2))
    revoked_at = now - timedelta(days=3)
    revoked = InvitationFactory(expires_at=now - timedelta(days=1), revoked_at=revoked_at)

    result = task_housekeeping()

    def revoked_of(invitation):
        return Invitation.objects.get(pk=invitation.pk).revoked_at

    assert revoked_of(expired) is not None
    assert revoked_of(current) is None
    assert revoked_of(used) is None
    assert revoked_of(revoked) == revoked_at
    assert result["invitations_expired"] == 1


def test_housekeeping_with_nothing_to_do_changes_nothing():
    assert task_housekeeping() == {
        "roster_drafts_deleted": 0,
        "response_drafts_deleted": 0,
        "exports_expired": 0,
        "invitations_expired": 0,
        "password_reset_requests_expired": 0,
    }


def test_housekeeping_deletes_unconfirmed_survey_imports_older_than_a_day():
    from surveys.models import ResponseImport
    from tests.factories import WaveFactory

    wave = WaveFactory()
    stale = ResponseImport.objects.create(wave=wave, filename="old.csv", content=b"gender\n")
    recent = ResponseImport.objects.create(wave=wave, filename="new.csv", content=b"gender\n")
    done = ResponseImport.objects.create(
        wave=wave, filename="done.csv", committed_at=timezone.now()
    )
    ResponseImport.objects.filter(pk__in=[stale.pk, done.pk]).update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    result = task_housekeeping()

    assert set(ResponseImport.objects.values_list("pk", flat=True)) == {recent.pk, done.pk}
    assert result["response_drafts_deleted"] == 1


def test_housekeeping_is_scheduled_hourly_under_its_task_name(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["housekeeping"]

    assert entry["task"] == task_housekeeping.name == "ccdg.housekeeping"
    assert entry["schedule"] == timedelta(hours=1)
