"""Reminders on real parts: a Celery worker process, Redis, PostgreSQL and an SMTP server on
loopback (aiosmtpd). Marked ``broker`` (this folder): they run in ``make test``'s second pass."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.utils import timezone

from ccdg.models import OutboxMessage
from ccdg.outbox.scan import reminders_scan
from sessions_app.schedule import services as schedule_services
from tests.factories import (
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    SessionFactory,
)
from tests.integration.test_celery_worker import wait_until
from tests.services import _redis_ping, find_redis, free_port

S = OutboxMessage.Status
TIMEOUT = 60.0


class Recorder:
    """An SMTP handler that keeps (recipient, subject) of every accepted message, or refuses."""

    def __init__(self, refuse: bool = False, delay: float = 0.0):
        self.received: list[tuple[str, str]] = []
        self.message_ids: dict[tuple[str, str], list[str]] = {}
        self.refused = 0
        self.refuse, self.delay = refuse, delay
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refused += 1
            return "550 5.7.1 refused by policy"
        if self.delay:
            time.sleep(self.delay)  # slow delivery, so a worker can be killed mid-batch
        parsed = message_from_bytes(envelope.content)
        subject = parsed["Subject"]
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append((rcpt, subject))
                self.message_ids.setdefault((rcpt, subject), []).append(parsed["Message-ID"])
        return "250 OK"


@pytest.fixture
def smtp(monkeypatch):
    """``smtp(refuse=False, delay=0)`` starts an SMTP server on loopback for the worker."""
    controllers = []

    def start(**kwargs) -> Recorder:
        handler = Recorder(**kwargs)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        monkeypatch.setenv("EMAIL_URL", f"smtp://127.0.0.1:{port}")
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setenv("CCDG_OUTBOX_RETRY_BACKOFF", "1")
    monkeypatch.setenv("CCDG_OUTBOX_MAX_ATTEMPTS", "3")


def arrange_group(members: int, starts_in_days: float = 6):
    """A program with one group, its members and a lead, and a session soon (committed)."""
    program = ProgramFactory()
    group = GroupFactory(program=program)
    for n in range(members):
        GroupMembershipFactory(group=group, clinician__email=f"m{n}-{group.pk}@example.org")
    FacilitatorAssignmentFactory(group=group, facilitator__email=f"lead-{group.pk}@example.org")
    start = (timezone.now() + timedelta(days=starts_in_days)).replace(
        minute=0, second=0, microsecond=0
    )
    return program, SessionFactory(group=group, starts_at=start)


def settled() -> bool:
    return not OutboxMessage.objects.filter(status__in=[S.PENDING, S.SENDING]).exists()


def statuses() -> dict[str, int]:
    return dict(Counter(OutboxMessage.objects.values_list("status", flat=True)))


def test_due_reminders_arrive_exactly_once_per_recipient(smtp, start_worker, purge_queue):
    mailbox = smtp()
    program, session = arrange_group(members=8)
    worker = start_worker()

    reminders_scan()
    reminders_scan()

    wait_until(settled, TIMEOUT, lambda: f"not delivered: {statuses()}\n{worker.output()}")
    counts = Counter(mailbox.received)
    reminder_rcpts = sorted(r for (r, subject) in counts if subject.startswith("Reminder:"))
    assert len(reminder_rcpts) == 9
    assert set(counts.values()) == {1}
    assert statuses() == {S.SENT: 10}  # 9 reminders + the lead's no-presenter alert


def test_two_scans_at_once_create_no_duplicates(smtp, start_worker, purge_queue):
    mailbox = smtp()
    arrange_group(members=20)
    arrange_group(members=20)
    barrier = threading.Barrier(2)
    errors = []

    def tick():
        try:
            barrier.wait()
            reminders_scan()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    worker = start_worker()

    assert errors == []
    assert OutboxMessage.objects.count() == 2 * (21 + 1)
    wait_until(settled, TIMEOUT, lambda: f"not delivered: {statuses()}\n{worker.output()}")
    assert set(Counter(mailbox.received).values()) == {1}
    assert len(mailbox.received) == 44


def test_a_worker_killed_mid_batch_loses_nothing_and_a_copy_keeps_its_message_id(
    smtp, start_worker, purge_queue
):
    mailbox = smtp(delay=0.1)
    arrange_group(members=60)
    # Started first: a solo worker busy with a batch answers the start-up ping only after it.
    worker = start_worker()
    reminders_scan()
    wait_until(lambda: len(mailbox.received) >= 10, TIMEOUT, worker.output)

    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait()
    assert len(mailbox.received) < 50, "the batch finished before the kill"
    # The rows of the batch the worker held stay "sending" until their lease expires; a scan
    # after that puts them back to pending and they are sent, with no one pressing Resend.
    worker = start_worker()
    reminders_scan(now=timezone.now() + timedelta(minutes=30))

    wait_until(settled, TIMEOUT, lambda: f"not delivered: {statuses()}\n{worker.output()}")
    counts = Counter(mailbox.received)
    assert len(counts) == 62, "a message was never delivered"
    assert statuses() == {S.SENT: 62}
    # At most one copy too many (the worker died after the server accepted the message and
    # before its "sent" mark; a batch has one message in flight at a time), and the copy is
    # recognisably the same message.
    doubled = [key for key, n in counts.items() if n > 1]
    assert len(doubled) <= 1 and max(counts.values()) <= 2
    for key in doubled:
        assert len(set(mailbox.message_ids[key])) == 1


def test_a_refusing_smtp_server_is_retried_then_shown_as_failed(
    smtp, fast_retries, start_worker, purge_queue, client
):
    from tests.factories import ProgramRoleFactory

    mailbox = smtp(refuse=True)
    program, _ = arrange_group(members=1)
    worker = start_worker()

    reminders_scan()

    wait_until(settled, TIMEOUT, lambda: f"not failed: {statuses()}\n{worker.output()}")
    assert statuses() == {S.FAILED: 3}
    assert set(OutboxMessage.objects.values_list("attempts", "last_error")) == {
        (3, "SMTPDataError 550")
    }
    assert mailbox.refused == 9
    client.force_login(ProgramRoleFactory(program=program, role="coordinator").user)
    page = client.get(f"/programs/{program.slug}/outbox/?tab=failed")
    assert page.context["counts"]["failed"] == 3
    assert page.content.count(b"SMTPDataError 550") == 3


class OwnRedis:
    """A redis-server on a fixed port that the test can stop and start again."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="ccdg-redis-own-")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [find_redis(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while not _redis_ping(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _use_broker(app, url: str) -> None:
    app.conf.broker_url = url
    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(celery_app, monkeypatch):
    redis = OwnRedis()
    redis.start()
    previous = celery_app.conf.broker_url
    monkeypatch.setenv("REDIS_URL", redis.url)
    _use_broker(celery_app, redis.url)
    yield redis
    redis.stop()
    _use_broker(celery_app, previous)
    shutil.rmtree(redis.dir, ignore_errors=True)


def test_a_notice_made_while_redis_was_down_goes_out_when_it_is_back(
    smtp, own_redis, start_worker, celery_app
):
    mailbox = smtp()
    program, session = arrange_group(members=3, starts_in_days=20)
    worker = start_worker()
    own_redis.stop()

    new_start = session.starts_at + timedelta(days=1)
    schedule_services.session_reschedule(
        session=session, starts_at=new_start, room=None, actor=None
    )

    notices = OutboxMessage.objects.filter(kind="session_rescheduled")
    assert notices.count() == 4  # the rows exist though the broker refused the tasks
    assert set(notices.values_list("status", "enqueued_at")) == {(S.PENDING, None)}
    own_redis.start()
    reminders_scan()  # the next beat tick

    wait_until(settled, TIMEOUT, lambda: f"not delivered: {statuses()}\n{worker.output()}")
    moved = [r for r, subject in mailbox.received if subject.startswith("Moved:")]
    assert len(moved) == 4
    assert os.environ["REDIS_URL"] == own_redis.url
