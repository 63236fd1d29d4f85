"""Attendance follows membership history: the sheet of a past session lists the group's members
on that day, rates use the members of each day, and credit counts only recorded presence at
held sessions, on every page and export. Each test reproduces a figure that was wrong after a
regrouping (issue 15): "15 / 10 (150%)", "4 / 3" sessions, a group at 107%."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from analysis.exports import pdf as exports_pdf
from sessions_app.models import Attendance, GroupMembership, Rsvp
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.presenters import services as presenters_services
from sessions_app.schedule import services as schedule_services
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    GroupFactory,
    GroupMembershipFactory,
    RsvpFactory,
    SessionFactory,
)

START = date(2026, 9, 1)


@pytest.fixture
def groups(program):
    return GroupFactory(program=program, name="Group 1"), GroupFactory(
        program=program, name="Group 2"
    )


def member(group, joined_on=START, **clinician):
    clinician = ClinicianFactory(program=group.program, **clinician)
    GroupMembershipFactory(group=group, clinician=clinician, joined_on=joined_on)
    return clinician


def days_ago(n: int) -> date:
    return timezone.localdate() - timedelta(days=n)


def move(clinician, to_group, on: date) -> None:
    """What a committed regrouping writes: the old membership ends on ``on`` (its first day
    away), the new one starts that day."""
    GroupMembership.objects.filter(clinician=clinician, left_on__isnull=True).update(left_on=on)
    GroupMembership.objects.create(group=to_group, clinician=clinician, joined_on=on)


def past(group, days: int):
    return SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=days))


def record_all_present(session, actor=None):
    members = presenters_selectors.attendance_members(session=session)
    presenters_services.attendance_record(
        session=session,
        statuses={m.pk: Attendance.Status.PRESENT for m in members},
        guest_ids=[],
        actor=actor,
    )


@pytest.fixture
def regrouped(program, groups):
    """Group 1 had 10 members at a session 27 days ago; then, 1 day ago, a regrouping moved 4
    of them to group 2 and 7 of group 2's members (and 2 newcomers) into group 1."""
    g1, g2 = groups
    ones = [member(g1, last_name=f"One{i}") for i in range(10)]
    twos = [member(g2, last_name=f"Two{i}") for i in range(10)]
    november = past(g1, days=27)
    moved_day = days_ago(1)
    for c in ones[:4]:
        move(c, g2, moved_day)
    for c in twos[:7]:
        move(c, g1, moved_day)
    newcomers = [member(g1, joined_on=moved_day, last_name=f"New{i}") for i in range(2)]
    return {"g1": g1, "g2": g2, "ones": ones, "twos": twos, "newcomers": newcomers,
            "november": november}  # fmt: skip


def test_the_sheet_of_a_past_session_lists_the_members_of_that_day(regrouped):
    # It listed the group's current members (15 here: 6 stayed, 7 moved in, 2 newcomers).
    sheet = presenters_selectors.attendance_members(session=regrouped["november"])

    assert {c.last_name for c in sheet} == {f"One{i}" for i in range(10)}


def test_a_member_who_joined_on_the_day_of_a_later_session_is_on_that_sheet(regrouped):
    today_session = past(regrouped["g1"], days=0)

    names = {c.last_name for c in presenters_selectors.attendance_members(session=today_session)}

    assert "New0" in names and "Two0" in names and "One0" not in names


def test_recording_a_past_session_after_a_regrouping_keeps_the_rate_at_or_below_100(
    program, regrouped
):
    record_all_present(regrouped["november"])

    figures = presenters_selectors.attendance_figures(program=program)

    november = next(s for s in figures.sessions if s.session_id == regrouped["november"].pk)
    assert (november.present, november.members, november.share) == (10, 10, 100)
    assert all(s.present <= s.members for s in figures.sessions)
    assert all(g.rate is None or g.rate <= 1 for g in figures.groups)


