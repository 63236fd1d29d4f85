"""Case-note retention run by a real Celery worker process through a real Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.casenotes.tasks import task_casenote_retention
from sessions_app.models import CaseNote
from tests.factories import PresentationFactory
from tests.integration.test_celery_worker import TASK_TIMEOUT, wait_until

DIFFICULTY = "He asked me not to tell his wife about the scan."


@pytest.fixture
def field_key(settings, monkeypatch):
    """One key for this process and, through the environment, for the worker."""
    key = Fernet.generate_key().decode()
    settings.FIELD_KEYS = [key]
    monkeypatch.setenv("CCDG_FIELD_KEYS", key)
    return key


@pytest.fixture
def notes(transactional_db, field_key):
    now = timezone.now()

    def note(destroy_after):
        return CaseNote.objects.create(
            presentation=PresentationFactory(),
            patient_name="K.",
            difficulty=DIFFICULTY,
            destroy_after=destroy_after,
        )

    return {"due": note(now - timedelta(minutes=1)), "later": note(now + timedelta(days=7))}


def raw_difficulty(note: CaseNote) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT difficulty FROM sessions_app_casenote WHERE id = %s", [note.pk])
        return cursor.fetchone()[0]


def test_worker_destroys_the_due_note_and_audits_it(notes, start_worker, celery_app, purge_queue):
    worker = start_worker()

    task_casenote_retention.delay()

    wait_until(
        lambda: AuditEvent.objects.filter(action="casenote.destroy").exists(),
        TASK_TIMEOUT,
        lambda: f"retention did not run within {TASK_TIMEOUT}s. Worker log:\n{worker.output()}",
    )
    worker.stop()
    assert raw_difficulty(notes["due"]) is None
    assert CaseNote.objects.get(pk=notes["due"].pk).destroyed_at is not None
    assert CaseNote.objects.get(pk=notes["later"].pk).difficulty.reveal() == DIFFICULTY
    assert list(
        AuditEvent.objects.filter(action="casenote.destroy").values_list("object_id", flat=True)
    ) == [str(notes["due"].pk)]
    assert "sessions_app.casenote_retention" in worker.output()
    assert DIFFICULTY not in worker.output()
