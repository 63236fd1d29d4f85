"""Volunteers racing for the last presenter slot, on real PostgreSQL with real threads.

Each thread has its own database connection (Django opens one per thread), so the row lock on
the session and the partial unique constraint are exercised exactly as two web requests would.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from sessions_app.models import Presentation
from sessions_app.presenters import services as svc
from tests.factories import (
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    SessionFactory,
)

VOLUNTEERS = 8

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the race needs PostgreSQL row locks (SQLite serialises writers); the suite's "
            "PostgreSQL pass runs it: python -m tests.services -- ... pytest"
        )


def race(session, clinicians) -> tuple[list[Presentation], list[BaseException]]:
    barrier = threading.Barrier(len(clinicians))
    results: list[Presentation] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def volunteer(clinician):
        try:
            barrier.wait(timeout=10)
            presentation = svc.presenter_volunteer(session=session, clinician=clinician, actor=None)
            with lock:
                results.append(presentation)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported by the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=volunteer, args=(c,)) for c in clinicians]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a volunteer thread hung"
    return results, errors


def arrange(slots: int):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    session = SessionFactory(
        group=group, starts_at=timezone.now() + timedelta(days=14), presenter_slots=slots
    )
    clinicians = [
        GroupMembershipFactory(group=group, clinician=ClinicianFactory(program=program)).clinician
        for _ in range(VOLUNTEERS)
    ]
    return session, clinicians


def test_eight_volunteers_racing_for_one_slot_exactly_one_gets_it():
    session, clinicians = arrange(slots=1)

    results, errors = race(session, clinicians)

    assert errors == []
    assert sorted(p.status for p in results) == ["confirmed"] + ["waitlisted"] * (VOLUNTEERS - 1)
    stored = list(session.presentations.values_list("status", "slot"))
    assert sorted(stored, key=lambda r: r[0]) == [("confirmed", 1)] + [("waitlisted", None)] * (
        VOLUNTEERS - 1
    )


def test_eight_volunteers_racing_for_two_slots_fill_both_once():
    session, clinicians = arrange(slots=2)

    results, errors = race(session, clinicians)

    assert errors == []
    confirmed = sorted(
        session.presentations.filter(status="confirmed").values_list("slot", flat=True)
    )
    assert confirmed == [1, 2]
    assert session.presentations.filter(status="waitlisted").count() == VOLUNTEERS - 2
    assert len(results) == VOLUNTEERS
