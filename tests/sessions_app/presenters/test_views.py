"""The participant's "My sessions" page, volunteering, invitations, RSVP, attendance and the
figures pages, through the views: who may do what, messages, and query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app.models import Attendance, Presentation, ProgramRole, Rsvp
from tests.factories import (
    AttendanceFactory,
    ClinicianFactory,
    FacilitatorAbsenceFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    PresentationFactory,
    ProgramRoleFactory,
    SessionFactory,
    UserFactory,
)
from tests.sessions_app.helpers import messages_of, url


def text_of(response, element_id: str) -> str:
    match = re.search(
        rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', response.content.decode(), re.S
    )
    assert match, f"no #{element_id} in the page"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def member(group, **kwargs):
    return GroupMembershipFactory(
        group=group,
        clinician=ClinicianFactory(program=group.program, user=UserFactory(), **kwargs),
    ).clinician


def future(group, days: int = 10, **kwargs):
    return SessionFactory(group=group, starts_at=timezone.now() + timedelta(days=days), **kwargs)


def past(group, days: int = 10, **kwargs):
    return SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=days), **kwargs)


def lead_of(group):
    return FacilitatorAssignmentFactory(
        group=group, facilitator=FacilitatorFactory(program=group.program, user=UserFactory())
    ).facilitator.user


# --- My sessions -------------------------------------------------------------------------------


def test_participant_sees_only_own_groups_upcoming_sessions(client, program, group):
    ana = member(group)
    mine = future(group, days=10)
    past(group)
    other = future(GroupFactory(program=program, name="Group 2"))
    client.force_login(ana.user)

    response = client.get(url("my_sessions", program))

    assert response.status_code == 200
    assert [i.session.pk for i in response.context["items"]] == [mine.pk]
    page = response.content.decode()
    assert f'id="session-{mine.pk}"' in page
    assert f'id="session-{other.pk}"' not in page
    assert "Volunteer to present" in page


def test_my_sessions_shows_presenter_status_waitlist_position_and_turns(client, program, group):
    ana, ben, cy = member(group), member(group), member(group)
    session = future(group)
    PresentationFactory(session=session, clinician=ana)
    PresentationFactory(session=session, clinician=ben, status="waitlisted", slot=None)
    PresentationFactory(session=session, clinician=cy, status="waitlisted", slot=None)
    PresentationFactory(session=past(group), clinician=cy)
    client.force_login(cy.user)

    response = client.get(url("my_sessions", program))

    assert "On the waitlist, position 2" in response.content.decode()
    assert text_of(response, "my-turns") == "You presented 1 time this year."


def test_my_sessions_for_someone_without_a_group(coordinator_client, program):
    response = coordinator_client.get(url("my_sessions", program))

    assert response.status_code == 200
    assert "You are not a member of a group in this program" in response.content.decode()


def count_queries(client, path) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def test_my_sessions_costs_the_same_queries_for_1_and_20_sessions(client, program, group):
    ana, ben = member(group), member(group)
    client.force_login(ana.user)

    def add(i):
        s = future(group, days=3 + i)
        PresentationFactory(session=s, clinician=ben)
        PresentationFactory(session=s, clinician=ana, status="waitlisted", slot=None)
        Rsvp.objects.create(session=s, clinician=ana, answer="going")

    add(0)
    one = count_queries(client, url("my_sessions", program))
    for i in range(1, 20):
        add(i)

    assert count_queries(client, url("my_sessions", program)) == one


def facilitating(response) -> list[tuple[int, str]]:
    return [(item.session.pk, item.role_label) for item in response.context["facilitated"]]


def test_a_lead_facilitators_my_sessions_lists_the_sessions_they_lead(client, program, group):
    lead = lead_of(group)
    first, second = future(group, days=3), future(group, days=30)
    past(group, days=3)
    future(GroupFactory(program=program))  # another group's
    client.force_login(lead)

    response = client.get(url("my_sessions", program))

    assert response.status_code == 200
    assert facilitating(response) == [(first.pk, "Lead"), (second.pk, "Lead")]
    assert "You are not a member of a group" not in response.content.decode()
    assert url("session_agenda", program, pk=first.pk) in response.content.decode()


def test_a_facilitator_whose_groups_have_no_sessions_yet_is_told_so(client, program, group):
    client.force_login(lead_of(group))

    response = client.get(url("my_sessions", program))

    assert "No sessions are scheduled yet for the groups you facilitate." in (
        response.content.decode()
    )
    assert "You are not a member of a group" not in response.content.decode()


def test_a_backup_sees_their_sessions_marked_and_leads_those_the_lead_misses(
    client, program, group
):
    lead = FacilitatorAssignmentFactory(group=group, role="lead").facilitator
    backup = FacilitatorAssignmentFactory(
        group=group,
        role="backup",
        facilitator=FacilitatorFactory(program=program, user=UserFactory()),
    ).facilitator
    usual, covered = future(group, days=3), future(group, days=10)
    FacilitatorAbsenceFactory(session=covered, facilitator=lead)
    client.force_login(backup.user)

    response = client.get(url("my_sessions", program))

    assert facilitating(response) == [
        (usual.pk, "Backup"),
        (covered.pk, "Acting lead (the lead is absent)"),
    ]


def test_a_lead_marked_absent_sees_the_session_marked_so(client, program, group):
    lead_user = lead_of(group)
    session = future(group, days=3)
    FacilitatorAbsenceFactory(session=session, facilitator=lead_user.facilitator_roles.get())
    client.force_login(lead_user)

    response = client.get(url("my_sessions", program))

    assert facilitating(response) == [(session.pk, "Lead, marked absent")]


def test_my_sessions_of_a_facilitator_costs_the_same_queries_for_1_and_20_sessions(
    client, program, group
):
    lead = lead_of(group)
    client.force_login(lead)
    backup = FacilitatorAssignmentFactory(group=group, role="backup").facilitator

    def add(i):
        session = future(group, days=3 + i)
        FacilitatorAbsenceFactory(session=session, facilitator=backup)

    add(0)
    one = count_queries(client, url("my_sessions", program))
    for i in range(1, 20):
        add(i)

    assert count_queries(client, url("my_sessions", program)) == one


# --- Volunteering through the pages ------------------------------------------------------------


def test_volunteer_withdraw_and_promotion_through_the_pages(client, program, group):
    ana, ben = member(group), member(group)
    session = future(group)

    client.force_login(ana.user)
    first = client.post(
        url("presenter_volunteer", program, pk=session.pk),
        {"working_title": "The patient who calls every day"},
        follow=True,
    )
    client.force_login(ben.user)
    second = client.post(url("presenter_volunteer", program, pk=session.pk), follow=True)
    client.force_login(ana.user)
    mine = Presentation.objects.get(clinician=ana)
    withdrawn = client.post(url("presentation_withdraw", program, pk=mine.pk), follow=True)

    assert messages_of(first) == ["Thank you: you are presenting at this session."]
    assert messages_of(second)[0].startswith("The presenter slots are taken: you are on the")
    assert messages_of(withdrawn) == ["You have withdrawn from presenting."]
    assert Presentation.objects.get(clinician=ben).status == "confirmed"


def test_volunteering_for_another_groups_session_shows_a_message_and_saves_nothing(
    client, program, group
):
    ana = member(group)
    other = future(GroupFactory(program=program, name="Group 2"))
    client.force_login(ana.user)

    response = client.post(url("presenter_volunteer", program, pk=other.pk), follow=True)

    assert messages_of(response) == [
        "You can volunteer only for sessions of your own group; this session is Group 2's."
    ]
    assert Presentation.objects.count() == 0


def test_volunteering_with_a_too_long_title_saves_nothing(client, program, group):
    ana = member(group)
    session = future(group)
    client.force_login(ana.user)

    response = client.post(
        url("presenter_volunteer", program, pk=session.pk),
        {"working_title": "x" * 121},
        follow=True,
    )

    assert messages_of(response) == ["Ensure this value has at most 120 characters (it has 121)."]
    assert Presentation.objects.count() == 0


def test_someone_without_a_group_cannot_volunteer(coordinator_client, program, group):
    response = coordinator_client.post(url("presenter_volunteer", program, pk=future(group).pk))

    assert response.status_code == 403


def test_another_participant_cannot_withdraw_or_answer_for_someone(client, program, group):
    ana, ben = member(group), member(group)
    session = future(group)
    presenting = PresentationFactory(session=session, clinician=ana)
    invited = PresentationFactory(
        session=future(group, days=12), clinician=ana, status="invited", slot=None
    )
    client.force_login(ben.user)

    statuses = [
        client.post(url("presentation_withdraw", program, pk=presenting.pk)).status_code,
        client.post(url("presentation_accept", program, pk=invited.pk)).status_code,
        client.post(url("presentation_decline", program, pk=invited.pk)).status_code,
    ]

    assert statuses == [403, 403, 403]
    assert sorted(Presentation.objects.values_list("status", flat=True)) == ["confirmed", "invited"]


def test_lead_facilitator_invites_and_the_member_accepts(client, program, group):
    ana = member(group, first_name="Ana", last_name="Ruiz")
    session = future(group)
    client.force_login(lead_of(group))

    page = client.get(url("session_presenters", program, pk=session.pk))
    invite = client.post(
        url("presenter_invite", program, pk=session.pk), {"clinician": ana.pk}, follow=True
    )
    client.force_login(ana.user)
    invitation = Presentation.objects.get(clinician=ana)
    accepted = client.post(url("presentation_accept", program, pk=invitation.pk), follow=True)

    assert page.status_code == 200
    assert text_of(page, "suggestions").startswith("Ana Ruiz: 0 presentations, never yet")
    assert messages_of(invite) == ["Ana Ruiz has been asked to present."]
    assert messages_of(accepted) == ["Thank you: you are presenting at this session."]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.slot) == ("confirmed", 1)


def test_backup_facilitator_and_participants_may_not_invite(client, program, group):
    ana = member(group)
    session = future(group)
    backup = FacilitatorAssignmentFactory(
        group=group,
        role="backup",
        facilitator=FacilitatorFactory(program=program, user=UserFactory()),
    ).facilitator.user

    statuses = []
    for user in (backup, ana.user):
        client.force_login(user)
        statuses.append(
            client.post(
                url("presenter_invite", program, pk=session.pk), {"clinician": ana.pk}
            ).status_code
        )

    assert statuses == [403, 403]
    assert Presentation.objects.count() == 0


def test_member_declines_an_invitation(client, program, group):
    ana = member(group)
    invitation = PresentationFactory(
        session=future(group), clinician=ana, status="invited", slot=None
    )
    client.force_login(ana.user)

    response = client.post(url("presentation_decline", program, pk=invitation.pk), follow=True)

    assert messages_of(response) == ["You declined the invitation. Thank you for answering."]
    invitation.refresh_from_db()
    assert invitation.status == "declined"


def test_turns_page_lists_who_has_not_presented_for_the_facilitators_groups(client, program, group):
    ana = member(group, first_name="Ana", last_name="Abbot")
    ben = member(group, first_name="Ben", last_name="Baker")
    PresentationFactory(session=past(group), clinician=ana)
    other = GroupFactory(program=program, name="Group 2")
    member(other, first_name="Olga", last_name="Other")
    client.force_login(lead_of(group))

    response = client.get(url("presenter_turns", program))

    assert [g.group.name for g in response.context["groups"]] == ["Group 1"]
    assert text_of(response, f"not-yet-{group.pk}") == "Ben Baker"
    assert text_of(response, f"suggest-{group.pk}").startswith("Ben Baker (0)")
    assert ben.pk != ana.pk


# --- RSVP --------------------------------------------------------------------------------------


def test_member_rsvps(client, program, group):
    ana = member(group)
    session = future(group)
    client.force_login(ana.user)

    response = client.post(
        url("rsvp_set", program, pk=session.pk), {"answer": "not_going"}, follow=True
    )

    assert messages_of(response) == ["Your answer is saved: cannot make it."]
    assert list(Rsvp.objects.values_list("clinician", "answer")) == [(ana.pk, "not_going")]


def test_rsvp_for_a_past_session_is_refused(client, program, group):
    ana = member(group)
    client.force_login(ana.user)

    response = client.post(
        url("rsvp_set", program, pk=past(group).pk), {"answer": "going"}, follow=True
    )

    assert messages_of(response)[0].endswith("has already started.")
    assert Rsvp.objects.count() == 0


# --- Attendance --------------------------------------------------------------------------------


def test_facilitator_records_the_groups_attendance_with_a_guest(client, program, group):
    ana, ben = member(group, last_name="Ana"), member(group, last_name="Ben")
    guest = member(GroupFactory(program=program), last_name="Guest")
    session = past(group, days=0)
    Rsvp.objects.create(session=session, clinician=ben, answer="not_going")
    client.force_login(lead_of(group))

    form = client.get(url("attendance_record", program, pk=session.pk))
    response = client.post(
        url("attendance_record", program, pk=session.pk),
        {f"member_{ana.pk}": "present", f"member_{ben.pk}": "excused", "guests": [guest.pk]},
        follow=True,
    )

    assert form.status_code == 200
    # Those who said they cannot come start as excused.
    assert form.context["form"][f"member_{ben.pk}"].value() == "excused"
    assert messages_of(response) == ["Attendance saved for 3 people."]
    assert set(Attendance.objects.values_list("clinician__last_name", "status")) == {
        ("Ana", "present"),
        ("Ben", "excused"),
        ("Guest", "guest"),
    }


def test_a_large_programs_guests_are_searched_by_name_and_recorded(client, program, group):
    from sessions_app.presenters.forms import GUESTS_AS_BOXES

    ana = member(group, last_name="Ana")
    others = GroupFactory(program=program, name="Others")
    for _ in range(GUESTS_AS_BOXES):
        member(others, last_name="Nguyen")
    guest = member(others, last_name="Okafor", first_name="Chiamaka")
    session = past(group, days=0)
    client.force_login(lead_of(group))
    sheet = url("attendance_record", program, pk=session.pk)

    page = client.get(sheet).content.decode()
    found = client.get(url("attendance_guests", program, pk=session.pk) + "?q=oka").json()
    client.post(sheet, {f"member_{ana.pk}": "present", "guests": [guest.pk]})
    again = client.get(sheet).content.decode()

    assert "Nguyen" not in page and 'data-search-url="' in page
    assert found["results"] == [{"value": guest.pk, "text": guest.full_name}]
    assert set(Attendance.objects.values_list("clinician__last_name", "status")) == {
        ("Ana", "present"),
        ("Okafor", "guest"),
    }
    # The guest recorded is shown as chosen; the rest of the roster still is not.
    assert f'<option value="{guest.pk}" selected>' in again and "Nguyen" not in again


def test_attendance_before_the_session_starts_is_refused(client, program, group):
    ana = member(group)
    session = future(group)
    client.force_login(lead_of(group))

    response = client.post(
        url("attendance_record", program, pk=session.pk), {f"member_{ana.pk}": "present"}
    )

    assert response.status_code == 400
    assert "Attendance can be recorded once the session has started" in response.content.decode()
    assert Attendance.objects.count() == 0


def test_answers_so_far_counts_the_answers_of_the_people_listed(client, program, group):
    ana, ben, cleo = member(group), member(group), member(group)
    moved = member(group)
    session = future(group)
    Rsvp.objects.create(session=session, clinician=ana, answer="going")
    Rsvp.objects.create(session=session, clinician=ben, answer="not_going")
    # Someone who answered, then moved to another group: no longer on the list.
    Rsvp.objects.create(session=session, clinician=moved, answer="going")
    moved.memberships.update(left_on=timezone.localdate())
    client.force_login(lead_of(group))

    response = client.get(url("attendance_record", program, pk=session.pk))

    listed = [rsvp for _member, _field, rsvp in response.context["rows"]]
    assert sorted(map(str, listed)) == ["None", "going", "not_going"]
    (summary,) = re.findall(r"Answers so far:[^<]*", response.content.decode())
    assert " ".join(summary.split()) == "Answers so far: 2 of 3 listed: 1 going, 1 cannot make it."
    assert cleo.pk in [m.pk for m, _f, _r in response.context["rows"]]


def test_participants_cannot_record_attendance(client, program, group):
    ana = member(group)
    client.force_login(ana.user)

    assert client.get(url("attendance_record", program, pk=past(group).pk)).status_code == 403


# --- Figures and credit ------------------------------------------------------------------------


def test_report_viewer_sees_the_share_of_eligible_clinicians_attending_regularly(
    client, program, group
):
    program.eligible_clinicians = 66
    program.save()
    people = [member(group) for _ in range(3)]
    s1, s2 = past(group, days=20), past(group, days=10)
    AttendanceFactory(session=s1, clinician=people[0])
    AttendanceFactory(session=s2, clinician=people[0])
    AttendanceFactory(session=s1, clinician=people[1])
    AttendanceFactory(session=s1, clinician=people[2], status="absent")
    viewer = ProgramRoleFactory(program=program, role=ProgramRole.Role.REPORT_VIEWER).user
    client.force_login(viewer)

    response = client.get(url("attendance_figures", program))

    # Two people attended at least half of the two held sessions: 2 of 66 = 3%.
    assert (
        text_of(response, "regular-share") == "2 of 66 eligible clinicians (3%) attend regularly."
    )


def test_facilitator_sees_figures_of_their_own_groups_only(client, program, group):
    member(group)
    other = GroupFactory(program=program, name="Group 2")
    member(other)
    client.force_login(lead_of(group))

    response = client.get(url("attendance_figures", program))

    assert [g.group.name for g in response.context["figures"].groups] == ["Group 1"]
    assert 'id="regular-share"' not in response.content.decode()


def test_participants_do_not_see_attendance_figures(client, program, group):
    client.force_login(member(group).user)

    assert client.get(url("attendance_figures", program)).status_code == 403


def test_credit_csv(coordinator_client, program, group):
    program.credit_hours_per_session = Decimal("1.25")
    program.save()
    ana = member(group, first_name="Ana", last_name="Ruiz", email="ana@example.org")
    ben = member(group, first_name="Ben", last_name="=Okoro", email="ben@example.org")
    for s in (past(group, days=30), past(group, days=20)):
        AttendanceFactory(session=s, clinician=ana)
    AttendanceFactory(session=past(group, days=5), clinician=ben, status="absent")

    response = coordinator_client.get(url("credit_export", program))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "last_name",
            "first_name",
            "email",
            "group",
            "sessions_attended",
            "in_own_group",
            "as_guest",
            "own_group_sessions_recorded",
            "credit_hours",
        ],
        ["'=Okoro", "Ben", "ben@example.org", "Group 1", "0", "0", "0", "3", "0.00"],
        ["Ruiz", "Ana", "ana@example.org", "Group 1", "2", "2", "0", "3", "2.50"],
    ]


def test_credit_page_lists_hours(coordinator_client, program, group):
    ana = member(group, first_name="Ana", last_name="Ruiz")
    AttendanceFactory(session=past(group), clinician=ana)

    response = coordinator_client.get(url("credit_summary", program))

    assert text_of(response, "credit-table").endswith("Ruiz, Ana Group 1 1 1.00")


def test_attendance_figures_cost_the_same_queries_for_1_and_20_sessions(
    coordinator_client, program, group
):
    people = [member(group) for _ in range(3)]

    def add(i):
        s = past(group, days=1 + i)
        for c in people:
            AttendanceFactory(session=s, clinician=c)

    add(0)
    path = url("attendance_figures", program)
    one = count_queries(coordinator_client, path)
    for i in range(1, 20):
        add(i)

    assert count_queries(coordinator_client, path) == one


@pytest.mark.parametrize("name", ["presenter_turns", "credit_summary"])
def test_program_pages_cost_the_same_queries_for_1_and_20_sessions(
    coordinator_client, program, group, name
):
    people = [member(group) for _ in range(3)]

    def add(i):
        PresentationFactory(session=future(group, days=3 + i), clinician=people[i % 3])
        AttendanceFactory(session=past(group, days=1 + i), clinician=people[i % 3])

    add(0)
    one = count_queries(coordinator_client, url(name, program))
    for i in range(1, 20):
        add(i)

    assert count_queries(coordinator_client, url(name, program)) == one


def test_attendance_figures_of_many_groups_show_one_groups_sessions_and_people_at_a_time(
    client, program
):
    from sessions_app.presenters.views import FIGURES_ALL_GROUPS

    made = [GroupFactory(program=program, name=f"Team {n}") for n in range(FIGURES_ALL_GROUPS + 1)]
    people = [member(g, last_name=f"Member{n}") for n, g in enumerate(made)]
    for g in made:
        past(g)
    client.force_login(ProgramRoleFactory(program=program).user)
    figures = url("attendance_figures", program)

    overview = client.get(figures)
    one = client.get(figures + f"?group={made[2].pk}")

    assert [g.group.name for g in overview.context["figures"].groups] == [g.name for g in made]
    assert overview.context["sessions"] == [] and overview.context["people"] == []
    assert "choose one to see its sessions and people" in overview.content.decode()
    assert {s.group_id for s in one.context["sessions"]} == {made[2].pk}
    assert [p.clinician.pk for p in one.context["people"]] == [people[2].pk]
