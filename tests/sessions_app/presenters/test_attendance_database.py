"""The database itself keeps attendance and membership history honest (migration sessions_app
0007): attendance only for a session that took place; such a session cannot be cancelled or
moved to a time that has not come; a clinician's memberships never overlap; a membership never
ends before it starts. Rows are written with querysets, around the services, as a script or a
faulty import would."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sessions_app.models import Attendance, GroupMembership, Session
from tests.factories import (
    ClinicianFactory,
    GroupFactory,
    GroupMembershipFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("enforced by PostgreSQL triggers; SQLite relies on the services' checks")


@pytest.fixture
def member(program):
    group = GroupFactory(program=program)
    clinician = ClinicianFactory(program=program)
    GroupMembershipFactory(group=group, clinician=clinician, joined_on=date(2026, 9, 1))
    return group, clinician


def insert_attendance(session, clinician):
    with transaction.atomic():
        Attendance.objects.create(session=session, clinician=clinician, status="present")


def test_attendance_for_a_session_that_has_not_started_is_refused(postgresql, member):
    group, clinician = member
    session = SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=2))

    with pytest.raises(IntegrityError, match="has taken place"):
        insert_attendance(session, clinician)


def test_attendance_for_a_cancelled_session_is_refused(postgresql, member):
    group, clinician = member
    session = SessionFactory(
        group=group, starts_at=timezone.now() - timedelta(days=2), status="cancelled"
    )

    with pytest.raises(IntegrityError, match="has taken place"):
        insert_attendance(session, clinician)


def test_attendance_for_a_held_session_is_accepted(postgresql, member):
    group, clinician = member
    session = SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=2))

    insert_attendance(session, clinician)

    assert Attendance.objects.filter(session=session).count() == 1


def test_a_session_with_attendance_cannot_be_cancelled_or_moved_ahead(postgresql, member):
    group, clinician = member
    session = SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=2))
    insert_attendance(session, clinician)

    for change in ({"status": "cancelled"}, {"starts_at": timezone.now() + timedelta(days=5)}):
        with pytest.raises(IntegrityError, match="has attendance recorded"):
            with transaction.atomic():
                Session.objects.filter(pk=session.pk).update(**change)

    session.refresh_from_db()
    assert session.status == "scheduled" and session.starts_at < timezone.now()


def test_a_clinicians_memberships_never_overlap(postgresql, member, program):
    group, clinician = member
    other = GroupFactory(program=program)

    # Closed on Dec 1 and a new one from Nov 20: the two would overlap for 11 days.
    GroupMembership.objects.filter(clinician=clinician).update(left_on=date(2026, 12, 1))
    with pytest.raises(IntegrityError, match="two groups on the same day"):
        with transaction.atomic():
            GroupMembership.objects.create(
                group=other, clinician=clinician, joined_on=date(2026, 11, 20)
            )
    # Starting on the first day away is what a regrouping writes: accepted.
    GroupMembership.objects.create(group=other, clinician=clinician, joined_on=date(2026, 12, 1))

    assert GroupMembership.objects.filter(clinician=clinician).count() == 2


def test_a_membership_cannot_end_before_it_starts(member):
    _, clinician = member

    with pytest.raises(IntegrityError):
        with transaction.atomic():
            GroupMembership.objects.filter(clinician=clinician).update(left_on=date(2026, 8, 1))
