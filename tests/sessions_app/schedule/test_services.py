"""The schedule's services: recurrence across daylight saving, blackout dates, room bookings
held by the database, reschedule and cancel, refreshments, calendar tokens and facilitator
cover (sessions_app.schedule.services and sessions_app.schedule.selectors)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.models import (
    CalendarToken,
    FacilitatorAbsence,
    FacilitatorAssignment,
    ProgramRole,
    RefreshmentOrder,
    RoomBooking,
    Rsvp,
    Session,
)
from sessions_app.schedule import selectors as schedule_selectors
from sessions_app.schedule import services as schedule_services
from tests.factories import (
    BlackoutDateFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    RefreshmentOrderFactory,
    RoomFactory,
    RsvpFactory,
    UserFactory,
)
from tests.sessions_app.helpers import NEW_YORK

pytestmark = pytest.mark.django_db

MONTHLY_2ND_TUESDAY = schedule_services.Recurrence("monthly", weekday=1, ordinal=2)


def next_year() -> int:
    return timezone.localdate().year + 1


def generate(program, slots, *, first, count=4, rule=MONTHLY_2ND_TUESDAY):
    return schedule_services.schedule_generate(
        program=program,
        slots=slots,
        rule=rule,
        first=first,
        count=count,
        duration_minutes=60,
        agenda=schedule_services.agenda_for_program(program),
        actor=None,
    )


def slot(group, room=None, at=time(7, 30)):
    return schedule_services.GroupSlot(group=group, room=room, start_time=at)


def one_session(group, *, room=None, days=10, at=time(7, 30)):
    starts_at = datetime.combine(timezone.localdate() + timedelta(days=days), at, tzinfo=NEW_YORK)
    return schedule_services.session_create(
        group=group,
        starts_at=starts_at,
        duration_minutes=60,
        room=room,
        agenda=schedule_services.agenda_for_program(group.program),
        actor=None,
    )


# --- Recurrence and daylight saving ---------------------------------------------------------


def test_monthly_series_stays_at_0730_local_across_the_march_dst_change():
    program = ProgramFactory(timezone="America/New_York")
    group = GroupFactory(program=program)

    sessions = generate(program, [slot(group)], first=date(next_year(), 1, 1), count=4)

    local = [timezone.localtime(s.starts_at, NEW_YORK) for s in sessions]
    assert [t.time() for t in local] == [time(7, 30)] * 4
    assert [t.weekday() for t in local] == [1, 1, 1, 1]
    assert [(t.day - 1) // 7 + 1 for t in local] == [2, 2, 2, 2]
    # Expected offsets computed independently: EST before the second Sunday of March, EDT after.
    utc = zoneinfo.ZoneInfo("UTC")
    expected_utc = []
    for t in local:
        offset = datetime(t.year, t.month, t.day, 7, 30, tzinfo=NEW_YORK).utcoffset()
        expected_utc.append(datetime(t.year, t.month, t.day, 7, 30, tzinfo=utc) - offset)
    stored = [Session.objects.get(pk=s.pk).starts_at.astimezone(utc) for s in sessions]
    assert stored == expected_utc
    assert [s.tzinfo for s in stored] == [utc] * 4
    assert {e.hour for e in expected_utc} == {12, 11}  # the series really crosses the change


def test_weekly_every_other_week():
    dates, skipped = schedule_services.recurrence_dates(
        rule=schedule_services.Recurrence("weekly", weekday=3, interval=2),
        first=date(2027, 1, 1),
        count=3,
        blackouts=set(),
    )
    assert (dates, skipped) == ([date(2027, 1, 7), date(2027, 1, 21), date(2027, 2, 4)], [])


def test_blackout_dates_are_skipped_and_the_count_is_kept():
    program = ProgramFactory()
    group = GroupFactory(program=program)
    year = next_year()
    february = date(year, 2, 1)
    second_tuesday = february + timedelta(days=(1 - february.weekday()) % 7 + 7)
    BlackoutDateFactory(program=program, date=second_tuesday, reason="Conference")

    sessions = generate(program, [slot(group)], first=date(year, 1, 1), count=3)

    days = [timezone.localtime(s.starts_at, NEW_YORK).date() for s in sessions]
    assert len(days) == 3
    assert second_tuesday not in days
    assert [d.month for d in days] == [1, 3, 4]
    _, skipped = schedule_services.recurrence_dates(
        rule=MONTHLY_2ND_TUESDAY, first=date(year, 1, 1), count=3, blackouts={second_tuesday}
    )
    assert skipped == [second_tuesday]


def test_sessions_copy_the_agenda_and_hold_their_room():
    program = ProgramFactory()
    group = GroupFactory(program=program)
    room = RoomFactory(program=program)

    [session] = generate(program, [slot(group, room)], first=date(next_year(), 1, 1), count=1)

    assert session.agenda_name == "CCDG 60 minutes"
    assert [s.start_minute for s in session.segments.all()] == [0, 5, 15, 30, 55]
    assert RoomBooking.objects.filter(session=session, room=room).count() == 12


# --- Rooms: double booking ------------------------------------------------------------------


def test_the_database_refuses_a_double_booking():
    program = ProgramFactory()
    room = RoomFactory(program=program)
    first = one_session(GroupFactory(program=program), room=room)
    other = one_session(GroupFactory(program=program), days=20)

    with pytest.raises(IntegrityError), transaction.atomic():
        RoomBooking.objects.create(room=room, slot_start=first.starts_at, session=other)


def test_double_booked_room_refuses_the_whole_schedule_with_a_clear_message():
    program = ProgramFactory()
    room = RoomFactory(program=program, name="Osler Room")
    first_group = GroupFactory(program=program, name="Group A")
    second_group = GroupFactory(program=program, name="Group B")
    year = next_year()

    with pytest.raises(ValidationError) as caught:
        generate(
            program,
            [slot(first_group, room), slot(second_group, room, at=time(8, 0))],
            first=date(year, 1, 1),
            count=2,
        )

    january = date(year, 1, 1) + timedelta(days=(1 - date(year, 1, 1).weekday()) % 7 + 7)
    assert f"Osler Room is already booked on {january:%a %b %-d, %Y} at 08:00 by Group A." in (
        caught.value.messages
    )
    assert Session.objects.count() == 0
    assert RoomBooking.objects.count() == 0


def test_groups_meet_at_the_same_time_in_different_rooms():
    program = ProgramFactory()
    groups = [GroupFactory(program=program) for _ in range(2)]
    rooms = [RoomFactory(program=program) for _ in range(2)]

    sessions = generate(
        program,
        [slot(g, r) for g, r in zip(groups, rooms, strict=True)],
        first=date(next_year(), 1, 1),
        count=3,
    )

    assert len(sessions) == 6
    assert RoomBooking.objects.count() == 6 * 12


def test_past_dates_are_refused_and_nothing_is_saved():
    program = ProgramFactory()
    group = GroupFactory(program=program)
    last_year = timezone.localdate().year - 1

    with pytest.raises(ValidationError) as caught:
        generate(program, [slot(group)], first=date(last_year, 1, 1), count=2)

    assert caught.value.messages[0].endswith("is in the past.")
    assert Session.objects.count() == 0
    with pytest.raises(ValidationError, match="cannot be scheduled in the past"):
        one_session(group, days=-3)


def test_preview_lists_the_same_problems_and_saves_nothing():
    program = ProgramFactory()
    room = RoomFactory(program=program, name="Osler Room", capacity=1)
    group = GroupFactory(program=program, name="Group A")
    GroupMembershipFactory.create_batch(2, group=group)
    other = GroupFactory(program=program, name="Group B")
    year = next_year()
    args = {
        "program": program,
        "rule": MONTHLY_2ND_TUESDAY,
        "first": date(year, 1, 1),
        "count": 2,
        "duration_minutes": 60,
        "agenda": schedule_services.agenda_for_program(program),
    }

    clash = schedule_services.schedule_preview(slots=[slot(group, room), slot(other, room)], **args)
    fine = schedule_services.schedule_preview(slots=[slot(group, room)], **args)

    assert len(clash.problems) == 2
    assert all(p.startswith("Osler Room is already booked on") for p in clash.problems)
    assert fine.problems == []
    assert fine.warnings == ["Group A has 2 members; Osler Room seats 1."]
    assert len(fine.dates) == 2
    assert Session.objects.count() == 0
    assert AuditEvent.objects.filter(action="schedule.generate").count() == 0


def test_generating_again_skips_the_dates_a_group_already_has():
    program = ProgramFactory()
    group = GroupFactory(program=program)
    first = date(next_year(), 1, 1)
    generate(program, [slot(group)], first=first, count=3)

    again = generate(program, [slot(group)], first=first, count=4)

    assert [s.starts_at.date() for s in again] == [date(next_year(), 4, 13)]
    assert Session.objects.filter(group=group).count() == 4
    event = AuditEvent.objects.filter(action="schedule.generate").latest("id")
    assert event.data["skipped_scheduled"] == 3


def test_a_session_at_another_time_that_day_counts_as_scheduled_and_a_cancelled_one_does_not():
    program = ProgramFactory()
    group = GroupFactory(program=program)
    year = next_year()
    generate(program, [slot(group, at=time(12, 0))], first=date(year, 1, 1), count=1)
    (cancelled,) = generate(program, [slot(group, at=time(12, 0))], first=date(year, 2, 1), count=1)
    schedule_services.session_cancel(session=cancelled, reason="Snow", actor=None)

    created = generate(program, [slot(group)], first=date(year, 1, 1), count=2)

    assert [timezone.localtime(s.starts_at, NEW_YORK).date() for s in created] == [date(year, 2, 9)]


def test_duplicates_are_made_only_when_asked_for():
    program = ProgramFactory()
    group = GroupFactory(program=program)
    first = date(next_year(), 1, 1)
    generate(program, [slot(group)], first=first, count=2)

    schedule_services.schedule_generate(
        program=program,
        slots=[slot(group, at=time(12, 0))],
        rule=MONTHLY_2ND_TUESDAY,
        first=first,
        count=2,
        duration_minutes=60,
        agenda=schedule_services.agenda_for_program(program),
        actor=None,
        skip_scheduled=False,
    )

    assert Session.objects.filter(group=group).count() == 4


def test_preview_warns_when_a_group_gets_more_sessions_than_the_program_plans_a_year():
    program = ProgramFactory(sessions_per_year_min=2, sessions_per_year_max=4)
    group = GroupFactory(program=program, name="Group A")
    calm = GroupFactory(program=program, name="Group B")
    year = next_year()
    generate(program, [slot(group)], first=date(year, 1, 1), count=3)
    args = {
        "program": program,
        "rule": MONTHLY_2ND_TUESDAY,
        "first": date(year, 6, 1),
        "count": 2,
        "duration_minutes": 60,
        "agenda": schedule_services.agenda_for_program(program),
    }

    preview = schedule_services.schedule_preview(slots=[slot(group), slot(calm)], **args)

    assert preview.problems == []
    assert preview.warnings == [
        "Group A would have 5 sessions this year, more than the 2–4 a year in the program's "
        "settings."
    ]
    assert Session.objects.count() == 3


def test_preview_shows_the_dates_already_scheduled_apart_and_counts_only_the_new_ones():
    program = ProgramFactory()
    group = GroupFactory(program=program)
    year = next_year()
    generate(program, [slot(group)], first=date(year, 1, 1), count=2)

    preview = schedule_services.schedule_preview(
        program=program,
        slots=[slot(group)],
        rule=MONTHLY_2ND_TUESDAY,
        first=date(year, 1, 1),
        count=3,
        duration_minutes=60,
        agenda=schedule_services.agenda_for_program(program),
    )

    (row,) = preview.rows
    assert [t.date() for t in row["times"]] == [date(year, 3, 9)]
    assert row["already"] == [date(year, 1, 12), date(year, 2, 9)]
    assert preview.new_sessions == 1


# --- Reschedule and cancel ------------------------------------------------------------------


def test_reschedule_bumps_the_sequence_and_moves_the_booking():
    program = ProgramFactory()
    room, other_room = RoomFactory(program=program), RoomFactory(program=program)
    session = one_session(GroupFactory(program=program), room=room)
    new_start = session.starts_at + timedelta(days=1, hours=1)

    moved = schedule_services.session_reschedule(
        session=session, starts_at=new_start, room=other_room, actor=None
    )

    assert (moved.sequence, moved.starts_at, moved.room) == (1, new_start, other_room)
    slots = sorted(RoomBooking.objects.filter(session=session).values_list("room_id", "slot_start"))
    assert slots[0] == (other_room.pk, new_start)
    assert len(slots) == 12
    assert not RoomBooking.objects.filter(room=room).exists()
    assert AuditEvent.objects.filter(action="notify.session.rescheduled").count() == 1


def test_reschedule_into_a_booked_room_is_refused_and_keeps_the_old_booking():
    program = ProgramFactory()
    room = RoomFactory(program=program, name="Osler Room")
    taken = one_session(GroupFactory(program=program, name="Group A"), room=room, days=12)
    session = one_session(GroupFactory(program=program), room=room, days=10)

    with pytest.raises(ValidationError, match="Osler Room is already booked .* by Group A"):
        schedule_services.session_reschedule(
            session=session, starts_at=taken.starts_at, room=room, actor=None
        )

    session.refresh_from_db()
    assert session.sequence == 0
    assert RoomBooking.objects.filter(session=session).count() == 12


def test_cancel_frees_the_room_and_bumps_the_sequence():
    program = ProgramFactory()
    room = RoomFactory(program=program)
    session = one_session(GroupFactory(program=program), room=room)

    schedule_services.session_cancel(session=session, reason="Grand rounds", actor=None)

    session.refresh_from_db()
    assert (session.status, session.sequence, session.cancel_reason) == (
        "cancelled",
        1,
        "Grand rounds",
    )
    assert not RoomBooking.objects.filter(room=room).exists()
    # The slot can be taken by another group now.
    one_session(GroupFactory(program=program), room=room)
    assert RoomBooking.objects.filter(room=room).count() == 12


# --- Rooms and blackout dates -----------------------------------------------------------------


def test_a_room_with_upcoming_sessions_cannot_be_removed():
    program = ProgramFactory()
    room = RoomFactory(program=program, name="Osler Room")
    one_session(GroupFactory(program=program), room=room)

    with pytest.raises(ValidationError) as caught:
        schedule_services.room_delete(room=room, actor=None)

    assert caught.value.messages == [
        "Osler Room is booked for 1 upcoming session; move them to another room first."
    ]


def test_room_names_are_unique_per_program_ignoring_case():
    program = ProgramFactory()
    RoomFactory(program=program, name="Osler Room")

    with pytest.raises(ValidationError, match="already a room called"):
        schedule_services.room_save(
            program=program, actor=None, data={"name": "osler room", "location": "", "capacity": 9}
        )


# --- Refreshments ---------------------------------------------------------------------------


def test_headcount_counts_members_minus_those_who_cannot_come():
    program = ProgramFactory()
    group_a, group_b = GroupFactory(program=program), GroupFactory(program=program)
    members_a = GroupMembershipFactory.create_batch(5, group=group_a)
    GroupMembershipFactory.create_batch(4, group=group_b)
    GroupMembershipFactory(group=group_b, left_on=date(2026, 10, 1))  # left: not expected
    first = one_session(group_a, days=10, at=time(7, 30))
    one_session(group_b, days=10, at=time(12, 0))
    one_session(group_a, days=40)  # another date
    RsvpFactory(session=first, clinician=members_a[0].clinician, answer=Rsvp.Answer.GOING)
    RsvpFactory(session=first, clinician=members_a[1].clinician, answer=Rsvp.Answer.GOING)
    RsvpFactory(session=first, clinician=members_a[2].clinician, answer=Rsvp.Answer.NOT_GOING)

    dates = schedule_selectors.meeting_dates(program=program)

    day = timezone.localtime(first.starts_at, NEW_YORK).date()
    assert [d.date for d in dates][0] == day
    assert len(dates) == 2
    first_day = dates[0]
    assert (first_day.members, first_day.going, first_day.not_going) == (9, 2, 1)
    assert first_day.suggested_headcount == 8


def test_checklist_lists_unconfirmed_orders_and_sessions_without_a_room():
    program = ProgramFactory()
    group = GroupFactory(program=program, name="Group A")
    room = RoomFactory(program=program)
    with_room = one_session(group, room=room, days=10)
    without_room = one_session(group, days=20)
    one_session(group, room=room, days=30)
    day = timezone.localtime(with_room.starts_at, NEW_YORK).date()
    RefreshmentOrderFactory(program=program, date=day, status=RefreshmentOrder.Status.CONFIRMED)

    checklist = schedule_selectors.refreshment_checklist(program=program)

    assert len(checklist.dates) == 3
    assert [d.date for d in checklist.orders_open] == [
        timezone.localtime(without_room.starts_at, NEW_YORK).date(),
        timezone.localtime(without_room.starts_at + timedelta(days=10), NEW_YORK).date(),
    ]
    assert [s.pk for s in checklist.sessions_without_room] == [without_room.pk]


def test_refreshment_save_keeps_one_order_per_date():
    program = ProgramFactory()
    day = date(next_year(), 2, 9)
    data = {"vendor": "Corner Bakery", "items": "Continental breakfast", "headcount": 20}

    schedule_services.refreshment_save(program=program, day=day, data=data, actor=None)
    order = schedule_services.refreshment_save(
        program=program, day=day, data={**data, "status": "confirmed", "cost": 180}, actor=None
    )

    assert RefreshmentOrder.objects.filter(program=program).count() == 1
    assert (order.status, order.headcount, order.cost) == ("confirmed", 20, 180)


# --- Calendar tokens ------------------------------------------------------------------------


def test_only_the_hash_of_a_feed_token_is_stored_and_a_new_one_replaces_the_old():
    user = UserFactory()

    first = schedule_services.calendar_token_create(user=user)
    second = schedule_services.calendar_token_create(user=user)

    assert not CalendarToken.objects.filter(token_hash__in=[first, second]).exists()
    assert schedule_selectors.calendar_token_resolve(token=first) is None
    assert schedule_selectors.calendar_token_resolve(token=second).user == user
    assert CalendarToken.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_program_feed_needs_the_coordinator_role_then_and_later():
    program = ProgramFactory()
    role = ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR)
    with pytest.raises(ValidationError):
        schedule_services.calendar_token_create(
            user=UserFactory(), scope="program", program=program
        )

    token = schedule_services.calendar_token_create(
        user=role.user, scope="program", program=program
    )
    assert schedule_selectors.calendar_token_resolve(token=token).program == program

    role.delete()
    role.user.refresh_from_db()  # drop the cached roles
    assert schedule_selectors.calendar_token_resolve(token=token) is None


# --- Facilitator cover ------------------------------------------------------------------------


def facilitated_group(program):
    group = GroupFactory(program=program, name="Group A")
    lead = FacilitatorAssignmentFactory(group=group, role=FacilitatorAssignment.Role.LEAD)
    backup = FacilitatorAssignmentFactory(group=group, role=FacilitatorAssignment.Role.BACKUP)
    return group, lead.facilitator, backup.facilitator


def test_lead_absent_makes_the_backup_acting_lead_and_notifies():
    program = ProgramFactory()
    group, lead, backup = facilitated_group(program)
    session = one_session(group)

    assert schedule_selectors.session_cover(session=session).acting_lead == lead
    schedule_services.facilitator_absence_mark(
        session=session, facilitator=lead, reason="", actor=None
    )

    cover = schedule_selectors.session_cover(session=session)
    assert (cover.acting_lead, cover.lead_absent, cover.gap) == (backup, True, "")
    event = AuditEvent.objects.get(action="notify.facilitator.absent")
    assert (event.program_id, event.data) == (
        program.pk,
        {"session_id": session.pk, "facilitator_id": lead.pk},
    )


def test_both_absent_is_a_gap():
    program = ProgramFactory()
    group, lead, backup = facilitated_group(program)
    session = one_session(group)
    FacilitatorAbsenceFactory(session=session, facilitator=lead)
    FacilitatorAbsenceFactory(session=session, facilitator=backup)

    cover = schedule_selectors.session_cover(session=session)

    assert (cover.acting_lead, cover.gap) == (None, "No facilitator available")


def test_absence_of_someone_outside_the_group_or_twice_is_refused():
    program = ProgramFactory()
    group, lead, _ = facilitated_group(program)
    session = one_session(group)
    stranger = FacilitatorFactory(program=program, name="Dr. Stranger")

    with pytest.raises(ValidationError, match="Dr. Stranger does not facilitate Group A"):
        schedule_services.facilitator_absence_mark(
            session=session, facilitator=stranger, reason="", actor=None
        )
    schedule_services.facilitator_absence_mark(
        session=session, facilitator=lead, reason="", actor=None
    )
    with pytest.raises(ValidationError, match="already marked absent"):
        schedule_services.facilitator_absence_mark(
            session=session, facilitator=lead, reason="", actor=None
        )
    assert FacilitatorAbsence.objects.count() == 1
    assert AuditEvent.objects.filter(action="notify.facilitator.absent").count() == 1


def test_coverage_lists_every_upcoming_session_with_its_cover():
    program = ProgramFactory()
    group, lead, backup = facilitated_group(program)
    lonely = GroupFactory(program=program, name="Group B")
    first = one_session(group, days=10)
    one_session(group, days=20)
    one_session(lonely, days=10, at=time(12, 0))
    FacilitatorAbsenceFactory(session=first, facilitator=lead)
    FacilitatorFactory(program=program)  # in the pool, no group

    view = schedule_selectors.coverage_upcoming(program=program)

    rows = [(s.group.name, s.cover.acting_lead, s.cover.gap) for s in view.sessions]
    assert rows == [
        ("Group A", backup, ""),
        ("Group B", None, "No facilitator available"),
        ("Group A", lead, ""),
    ]
    assert view.backups_available == 2