def test_someone_recorded_as_a_member_of_a_group_they_were_not_in_is_refused(regrouped):
    with pytest.raises(ValidationError) as exc:
        presenters_services.attendance_record(
            session=regrouped["november"],
            statuses={regrouped["newcomers"][0].pk: Attendance.Status.PRESENT},
            guest_ids=[],
            actor=None,
        )
    assert "members on the day of the session" in exc.value.messages[0]
    assert not Attendance.objects.exists()


def test_a_person_who_changed_group_never_attends_more_than_was_held(program, regrouped):
    g1, g2 = regrouped["g1"], regrouped["g2"]
    mover = regrouped["ones"][0]
    # Three group 1 sessions before the move (all attended), one group 2 session after.
    earlier = [regrouped["november"], past(g1, days=20), past(g1, days=10)]
    for s in earlier:
        record_all_present(s)
    after = past(g2, days=0)
    record_all_present(after)

    person = next(
        p
        for p in presenters_selectors.attendance_figures(program=program).people
        if p.pk == mover.pk
    )

    # Was "4 / 3": every presence counted against the current group's held sessions.
    assert (person.attended, person.held, person.guest_visits) == (4, 4, 0)
    assert person.group == g2
    assert person.credit_hours == 4 * program.credit_hours_per_session


def test_a_guest_gets_credit_but_is_not_in_the_groups_rate(program, regrouped):
    g2 = regrouped["g2"]
    guest = regrouped["newcomers"][0]  # in group 1 today
    session = past(g2, days=0)
    members = presenters_selectors.attendance_members(session=session)
    presenters_services.attendance_record(
        session=session,
        statuses={m.pk: Attendance.Status.PRESENT for m in members},
        guest_ids=[guest.pk],
        actor=None,
    )

    figures = presenters_selectors.attendance_figures(program=program)

    figure = next(s for s in figures.sessions if s.session_id == session.pk)
    assert (figure.present, figure.members, figure.guests) == (len(members), len(members), 1)
    person = next(p for p in figures.people if p.pk == guest.pk)
    assert (person.attended, person.held, person.guest_visits) == (0, 0, 1)
    assert person.credit_hours == program.credit_hours_per_session


def test_credit_counts_only_recorded_presence_at_held_sessions(program, groups):
    g1, _ = groups
    ana = member(g1, first_name="Ana")
    held = past(g1, days=3)
    past(g1, days=2)  # held, nobody recorded it: no credit, and not in anyone's count
    AttendanceFactory(session=held, clinician=ana)
    program.credit_hours_per_session = Decimal("1.25")
    program.save()

    person = next(p for p in presenters_selectors.credit_summary(program=program) if p.pk == ana.pk)

    assert (person.sessions_credited, person.held, person.credit_hours) == (1, 1, Decimal("1.25"))
    assert presenters_selectors.my_credit(clinician=ana) == (1, Decimal("1.25"))


def test_the_credit_csv_and_the_attendance_page_say_the_same(
    coordinator_client, program, regrouped
):
    record_all_present(regrouped["november"])
    record_all_present(past(regrouped["g1"], days=0))

    page = coordinator_client.get(reverse("sessions_app:attendance_figures", args=[program.slug]))
    csv_rows = list(
        csv.DictReader(
            io.StringIO(
                coordinator_client.get(
                    reverse("sessions_app:credit_export", args=[program.slug])
                ).content.decode()
            )
        )
    )

    shown = {p.clinician.email: p.credit_hours for p in page.context["figures"].people}
    exported = {r["email"]: Decimal(r["credit_hours"]) for r in csv_rows}
    assert shown == {k: v for k, v in exported.items() if k in shown}
    assert sum(exported.values()) == 10 * Decimal(1) + 15 * Decimal(1)
    # No rate above 100% anywhere on the page.
    shares = [int(x) for x in re.findall(r"\((\d+)%\)", page.content.decode())]
    assert shares and max(shares) <= 100


