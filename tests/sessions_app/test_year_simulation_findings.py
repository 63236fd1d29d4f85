"""Defects the year simulation (test_year_simulation.py) found, each reduced to the few steps
that show it, through the same services."""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import date, datetime, time, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from sessions_app.groups import services as groups_services
from sessions_app.models import Attendance, Clinician, GroupMembership
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.presenters import services as presenters_services
from sessions_app.roster import services
from tests.factories import ClinicianFactory, GroupFactory, GroupMembershipFactory, SessionFactory


@pytest.fixture
def this_morning(program):
    """A group whose session started earlier today, with two members since last month: two
    hours ago, or at midnight (program time) when it is not yet two in the morning."""
    group = GroupFactory(program=program, name="Group 1")
    people = [ClinicianFactory(program=program, status="active") for _ in range(2)]
    month_ago = timezone.localdate() - timedelta(days=30)
    for c in people:
        GroupMembershipFactory(group=group, clinician=c, joined_on=month_ago)
    midnight = program.at(program.today(), time.min)
    session = SessionFactory(
        group=group, starts_at=max(timezone.now() - timedelta(hours=2), midnight)
    )
    return group, people, session


def recorded_figure(program, session) -> tuple[int, int]:
    figure = next(
        s
        for s in presenters_selectors.attendance_figures(program=program).sessions
        if s.session_id == session.pk
    )
    return figure.present, figure.members


def test_leaving_after_todays_session_keeps_that_sessions_record(
    program, coordinator, this_morning
):
    group, (ann, bob), session = this_morning
    presenters_services.attendance_record(
        session=session, statuses={ann.pk: "present", bob.pk: "absent"}, guest_ids=[],
        actor=coordinator,
    )  # fmt: skip
    assert recorded_figure(program, session) == (1, 2)

    services.clinician_deactivate(clinician=bob, actor=coordinator, reason="moved away")

    # Bob was in the group this morning: the session he missed still counts him.
    assert recorded_figure(program, session) == (1, 2)
    assert [c.pk for c in presenters_selectors.attendance_members(session=session)] == sorted(
        [ann.pk, bob.pk]
    )


def test_changing_group_after_todays_session_keeps_that_sessions_record(
    program, coordinator, this_morning
):
    group, (ann, bob), session = this_morning
    presenters_services.attendance_record(
        session=session, statuses={ann.pk: "present", bob.pk: "present"}, guest_ids=[],
        actor=coordinator,
    )  # fmt: skip
    other = GroupFactory(program=program, name="Group 2")
    run = groups_services.assignment_preview(
        program=program,
        actor=coordinator,
        request=groups_services.AssignmentRequest(
            groups=2, min_size=1, max_size=1, time_limit_s=2.0
        ),
    )
    moves = {change.clinician.pk for change in groups_services.assignment_run_view(run=run).changes}
    groups_services.assignment_commit(run=run, actor=coordinator, confirmed_moves=moves)
    assert GroupMembership.objects.filter(group=other, left_on__isnull=True).count() == 1

    # Both were members this morning and both were present: 2 of 2, not 1 of 1 plus a guest.
    assert recorded_figure(program, session) == (2, 2)
    assert Attendance.objects.filter(session=session, status="present").count() == 2


