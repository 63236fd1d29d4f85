"""Benchmark: deliver N session reminders (default 10,000) to an SMTP server on loopback.

    .venv/bin/python bench/reminders.py [--n 10000] [--skip-direct]

Starts a throwaway PostgreSQL and Redis (tests.services) and an aiosmtpd server that counts
messages, then, in one run:

1. Celery with ONE worker process (solo pool): the due-scan writes the N rows and enqueues one
   task per ``CCDG_OUTBOX_BATCH_SIZE`` rows; timed until every row is sent.
2. The same with TWO worker processes (the rows are deleted and written again by the scan).
3. Direct: the same N messages rendered one by one and sent with Django's SMTP backend over
   one connection, no Celery, no claim, no marks (the baseline of the ratios); then once more
   with the rendering lookups fetched per batch, as the worker does (for comparison).

Prints the three rates, the ratios one worker / direct and two workers / direct (targets 0.8
and 1.5), and the database queries per message of the direct path and of the worker's batch
function (run in-process over the same rows; statements counted with
``connection.execute_wrapper``).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from tests.services import free_port, postgres_server, redis_server  # noqa: E402


class QueryCounter:
    """Counts the statements a connection executes (``connection.execute_wrapper``); unlike
    ``CaptureQueriesContext`` it is not limited to the last 9,000."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


class Counting:
    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
        return "250 OK"


def start_workers(count: int, tag: str) -> list[subprocess.Popen]:
    from celery import current_app

    names = [f"bench-{tag}-{i}-{os.getpid()}@{os.uname().nodename}" for i in range(count)]
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ccdg",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                name,
            ],
            cwd=ROOT,
            env={**os.environ, "CCDG_CELERY_EAGER": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for name in names
    ]
    deadline = time.monotonic() + 60
    waiting = set(names)
    while waiting:  # every worker answers before the clock starts
        assert time.monotonic() < deadline, f"workers did not start: {waiting}"
        for reply in current_app.control.ping(destination=list(waiting), timeout=1):
            waiting -= set(reply)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


