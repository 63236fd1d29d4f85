"""Benchmark: the queries and time of each role's home page, with the demo and with ten times
the demo's program (groups, members, sessions, attendance, presentations, messages, waves).

    .venv/bin/python bench/home_queries.py

Runs in-process (Django's test client) on a fresh SQLite database in a temporary folder.
Prints, for the coordinator, a facilitator, a participant and the report viewer: queries
and milliseconds (median of 5) with the demo, then with ten times as much.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CCDG_VAR_DIR", tempfile.mkdtemp(prefix="ccdg-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")
os.environ.pop("DATABASE_URL", None)
os.environ["CCDG_DEBUG"] = "1"  # the demo's published password

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

ROLES = ("coordinator", "facilitator", "participant", "reports")


def measure() -> dict[str, tuple[int, float]]:
    found = {}
    for role in ROLES:
        client = Client()
        client.post("/accounts/login/", {"login": role, "password": "ccdg-demo"})
        client.get("/")
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/")
        assert page.status_code == 200 and b"Welcome" in page.content, (role, page.status_code)
        count = len(queries.captured_queries)  # now: each request clears the log
        times = []
        for _ in range(5):
            started = time.perf_counter()
            client.get("/")
            times.append(time.perf_counter() - started)
        found[role] = (count, statistics.median(times) * 1000)
    return found


def grow(times: int) -> None:
    """Nine more copies of each of the demo program's groups' year, in the same program."""
    from sessions_app.models import Program
    from tests.factories import (
        AttendanceFactory,
        ClinicianFactory,
        FacilitatorAssignmentFactory,
        GroupFactory,
        GroupMembershipFactory,
        OutboxMessageFactory,
        PresentationFactory,
        RsvpFactory,
        SessionFactory,
    )

    program = Program.objects.get()
    now = timezone.now()
    for g in range(3 * (times - 1)):
        group = GroupFactory(program=program, name=f"Extra group {g + 1}")
        FacilitatorAssignmentFactory(group=group, role="lead", facilitator__program=program)
        FacilitatorAssignmentFactory(group=group, role="backup", facilitator__program=program)
        members = [
            GroupMembershipFactory(
                group=group, clinician=ClinicianFactory(program=program),
                joined_on=(now - timedelta(days=120)).date(),
            ).clinician
            for _ in range(10)
        ]  # fmt: skip
        for month in range(7):
            s = SessionFactory(group=group, starts_at=now + timedelta(days=30 * month - 90))
            if s.starts_at < now:
                for c in members:
                    AttendanceFactory(session=s, clinician=c, status="present")
            PresentationFactory(session=s, clinician=members[month], status="confirmed")
            RsvpFactory(session=s, clinician=members[-1], answer="going")
        OutboxMessageFactory(
            program=program, status="failed", object_id=s.pk, recipient_id=members[0].pk
        )


def main() -> None:
    setup_test_environment()
    # As Django's test cases do: one connection for the whole run.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    settings.DEBUG = False
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {**settings.STORAGES, "staticfiles": static}
    call_command("migrate", verbosity=0)
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    settings.DEBUG = False
    demo = measure()
    grow(10)
    bigger = measure()
    print(f"{'home of':<14}{'demo: queries':>15}{'ms':>8}{'10x: queries':>15}{'ms':>8}")
    for role in ROLES:
        (q1, t1), (q2, t2) = demo[role], bigger[role]
        print(f"{role:<14}{q1:>15}{t1:>8.1f}{q2:>15}{t2:>8.1f}")


if __name__ == "__main__":
    main()
