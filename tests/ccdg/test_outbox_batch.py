"""Sending in batches: one claim for many rows, one SMTP connection, a fixed number of queries
besides each message's own "sent" mark, and one refused message does not hold up the rest."""

from __future__ import annotations

import smtplib
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from celery.signals import task_prerun, worker_process_init
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ccdg.models import OutboxMessage, UnsubscribeToken
from ccdg.outbox import kinds as outbox_kinds
from ccdg.outbox.scan import reminders_scan
from ccdg.outbox.sending import close_smtp_connection, outbox_claim_batch, outbox_send_batch
from sessions_app.reminders import kinds as K
from tests.factories import (
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    OutboxMessageFactory,
    SessionFactory,
)
from tests.services import free_port

S = OutboxMessage.Status


def due_rows(program, count: int, *, kind: str = K.SESSION_REMINDER) -> list[OutboxMessage]:
    """``count`` pending rows about two sessions next week (half each), to distinct people."""
    sessions = [
        SessionFactory(
            group=GroupFactory(program=program), starts_at=timezone.now() + timedelta(days=6)
        )
        for _ in range(2)
    ]
    rows = []
    for n in range(count):
        clinician = ClinicianFactory(program=program)
        session = sessions[n % 2]
        rows.append(
            OutboxMessageFactory(
                program=program,
                kind=kind,
                object_id=session.pk,
                recipient_id=clinician.pk,
                email=clinician.email,
                occurrence=f"next:{session.pk}" if kind == K.NEXT_MEETING else "occ",
            )  # fmt: skip
        )
    return rows


# --- The claim -------------------------------------------------------------------------------


def test_a_batch_claim_takes_at_most_the_batch_size(program, settings):
    settings.OUTBOX_BATCH_SIZE = 5
    rows = due_rows(program, 8)

    owner, claimed = outbox_claim_batch(message_ids=[r.pk for r in rows])

    assert len(claimed) == 5
    assert OutboxMessage.objects.filter(status=S.SENDING, lease_owner=owner).count() == 5
    assert OutboxMessage.objects.filter(status=S.PENDING).count() == 3
    leased = OutboxMessage.objects.filter(pk__in=claimed)
    assert all(r.lease_expires_at > timezone.now() and r.attempts == 1 for r in leased)


def test_a_batch_claim_skips_rows_already_claimed(program):
    rows = due_rows(program, 4)
    _, first = outbox_claim_batch(message_ids=[r.pk for r in rows[:2]])

    _, second = outbox_claim_batch(message_ids=[r.pk for r in rows])

    assert sorted(first + second) == sorted(r.pk for r in rows)
    assert not set(first) & set(second)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_batch_claims_never_take_the_same_row_on_postgresql(settings):
    if connection.vendor != "postgresql":
        pytest.skip("the race between two connections is PostgreSQL's")
    settings.OUTBOX_BATCH_SIZE = 7
    program = GroupFactory().program
    ids = [r.pk for r in due_rows(program, 60)]
    start = threading.Barrier(2)
    claims: list[list[int]] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait()
            while True:
                _, claimed = outbox_claim_batch(message_ids=ids)
                if not claimed and not OutboxMessage.objects.filter(status=S.PENDING).exists():
                    return
                with lock:
                    claims.append(claimed)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    taken = [pk for claim in claims for pk in claim]
    assert all(len(claim) <= 7 for claim in claims)
    assert sorted(taken) == sorted(ids)  # every row once, none twice
    assert OutboxMessage.objects.filter(status=S.SENDING).count() == 60


@pytest.mark.django_db(transaction=True)
def test_a_claim_does_not_wait_for_rows_another_worker_has_locked_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    program = GroupFactory().program
    ids = [r.pk for r in due_rows(program, 10)]
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        """Holds the first four rows locked, as a claim in progress does."""
        try:
            with transaction.atomic():
                list(OutboxMessage.objects.select_for_update().filter(pk__in=ids[:4]))
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(30)
        with connection.cursor() as cursor:  # waiting would fail the test, not hang it
            cursor.execute("SET statement_timeout = '3s'")
        _, claimed = outbox_claim_batch(message_ids=ids, limit=4)
    finally:
        release.set()
        thread.join(30)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")

    assert claimed == ids[4:8]


# --- One connection, few queries -------------------------------------------------------------


class Mailbox:
    """An SMTP server's handler that records each message and the connection it came on."""

    def __init__(self):
        self.sessions: list[object] = []  # one entry per message: its SMTP session
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.sessions.append(session)
        return "250 OK"

    def connections(self) -> int:
        return len({id(s) for s in self.sessions})


@pytest.fixture
def smtp_server(settings):
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    close_smtp_connection()
    yield mailbox
    close_smtp_connection()
    controller.stop()


@pytest.fixture
def tasks_run():
    """The names of the Celery tasks that ran (eager mode runs them in this process)."""
    names: list[str] = []

    def record(sender=None, **kwargs):
        names.append(sender.name)

    task_prerun.connect(record, weak=False)
    yield names
    task_prerun.disconnect(record)


def test_the_scan_sends_a_batch_of_rows_in_one_task_over_one_smtp_connection(
    program, settings, smtp_server, tasks_run, django_capture_on_commit_callbacks
):
    settings.OUTBOX_BATCH_SIZE = 50
    group = GroupFactory(program=program)
    for n in range(30):
        GroupMembershipFactory(group=group, clinician__email=f"member{n}@example.org")
    FacilitatorAssignmentFactory(group=group, facilitator__email="lead@example.org")
    SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=6))

    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan()

    # 30 members and the lead: reminders; the lead also gets the no-presenter alert.
    assert OutboxMessage.objects.filter(status=S.SENT).count() == 32
    assert len(smtp_server.sessions) == 32
    assert smtp_server.connections() == 1
    assert tasks_run == ["ccdg.outbox_send_batch"]