def run_celery(count: int, handler: Counting) -> tuple[int, float]:
    """Scan, then wait until every row is sent by ``count`` workers; (messages, seconds)."""
    from ccdg.models import OutboxMessage
    from ccdg.outbox.scan import reminders_scan

    OutboxMessage.objects.all().delete()
    handler.n = 0
    workers = start_workers(count, f"w{count}")
    try:
        t0 = time.perf_counter()
        reminders_scan()
        total = OutboxMessage.objects.count()
        while OutboxMessage.objects.filter(status="sent").count() < total:
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
    finally:
        stop_workers(workers)
    assert handler.n == total, (handler.n, total)
    return total, seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument(
        "--query-sample",
        type=int,
        default=1000,
        help="rows sent again in-process to count the worker path's queries",
    )
    args = parser.parse_args()
    handler = Counting()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    with postgres_server() as database_url, redis_server() as redis_url:
        os.environ.update(
            DATABASE_URL=database_url, REDIS_URL=redis_url, EMAIL_URL=f"smtp://127.0.0.1:{port}",
            SECRET_KEY=secrets.token_urlsafe(50), CCDG_VAR_DIR=tempfile.mkdtemp(),
            DJANGO_SETTINGS_MODULE="ccdg.settings", CCDG_LOG_LEVEL="WARNING",
        )  # fmt: skip
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        from ccdg.models import OutboxMessage
        from ccdg.outbox.rendering import Lookups, render_message
        from ccdg.outbox.sending import close_smtp_connection, outbox_send_batch
        from sessions_app.models import (
            Clinician,
            Facilitator,
            FacilitatorAssignment,
            Group,
            GroupMembership,
            Program,
            Session,
        )  # fmt: skip

        program = Program.objects.create(name="Bench", slug="bench", academic_year="2026-2027")
        group = Group.objects.create(program=program, name="G", max_size=args.n)
        clinicians = Clinician.objects.bulk_create(
            Clinician(program=program, first_name="C", last_name=str(i),
                      email=f"c{i}@example.org", discipline="physician", status="eligible")
            for i in range(args.n)
        )  # fmt: skip
        GroupMembership.objects.bulk_create(
            GroupMembership(group=group, clinician=c, joined_on=date(2026, 9, 1))
            for c in clinicians
        )
        # A presenter-free session in 6 days: N member reminders (the lead is left out).
        lead = Facilitator.objects.create(
            program=program, name="L", email="lead@example.org", background="other", active=False
        )
        FacilitatorAssignment.objects.create(
            group=group, facilitator=lead, role="lead", starts_on=date(2026, 9, 1)
        )
        start = (timezone.now() + timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
        import uuid

        Session.objects.create(group=group, starts_at=start, uid=uuid.uuid4())

        total, one_seconds = run_celery(1, handler)
        _, two_seconds = run_celery(2, handler)

        from django.core.mail import get_connection

        rows = list(OutboxMessage.objects.order_by("pk"))
        handler.n = 0
        t0 = time.perf_counter()
        direct_queries = QueryCounter()
        with connection.execute_wrapper(direct_queries):
            with get_connection() as conn:
                for row in rows:
                    conn.send_messages([render_message(row).email(to=row.email)])
        direct_seconds = time.perf_counter() - t0
        assert handler.n == total, (handler.n, total)

        # For comparison only: direct again, with the lookups fetched per batch as the worker
        # does (the ratios above use the plain direct rate).
        size = settings.OUTBOX_BATCH_SIZE
        handler.n = 0
        t0 = time.perf_counter()
        with get_connection() as conn:
            for i in range(0, len(rows), size):
                chunk = rows[i : i + size]
                lookups = Lookups.load(chunk)
                for row in chunk:
                    conn.send_messages([render_message(row, lookups).email(to=row.email)])
        batched_seconds = time.perf_counter() - t0
        assert handler.n == total, (handler.n, total)

        # The worker's batch function in-process, with a query counter, over a sample of rows.
        sample = [r.pk for r in rows[: args.query_sample]]
        OutboxMessage.objects.filter(pk__in=sample).update(status="pending", attempts=0)
        batch_queries = QueryCounter()
        with connection.execute_wrapper(batch_queries):
            for i in range(0, len(sample), size):
                outbox_send_batch(message_ids=sample[i : i + size])
        close_smtp_connection()
        assert OutboxMessage.objects.filter(pk__in=sample, status="sent").count() == len(sample)
    controller.stop()
    one_rate, two_rate = total / one_seconds, total / two_seconds
    direct_rate = total / direct_seconds
    print(f"messages: {total}, batch size {settings.OUTBOX_BATCH_SIZE}")
    print(f"celery, 1 worker (scan + solo worker on Redis): {one_seconds:.1f}s, "
          f"{one_rate:.0f} msg/s")  # fmt: skip
    print(f"celery, 2 workers: {two_seconds:.1f}s, {two_rate:.0f} msg/s")
    print(f"direct (Django SMTP backend, no Celery): {direct_seconds:.1f}s, "
          f"{direct_rate:.0f} msg/s")  # fmt: skip
    print(f"direct with lookups per batch of {size} (comparison only): {batched_seconds:.1f}s, "
          f"{total / batched_seconds:.0f} msg/s")  # fmt: skip
    print(f"ratio 1 worker / direct: {one_rate / direct_rate:.2f} (target >= 0.8)")
    print(f"ratio 2 workers / direct: {two_rate / direct_rate:.2f} (target >= 1.5)")
    print(f"queries per message, direct: {direct_queries.n / total:.2f}")
    print(f"queries per message, worker batch function ({len(sample)} rows in batches of "
          f"{size}): {batch_queries.n / len(sample):.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
