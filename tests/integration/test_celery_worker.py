"""The housekeeping task, run by a real Celery worker process through a real Redis."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.contrib.auth import get_user_model
from django.utils import timezone

from ccdg.tasks import task_housekeeping
from sessions_app.models import Clinician, Invitation, Program, RosterImport

TASK_TIMEOUT = 30.0


def wait_until(check: Callable[[], bool], timeout: float, describe: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(describe())
        time.sleep(0.25)


@pytest.fixture
def stale_rows(transactional_db):
    """An abandoned roster draft, a fresh one, an expired and a valid invitation (committed)."""
    now = timezone.now()
    program = Program.objects.create(name="Surgery CCDG", slug="surgery", academic_year="2026-2027")
    user = get_user_model().objects.create_user(username="coord", password="x" * 16)
    clinician = Clinician.objects.create(
        program=program, first_name="Ana", last_name="Ruiz", email="ana@example.org",
        discipline="physician",
    )  # fmt: skip
    old_draft = RosterImport.objects.create(
        program=program, uploaded_by=user, filename="old.csv", content=b"email\n"
    )
    # created_at is auto_now_add: backdate it afterwards.
    RosterImport.objects.filter(pk=old_draft.pk).update(created_at=now - timedelta(days=2))
    fresh_draft = RosterImport.objects.create(
        program=program, uploaded_by=user, filename="fresh.csv", content=b"email\n"
    )
    expired = Invitation.objects.create(
        clinician=clinician, token_hash="a" * 64, created_by=user,
        expires_at=now - timedelta(hours=1),
    )  # fmt: skip
    valid = Invitation.objects.create(
        clinician=clinician, token_hash="b" * 64, created_by=user,
        expires_at=now + timedelta(days=7),
    )  # fmt: skip
    return {"old_draft": old_draft, "fresh_draft": fresh_draft, "expired": expired, "valid": valid}


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def waiting_messages(celery_app) -> int:
    """Messages waiting in Redis for the default queue (one list per priority step)."""
    client = redis_client()
    queue = celery_app.conf.task_default_queue
    return sum(
        client.llen(key)
        for key in client.scan_iter(match=f"{queue}*")
        if client.type(key) == b"list"
    )


def housekeeping_done(rows) -> bool:
    rows["expired"].refresh_from_db()
    return (
        not RosterImport.objects.filter(pk=rows["old_draft"].pk).exists()
        and rows["expired"].revoked_at is not None
    )


def assert_only_stale_rows_touched(rows) -> None:
    assert RosterImport.objects.filter(pk=rows["fresh_draft"].pk).exists()
    rows["valid"].refresh_from_db()
    assert rows["valid"].revoked_at is None


def test_worker_runs_housekeeping_sent_through_redis(
    stale_rows, start_worker, celery_app, purge_queue
):
    assert celery_app.conf.broker_url.startswith("redis://")
    worker = start_worker()

    task_housekeeping.delay()

    wait_until(
        lambda: housekeeping_done(stale_rows),
        TASK_TIMEOUT,
        lambda: f"housekeeping did not run within {TASK_TIMEOUT}s. Worker log:\n{worker.output()}",
    )
    assert_only_stale_rows_touched(stale_rows)
    worker.stop()
    assert "ccdg.housekeeping" in worker.output()
    assert "succeeded" in worker.output()


def test_task_sent_while_no_worker_runs_waits_in_redis(
    stale_rows, start_worker, celery_app, purge_queue
):
    task_housekeeping.delay()

    # Nobody consumes the queue: the message waits in Redis and nothing changes.
    assert waiting_messages(celery_app) == 1
    time.sleep(1)
    assert not housekeeping_done(stale_rows)

    worker = start_worker()

    wait_until(
        lambda: housekeeping_done(stale_rows),
        TASK_TIMEOUT,
        lambda: f"the queued task did not run within {TASK_TIMEOUT}s. Log:\n{worker.output()}",
    )
    assert_only_stale_rows_touched(stale_rows)
    worker.stop()
    # Run once: exactly one task was received and the queue is empty again.
    assert worker.output().count("Task ccdg.housekeeping[") == 2  # received + succeeded
    assert waiting_messages(celery_app) == 0
    assert redis_client().hlen("unacked") == 0, "the message was not acknowledged"
