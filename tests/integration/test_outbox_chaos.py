"""Chaos: 301 due reminders through real parts while the worker and the broker die.

PostgreSQL, a dedicated Redis, a prefork Celery worker (2 children, as the Procfile runs it) in
its own process group, and an SMTP server on loopback that takes 15 ms per message. The worker's
whole process group is SIGKILLed twice at random moments (by message count, with jitter) and
started again; then Redis is SIGKILLed, kept down for 20 s and started again empty. The test
itself plays beat: a thread runs ``reminders_scan`` every ``SCAN`` seconds, as the beat entry
does every ``CCDG_OUTBOX_SCAN_SECONDS``; beat would need Redis and a worker to run the scan, and
both are what this test takes away (a scan that cannot reach Redis leaves the rows pending for
the next one). Short lease and lost threshold (seconds, through the environment the worker
process reads) keep it under a few minutes.

The summary line (``CHAOS ...``, shown with ``pytest -s``) gives the figures: lost, duplicated,
time from Redis's restart to the last row sent. ``CCDG_CHAOS_SEED`` replays a run.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from collections import Counter
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from kombu import pools

from ccdg.models import OutboxMessage
from ccdg.outbox.scan import reminders_scan
from tests.integration.test_reminders_worker import OwnRedis, arrange_group
from tests.services import free_port

S = OutboxMessage.Status
MEMBERS = 299  # + the group's lead: 300 session reminders, and the lead's no-presenter alert
ROWS = MEMBERS + 2
CONCURRENCY = 2
KILLS = 2
SMTP_DELAY = 0.015
SCAN = 2  # seconds between scans (CCDG_OUTBOX_SCAN_SECONDS)
LEASE = 10  # CCDG_OUTBOX_LEASE_SECONDS: well above one message's claim-to-mark on a busy host
LOST = 8  # CCDG_OUTBOX_LOST_SECONDS
EMAIL_TIMEOUT = 5  # below the lease (docs/reminders.md)
REDIS_DOWN = 20.0
PROGRESS_TIMEOUT = 120.0  # generous: 2 shared cores
RECOVERY_TIMEOUT = 150.0


class Mailbox:
    """SMTP handler: every accepted message's Message-ID and recipients, in arrival order."""

    def __init__(self, delay: float):
        self.delay = delay
        self.received: list[tuple[str, str]] = []  # (Message-ID, recipient)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        time.sleep(self.delay)  # a slow server: kills land mid-transaction
        message_id = message_from_bytes(envelope.content)["Message-ID"]
        with self.lock:
            self.received.extend((message_id, rcpt) for rcpt in envelope.rcpt_tos)
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def message_ids(self) -> set[str]:
        with self.lock:
            return {mid for mid, _ in self.received}


