"""Benchmark: deliver N session reminders (default 10,000) to an SMTP server on loopback.

    .venv/bin/python bench/reminders.py [--n 10000]

Starts a throwaway PostgreSQL and Redis (tests.services), an aiosmtpd server and ONE Celery
worker process (solo pool), runs the due-scan once and times until every row is sent. Then
sends the same messages again directly with Django's SMTP backend (render each, one SMTP
connection kept open for all, as the worker now does; no Celery, no claim) and prints both
rates and their ratio.
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


class Counting:
    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
        return "250 OK"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
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
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        from ccdg.models import OutboxMessage
        from ccdg.outbox.rendering import render_message
        from ccdg.outbox.scan import reminders_scan
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

        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ccdg", "worker", "--pool=solo",
             "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env={**os.environ, "CCDG_CELERY_EAGER": "0"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(3)  # let the worker connect
            t0 = time.perf_counter()
            reminders_scan()
            total = OutboxMessage.objects.count()
            while OutboxMessage.objects.filter(status="sent").count() < total:
                time.sleep(0.2)
            celery_seconds = time.perf_counter() - t0
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        assert handler.n == total, (handler.n, total)

        from django.core.mail import get_connection

        rows = list(OutboxMessage.objects.all())
        t0 = time.perf_counter()
        with get_connection() as conn:
            for row in rows:
                conn.send_messages([render_message(row).email(to=row.email)])
        direct_seconds = time.perf_counter() - t0
    controller.stop()
    celery_rate, direct_rate = total / celery_seconds, total / direct_seconds
    print(f"messages: {total}")
    print(f"celery (scan + 1 solo worker on Redis): {celery_seconds:.1f}s, {celery_rate:.0f} msg/s")
    print(
        f"direct (Django SMTP backend, no Celery): {direct_seconds:.1f}s, {direct_rate:.0f} msg/s"
    )
    print(f"ratio celery / direct: {celery_rate / direct_rate:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
