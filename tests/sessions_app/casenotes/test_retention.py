"""Case-note retention: text destroyed when due (not before), audited once, metadata kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.casenotes.retention import (
    casenote_destroy_after,
    casenote_destroy_expired,
    casenote_reschedule_retention,
)
from sessions_app.casenotes.tasks import task_casenote_retention
from sessions_app.models import CaseNote
from sessions_app.schedule import services as schedule_services
from tests.factories import PresentationFactory, ProgramFactory, SessionFactory

pytestmark = pytest.mark.django_db

STARTS = datetime(2031, 3, 4, 12, 30, tzinfo=UTC)
DIFFICULTY = "Her daughter wants everything done; she has asked me to stop."


@pytest.fixture(autouse=True)
def field_key(settings):
    settings.FIELD_KEYS = [Fernet.generate_key().decode()]


def session_at(starts_at=STARTS, retention_days=7, **fields):
    program = ProgramFactory(case_note_retention_days=retention_days)
    return SessionFactory(group__program=program, starts_at=starts_at, **fields)


def note_on(session, **fields) -> CaseNote:
    values = {
        "patient_age": 91,
        "patient_gender": "female",
        "patient_name": "R.T.",
        "difficulty": DIFFICULTY,
        "relationship": "Her GP for twenty years.",
        "wish": "Words for the family meeting.",
        "visibility": CaseNote.Visibility.PRESENTER,
        "destroy_after": casenote_destroy_after(session),
        **fields,
    }
    presentation = PresentationFactory(session=session, slot=session.presentations.count() + 1)
    return CaseNote.objects.create(presentation=presentation, **values)


def raw_text(note: CaseNote) -> tuple:
    table = connection.ops.quote_name(CaseNote._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(CaseNote.ENCRYPTED_FIELDS)} FROM {table} WHERE id = %s",  # noqa: S608
            [note.pk],
        )
        return cursor.fetchone()


def destroy_events():
    return AuditEvent.objects.filter(action="casenote.destroy")


# --- When ------------------------------------------------------------------------------------
def test_notes_are_due_the_retention_days_after_the_session_ends():
    session = session_at(duration_minutes=90, retention_days=7)

    assert casenote_destroy_after(session) == STARTS + timedelta(days=7, minutes=90)


def test_zero_days_means_right_after_the_session_ends_including_live_extra_minutes():
    session = session_at(duration_minutes=60, retention_days=0, live_extra_minutes=10)

    assert casenote_destroy_after(session) == STARTS + timedelta(minutes=70)


def test_rescheduling_a_session_moves_its_notes_destruction_date():
    next_week = (timezone.now() + timedelta(days=7)).replace(minute=30, second=0, microsecond=0)
    session = session_at(starts_at=next_week, retention_days=3)
    live = note_on(session)
    destroyed = note_on(session, destroy_after=timezone.now() - timedelta(hours=1))
    assert casenote_destroy_expired(now=timezone.now()) == 1
    destroyed.refresh_from_db()
    kept_date = destroyed.destroy_after
    new_start = session.starts_at + timedelta(days=14)

    schedule_services.session_reschedule(
        session=session, starts_at=new_start, room=None, actor=None
    )

    live.refresh_from_db()
    destroyed.refresh_from_db()
    assert live.destroy_after == new_start + timedelta(days=3, minutes=60)
    assert destroyed.destroy_after == kept_date


def test_reschedule_retention_leaves_other_sessions_notes_alone():
    session, other = session_at(), session_at()
    mine, theirs = note_on(session), note_on(other)
    session.starts_at += timedelta(days=1)
    session.save()

    assert casenote_reschedule_retention(session) == 1

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.destroy_after == STARTS + timedelta(days=8, minutes=60)
    assert theirs.destroy_after == STARTS + timedelta(days=7, minutes=60)


# --- Destroying ------------------------------------------------------------------------------
def test_a_note_is_kept_until_the_moment_it_is_due():
    note = note_on(session_at())

    assert casenote_destroy_expired(now=note.destroy_after - timedelta(microseconds=1)) == 0

    note.refresh_from_db()
    assert note.destroyed_at is None
    assert note.difficulty.reveal() == DIFFICULTY
    assert not destroy_events().exists()


def test_a_due_note_loses_its_text_and_patient_details_and_keeps_its_metadata():
    session = session_at()
    note = note_on(session)
    now = note.destroy_after

    assert casenote_destroy_expired(now=now) == 1

    note.refresh_from_db()
    assert raw_text(note) == (None, None, None, None)
    assert [getattr(note, name) for name in CaseNote.ENCRYPTED_FIELDS] == [None] * 4
    assert (
        note.destroyed_at,
        note.presentation.session,
        note.patient_age,
        note.patient_gender,
        note.visibility,
        note.destroy_after,
    ) == (now, session, None, "", CaseNote.Visibility.PRESENTER, now)


def test_destruction_is_audited_once_with_ids_only():
    session = session_at()
    note = note_on(session)

    casenote_destroy_expired(now=note.destroy_after + timedelta(days=1))

    event = destroy_events().get()
    assert (
        event.actor,
        event.object_type,
        event.object_id,
        event.program_id,
        event.data,
    ) == (
        None,
        "sessions_app.casenote",
        str(note.pk),
        session.group.program_id,
        {
            "reason": "retention",
            "presentation_id": note.presentation_id,
            "session_id": session.pk,
        },
    )


def test_running_again_destroys_and_audits_nothing_more():
    note = note_on(session_at())
    casenote_destroy_expired(now=note.destroy_after)
    note.refresh_from_db()
    destroyed_at = note.destroyed_at

    assert casenote_destroy_expired(now=note.destroy_after + timedelta(days=30)) == 0

    note.refresh_from_db()
    assert note.destroyed_at == destroyed_at
    assert destroy_events().count() == 1


def test_only_due_notes_are_destroyed():
    early = note_on(session_at(starts_at=STARTS))
    later = note_on(session_at(starts_at=STARTS + timedelta(days=1)))

    assert casenote_destroy_expired(now=early.destroy_after + timedelta(hours=1)) == 1

    early.refresh_from_db()
    later.refresh_from_db()
    assert early.destroyed_at is not None
    assert later.destroyed_at is None
    assert later.wish.reveal() == "Words for the family meeting."
    assert list(destroy_events().values_list("object_id", flat=True)) == [str(early.pk)]


def test_a_note_without_some_fields_is_destroyed_too():
    note = note_on(session_at(), relationship=None, wish=None)

    assert casenote_destroy_expired(now=note.destroy_after) == 1
    assert raw_text(note) == (None, None, None, None)


# --- The periodic task -----------------------------------------------------------------------
def test_the_task_destroys_notes_that_are_past_due():
    past = note_on(session_at(starts_at=STARTS - timedelta(days=3650)))
    future = note_on(session_at())

    result = task_casenote_retention.delay()

    assert result.get() == 1
    past.refresh_from_db()
    future.refresh_from_db()
    assert (past.destroyed_at is not None, future.destroyed_at) == (True, None)
    assert raw_text(past) == (None, None, None, None)
    assert destroy_events().count() == 1


def test_the_task_is_scheduled_every_15_minutes_under_its_name(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["casenote-retention"]

    assert entry["task"] == task_casenote_retention.name == "sessions_app.casenote_retention"
    assert entry["schedule"] == timedelta(minutes=15)
