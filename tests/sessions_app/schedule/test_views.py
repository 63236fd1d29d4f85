"""Schedule pages: the generator (preview, then all or nothing), the sessions list (who sees
which sessions, query counts), a session's page, reschedule and cancel, rooms, blackout
dates, refreshments, facilitator absences and coverage, calendar feed addresses."""

from __future__ import annotations

import html
import re
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.models import (
    BlackoutDate,
    CalendarToken,
    FacilitatorAbsence,
    FacilitatorAssignment,
    ProgramRole,
    RefreshmentOrder,
    Room,
    RoomBooking,
    Session,
)
from sessions_app.schedule import services as schedule_services
from tests.factories import (
    BlackoutDateFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramFactory,
    ProgramRoleFactory,
    RoomFactory,
    UserFactory,
)
from tests.sessions_app.helpers import NEW_YORK, messages_of, url
from tests.sessions_app.schedule.helpers import member, schedule

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def facilitator(group, role=FacilitatorAssignment.Role.LEAD):
    user = UserFactory()
    assignment = FacilitatorAssignmentFactory(
        group=group, facilitator=FacilitatorFactory(program=group.program, user=user), role=role
    )
    return user, assignment.facilitator


def coordinator_of(program):
    return ProgramRoleFactory(program=program, role=ProgramRole.Role.COORDINATOR).user


# --- Generating a schedule ----------------------------------------------------------------------


def generator_post(program, groups, rooms, **overrides):
    data = {
        "frequency": "monthly",
        "ordinal": "2",
        "weekday": "1",
        "interval": "1",
        "first": f"{timezone.localdate().year + 1}-01-01",
        "count": "3",
        "start_time": "07:30",
        "duration_minutes": "60",
        "agenda": str(schedule_services.agenda_for_program(program).pk),
    }
    for group, room in zip(groups, rooms, strict=True):
        data[f"g{group.pk}_include"] = "on"
        data[f"g{group.pk}_room"] = str(room.pk) if room else ""
        data[f"g{group.pk}_time"] = ""
    data.update(overrides)
    return data


def test_generator_form_defaults_come_from_the_program():
    program = ProgramFactory(sessions_per_year_max=7, format="balint90")
    GroupFactory(program=program)
    client_user = coordinator_of(program)
    from django.test import Client

    client = Client()
    client.force_login(client_user)
    response = client.get(url("schedule_generate", program))

    form = response.context["form"]
    assert (form["count"].value(), form["duration_minutes"].value()) == (7, 90)
    assert form["frequency"].value() == "weekly"


def test_preview_lists_dates_and_skipped_blackouts_and_saves_nothing(client):
    program = ProgramFactory()
    group = GroupFactory(program=program, name="Group A")
    room = RoomFactory(program=program)
    year = timezone.localdate().year + 1
    BlackoutDateFactory(program=program, date=date(year, 2, 9), reason="Conference")
    client.force_login(coordinator_of(program))

    response = client.post(
        url("schedule_generate", program),
        {**generator_post(program, [group], [room]), "action": "preview"},
    )

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.skipped == [date(year, 2, 9)]
    assert len(preview.dates) == 3
    assert preview.problems == []
    assert "Skipped blackout dates: Tue Feb 9, " in text(response)
    assert "Create 3 sessions" in text(response)
    assert Session.objects.count() == 0


def test_create_schedules_every_group_in_its_own_room_and_time(client):
    program = ProgramFactory()
    groups = [GroupFactory(program=program) for _ in range(2)]
    rooms = [RoomFactory(program=program), RoomFactory(program=program)]
    client.force_login(coordinator_of(program))
    data = generator_post(program, groups, rooms, action="create")
    data[f"g{groups[1].pk}_time"] = "12:00"

    response = client.post(url("schedule_generate", program), data)

    assert response.status_code == 302
    assert response["Location"] == url("session_list", program)
    local = {
        (s.group_id, s.room_id, timezone.localtime(s.starts_at, NEW_YORK).time())
        for s in Session.objects.all()
    }
    assert local == {
        (groups[0].pk, rooms[0].pk, time(7, 30)),
        (groups[1].pk, rooms[1].pk, time(12, 0)),
    }
    assert Session.objects.count() == 6