def test_the_annual_report_rate_uses_the_members_of_each_day(program, regrouped):
    record_all_present(regrouped["november"])  # 10 of the 10 members that day
    session = past(regrouped["g1"], days=0)
    members = presenters_selectors.attendance_members(session=session)
    presenters_services.attendance_record(
        session=session,
        statuses={m.pk: (Attendance.Status.PRESENT if i < 6 else Attendance.Status.ABSENT)
                  for i, m in enumerate(members)},
        guest_ids=[],
        actor=None,
    )  # fmt: skip

    figures = exports_pdf.annual_figures(program)

    group1 = next(g for g in figures["groups"] if g["name"] == "Group 1")
    # 16 present of 10 + 15 members on those days; it was 16 of 15 x 2 (current members).
    assert (group1["attendances"], group1["expected"], group1["rate"]) == (16, 25, "64%")


def test_an_unrecorded_past_session_presets_nobody_as_present(coordinator_client, program, groups):
    g1, _ = groups
    ana, ben = member(g1, first_name="Ana"), member(g1, first_name="Ben")
    session = past(g1, days=1)
    RsvpFactory(session=session, clinician=ben, answer=Rsvp.Answer.NOT_GOING)

    response = coordinator_client.get(
        reverse("sessions_app:attendance_record", args=[program.slug, session.pk])
    )

    html = response.content.decode()
    checked = re.findall(r'name="member_(\d+)" value="(\w+)"[^>]*checked', html)
    assert checked == [(str(ben.pk), "excused")]
    assert f'name="member_{ana.pk}"' in html


def test_saving_with_someone_unmarked_keeps_what_was_typed_and_saves_nothing(
    coordinator_client, program, groups
):
    g1, _ = groups
    ana, ben = member(g1, first_name="Ana"), member(g1, first_name="Ben")
    session = past(g1, days=1)
    url = reverse("sessions_app:attendance_record", args=[program.slug, session.pk])

    response = coordinator_client.post(url, {f"member_{ana.pk}": "absent"})

    assert response.status_code == 400
    assert f"Mark {ben.full_name} present, absent or excused." in response.content.decode()
    assert re.search(
        rf'name="member_{ana.pk}" value="absent"[^>]*checked', response.content.decode()
    )
    assert not Attendance.objects.exists()


def test_save_everyone_else_present_marks_only_the_unmarked(coordinator_client, program, groups):
    g1, _ = groups
    ana, ben = member(g1, first_name="Ana"), member(g1, first_name="Ben")
    session = past(g1, days=1)
    url = reverse("sessions_app:attendance_record", args=[program.slug, session.pk])

    coordinator_client.post(url, {f"member_{ana.pk}": "absent", "rest_present": "1"})

    assert dict(Attendance.objects.values_list("clinician_id", "status")) == {
        ana.pk: "absent",
        ben.pk: "present",
    }


def test_the_sheet_names_the_facilitators_of_that_day_and_who_led(
    coordinator_client, program, groups
):
    g1, _ = groups
    member(g1)
    lead = FacilitatorAssignmentFactory(group=g1, role="lead", starts_on=START)
    backup = FacilitatorAssignmentFactory(group=g1, role="backup", starts_on=START)
    later = FacilitatorAssignmentFactory(group=g1, role="backup", starts_on=days_ago(0))
    session = past(g1, days=3)
    FacilitatorAbsenceFactory(session=session, facilitator=lead.facilitator)

    rows = presenters_selectors.sheet_facilitators(session=session)

    assert [(r.facilitator.pk, r.role, r.absent, r.acting_lead) for r in rows] == [
        (lead.facilitator.pk, "Lead", True, False),
        (backup.facilitator.pk, "Backup", False, True),
    ]
    html = coordinator_client.get(
        reverse("sessions_app:attendance_record", args=[program.slug, session.pk])
    ).content.decode()
    assert later.facilitator.name not in html and backup.facilitator.name in html


