"""The day a facilitator change takes effect: the program's day, never one the group already met.

A coordinator in Tokyo on a server set to New York, or one who makes someone else the lead in
the evening after the group met, must not rewrite who led a session that was held: the
attendance sheet of that session keeps its facilitators (the rule memberships follow,
docs/presenters-and-attendance.md).
"""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sessions_app.groups import services as groups_services
from sessions_app.presenters import selectors as presenters_selectors
from tests.factories import (
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def zone_on_another_day() -> str:
    """A time zone whose date differs from the server's right now. One always does: Kiritimati
    is 18-19 hours ahead of New York, Pago Pago 6-7 hours behind."""
    server_day = timezone.localdate()
    now = timezone.now()
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        if now.astimezone(ZoneInfo(name)).date() != server_day:
            return name
    raise AssertionError("the server's time zone is not the one these tests assume")


def names(assignments):
    return sorted((a.facilitator.name, a.role) for a in assignments)


def test_a_new_lead_starts_on_the_programs_day_not_the_servers():
    group = GroupFactory(program__timezone=zone_on_another_day())
    old = FacilitatorAssignmentFactory(group=group, facilitator__name="Old", role="lead")
    new = FacilitatorFactory(program=group.program, name="New")

    made = groups_services.facilitation_assign(
        group=group, facilitator=new, role="lead", actor=None
    )

    old.refresh_from_db()
    program_day = group.program.today()
    assert program_day != timezone.localdate()
    assert made.starts_on == program_day
    assert old.ends_on == program_day


def test_ending_a_facilitation_uses_the_programs_day():
    group = GroupFactory(program__timezone=zone_on_another_day())
    backup = FacilitatorAssignmentFactory(group=group, role="backup")

    groups_services.facilitation_end(assignment=backup, actor=None)

    backup.refresh_from_db()
    assert backup.ends_on == group.program.today()


def held_today(group):
    """A session of the group that started at midnight today, program time: already held."""
    program = group.program
    return SessionFactory(group=group, starts_at=program.at(program.today(), time.min))


def test_a_lead_replaced_after_the_group_met_today_still_led_todays_session():
    group = GroupFactory()
    old = FacilitatorAssignmentFactory(group=group, facilitator__name="Old", role="lead")
    session = held_today(group)
    new = FacilitatorFactory(program=group.program, name="New")

    made = groups_services.facilitation_assign(
        group=group, facilitator=new, role="lead", actor=None
    )

    sheet = presenters_selectors.sheet_facilitators(session=session)
    assert [(f.facilitator.name, f.role) for f in sheet] == [("Old", "Lead")]
    tomorrow = group.program.today() + timedelta(days=1)
    old.refresh_from_db()
    assert (old.ends_on, made.starts_on) == (tomorrow, tomorrow)


def test_a_backup_who_stops_after_the_group_met_today_is_still_on_todays_sheet():
    group = GroupFactory()
    FacilitatorAssignmentFactory(group=group, facilitator__name="Lead", role="lead")
    backup = FacilitatorAssignmentFactory(group=group, facilitator__name="Backup", role="backup")
    session = held_today(group)

    groups_services.facilitation_end(assignment=backup, actor=None)

    sheet = presenters_selectors.sheet_facilitators(session=session)
    assert [(f.facilitator.name, f.role) for f in sheet] == [("Lead", "Lead"), ("Backup", "Backup")]


def test_a_facilitation_that_starts_tomorrow_and_ends_today_never_was():
    """Assigned after the group met (it starts tomorrow) and removed the same evening: the
    facilitation ends the day it would have started, so it is in force on no day at all."""
    group = GroupFactory()
    held_today(group)
    newcomer = FacilitatorFactory(program=group.program, name="Newcomer")
    made = groups_services.facilitation_assign(
        group=group, facilitator=newcomer, role="backup", actor=None
    )

    groups_services.facilitation_end(assignment=made, actor=None)

    made.refresh_from_db()
    assert made.ends_on == made.starts_on