def test_the_attendance_exports_group_rate_is_rounded_like_every_other_rate(
    program, coordinator, this_morning
):
    """A rate of 1/3 was written as 0.3333333333333333 in the CSV and as another float in the
    XLSX, so the two files disagreed; every other rate is a share rounded to 4 places."""
    from analysis.exports import tables as exports_tables

    group, (ann, bob), session = this_morning
    carl = ClinicianFactory(program=program, status="active")
    GroupMembershipFactory(group=group, clinician=carl, joined_on=timezone.localdate())
    presenters_services.attendance_record(
        session=session, statuses={ann.pk: "present", bob.pk: "absent", carl.pk: "absent"},
        guest_ids=[], actor=coordinator,
    )  # fmt: skip
    rows = list(
        csv.DictReader(
            io.StringIO(
                exports_tables.build_attendance(
                    program=program, params={"format": "csv-groups"}
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert [r["attendance_rate"] for r in rows] == ["0.3333"]
    tables = exports_tables.attendance_tables(program)
    groups = next(t for t in tables if t.key == "groups")
    assert groups.rows[0][groups.columns.index("attendance_rate")] == 0.3333


def test_leaving_keeps_yesterdays_session_in_a_program_ahead_of_the_servers_time_zone(
    coordinator,
):
    """The server runs on New York time; the program meets in Auckland, a day ahead. A member
    who missed Monday's session (Auckland) and leaves on Tuesday afternoon (Auckland), still
    Monday in New York, must stay on Monday's record."""
    program = coordinator.program_roles.first().program
    program.timezone = "Pacific/Auckland"
    program.save(update_fields=["timezone"])
    auckland = zoneinfo.ZoneInfo("Pacific/Auckland")
    group = GroupFactory(program=program, name="Group 1")
    ann, bob = (ClinicianFactory(program=program, status="active") for _ in range(2))
    for c in (ann, bob):
        GroupMembershipFactory(group=group, clinician=c, joined_on=date(2025, 2, 1))
    monday = SessionFactory(group=group, starts_at=datetime(2025, 3, 3, 7, 30, tzinfo=auckland))
    tuesday_afternoon = datetime(2025, 3, 4, 14, 0, tzinfo=auckland)  # Monday 20:00 in New York
    with mock.patch("django.utils.timezone.now", new=lambda: tuesday_afternoon):
        presenters_services.attendance_record(
            session=monday, statuses={ann.pk: "present", bob.pk: "absent"}, guest_ids=[],
            actor=coordinator,
        )  # fmt: skip
        services.clinician_deactivate(clinician=bob, actor=coordinator, reason="moved away")

        assert recorded_figure(program, monday) == (1, 2)


def test_leaving_on_the_day_of_a_move_that_takes_effect_tomorrow(
    program, coordinator, this_morning
):
    """Group 1 met this morning, so a regrouping at noon moves Bob from tomorrow on; if Bob
    then leaves the program the same afternoon, his new membership (not started yet) must end
    without breaking "a membership never ends before it starts"."""
    group, (ann, bob), session = this_morning
    GroupFactory(program=program, name="Group 2")
    run = groups_services.assignment_preview(
        program=program,
        actor=coordinator,
        request=groups_services.AssignmentRequest(
            groups=2, min_size=1, max_size=1, time_limit_s=2.0
        ),
    )
    moves = {change.clinician.pk for change in groups_services.assignment_run_view(run=run).changes}
    groups_services.assignment_commit(run=run, actor=coordinator, confirmed_moves=moves)
    (mover,) = moves
    moved = GroupMembership.objects.get(clinician_id=mover, left_on__isnull=True)
    assert moved.joined_on == timezone.localdate() + timedelta(days=1)

    services.clinician_deactivate(
        clinician=Clinician.objects.get(pk=mover), actor=coordinator, reason="moved away"
    )

    moved.refresh_from_db()
    assert moved.left_on is not None and moved.left_on >= moved.joined_on


def test_moving_again_on_the_day_of_a_move_that_takes_effect_tomorrow_never_overlaps(
    program, coordinator, this_morning
):
    """Bob moves to group 2 from tomorrow (group 1 met this morning), then a second regrouping
    the same afternoon moves him to group 3: he stays in group 1 until tomorrow and is in
    group 3 from tomorrow; group 2 never took effect. No day sees him in two groups."""
    group, (ann, bob), session = this_morning
    GroupFactory(program=program, name="Group 2")
    GroupFactory(program=program, name="Group 3")

    def regroup_to(name: str) -> None:
        run = groups_services.assignment_preview(
            program=program,
            actor=coordinator,
            request=groups_services.AssignmentRequest(
                groups=3, min_size=0, max_size=2, time_limit_s=2.0, keep_current=False
            ),
        )
        target = next(g["key"] for g in run.result["groups"] if g["name"] == name)
        run = groups_services.assignment_move(
            run=run, actor=coordinator, clinician_id=bob.pk, to_key=target
        )
        for g in run.result["groups"]:
            if ann.pk in g["members"] and g["key"] != groups_services.group_key(group):
                key = groups_services.group_key(group)
                run = groups_services.assignment_move(
                    run=run, actor=coordinator, clinician_id=ann.pk, to_key=key
                )
        moves = {c.clinician.pk for c in groups_services.assignment_run_view(run=run).changes}
        groups_services.assignment_commit(run=run, actor=coordinator, confirmed_moves=moves)

    regroup_to("Group 2")
    regroup_to("Group 3")

    tomorrow = timezone.localdate() + timedelta(days=1)
    rows = sorted(
        GroupMembership.objects.filter(clinician=bob).values_list(
            "group__name", "joined_on", "left_on"
        ),
        key=lambda r: r[1],
    )
    assert [(name, left) for name, _joined, left in rows if name == "Group 1"] == [
        ("Group 1", tomorrow)
    ]
    assert ("Group 3", tomorrow, None) in rows
    assert all(left == joined for name, joined, left in rows if name == "Group 2")
    assert recorded_figure(program, session)[1] == 2  # this morning's group kept both