class ScanLoop(threading.Thread):
    """Beat's reminders-scan entry, every ``SCAN`` seconds, until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.halt = threading.Event()
        self.runs = 0
        self.errors: list[str] = []

    def run(self) -> None:
        try:
            while not self.halt.wait(SCAN):
                try:
                    reminders_scan()
                    self.runs += 1
                except Exception as exc:  # the database is up; note it, keep scanning
                    self.errors.append(type(exc).__name__)
        finally:
            connection.close()

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=60)


@pytest.fixture
def chaos_env(require_postgres, monkeypatch, settings, celery_app):
    """A dedicated Redis (this test kills it), an SMTP server, short outbox timings for the
    worker (environment) and for the scans this process runs (settings)."""
    redis = OwnRedis()
    redis.start()
    mailbox = Mailbox(SMTP_DELAY)
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    previous = celery_app.conf.broker_url
    use_broker(celery_app, redis.url)
    for name, value in (
        ("REDIS_URL", redis.url),
        ("EMAIL_URL", f"smtp://127.0.0.1:{smtp.port}"),
        ("CCDG_EMAIL_TIMEOUT", str(EMAIL_TIMEOUT)),
        ("CCDG_OUTBOX_SCAN_SECONDS", str(SCAN)),
        ("CCDG_OUTBOX_LEASE_SECONDS", str(LEASE)),
        ("CCDG_OUTBOX_LOST_SECONDS", str(LOST)),
    ):
        monkeypatch.setenv(name, value)
    settings.OUTBOX_LEASE_SECONDS, settings.OUTBOX_LOST_SECONDS = LEASE, LOST
    yield redis, mailbox
    smtp.stop()
    if redis.proc and redis.proc.poll() is None:
        redis.proc.kill()
        redis.proc.wait()
    use_broker(celery_app, previous)
    shutil.rmtree(redis.dir, ignore_errors=True)


def use_broker(app, url: str) -> None:
    """Point this process's Celery app at ``url``: every kombu pool is closed and forgotten
    (kombu keeps one per URL, and a closed one would be handed out again)."""
    pools.reset()
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def wait_for(check, timeout: float, describe) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(describe())
        time.sleep(0.05)


def statuses() -> dict[str, int]:
    return dict(Counter(OutboxMessage.objects.values_list("status", flat=True)))


def test_reminders_survive_killed_workers_and_an_emptied_broker(chaos_env, start_group_worker):
    redis, mailbox = chaos_env
    seed = int(os.environ.get("CCDG_CHAOS_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    arrange_group(members=MEMBERS)
    scans = ScanLoop()
    started = time.monotonic()
    worker = start_group_worker(concurrency=CONCURRENCY)
    scans.start()
    logs: list[str] = []
    exits: list[int] = []  # workers that exited by themselves after the broker came back
    in_flight: list[set[str]] = []  # per kill: rows the dead group held, already received
    try:

        def report() -> str:
            return (
                f"seed={seed} received={mailbox.count()} {statuses()} scans={scans.runs} "
                f"worker_alive={worker.proc.poll() is None} exits={exits} "
                f"errors={Counter(scans.errors)}\n" + "\n".join(logs) + worker.output()[-4000:]
            )

        target = 0
        for _ in range(KILLS):
            target = mailbox.count() + rng.randint(20, 60)
            wait_for(lambda t=target: mailbox.count() >= t, PROGRESS_TIMEOUT, report)
            time.sleep(rng.uniform(0, 0.05))
            worker.kill()
            time.sleep(0.5)  # a DATA the server was reading when the client died completes
            held = set(
                OutboxMessage.objects.filter(status=S.SENDING).values_list("message_id", flat=True)
            )
            in_flight.append(held & mailbox.message_ids())
            logs.append(worker.output())
            worker = start_group_worker(concurrency=CONCURRENCY)

        target = mailbox.count() + rng.randint(10, 40)
        wait_for(lambda: mailbox.count() >= target, PROGRESS_TIMEOUT, report)
        redis.proc.kill()
        redis.proc.wait()
        at_outage = mailbox.count()
        assert at_outage < ROWS, f"all sent before the broker went down: {report()}"
        time.sleep(REDIS_DOWN)
        redis.start()  # empty: no RDB, no AOF; every queued and unacknowledged task is gone
        back = time.monotonic()

        def all_sent() -> bool:
            nonlocal worker
            if worker.proc.poll() is not None:
                # Play the process manager (systemd Restart=always): a worker whose task
                # finished as the broker vanished can die of kombu's "Unrecoverable error"
                # (acknowledging on the dropped connection). Counted in the summary.
                exits.append(worker.proc.returncode)
                logs.append(worker.output())
                worker = start_group_worker(concurrency=CONCURRENCY)
            return not OutboxMessage.objects.exclude(status=S.SENT).exists()

        wait_for(all_sent, RECOVERY_TIMEOUT, lambda: f"not recovered: {report()}")
        recovered = time.monotonic() - back
    finally:
        scans.stop()

    rows = {
        mid: (email, kind, occurrence)
        for mid, email, kind, occurrence in OutboxMessage.objects.values_list(
            "message_id", "email", "kind", "occurrence"
        )
    }
    copies = Counter(mid for mid, _ in mailbox.received)
    duplicated = {mid: n - 1 for mid, n in copies.items() if n > 1}
    lost = [key for mid, key in rows.items() if mid not in copies]
    allowed = set().union(*in_flight)
    print(
        f"\nCHAOS seed={seed} rows={len(rows)} received={len(mailbox.received)} lost={len(lost)} "
        f"duplicated={sum(duplicated.values())} in_flight_received_at_kills="
        f"{[len(s) for s in in_flight]} received_before_redis_outage={at_outage} "
        f"worker_exits_after_broker_loss={len(exits)} "
        f"recovered_after_redis_restart={recovered:.1f}s total={time.monotonic() - started:.1f}s "
        f"scans={scans.runs} scan_errors={dict(Counter(scans.errors))}"
    )

    assert statuses() == {S.SENT: ROWS}  # nothing left pending, sending or stuck
    assert len(rows) == ROWS and "" not in rows, "every row has its own Message-ID"
    # Every (recipient, kind, occurrence) arrived, at its own address, under its row's id.
    assert lost == []
    assert set(copies) == set(rows), "a message arrived with a Message-ID of no row"
    assert all(rcpt == rows[mid][0] for mid, rcpt in mailbox.received)
    # A copy only of a message the server had accepted when its worker died (the crash
    # between the final reply and the "sent" mark), once per crash, same Message-ID: copies
    # are counted by Message-ID, and a copy under another one would match no row (above).
    assert set(duplicated) <= allowed, f"copies of messages not in flight at a kill: {duplicated}"
    assert all(n <= KILLS for n in duplicated.values())
    assert sum(duplicated.values()) <= KILLS * CONCURRENCY