def test_answers_so_far_counts_the_people_listed(coordinator_client, program, regrouped):
    upcoming = SessionFactory(group=regrouped["g1"], starts_at=timezone.now() + timedelta(days=3))
    RsvpFactory(session=upcoming, clinician=regrouped["twos"][0])  # in group 1 now
    # Someone who has since left the group answered before leaving: not on the sheet.
    leaver = regrouped["ones"][9]
    RsvpFactory(session=upcoming, clinician=leaver)
    GroupMembership.objects.filter(clinician=leaver, left_on__isnull=True).update(
        left_on=days_ago(0)
    )

    html = coordinator_client.get(
        reverse("sessions_app:attendance_record", args=[program.slug, upcoming.pk])
    ).content.decode()

    listed = html.count('<th scope="row" class="fw-normal">')
    assert f"Answers so far: 1 of {listed} listed: 1 going, 0 cannot make it." in html


def test_a_session_with_attendance_cannot_be_cancelled_or_moved_until_cleared(
    coordinator_client, program, groups
):
    g1, _ = groups
    session = past(g1, days=1)
    AttendanceFactory(session=session, clinician=member(g1))

    with pytest.raises(ValidationError, match="cannot be cancelled"):
        schedule_services.session_cancel(session=session, reason="", actor=None)
    with pytest.raises(ValidationError, match="cannot be moved"):
        schedule_services.session_reschedule(
            session=session,
            starts_at=(timezone.now() + timedelta(days=7)).replace(
                minute=30, second=0, microsecond=0
            ),
            room=None,
            actor=None,
        )
    response = coordinator_client.post(
        reverse("sessions_app:session_cancel", args=[program.slug, session.pk]), {"reason": "x"}
    )
    assert response.status_code == 400 and "cannot be cancelled" in response.content.decode()

    coordinator_client.post(
        reverse("sessions_app:attendance_clear", args=[program.slug, session.pk])
    )

    assert not Attendance.objects.filter(session=session).exists()
    schedule_services.session_cancel(session=session, reason="did not take place", actor=None)


def test_a_clinicians_page_shows_the_same_attendance_as_the_attendance_page(
    coordinator_client, program, regrouped
):
    mover = regrouped["ones"][0]
    record_all_present(regrouped["november"])
    record_all_present(past(regrouped["g2"], days=0))

    html = coordinator_client.get(
        reverse("sessions_app:clinician_detail", args=[program.slug, mover.pk])
    ).content.decode()

    assert "Present at 2 of 2 recorded sessions of their group" in html


def test_the_attendance_page_costs_the_same_queries_however_long_the_history(
    coordinator_client, program, groups
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    g1, g2 = groups
    url = reverse("sessions_app:attendance_figures", args=[program.slug])
    people = [member(g1) for _ in range(3)]
    record_all_present(past(g1, days=30))
    coordinator_client.get(url)  # warm the session and the caches
    with CaptureQueriesContext(connection) as small:
        coordinator_client.get(url)
    # Ten times the history: more people, moves between groups, guests, more sessions.
    people += [member(g2) for _ in range(12)]
    for c in people[:5]:
        move(c, g2, days_ago(15))
    for days in (25, 20, 12, 8, 4):
        for g in (g1, g2):
            record_all_present(past(g, days=days))
    with CaptureQueriesContext(connection) as large:
        coordinator_client.get(url)

    assert len(large) == len(small)


def test_saving_the_sheet_of_a_session_nobody_was_a_member_of_answers(
    coordinator_client, program, groups
):
    """Found by the year simulation: an empty sheet (no member that day, no guest) posts an
    empty form, which was treated as no form at all: the page came back as if never sent."""
    g1, _ = groups
    session = past(g1, days=1)
    url = reverse("sessions_app:attendance_record", args=[program.slug, session.pk])

    response = coordinator_client.post(url, {})

    assert response.status_code == 302
