"""The outbox's lease: a row whose sender died goes back to pending and is sent again, a late
sender cannot overwrite a newer claim, every attempt of a row carries the same Message-ID, the
scan comes round every minute, and the coordinator's page shows the lease and asks before
sending again a message that may have been delivered."""

from __future__ import annotations

import importlib
import os
import re
import smtplib
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from ccdg.models import OutboxMessage
from ccdg.outbox.scan import reminders_scan
from ccdg.outbox.sending import outbox_claim, outbox_send
from ccdg.tasks import task_outbox_send
from tests.factories import GroupFactory, OutboxMessageFactory, SessionFactory

S = OutboxMessage.Status
ROOT = Path(__file__).resolve().parents[2]
SENT_HEADERS: list[str] = []  # Message-ID of every message a backend below was handed


class RefusingOnceBackend(BaseEmailBackend):
    """An SMTP server that answers 451 to the first message, then accepts."""

    def send_messages(self, messages):
        for message in messages:
            SENT_HEADERS.append(message.message()["Message-ID"])
        if len(SENT_HEADERS) == 1:
            raise smtplib.SMTPDataError(451, b"try again later")
        mail.outbox.extend(messages)
        return len(messages)


class SlowBackend(BaseEmailBackend):
    """An SMTP conversation so slow that the sender's lease expires meanwhile and another
    worker claims the row (the scan, then a second task, run while this one waits)."""

    second_owner = ""

    def send_messages(self, messages):
        later = timezone.now() + timedelta(seconds=django_settings.OUTBOX_LEASE_SECONDS + 1)
        reminders_scan(now=later, enqueue=False)
        row_pk = OutboxMessage.objects.get(status=S.PENDING).pk
        SlowBackend.second_owner = outbox_claim(message_id=row_pk)
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture(autouse=True)
def _headers():
    SENT_HEADERS.clear()


@pytest.fixture
def row(program):
    session = SessionFactory(
        group=GroupFactory(program=program), starts_at=timezone.now() + timedelta(days=6)
    )
    return OutboxMessageFactory(program=program, object_id=session.pk)


def after_lease():
    return timezone.now() + timedelta(seconds=django_settings.OUTBOX_LEASE_SECONDS + 1)


def test_a_claimed_row_whose_lease_expired_is_taken_back_by_the_scan_and_sent_once(
    row, django_capture_on_commit_callbacks, mailoutbox
):
    assert outbox_claim(message_id=row.pk)  # the worker dies here: no outcome, ever

    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan(now=timezone.now())
    assert mailoutbox == []  # the lease still runs
    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_scan(now=after_lease())
    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan(now=after_lease())

    row.refresh_from_db()
    assert result.expired == 1
    assert (row.status, row.lease_owner, row.lease_expires_at) == (S.SENT, "", None)
    assert row.attempts == 2  # the interrupted attempt counts
    assert len(mailoutbox) == 1
    assert not OutboxMessage.objects.filter(status__in=[S.SENDING, S.STUCK]).exists()


