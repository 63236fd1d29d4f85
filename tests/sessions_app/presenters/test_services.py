"""Presenter volunteering, waitlist and promotion, invitations, fair turns, RSVPs, attendance,
attendance figures and continuing-education credit (services)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.models import Attendance, Presentation, Rsvp, Session
from sessions_app.presenters import selectors as presenters_selectors
from sessions_app.presenters import services as presenters_services
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramRoleFactory,
    SessionFactory,
    UserFactory,
)
from tests.sessions_app.helpers import RULE

CONFIRMED = Presentation.Status.CONFIRMED
WAITLISTED = Presentation.Status.WAITLISTED
INVITED = Presentation.Status.INVITED


def member(group, **clinician):
    return GroupMembershipFactory(
        group=group, clinician=ClinicianFactory(program=group.program, **clinician)
    ).clinician


def future(group, days: int = 10, **kwargs) -> Session:
    return SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=days), **kwargs)


def past(group, days: int = 10, **kwargs) -> Session:
    return SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=days), **kwargs)


def states(session) -> list[tuple[str, str, int | None]]:
    return [
        (p.clinician.last_name, p.status, p.slot)
        for p in session.presentations.select_related("clinician").order_by("created_at", "id")
    ]


# --- Volunteering, waitlist, withdrawal, promotion ---------------------------------------------


def test_first_volunteer_gets_the_slot_with_a_working_title(group):
    ana = member(group, last_name="Ana")
    session = future(group)

    p = presenters_services.presenter_volunteer(
        session=session, clinician=ana, working_title="  A patient who never agrees  ", actor=None
    )

    assert (p.status, p.slot, p.working_title) == (CONFIRMED, 1, "A patient who never agrees")
    assert AuditEvent.objects.filter(action="presenter.volunteer").count() == 1


def test_volunteer_joins_waitlist_when_slot_taken(group):
    ana, ben, cy = (
        member(group, last_name="Ana"),
        member(group, last_name="Ben"),
        member(group, last_name="Cy"),
    )
    session = future(group)

    for c in (ana, ben, cy):
        presenters_services.presenter_volunteer(session=session, clinician=c, actor=None)

    assert states(session) == [
        ("Ana", CONFIRMED, 1),
        ("Ben", WAITLISTED, None),
        ("Cy", WAITLISTED, None),
    ]


def test_two_slots_are_filled_in_order(group):
    session = future(group, presenter_slots=2)
    people = [member(group, last_name=n) for n in ("Ana", "Ben", "Cy")]

    for c in people:
        presenters_services.presenter_volunteer(session=session, clinician=c, actor=None)

    assert states(session) == [
        ("Ana", CONFIRMED, 1),
        ("Ben", CONFIRMED, 2),
        ("Cy", WAITLISTED, None),
    ]


def test_withdrawal_promotes_the_earliest_waitlisted_and_tells_them(group):
    session = future(group)
    ana, ben, cy = (member(group, last_name=n) for n in ("Ana", "Ben", "Cy"))
    first = presenters_services.presenter_volunteer(session=session, clinician=ana, actor=None)
    second = presenters_services.presenter_volunteer(session=session, clinician=ben, actor=None)
    presenters_services.presenter_volunteer(session=session, clinician=cy, actor=None)

    presenters_services.presenter_withdraw(presentation=first, actor=None)

    assert states(session) == [
        ("Ana", Presentation.Status.WITHDRAWN, None),
        ("Ben", CONFIRMED, 1),
        ("Cy", WAITLISTED, None),
    ]
    events = AuditEvent.objects.filter(action="notify.presenter.promoted")
    assert [(e.program_id, e.data) for e in events] == [
        (group.program_id, {"presentation_id": second.pk})
    ]


def test_withdrawing_from_the_waitlist_promotes_nobody(group):
    session = future(group)
    ana, ben = member(group, last_name="Ana"), member(group, last_name="Ben")
    presenters_services.presenter_volunteer(session=session, clinician=ana, actor=None)
    waiting = presenters_services.presenter_volunteer(session=session, clinician=ben, actor=None)

    presenters_services.presenter_withdraw(presentation=waiting, actor=None)

    assert states(session) == [("Ana", CONFIRMED, 1), ("Ben", Presentation.Status.WITHDRAWN, None)]
    assert not AuditEvent.objects.filter(action="notify.presenter.promoted").exists()


def test_someone_who_withdrew_may_volunteer_again_at_the_back_of_the_line(group):
    session = future(group)
    ana, ben = member(group, last_name="Ana"), member(group, last_name="Ben")
    first = presenters_services.presenter_volunteer(session=session, clinician=ana, actor=None)
    presenters_services.presenter_volunteer(session=session, clinician=ben, actor=None)
    presenters_services.presenter_withdraw(presentation=first, actor=None)

    again = presenters_services.presenter_volunteer(session=session, clinician=ana, actor=None)

    assert (again.status, again.slot) == (WAITLISTED, None)


def test_the_database_refuses_two_presenters_in_one_slot(group):
    from django.db import IntegrityError, transaction

    session = future(group)
    PresentationFactory(session=session, clinician=member(group), slot=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        PresentationFactory(session=session, clinician=member(group), slot=1)

    assert session.presentations.count() == 1


# --- Refusals ----------------------------------------------------------------------------------


def refused(**kwargs) -> list[str]:
    with pytest.raises(ValidationError) as exc:
        presenters_services.presenter_volunteer(actor=None, **kwargs)
    return exc.value.messages


def test_volunteering_for_another_groups_session_is_refused(program, group):
    other = GroupFactory(program=program, name="Group 2")
    session = future(other)

    messages = refused(session=session, clinician=member(group))

    assert messages == [
        "You can volunteer only for sessions of your own group; this session is Group 2's."
    ]
    assert Presentation.objects.count() == 0


def test_volunteering_for_a_cancelled_session_is_refused(group):
    session = future(group, status=Session.Status.CANCELLED)

    messages = refused(session=session, clinician=member(group))

    assert len(messages) == 1 and messages[0].endswith("is cancelled.")
    assert Presentation.objects.count() == 0


def test_volunteering_for_a_past_session_is_refused(group):
    session = past(group)

    messages = refused(session=session, clinician=member(group))

    assert messages[0].endswith("has already taken place.")
    assert Presentation.objects.count() == 0


def test_volunteering_twice_is_refused_and_nothing_changes(group):
    session = future(group)
    ana = member(group)
    presenters_services.presenter_volunteer(session=session, clinician=ana, actor=None)

    messages = refused(session=session, clinician=ana)

    assert messages == ["You already volunteered for this session and are presenting."]
    assert Presentation.objects.count() == 1


def test_a_too_long_title_is_refused(group):
    messages = refused(session=future(group), clinician=member(group), working_title="x" * 121)

    assert messages == ["Keep the working title to 120 characters (it has 121)."]
    assert Presentation.objects.count() == 0


def test_a_working_title_with_a_patient_identifier_is_refused(group):
    messages = refused(
        session=future(group), clinician=member(group), working_title="Mr. Okafor's MRN 4471923"
    )

    *found, rule = messages
    assert len(found) == 2
    assert all(m.startswith("The working title must not identify the patient") for m in found)
    assert "Mr. Okafor" in found[0]
    assert "4471923" in found[1]
    assert rule == RULE  # the rule the form's help text states
    assert Presentation.objects.count() == 0


def test_volunteering_closes_days_before_the_session(program, group):
    program.volunteer_close_days = 3
    program.save()
    session = future(group, days=5)
    ana = member(group)
    three_days_before = session.starts_at - timedelta(days=3)

    open_just_before = presenters_services.presenter_volunteer(
        session=session,
        clinician=ana,
        actor=None,
        now=three_days_before - timedelta(minutes=1),
    )
    ben = member(group)
    with pytest.raises(ValidationError) as exc:
        presenters_services.presenter_volunteer(
            session=session, clinician=ben, actor=None, now=three_days_before
        )

    assert open_just_before.status == CONFIRMED
    assert "closed on" in exc.value.messages[0]
    assert "(3 days before)" in exc.value.messages[0]
    assert Presentation.objects.filter(clinician=ben).count() == 0


# --- Invitations -------------------------------------------------------------------------------


def test_invited_member_who_accepts_takes_a_free_slot(group):
    session = future(group)
    ana = member(group)
    coordinator = UserFactory()

    invitation = presenters_services.presenter_invite(
        session=session, clinician=ana, actor=coordinator
    )
    accepted = presenters_services.presenter_accept(
        presentation=invitation, actor=None, working_title="Anger"
    )

    assert (invitation.status, invitation.invited_by) == (INVITED, coordinator)
    assert (accepted.status, accepted.slot, accepted.working_title) == (CONFIRMED, 1, "Anger")
    assert AuditEvent.objects.filter(action="notify.presenter.invited").count() == 1


def test_invited_member_who_accepts_when_full_joins_the_back_of_the_waitlist(group):
    session = future(group)
    ana, ben, cy = (member(group, last_name=n) for n in ("Ana", "Ben", "Cy"))
    invitation = presenters_services.presenter_invite(session=session, clinician=cy, actor=None)
    presenters_services.presenter_volunteer(session=session, clinician=ana, actor=None)
    presenters_services.presenter_volunteer(session=session, clinician=ben, actor=None)

    presenters_services.presenter_accept(presentation=invitation, actor=None)

    waiting = list(
        session.presentations.filter(status=WAITLISTED)
        .order_by("created_at", "id")
        .values_list("clinician__last_name", flat=True)
    )
    assert waiting == ["Ben", "Cy"]


def test_declining_an_invitation(group):
    session = future(group)
    invitation = presenters_services.presenter_invite(
        session=session, clinician=member(group), actor=None
    )

    declined = presenters_services.presenter_decline(presentation=invitation, actor=None)

    assert declined.status == Presentation.Status.DECLINED
    with pytest.raises(ValidationError) as exc:
        presenters_services.presenter_accept(presentation=declined, actor=None)
    assert exc.value.messages == ["This invitation has already been answered."]


def test_inviting_someone_outside_the_group_or_already_lined_up_is_refused(program, group):
    session = future(group)
    outsider = member(GroupFactory(program=program), first_name="Olga", last_name="Out")
    ana = member(group, first_name="Ana", last_name="In")
    presenters_services.presenter_volunteer(session=session, clinician=ana, actor=None)

    with pytest.raises(ValidationError) as outside:
        presenters_services.presenter_invite(session=session, clinician=outsider, actor=None)
    with pytest.raises(ValidationError) as lined_up:
        presenters_services.presenter_invite(session=session, clinician=ana, actor=None)

    assert outside.value.messages == ["Olga Out is not a member of Group 1."]
    assert lined_up.value.messages == ["Ana In is already presenting for this session."]
    assert Presentation.objects.count() == 1


def test_volunteering_while_invited_points_to_the_invitation(group):
    session = future(group)
    ana = member(group)
    presenters_services.presenter_invite(session=session, clinician=ana, actor=None)

    assert refused(session=session, clinician=ana) == [
        "You have been asked to present at this session: accept or decline the invitation."
    ]


def test_only_coordinator_and_lead_facilitator_may_invite(program, group):
    session = future(group)
    lead = FacilitatorAssignmentFactory(
        group=group, facilitator=FacilitatorFactory(program=program, user=UserFactory())
    )
    backup = FacilitatorAssignmentFactory(
        group=group,
        role="backup",
        facilitator=FacilitatorFactory(program=program, user=UserFactory()),
    )
    coordinator = ProgramRoleFactory(program=program).user

    allowed = {
        "lead": presenters_services.can_invite(lead.facilitator.user, session),
        "backup": presenters_services.can_invite(backup.facilitator.user, session),
        "coordinator": presenters_services.can_invite(coordinator, session),
        "stranger": presenters_services.can_invite(UserFactory(), session),
    }

    assert allowed == {"lead": True, "backup": False, "coordinator": True, "stranger": False}


# --- Fair turns --------------------------------------------------------------------------------


def test_fair_turn_suggestions_fewest_then_longest_since_then_name(group):
    now = timezone.now()
    names = ["Adams", "Baker", "Clark", "Davis", "Evans"]
    people = {n: member(group, last_name=n, first_name="X") for n in names}
    long_ago, recently = past(group, days=60), past(group, days=5)
    another = past(group, days=30)
    # Adams: 2 presentations; Baker: 1 long ago; Clark: 1 recently; Davis and Evans: none.
    PresentationFactory(session=long_ago, clinician=people["Adams"])
    PresentationFactory(session=another, clinician=people["Adams"])
    PresentationFactory(session=recently, clinician=people["Clark"], slot=1)
    PresentationFactory(session=another, clinician=people["Baker"], slot=2)
    # A withdrawn presentation does not count.
    PresentationFactory(session=recently, clinician=people["Evans"], status="withdrawn", slot=None)

    [turns] = presenters_selectors.fair_turns_list(program=group.program, now=now)

    order = [t.clinician.last_name for t in turns.suggestions]
    assert order == ["Davis", "Evans", "Baker", "Clark", "Adams"]
    assert [t.clinician.last_name for t in turns.not_yet] == ["Davis", "Evans"]


def test_people_already_lined_up_are_not_suggested(group):
    member(group, last_name="Ana")
    ben = member(group, last_name="Ben")
    presenters_services.presenter_volunteer(session=future(group), clinician=ben, actor=None)

    [turns] = presenters_selectors.fair_turns_list(program=group.program)

    assert [t.clinician.last_name for t in turns.suggestions] == ["Ana"]


def test_participant_sees_past_and_upcoming_presentations_separately(group):
    ana = member(group)
    PresentationFactory(session=past(group, days=40), clinician=ana)
    PresentationFactory(session=past(group, days=10), clinician=ana)
    PresentationFactory(session=future(group), clinician=ana)
    PresentationFactory(session=past(group, days=20), clinician=ana, status="withdrawn", slot=None)

    turns = presenters_selectors.turns_for(clinician=ana)

    assert (turns.past, turns.upcoming) == (2, 1)


# --- RSVP --------------------------------------------------------------------------------------


def test_rsvp_is_saved_and_changed(group):
    session, ana = future(group), member(group)

    presenters_services.rsvp_set(session=session, clinician=ana, answer="going", actor=None)
    presenters_services.rsvp_set(session=session, clinician=ana, answer="not_going", actor=None)

    assert list(Rsvp.objects.values_list("clinician", "answer")) == [(ana.pk, "not_going")]


@pytest.mark.parametrize(
    "case, ending",
    [
        ("other_group", "this session is Group 2's."),
        ("cancelled", "is cancelled."),
        ("past", "has already started."),
    ],
)
def test_rsvp_refusals(program, group, case, ending):
    ana = member(group)
    session = {
        "other_group": lambda: future(GroupFactory(program=program, name="Group 2")),
        "cancelled": lambda: future(group, status=Session.Status.CANCELLED),
        "past": lambda: past(group),
    }[case]()

    with pytest.raises(ValidationError) as exc:
        presenters_services.rsvp_set(session=session, clinician=ana, answer="going", actor=None)

    assert exc.value.messages[0].endswith(ending)
    assert Rsvp.objects.count() == 0


# --- Attendance --------------------------------------------------------------------------------


def test_attendance_for_the_whole_group_with_a_guest(program, group):
    ana, ben, cy = (member(group, last_name=n) for n in ("Ana", "Ben", "Cy"))
    guest = member(GroupFactory(program=program), last_name="Guest")
    session = past(group, days=0)
    recorder = UserFactory()

    count = presenters_services.attendance_record(
        session=session,
        statuses={ana.pk: "present", ben.pk: "absent", cy.pk: "excused"},
        guest_ids=[guest.pk],
        actor=recorder,
    )

    assert count == 4
    rows = set(Attendance.objects.values_list("clinician__last_name", "status", "recorded_by"))
    assert rows == {
        ("Ana", "present", recorder.pk),
        ("Ben", "absent", recorder.pk),
        ("Cy", "excused", recorder.pk),
        ("Guest", "guest", recorder.pk),
    }


def test_recording_again_updates_and_drops_removed_guests(program, group):
    ana = member(group, last_name="Ana")
    guest = member(GroupFactory(program=program), last_name="Guest")
    session = past(group)
    presenters_services.attendance_record(
        session=session, statuses={ana.pk: "absent"}, guest_ids=[guest.pk], actor=None
    )

    presenters_services.attendance_record(
        session=session, statuses={ana.pk: "present"}, guest_ids=[], actor=None
    )

    assert list(Attendance.objects.values_list("clinician__last_name", "status")) == [
        ("Ana", "present")
    ]


def test_attendance_refusals_save_nothing(program, group):
    ana = member(group)
    stranger = ClinicianFactory()  # another program
    session = past(group)

    with pytest.raises(ValidationError) as guest_elsewhere:
        presenters_services.attendance_record(
            session=session, statuses={ana.pk: "present"}, guest_ids=[stranger.pk], actor=None
        )
    with pytest.raises(ValidationError) as member_as_guest:
        presenters_services.attendance_record(
            session=session, statuses={}, guest_ids=[ana.pk], actor=None
        )
    with pytest.raises(ValidationError) as not_started:
        presenters_services.attendance_record(
            session=future(group), statuses={ana.pk: "present"}, guest_ids=[], actor=None
        )

    assert guest_elsewhere.value.messages == ["Guests must be clinicians of the same program."]
    assert member_as_guest.value.messages == ["A member of the group cannot also be a guest."]
    assert not_started.value.messages[0].startswith("Attendance can be recorded once")
    assert Attendance.objects.count() == 0


# --- Figures and credit ------------------------------------------------------------------------


def test_attendance_figures_and_credit(program, group):
    program.eligible_clinicians = 10
    program.credit_hours_per_session = Decimal("1.50")
    program.save()
    g2 = GroupFactory(program=program, name="Group 2")
    a = [member(group, last_name=f"A{i}") for i in range(4)]
    b = [member(g2, last_name=f"B{i}") for i in range(2)]
    s1, s2, s3 = past(group, days=30), past(group, days=20), past(group, days=10)
    past(group, days=5, status=Session.Status.CANCELLED)  # not held
    future(group)  # not held yet
    t1 = past(g2, days=15)
    # Group 1: A0 at all 3, A1 at 2 of 3, A2 at 1 of 3 (+1 guest visit to group 2), A3 none.
    for s, people in ((s1, a[:3]), (s2, a[:2]), (s3, a[:1])):
        for c in people:
            AttendanceFactory(session=s, clinician=c)
    AttendanceFactory(session=s3, clinician=a[3], status="absent")
    AttendanceFactory(session=t1, clinician=a[2], status="guest")
    AttendanceFactory(session=t1, clinician=b[0])
    AttendanceFactory(session=t1, clinician=b[1], status="excused")

    f = presenters_selectors.attendance_figures(program=program)

    # Guests are not members: A2's visit to group 2 is not in its rate (it was 2 / 2).
    assert [(s.present, s.members, s.guests) for s in f.sessions] == [
        (3, 4, 0),
        (2, 4, 0),
        (1, 2, 1),
        (1, 4, 0),
    ]
    people = {
        p.clinician.last_name: (p.attended, p.held, p.guest_visits, p.credit_hours)
        for p in f.people
    }
    assert people == {
        "A0": (3, 3, 0, Decimal("4.50")),
        "A1": (2, 3, 0, Decimal("3.00")),
        "A2": (1, 3, 1, Decimal("3.00")),
        "A3": (0, 3, 0, Decimal("0.00")),
        "B0": (1, 1, 0, Decimal("1.50")),
        "B1": (0, 1, 0, Decimal("0.00")),
    }
    # Regular: at least half of the group's held sessions (a guest visit elsewhere counts):
    # A0, A1, A2 (1 + 1 visit of 3), B0 (1 of 1).
    assert (f.held, f.regular, f.eligible) == (4, 4, 10)
    assert f.regular_sentence == "4 of 10 eligible clinicians (40%) attend regularly"
    groups = {
        g.group.name: (g.members, g.held, g.attendances, g.member_sessions, g.guests, g.regular)
        for g in f.groups
    }
    assert groups == {"Group 1": (4, 3, 6, 12, 0, 3), "Group 2": (2, 1, 1, 2, 1, 1)}


def test_eligible_falls_back_to_the_roster_size(program, group):
    member(group)
    ClinicianFactory(program=program)

    f = presenters_selectors.attendance_figures(program=program)

    assert (f.eligible, f.regular, f.regular_sentence) == (
        2,
        0,
        "0 of 2 eligible clinicians (0%) attend regularly",
    )


def test_credit_summary_includes_former_members_with_credit(program, group):
    ana = member(group, last_name="Ana")
    former = ClinicianFactory(program=program, last_name="Former")
    session = past(group)
    AttendanceFactory(session=session, clinician=ana)
    AttendanceFactory(session=session, clinician=former)

    rows = [
        (p.clinician.last_name, p.sessions_credited, p.credit_hours)
        for p in presenters_selectors.credit_summary(program=program)
    ]

    assert rows == [("Ana", 1, Decimal("1.00")), ("Former", 1, Decimal("1.00"))]


# --- The demo year -----------------------------------------------------------------------------


def test_seed_demo_schedules_the_year_with_presenters_and_attendance(db):
    from io import StringIO

    from django.core.management import call_command
    from django.test import override_settings

    from sessions_app.models import Room, RoomBooking

    with override_settings(DEBUG=True):  # as `make run` loads it
        call_command("seed_demo", stdout=StringIO())
        call_command("seed_demo", stdout=StringIO())  # idempotent

    now = timezone.now()
    sessions = Session.objects.select_related("group", "room")
    per_group = {}
    for s in sessions:
        per_group.setdefault(s.group.name, []).append(s)
    assert {name: len(items) for name, items in per_group.items()} == {
        "Group 1": 7,
        "Group 2": 7,
        "Group 3": 7,
    }
    assert Room.objects.count() == 3
    held = [s for s in sessions if s.starts_at <= now]
    assert 3 <= len(held) // 3 <= 4 and len(held) % 3 == 0
    assert all(s.room is not None and s.agenda_name == "CCDG 60 minutes" for s in sessions)
    assert RoomBooking.objects.count() == 21 * 12  # 60 minutes in five-minute slots
    # Every held session has a presenter and everyone's attendance (10 per group).
    assert Presentation.objects.filter(session__in=held, status=CONFIRMED).count() == len(held)
    assert Attendance.objects.filter(session__in=held).count() == 10 * len(held)
    assert not Attendance.objects.filter(session__starts_at__gt=now).exists()
    assert Rsvp.objects.exists()
    figures = presenters_selectors.attendance_figures(program=sessions[0].group.program)
    assert figures.eligible == 66
    assert 0 < figures.regular <= 30