def test_the_scan_splits_what_is_due_into_batches_of_the_set_size(
    program, settings, tasks_run, mailoutbox, django_capture_on_commit_callbacks
):
    settings.OUTBOX_BATCH_SIZE = 10
    group = GroupFactory(program=program)
    for n in range(24):
        GroupMembershipFactory(group=group, clinician__email=f"member{n}@example.org")
    SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=6))

    with django_capture_on_commit_callbacks(execute=True):
        reminders_scan()

    assert tasks_run == ["ccdg.outbox_send_batch"] * 3
    assert len(mailoutbox) == 24
    assert len({m.to[0] for m in mailoutbox}) == 24


def queries_to_send(rows) -> int:
    with CaptureQueriesContext(connection) as captured:
        result = outbox_send_batch(message_ids=[r.pk for r in rows])
    assert set(result.outcomes.values()) == {"sent"}
    return len(captured)


@pytest.mark.parametrize("kind", [K.SESSION_REMINDER, K.NEXT_MEETING, K.NO_PRESENTER])
def test_a_batch_costs_a_fixed_number_of_queries_besides_one_sent_mark_per_message(
    program, settings, smtp_server, kind
):
    """5 or 50 messages: the same lookups; the only query per message is its "sent" mark,
    made right after the SMTP server's reply."""
    settings.OUTBOX_BATCH_SIZE = 50
    small = queries_to_send(due_rows(program, 5, kind=kind))
    large = queries_to_send(due_rows(program, 50, kind=kind))

    assert large - 50 == small - 5
    assert small - 5 <= 12
    assert len(smtp_server.sessions) == 55


def test_optional_messages_of_a_batch_store_each_unsubscribe_token_once(
    program, settings, smtp_server
):
    rows = due_rows(program, 6, kind=K.NEXT_MEETING)
    outbox_send_batch(message_ids=[r.pk for r in rows])

    assert UnsubscribeToken.objects.count() == 6
    assert set(UnsubscribeToken.objects.values_list("email", flat=True)) == {
        r.email.lower() for r in rows
    }


# --- One refusal -----------------------------------------------------------------------------


class RefusingOneBackend(BaseEmailBackend):
    """An SMTP server that answers 451 to one recipient and accepts everyone else."""

    refused = ""

    def send_messages(self, messages):
        for message in messages:
            if message.to == [RefusingOneBackend.refused]:
                raise smtplib.SMTPDataError(451, b"try again later")
        mail.outbox.extend(messages)
        return len(messages)


def test_a_retryable_refusal_of_one_row_does_not_stop_the_others(program, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingOneBackend"
    mail.outbox = []
    rows = due_rows(program, 5)
    RefusingOneBackend.refused = rows[1].email

    result = outbox_send_batch(message_ids=[r.pk for r in rows])

    assert result.outcomes == {r.pk: "retry" if r == rows[1] else "sent" for r in rows}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in rows if r != rows[1])
    refused = OutboxMessage.objects.get(pk=rows[1].pk)
    assert (refused.status, refused.last_error, refused.lease_owner) == (
        S.PENDING, "SMTPDataError 451", ""
    )  # fmt: skip
    assert refused.enqueued_at > timezone.now()  # its backoff
    assert OutboxMessage.objects.filter(status=S.SENT).count() == 4


def test_the_refused_row_of_a_batch_task_is_retried_until_it_goes_through(
    program, settings, django_capture_on_commit_callbacks
):
    """Eager mode retries in place; with a worker the task re-enqueues the refused rows with
    their backoff."""
    from ccdg.tasks import task_outbox_send_batch

    settings.EMAIL_BACKEND = f"{__name__}.RefusingOneBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    mail.outbox = []
    rows = due_rows(program, 3)
    RefusingOneBackend.refused = rows[0].email

    outcome = task_outbox_send_batch([r.pk for r in rows])

    assert outcome == {"sent": 2, "retry": 1}
    refused = OutboxMessage.objects.get(pk=rows[0].pk)
    assert (refused.status, refused.attempts) == (S.FAILED, 3)
    assert len(mail.outbox) == 2


class SlowServerBackend(BaseEmailBackend):
    """An SMTP server that takes 1.1 s per message; notes, at each message, when the lease of
    that message's row ends."""

    lease_ends: list = []

    def send_messages(self, messages):
        for message in messages:
            row = OutboxMessage.objects.get(email=message.to[0])
            SlowServerBackend.lease_ends.append(row.lease_expires_at)
            time.sleep(1.1)
        mail.outbox.extend(messages)
        return len(messages)


def test_a_slow_server_does_not_make_the_rest_of_a_batch_lose_its_lease(program, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowServerBackend"
    settings.OUTBOX_LEASE_SECONDS = 3
    SlowServerBackend.lease_ends = []
    mail.outbox = []
    rows = due_rows(program, 3)

    result = outbox_send_batch(message_ids=[r.pk for r in rows])

    assert set(result.outcomes.values()) == {"sent"}
    first, *later = SlowServerBackend.lease_ends
    # The third message starts 2.2 s after the claim, inside a lease renewed meanwhile.
    assert later[-1] > first
    assert later[-1] - first >= timedelta(seconds=1)


def test_a_worker_process_compiles_every_message_template_when_it_starts():
    """The first batch after a worker (re)start must not wait for the URLconf and the
    templates: they are loaded when the process starts, before it takes a task."""
    from django.template import engines

    loader = engines["django"].engine.template_loaders[0]
    loader.reset()  # the cached loader, as in a new process

    worker_process_init.send(sender="test-worker")

    expected = {name for kind in outbox_kinds.registered() for name in kind.templates}
    assert expected and expected <= set(loader.get_template_cache)