def test_a_late_workers_outcome_does_not_overwrite_a_newer_claim(row, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"

    outcome = outbox_send(message_id=row.pk)

    row.refresh_from_db()
    assert outcome == "sent after lease"
    assert SlowBackend.second_owner
    assert (row.status, row.lease_owner) == (S.SENDING, SlowBackend.second_owner)
    assert row.sent_at is None


def test_a_row_out_of_attempts_whose_lease_expired_fails_instead_of_looping(row, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    OutboxMessage.objects.filter(pk=row.pk).update(attempts=1)
    outbox_claim(message_id=row.pk)

    reminders_scan(now=after_lease(), enqueue=False)

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (S.FAILED, 2, "lease expired")


def test_every_attempt_of_a_row_carries_the_same_message_id(row, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingOnceBackend"
    settings.DEFAULT_FROM_EMAIL = "Program <reminders@ccdg.example.org>"

    assert task_outbox_send.delay(row.pk).get() == "sent"  # eager: the retry runs in place

    row.refresh_from_db()
    assert len(SENT_HEADERS) == 2
    assert SENT_HEADERS[0] == SENT_HEADERS[1] == row.message_id
    pattern = rf"<ccdg-outbox-{row.pk}\.[0-9a-f]{{16}}@ccdg\.example\.org>"
    assert re.fullmatch(pattern, row.message_id)
    assert row.email.split("@")[0] not in row.message_id


def test_two_rows_carry_different_message_ids(program, mailoutbox):
    rows = [OutboxMessageFactory(program=program) for _ in range(2)]
    session = SessionFactory(
        group=GroupFactory(program=program), starts_at=timezone.now() + timedelta(days=6)
    )
    OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(object_id=session.pk)

    for r in rows:
        assert outbox_send(message_id=r.pk) == "sent"

    ids = [m.message()["Message-ID"] for m in mailoutbox]
    assert len(set(ids)) == 2
    assert sorted(ids) == sorted(OutboxMessage.objects.values_list("message_id", flat=True))


def test_two_tasks_for_one_row_send_it_once(row, mailoutbox):
    assert [task_outbox_send(row.pk), task_outbox_send(row.pk)] == ["sent", "not claimed"]
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_row_send_it_once_on_postgresql(settings):
    if connection.vendor != "postgresql":
        pytest.skip("the race between two connections is PostgreSQL's")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    program = GroupFactory().program
    session = SessionFactory(
        group=GroupFactory(program=program), starts_at=timezone.now() + timedelta(days=6)
    )
    rows = [OutboxMessageFactory(program=program, object_id=session.pk) for _ in range(20)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            start.wait()
            for r in rows:
                outcomes.append(task_outbox_send(r.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sorted(outcomes).count("sent") == 20
    assert outcomes.count("not claimed") == 20
    assert len(mail.outbox) == 20
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {S.SENT}


@pytest.mark.django_db(transaction=True)
def test_a_late_finish_loses_to_a_newer_claim_on_postgresql(settings):
    """The same guarantee as above, across two real connections."""
    if connection.vendor != "postgresql":
        pytest.skip("two connections are PostgreSQL's")
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    mail.outbox = []
    program = GroupFactory().program
    session = SessionFactory(
        group=GroupFactory(program=program), starts_at=timezone.now() + timedelta(days=6)
    )
    row = OutboxMessageFactory(program=program, object_id=session.pk)
    outcome: list[str] = []

    def late_worker() -> None:
        try:
            outcome.append(outbox_send(message_id=row.pk))
        finally:
            connections.close_all()

    thread = threading.Thread(target=late_worker)
    thread.start()
    thread.join(60)

    row.refresh_from_db()
    assert outcome == ["sent after lease"]
    assert (row.status, row.lease_owner) == (S.SENDING, SlowBackend.second_owner)


# --- Recovery in minutes -------------------------------------------------------------------


def test_the_scan_runs_every_minute_and_a_lost_task_is_replaced_within_two(settings):
    schedule = django_settings.CELERY_BEAT_SCHEDULE["reminders-scan"]["schedule"]
    assert schedule == timedelta(seconds=60)
    assert 60 <= django_settings.OUTBOX_LOST_SECONDS <= 120


def test_the_scan_interval_and_lost_threshold_are_settings(tmp_path):
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CELERY_BEAT_SCHEDULE['reminders-scan']['schedule'].total_seconds(),"
        " s.OUTBOX_LOST_SECONDS, s.OUTBOX_LEASE_SECONDS]))"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "ccdg.settings",
        "CCDG_VAR_DIR": str(tmp_path / "var"),
        "CCDG_OUTBOX_SCAN_SECONDS": "30",
        "CCDG_OUTBOX_LOST_SECONDS": "45",
        "CCDG_OUTBOX_LEASE_SECONDS": "300",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[30.0, 45, 300]"


def test_a_pending_row_whose_task_was_lost_is_sent_by_the_next_scan(
    row, django_capture_on_commit_callbacks, mailoutbox
):
    # Enqueued 100 s ago, then the broker lost the task.
    OutboxMessage.objects.filter(pk=row.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=100)
    )

    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan()

    row.refresh_from_db()
    assert row.status == S.SENT
    assert len(mailoutbox) == 1


def test_a_row_enqueued_moments_ago_is_not_enqueued_again(
    row, django_capture_on_commit_callbacks, mailoutbox
):
    OutboxMessage.objects.filter(pk=row.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=10)
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = reminders_scan()

    assert result.enqueued == 0
    assert mailoutbox == []


def test_old_stuck_rows_are_migrated_back_to_pending(program):
    stuck = OutboxMessageFactory(program=program, status=S.STUCK, attempts=0)
    migration = importlib.import_module("ccdg.migrations.0007_outbox_lease")

    migration.stuck_to_pending(apps, None)

    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts, stuck.last_error) == (S.PENDING, 1, "lease expired")


# --- The coordinator's page ------------------------------------------------------------------


def outbox_url(program, tab: str) -> str:
    return reverse("outbox:outbox", kwargs={"slug": program.slug}) + f"?tab={tab}"


def resend_url(row) -> str:
    return reverse("outbox:outbox_resend", kwargs={"slug": row.program.slug, "pk": row.pk})


def test_the_page_shows_the_lease_attempts_and_message_id(row, coordinator_client):
    until = timezone.now() + timedelta(seconds=90)
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=S.SENDING, attempts=2, lease_owner="worker-7:4242:0a1b2c", lease_expires_at=until,
        message_id=f"<ccdg-outbox-{row.pk}.0123456789abcdef@ccdg.example.org>",
    )  # fmt: skip

    response = coordinator_client.get(outbox_url(row.program, "upcoming"))

    html = response.content.decode()
    assert f'data-attempts="{row.pk}">2<' in html
    lease = re.search(rf'data-lease="{row.pk}">([^<]*)<', html).group(1)
    assert "worker-7:4242:0a1b2c" in lease
    assert timezone.localtime(until).strftime("%Y-%m-%d %H:%M:%S") in lease
    assert f"&lt;ccdg-outbox-{row.pk}.0123456789abcdef@ccdg.example.org&gt;" in html


def sent_row(row) -> OutboxMessage:
    assert outbox_send(message_id=row.pk) == "sent"
    row.refresh_from_db()
    return row


def test_resend_of_a_sent_row_without_confirmation_sends_nothing(
    row, coordinator_client, django_capture_on_commit_callbacks, mailoutbox
):
    row = sent_row(row)

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(resend_url(row))

    html = response.content.decode()
    assert response.status_code == 200
    assert "This message may already have been delivered" in html
    assert row.message_id.replace("<", "&lt;").replace(">", "&gt;") in html
    assert 'name="confirm" value="1"' in html
    row.refresh_from_db()
    assert row.status == S.SENT
    assert len(mailoutbox) == 1


def test_resend_of_a_sent_row_with_confirmation_sends_it_with_the_same_message_id(
    row, coordinator_client, django_capture_on_commit_callbacks, mailoutbox
):
    row = sent_row(row)

    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(resend_url(row), {"confirm": "1"})

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == S.SENT
    assert len(mailoutbox) == 2
    assert mailoutbox[0].message()["Message-ID"] == mailoutbox[1].message()["Message-ID"]
    assert mailoutbox[1].message()["Message-ID"] == row.message_id


def test_resend_of_a_row_whose_lease_expired_asks_first(
    row, coordinator_client, django_capture_on_commit_callbacks, mailoutbox
):
    OutboxMessage.objects.filter(pk=row.pk).update(
        status=S.FAILED, attempts=5, last_error="lease expired"
    )

    with django_capture_on_commit_callbacks(execute=True):
        asked = coordinator_client.post(resend_url(row))
    assert b"may already have been delivered" in asked.content
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(resend_url(row), {"confirm": "1"})

    row.refresh_from_db()
    assert row.status == S.SENT
    assert len(mailoutbox) == 1
