"""The definitions every feature shares: a program's clock (Program.tz, local, local_day, at,
today), a session's end (Session.planned_end, Session.ends_at), the "current" memberships and
facilitator assignments, and a refused change shown as messages (ccdg.messages)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from ccdg.messages import messages_from
from sessions_app.groups.models import (
    FacilitatorAssignment,
    GroupMembership,
    current_facilitation_q,
    current_membership_q,
)
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import Session
from tests.factories import (
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

# In New York, clocks went from 02:00 EST (UTC-5) to 03:00 EDT (UTC-4) on Sunday 2027-03-14.


# --- A program's clock ----------------------------------------------------------------------


def test_a_local_start_time_keeps_its_clock_time_across_the_march_dst_change():
    program = ProgramFactory(timezone="America/New_York")

    before = program.at(date(2027, 3, 13), time(7, 30))
    after = program.at(date(2027, 3, 15), time(7, 30))

    assert before == datetime(2027, 3, 13, 12, 30, tzinfo=UTC)
    assert after == datetime(2027, 3, 15, 11, 30, tzinfo=UTC)


def test_the_program_clock_jumps_from_0159_to_0300_on_the_dst_change():
    program = ProgramFactory(timezone="America/New_York")

    last_winter_minute = program.local(datetime(2027, 3, 14, 6, 59, tzinfo=UTC))
    first_summer_minute = program.local(datetime(2027, 3, 14, 7, 0, tzinfo=UTC))

    assert (last_winter_minute.hour, last_winter_minute.minute) == (1, 59)
    assert (first_summer_minute.hour, first_summer_minute.minute) == (3, 0)
    assert program.tz.key == "America/New_York"


def test_the_day_of_a_late_evening_moment_is_the_programs_day_not_utcs():
    program = ProgramFactory(timezone="America/New_York")

    # 03:00 UTC on the 15th is 23:00 EDT on the 14th.
    assert program.local_day(datetime(2027, 3, 15, 3, 0, tzinfo=UTC)) == date(2027, 3, 14)


def test_the_clock_follows_a_time_zone_changed_on_the_same_program():
    program = ProgramFactory(timezone="America/New_York")
    assert program.tz.key == "America/New_York"

    program.timezone = "Asia/Tokyo"
    program.save()

    assert program.tz.key == "Asia/Tokyo"
    assert Program.objects.get(pk=program.pk).local(
        datetime(2027, 3, 14, 16, 0, tzinfo=UTC)
    ) == datetime(2027, 3, 15, 1, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))


def test_today_is_the_date_on_the_programs_clock():
    # Kiritimati is 14 hours ahead of UTC: for 14 hours of every day its date is UTC's + 1.
    program = ProgramFactory(timezone="Pacific/Kiritimati")
    zone = zoneinfo.ZoneInfo("Pacific/Kiritimati")

    first = datetime.now(zone).date()
    today = program.today()
    last = datetime.now(zone).date()

    assert today in {first, last}


# --- A session's end --------------------------------------------------------------------------


def test_the_planned_end_is_the_start_plus_the_planned_length():
    session = SessionFactory(
        starts_at=datetime(2027, 3, 14, 12, 30, tzinfo=UTC), duration_minutes=90
    )

    assert Session.objects.get(pk=session.pk).planned_end == datetime(
        2027, 3, 14, 14, 0, tzinfo=UTC
    )


def test_the_end_counts_the_minutes_added_in_the_live_view():
    session = SessionFactory(
        starts_at=datetime(2027, 3, 14, 12, 30, tzinfo=UTC),
        duration_minutes=60,
        live_extra_minutes=10,
    )

    stored = Session.objects.get(pk=session.pk)

    assert stored.ends_at == datetime(2027, 3, 14, 13, 40, tzinfo=UTC)
    assert stored.planned_end == datetime(2027, 3, 14, 13, 30, tzinfo=UTC)


def test_a_session_not_extended_ends_at_its_planned_end():
    session = SessionFactory(starts_at=datetime(2027, 3, 14, 12, 30, tzinfo=UTC))

    assert session.ends_at == session.planned_end == datetime(2027, 3, 14, 13, 30, tzinfo=UTC)


# --- Current memberships and facilitator assignments ---------------------------------------


def test_current_memberships_are_the_open_ones_only():
    group = GroupFactory()
    open_row = GroupMembershipFactory(group=group)
    GroupMembershipFactory(group=group, joined_on=date(2026, 9, 1), left_on=date(2026, 12, 1))
    elsewhere = GroupMembershipFactory(group=GroupFactory(program=group.program))

    assert set(GroupMembership.objects.current()) == {open_row, elsewhere}
    assert list(group.memberships.current()) == [open_row]


def test_a_membership_ending_later_is_not_current():
    # "Current" means not closed: a row with an end date, even a future one, is closed.
    group = GroupFactory()
    GroupMembershipFactory(group=group, left_on=date(2099, 1, 1))

    assert list(group.memberships.current()) == []


def test_current_facilitations_are_the_ones_not_ended():
    group = GroupFactory()
    lead = FacilitatorAssignmentFactory(group=group)
    FacilitatorAssignmentFactory(
        group=group, role=FacilitatorAssignment.Role.BACKUP, ends_on=date(2026, 12, 1)
    )
    backup = FacilitatorAssignmentFactory(group=group, role=FacilitatorAssignment.Role.BACKUP)

    assert set(group.facilitations.current()) == {lead, backup}
    assert set(FacilitatorAssignment.objects.current()) == {lead, backup}


def test_current_membership_across_a_relation_speaks_of_the_same_membership_row():
    group = GroupFactory()
    other = GroupFactory(program=group.program)
    member = GroupMembershipFactory(group=group).clinician
    # Left ``group`` for ``other``: a closed row in ``group``, an open one in ``other``.
    mover = GroupMembershipFactory(
        group=group, joined_on=date(2026, 9, 1), left_on=date(2026, 12, 1)
    ).clinician
    GroupMembershipFactory(group=other, clinician=mover, joined_on=date(2026, 12, 1))

    in_group = Clinician.objects.filter(
        current_membership_q("memberships__"), memberships__group=group
    )

    assert list(in_group) == [member]


def test_current_facilitation_across_a_relation():
    group = GroupFactory()
    FacilitatorAssignmentFactory(group=group, ends_on=date(2026, 12, 1))
    current = FacilitatorAssignmentFactory(group=group, role=FacilitatorAssignment.Role.BACKUP)

    facilitators = group.program.facilitators.filter(current_facilitation_q("assignments__"))

    assert list(facilitators) == [current.facilitator]


# --- A refused change, as messages ----------------------------------------------------------


def _request():
    request = RequestFactory().post("/")
    request._messages = CookieStorage(request)
    return request


def _texts(request) -> list[str]:
    return [m.message for m in get_messages(request)]


def test_each_reason_becomes_its_own_error_message():
    request = _request()

    messages_from(request, ValidationError(["The room is booked.", "The date is past."]))

    assert _texts(request) == ["The room is booked.", "The date is past."]


def test_joined_reasons_make_one_message_after_the_prefix():
    request = _request()

    messages_from(
        request,
        ValidationError(["The room is booked.", "The date is past."]),
        joined=True,
        prefix="Nothing was changed: ",
    )

    assert _texts(request) == ["Nothing was changed: The room is booked. The date is past."]