def test_create_with_a_double_booked_room_creates_nothing_and_says_why(client):
    program = ProgramFactory()
    groups = [
        GroupFactory(program=program, name="Group A"),
        GroupFactory(program=program, name="Group B"),
    ]
    room = RoomFactory(program=program, name="Osler Room")
    client.force_login(coordinator_of(program))

    response = client.post(
        url("schedule_generate", program),
        generator_post(program, groups, [room, room], action="create"),
    )

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 3
    assert all(e.startswith("Osler Room is already booked on") for e in errors)
    assert "Nothing was scheduled" in text(response)
    assert Session.objects.count() == 0
    assert RoomBooking.objects.count() == 0


def test_create_in_the_past_is_refused(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    client.force_login(coordinator_of(program))

    response = client.post(
        url("schedule_generate", program),
        generator_post(program, [group], [None], action="create", first="2020-01-01"),
    )

    assert response.status_code == 200
    assert "Jan 14, 2020 is in the past." in response.context["form"].non_field_errors()
    assert Session.objects.count() == 0


def test_capacity_warning_after_scheduling(client):
    program = ProgramFactory()
    group = GroupFactory(program=program, name="Group A")
    GroupMembershipFactory.create_batch(3, group=group)
    room = RoomFactory(program=program, name="Small Room", capacity=2)
    client.force_login(coordinator_of(program))

    response = client.post(
        url("schedule_generate", program),
        generator_post(program, [group], [room], action="create"),
        follow=True,
    )

    assert "Group A has 3 members; Small Room seats 2." in messages_of(response)


def test_generating_twice_with_the_default_skip_makes_no_duplicates_and_warns_over_the_year(
    client,
):
    program = ProgramFactory(sessions_per_year_min=2, sessions_per_year_max=3)
    group = GroupFactory(program=program, name="Group A")
    client.force_login(coordinator_of(program))
    form = client.get(url("schedule_generate", program)).context["form"]
    data = generator_post(program, [group], [None], action="create", skip_scheduled="on")

    client.post(url("schedule_generate", program), data)
    preview = client.post(
        url("schedule_generate", program), {**data, "count": "4", "action": "preview"}
    )
    again = client.post(url("schedule_generate", program), {**data, "count": "4"}, follow=True)

    assert form["skip_scheduled"].value() is True
    assert "Create 1 session" in text(preview)
    assert "already scheduled" in text(preview)
    assert Session.objects.filter(group=group).count() == 4
    assert (
        "Group A would have 4 sessions this year, more than the 2–3 a year in the program's "
        "settings."
    ) in html.unescape(text(preview))
    assert (
        "1 session scheduled for 1 group; 3 dates were left alone: the group already had a "
        "session that day."
    ) in messages_of(again)
    assert (
        "Group A has 4 sessions this year, more than the 2–3 a year in the program's "
        "settings." in messages_of(again)
    )


# --- The sessions list and a session's page -----------------------------------------------------


def test_participants_see_only_their_own_groups_sessions(client):
    program = ProgramFactory()
    mine, theirs = GroupFactory(program=program), GroupFactory(program=program)
    own = schedule(mine)
    other = schedule(theirs, days=11)
    user = member(mine)
    client.force_login(user)

    listed = client.get(url("session_list", program)).context["sessions"]
    detail_other = client.get(url("session_detail", program, pk=other.pk))
    detail_own = client.get(url("session_detail", program, pk=own.pk))

    assert [s.pk for s in listed] == [own.pk]
    assert (detail_own.status_code, detail_other.status_code) == (200, 403)


def test_facilitators_see_their_groups_and_coordinators_see_all(client):
    program = ProgramFactory()
    mine, theirs = GroupFactory(program=program), GroupFactory(program=program)
    own = schedule(mine)
    other = schedule(theirs, days=11)
    user, _ = facilitator(mine)

    client.force_login(user)
    facilitator_sees = [s.pk for s in client.get(url("session_list", program)).context["sessions"]]
    client.force_login(coordinator_of(program))
    coordinator_sees = [s.pk for s in client.get(url("session_list", program)).context["sessions"]]

    assert facilitator_sees == [own.pk]
    assert coordinator_sees == [own.pk, other.pk]


def test_list_shows_local_time_room_status_and_presenter(client):
    program = ProgramFactory(timezone="America/Chicago")
    group = GroupFactory(program=program, name="Group A")
    room = RoomFactory(program=program, name="Osler Room")
    starts = datetime.combine(
        timezone.localdate() + timedelta(days=10), time(7, 30), tzinfo=zoneinfo.ZoneInfo("UTC")
    )
    session = schedule_services.session_create(
        group=group,
        starts_at=starts,
        duration_minutes=60,
        room=room,
        agenda=schedule_services.agenda_for_program(program),
        actor=None,
    )
    PresentationFactory(session=session)
    client.force_login(coordinator_of(program))

    page = text(client.get(url("session_list", program)))

    local = timezone.localtime(starts, zoneinfo.ZoneInfo("America/Chicago"))
    assert f"{local:%H:%M}–{local + timedelta(hours=1):%H:%M}" in page
    assert "Osler Room" in page
    assert "Scheduled" in page
    assert "Confirmed" in page
    assert "Times in America/Chicago." in page


def arrange_sessions(program, n: int):
    room = RoomFactory(program=program)
    for i in range(n):
        group = GroupFactory(program=program)
        GroupMembershipFactory(group=group)
        FacilitatorAssignmentFactory(group=group)
        session = schedule(group, days=10 + i, room=room)
        PresentationFactory(session=session)


def count_queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["session_list", "session_coverage", "refreshment_list"])
def test_query_counts_do_not_grow_with_the_number_of_sessions(client, page):
    small, large = ProgramFactory(), ProgramFactory()
    arrange_sessions(small, 1)
    arrange_sessions(large, 20)
    user = UserFactory(is_staff=True)
    client.force_login(user)

    assert count_queries(client, url(page, small)) == count_queries(client, url(page, large))


def test_session_page_shows_cover_and_capacity_warning(client):
    program = ProgramFactory()
    group = GroupFactory(program=program, name="Group A")
    GroupMembershipFactory.create_batch(3, group=group)
    room = RoomFactory(program=program, name="Small Room", capacity=2)
    session = schedule(group, room=room)
    _, lead = facilitator(group)
    client.force_login(coordinator_of(program))

    response = client.get(url("session_detail", program, pk=session.pk))

    assert response.context["warnings"] == ["Group A has 3 members; Small Room seats 2."]
    assert response.context["cover"].acting_lead == lead
    assert "Group A has 3 members; Small Room seats 2." in text(response)


# --- Reschedule and cancel ------------------------------------------------------------------


def test_reschedule_form_moves_the_session_in_local_time(client):
    program = ProgramFactory()
    room = RoomFactory(program=program)
    session = schedule(GroupFactory(program=program), room=room)
    client.force_login(coordinator_of(program))
    new_day = timezone.localdate() + timedelta(days=20)

    response = client.post(
        url("session_reschedule", program, pk=session.pk),
        {"day": new_day.isoformat(), "start_time": "08:15", "room": str(room.pk)},
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.starts_at == datetime.combine(new_day, time(8, 15), tzinfo=NEW_YORK)
    assert session.sequence == 1


def test_reschedule_into_a_busy_room_shows_the_message(client):
    program = ProgramFactory()
    room = RoomFactory(program=program, name="Osler Room")
    busy = schedule(GroupFactory(program=program, name="Group A"), room=room, days=20)
    session = schedule(GroupFactory(program=program), room=room)
    client.force_login(coordinator_of(program))
    local = timezone.localtime(busy.starts_at, NEW_YORK)

    response = client.post(
        url("session_reschedule", program, pk=session.pk),
        {"day": local.date().isoformat(), "start_time": "07:30", "room": str(room.pk)},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Osler Room is already booked on {local:%a %b %-d, %Y} at 07:30 by Group A."
    ]
    session.refresh_from_db()
    assert session.sequence == 0


def test_cancel_form_needs_a_reason_and_frees_the_room(client):
    program = ProgramFactory()
    room = RoomFactory(program=program)
    session = schedule(GroupFactory(program=program), room=room)
    client.force_login(coordinator_of(program))

    empty = client.post(url("session_cancel", program, pk=session.pk), {"reason": ""})
    done = client.post(url("session_cancel", program, pk=session.pk), {"reason": "Grand rounds"})

    assert empty.status_code == 400
    assert done.status_code == 302
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == ("cancelled", "Grand rounds")
    assert not RoomBooking.objects.exists()


def test_participants_cannot_reschedule(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    session = schedule(group)
    client.force_login(member(group))

    response = client.post(
        url("session_reschedule", program, pk=session.pk),
        {"day": "2030-01-01", "start_time": "07:30"},
    )

    assert response.status_code == 403
    session.refresh_from_db()
    assert session.sequence == 0


# --- Rooms and blackout dates -----------------------------------------------------------------


def test_rooms_add_edit_remove(client):
    program = ProgramFactory()
    client.force_login(coordinator_of(program))

    client.post(url("room_list", program), {"name": "Osler", "location": "B2", "capacity": "12"})
    room = Room.objects.get(program=program)
    client.post(url("room_edit", program, pk=room.pk), {"name": "Osler Room", "capacity": "14"})
    room.refresh_from_db()
    assert (room.name, room.location, room.capacity) == ("Osler Room", "", 14)
    duplicate = client.post(url("room_list", program), {"name": "osler room"})
    assert duplicate.context["form"].non_field_errors() == [
        "There is already a room called “osler room”."
    ]
    client.post(url("room_delete", program, pk=room.pk))
    assert not Room.objects.filter(program=program).exists()


def test_blackout_dates_add_and_remove(client):
    program = ProgramFactory()
    client.force_login(coordinator_of(program))

    client.post(url("blackout_list", program), {"date": "2027-07-05", "reason": "Holiday"})
    again = client.post(url("blackout_list", program), {"date": "2027-07-05"})
    blackout = BlackoutDate.objects.get(program=program)
    client.post(url("blackout_delete", program, pk=blackout.pk))

    assert (blackout.date, blackout.reason) == (date(2027, 7, 5), "Holiday")
    assert again.context["form"].errors["date"] == ["Jul 5, 2027 is already a blackout date."]
    assert not BlackoutDate.objects.exists()


# --- Refreshments ---------------------------------------------------------------------------


def test_refreshment_order_for_a_meeting_date(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    GroupMembershipFactory.create_batch(6, group=group)
    session = schedule(group)
    day = timezone.localtime(session.starts_at, NEW_YORK).date()
    client.force_login(coordinator_of(program))
    edit = url("refreshment_edit", program, day=day.isoformat())

    form_page = client.get(edit)
    response = client.post(
        edit,
        {
            "status": "requested",
            "vendor": "Corner Bakery",
            "items": "Continental breakfast",
            "headcount": "7",
            "cost": "95.50",
            "notes": "",
        },
    )

    assert form_page.context["form"]["headcount"].value() == 6
    assert form_page.context["form"]["items"].value() == "Continental breakfast"
    assert response.status_code == 302
    order = RefreshmentOrder.objects.get(program=program, date=day)
    assert (order.status, order.headcount, str(order.cost)) == ("requested", 7, "95.50")
    checklist = client.get(url("refreshment_list", program))
    assert "1 upcoming meeting date without a confirmed order." in text(checklist)
    assert "1 upcoming session without a reserved room." in text(checklist)


def test_refreshment_date_must_be_a_date(client):
    program = ProgramFactory()
    client.force_login(coordinator_of(program))

    assert client.get(url("refreshment_edit", program, day="2027-02-30")).status_code == 404


# --- Facilitator absences and coverage ------------------------------------------------------


def test_facilitator_marks_themselves_absent_and_the_backup_leads(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    session = schedule(group)
    lead_user, lead = facilitator(group)
    _, backup = facilitator(group, role=FacilitatorAssignment.Role.BACKUP)
    client.force_login(lead_user)

    response = client.post(
        url("session_absence_add", program, pk=session.pk), {"reason": "Clinic"}, follow=True
    )

    assert messages_of(response) == [f"{lead.name} is marked absent. Acting lead: {backup.name}."]
    assert response.context["cover"].acting_lead == backup
    assert FacilitatorAbsence.objects.get().facilitator == lead
    event = AuditEvent.objects.get(action="notify.facilitator.absent")
    assert event.data == {"session_id": session.pk, "facilitator_id": lead.pk}


def test_a_facilitator_cannot_mark_someone_else_absent(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    session = schedule(group)
    _, lead = facilitator(group)
    backup_user, backup = facilitator(group, role=FacilitatorAssignment.Role.BACKUP)
    client.force_login(backup_user)

    client.post(url("session_absence_add", program, pk=session.pk), {"facilitator": lead.pk})

    assert [a.facilitator for a in FacilitatorAbsence.objects.all()] == [backup]


def test_participants_cannot_mark_absences(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    session = schedule(group)
    facilitator(group)
    client.force_login(member(group))

    response = client.post(url("session_absence_add", program, pk=session.pk))

    assert response.status_code == 403
    assert not FacilitatorAbsence.objects.exists()


def test_coordinator_marks_any_facilitator_absent_and_sees_the_gap(client):
    program = ProgramFactory()
    group = GroupFactory(program=program, name="Group A")
    session = schedule(group)
    _, lead = facilitator(group)
    client.force_login(coordinator_of(program))

    client.post(url("session_absence_add", program, pk=session.pk), {"facilitator": lead.pk})
    coverage = client.get(url("session_coverage", program))
    client.post(url("session_absence_remove", program, pk=session.pk), {"facilitator": lead.pk})

    assert "No facilitator available" in text(coverage)
    assert "1 session without a facilitator." in text(coverage)
    assert not FacilitatorAbsence.objects.exists()


# --- Calendar feed addresses ----------------------------------------------------------------


def test_person_creates_and_revokes_a_feed_address(client):
    group = GroupFactory()
    schedule(group)
    client.force_login(member(group))

    created = client.post(reverse("sessions_app:calendar_feeds"))
    address = created.context["new_url"]
    token = re.search(r"/calendar/([\w-]+)\.ics$", address).group(1)
    feed = client.get(f"/calendar/{token}.ics")
    row = CalendarToken.objects.get()
    client.post(reverse("sessions_app:calendar_feed_revoke"), {"token": row.pk})
    after = client.get(f"/calendar/{token}.ics")

    assert created.status_code == 200
    assert feed.status_code == 200
    assert after.status_code == 404
    assert token not in client.get(reverse("sessions_app:calendar_feeds")).content.decode()


def test_no_one_revokes_someone_else_s_feed(client):
    owner = UserFactory()
    row = CalendarToken.objects.create(user=owner, token_hash="a" * 64)
    client.force_login(UserFactory())

    client.post(reverse("sessions_app:calendar_feed_revoke"), {"token": row.pk})

    row.refresh_from_db()
    assert row.revoked_at is None


def test_only_coordinators_can_create_a_program_feed(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    client.force_login(member(group))

    client.post(reverse("sessions_app:calendar_feeds"), {"program": program.pk})

    assert not CalendarToken.objects.filter(scope="program").exists()


def test_a_long_schedule_comes_in_pages_of_fifty_in_date_order(client):
    program = ProgramFactory()
    group = GroupFactory(program=program)
    made = [schedule(group, days=2 + i).pk for i in range(62)]
    client.force_login(coordinator_of(program))

    first = client.get(url("session_list", program))
    second = client.get(url("session_list", program) + "?page=2")

    assert [s.pk for s in first.context["sessions"]] == made[:50]
    assert [s.pk for s in second.context["sessions"]] == made[50:]
    assert "62 sessions, 1–50 shown." in text(first)
    assert 'href="?page=2"' in first.content.decode()


def test_the_schedule_shows_one_group_when_asked_but_never_a_group_one_may_not_see(client):
    program = ProgramFactory()
    mine, theirs = GroupFactory(program=program, name="Mine"), GroupFactory(program=program)
    own = schedule(mine)
    other = schedule(theirs, days=11)
    client.force_login(coordinator_of(program))
    only_theirs = client.get(url("session_list", program) + f"?group={theirs.pk}")
    client.force_login(member(mine))
    asks_for_theirs = client.get(url("session_list", program) + f"?group={theirs.pk}")

    assert [s.pk for s in only_theirs.context["sessions"]] == [other.pk]
    assert [s.pk for s in asks_for_theirs.context["sessions"]] == [own.pk]
    assert asks_for_theirs.context["groups"] == [(mine.pk, "Mine")]
