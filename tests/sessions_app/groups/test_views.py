"""Group pages: the list and a group's page (who sees whose members), the assignment preview,
moves and commit, the rules page, facilitators and their coverage."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app.groups import services as groups_services
from sessions_app.models import (
    AssignmentConstraint,
    AssignmentRun,
    Clinician,
    Facilitator,
    FacilitatorAssignment,
    Group,
    GroupMembership,
)
from tests.factories import (
    AssignmentConstraintFactory,
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    RoomFactory,
    SessionFactory,
    UserFactory,
)
from tests.sessions_app.helpers import messages_of, page_text, url

ACTIVE = Clinician.Status.ACTIVE


def element_text(response, element_id: str) -> str:
    """The text of the element with ``element_id`` (no nested element of the same tag)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', page_text(response), re.S)
    assert match, f"no #{element_id} in the page"
    return re.sub(r"<[^>]+>", "", match.group(2)).strip()


def active_people(program, n: int = 9) -> list[Clinician]:
    return [
        ClinicianFactory(
            program=program,
            status=ACTIVE,
            first_name=f"Person{i}",
            last_name="Test",
            discipline=("physician", "physician", "nurse_practitioner")[i % 3],
        )
        for i in range(n)
    ]


def preview(program, **kwargs) -> AssignmentRun:
    request = groups_services.AssignmentRequest(
        **{"groups": 3, "min_size": 2, "max_size": 4, **kwargs}
    )
    run = groups_services.assignment_preview(program=program, actor=None, request=request)
    assert isinstance(run, AssignmentRun), run
    return run


# --- Who sees which group's members ----------------------------------------------------------


@pytest.fixture
def two_groups(program):
    """Group A (Alice Member, lead Dr. Lead A) and group B (Bruno Member, lead Dr. Lead B)."""
    a = GroupFactory(program=program, name="Group A")
    b = GroupFactory(program=program, name="Group B")
    alice = GroupMembershipFactory(
        group=a,
        clinician__first_name="Alice",
        clinician__last_name="Member",
        clinician__user=UserFactory(),
    ).clinician
    bruno = GroupMembershipFactory(
        group=b,
        clinician__first_name="Bruno",
        clinician__last_name="Member",
        clinician__user=UserFactory(),
    ).clinician
    lead_a = FacilitatorAssignmentFactory(
        group=a, facilitator__name="Dr. Lead A", facilitator__user=UserFactory()
    ).facilitator
    FacilitatorAssignmentFactory(group=b, facilitator__name="Dr. Lead B")
    return {"a": a, "b": b, "alice": alice, "bruno": bruno, "lead_a": lead_a}


def test_participant_sees_the_members_of_their_own_group_only(client, program, two_groups):
    client.force_login(two_groups["alice"].user)

    response = client.get(url("group_list", program))

    assert response.status_code == 200
    text = page_text(response)
    assert "Group A" in text and "Group B" in text
    assert "Alice Member" in text
    assert "Bruno Member" not in text
    assert url("group_detail", program, pk=two_groups["a"].pk) in text
    assert url("group_detail", program, pk=two_groups["b"].pk) not in text
    assert "Assign participants to groups" not in text


def test_participant_opens_their_group_but_not_another(client, program, two_groups):
    client.force_login(two_groups["alice"].user)

    own = client.get(url("group_detail", program, pk=two_groups["a"].pk))
    other = client.get(url("group_detail", program, pk=two_groups["b"].pk))

    assert (own.status_code, other.status_code) == (200, 403)
    assert [c.full_name for c in own.context["members"]] == ["Alice Member"]
    assert "Dr. Lead A" in page_text(own)
    assert "Bruno Member" not in page_text(own)
    assert "Assign a facilitator" not in page_text(own)


def test_participant_sees_their_groups_upcoming_sessions_in_the_program_time_zone(
    client, program, two_groups
):
    program.timezone = "America/Chicago"
    program.save()
    tz = zoneinfo.ZoneInfo("America/Chicago")
    day = (timezone.now() + timedelta(days=20)).astimezone(tz).date()
    starts = datetime(day.year, day.month, day.day, 7, 30, tzinfo=tz)
    SessionFactory(group=two_groups["a"], starts_at=starts)
    SessionFactory(group=two_groups["a"], starts_at=timezone.now() - timedelta(days=3))  # past
    SessionFactory(group=two_groups["b"], starts_at=starts + timedelta(hours=2))  # other group
    client.force_login(two_groups["alice"].user)

    response = client.get(url("group_detail", program, pk=two_groups["a"].pk))

    schedule = element_text(response, "group-schedule")
    assert f"{starts:%a %b} {starts.day}, {starts.year} · 07:30" in schedule
    assert "09:30" not in schedule
    assert len(response.context["sessions"]) == 1


def test_facilitator_sees_the_members_of_the_groups_they_facilitate(client, program, two_groups):
    client.force_login(two_groups["lead_a"].user)

    listing = client.get(url("group_list", program))
    own = client.get(url("group_detail", program, pk=two_groups["a"].pk))
    other = client.get(url("group_detail", program, pk=two_groups["b"].pk))

    assert "Alice Member" in page_text(listing)
    assert "Bruno Member" not in page_text(listing)
    assert (own.status_code, other.status_code) == (200, 403)
    assert "Alice Member" in page_text(own)


def test_coordinator_sees_every_group_and_its_members(coordinator_client, program, two_groups):
    response = coordinator_client.get(url("group_list", program))

    text = page_text(response)
    assert "Alice Member" in text and "Bruno Member" in text
    assert "Assign participants to groups" in text
    detail = coordinator_client.get(url("group_detail", program, pk=two_groups["b"].pk))
    assert "Bruno Member" in page_text(detail)
    assert "Assign a facilitator" in page_text(detail)


def test_former_members_are_not_listed(coordinator_client, program):
    group = GroupFactory(program=program)
    GroupMembershipFactory(
        group=group,
        clinician__first_name="Gone",
        clinician__last_name="Away",
        left_on=timezone.localdate(),
    )

    response = coordinator_client.get(url("group_detail", program, pk=group.pk))

    assert response.context["members"] == []
    assert "Gone Away" not in page_text(response)


def test_a_group_of_another_program_is_404(coordinator_client, program):
    elsewhere = GroupFactory()

    response = coordinator_client.get(url("group_detail", program, pk=elsewhere.pk))

    assert response.status_code == 404


# --- Query counts ----------------------------------------------------------------------------


def add_group(program, member_user=None, facilitator_user=None):
    group = GroupFactory(program=program, default_room=RoomFactory(program=program))
    for _ in range(3):
        GroupMembershipFactory(group=group)
    if member_user is not None:
        GroupMembershipFactory(group=group, clinician__user=member_user)
    FacilitatorAssignmentFactory(group=group, role="lead", facilitator__user=facilitator_user)
    FacilitatorAssignmentFactory(group=group, role="backup")
    return group


def queries_of(client, path) -> int:
    client.get(path)  # warm up the session
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", ["group_list", "facilitator_list"])
def test_coordinator_pages_cost_the_same_queries_for_1_and_5_groups(
    coordinator_client, program, page, django_assert_num_queries
):
    add_group(program)
    FacilitatorFactory(program=program)  # in the pool, no group
    one = queries_of(coordinator_client, url(page, program))
    for _ in range(4):
        add_group(program)
        FacilitatorFactory(program=program)

    with django_assert_num_queries(one):
        response = coordinator_client.get(url(page, program))

    assert response.status_code == 200
    if page == "group_list":
        assert len(response.context["groups"]) == 5
    else:
        assert len(response.context["coverage"].groups) == 5


@pytest.mark.parametrize("who", ["participant", "facilitator"])
def test_group_list_costs_participants_and_facilitators_the_same_queries_for_1_and_5_groups(
    client, program, who, django_assert_num_queries
):
    user = UserFactory()
    mine = {"member_user": user} if who == "participant" else {"facilitator_user": user}
    add_group(program, **mine)
    client.force_login(user)
    one = queries_of(client, url("group_list", program))
    for _ in range(4):
        add_group(program)

    with django_assert_num_queries(one):
        response = client.get(url("group_list", program))

    assert [g.members_visible for g in response.context["groups"]].count(True) == 1


# --- Assignment: start, preview, move, commit ------------------------------------------------


def test_assignment_start_computes_a_preview_and_shows_it(coordinator_client, program):
    people = active_people(program)

    response = coordinator_client.post(
        url("assignment_start", program),
        {"mode": "fresh", "groups": 3, "min_size": 2, "max_size": 4, "seed": 0},
    )

    run = AssignmentRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("assignment_run", program, pk=run.pk)
    assert GroupMembership.objects.count() == 0
    page = coordinator_client.get(response["Location"])
    text = page_text(page)
    for name in ("Group 1", "Group 2", "Group 3"):
        assert name in text
    for person in people:
        assert person.full_name in text
    assert element_text(page, "assignment-score") == str(run.result["score"])
    assert "Commit these groups" in text


def test_assignment_start_explains_an_impossible_request_and_saves_nothing(
    coordinator_client, program
):
    active_people(program, 7)

    response = coordinator_client.post(
        url("assignment_start", program),
        {"mode": "fresh", "groups": 3, "min_size": 8, "max_size": 12, "seed": 0},
    )

    assert response.status_code == 200
    problems = element_text(response, "assignment-problems")
    assert "7 people cannot fill 3 groups of at least 8 (24 places needed)." in problems
    assert "Nothing was saved." in problems
    assert AssignmentRun.objects.count() == 0


def test_assignment_start_derives_the_number_of_groups_from_a_target_size(
    coordinator_client, program
):
    active_people(program, 12)

    response = coordinator_client.post(
        url("assignment_start", program),
        {"mode": "fresh", "groups": "", "target_size": 4, "min_size": 3, "max_size": 5, "seed": 0},
    )

    assert response.status_code == 302
    run = AssignmentRun.objects.get()
    assert [g["name"] for g in run.result["groups"]] == ["Group 1", "Group 2", "Group 3"]
    assert sum(len(g["members"]) for g in run.result["groups"]) == 12


def test_assignment_start_form_errors(coordinator_client, program):
    response = coordinator_client.post(
        url("assignment_start", program),
        {"mode": "fresh", "groups": "", "target_size": "", "min_size": 9, "max_size": 8, "seed": 0},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "groups": ["Give a number of groups or a target group size."],
        "max_size": ["Must be at least the smallest group size."],
    }
    assert AssignmentRun.objects.count() == 0


def test_assignment_start_lists_past_assignments(coordinator_client, program):
    active_people(program)
    run = preview(program)
    groups_services.assignment_commit(run=run, actor=None)

    response = coordinator_client.get(url("assignment_start", program))

    assert list(response.context["runs"]) == [run]
    assert url("assignment_run", program, pk=run.pk) in page_text(response)
    assert "Committed" in page_text(response)


def test_move_with_htmx_returns_the_figures_with_the_new_score(coordinator_client, program):
    # Four alike people in two groups of 1-3: the solver gives 2 and 2 (score 0). Moving one
    # gives 1 and 3; the size term is n/gcd(n,K) * sum|K*size - n| = 2 * (2 + 2) = 8.
    people = [ClinicianFactory(program=program, status=ACTIVE) for _ in range(4)]
    run = preview(program, groups=2, min_size=1, max_size=3)
    source, target = run.result["groups"]
    person = Clinician.objects.get(pk=source["members"][0])
    before = coordinator_client.get(url("assignment_run", program, pk=run.pk))
    assert element_text(before, "assignment-score") == "0"

    response = coordinator_client.post(
        url("assignment_move", program, pk=run.pk),
        {"clinician": person.pk, "to": target["key"]},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert [t.name for t in response.templates] == ["sessions_app/groups/_assignment_groups.html"]
    assert "<html" not in page_text(response)
    assert element_text(response, "assignment-score") == "8"
    (moved_group,) = [g for g in response.context["view"].groups if g["key"] == target["key"]]
    assert person in moved_group["members"]
    assert person.pk in moved_group["changed"] or person.pk in moved_group["new"]
    assert GroupMembership.objects.count() == 0
    assert len(people) == 4


def test_move_without_htmx_redirects_to_the_preview(coordinator_client, program):
    active_people(program)
    run = preview(program)
    source, target = run.result["groups"][:2]
    person = source["members"][0]

    response = coordinator_client.post(
        url("assignment_move", program, pk=run.pk), {"clinician": person, "to": target["key"]}
    )

    assert response["Location"] == url("assignment_run", program, pk=run.pk)
    run.refresh_from_db()
    assert person in run.result["groups"][1]["members"]


def test_move_of_someone_not_in_the_preview_is_a_form_error(coordinator_client, program):
    active_people(program)
    run = preview(program)
    stranger = ClinicianFactory(program=program, status=ACTIVE)
    before = run.result

    response = coordinator_client.post(
        url("assignment_move", program, pk=run.pk), {"clinician": stranger.pk, "to": "new1"}
    )

    assert response.status_code == 400
    assert "clinician" in response.context["move_form"].errors
    run.refresh_from_db()
    assert run.result == before


def test_move_in_a_committed_run_is_refused(coordinator_client, program):
    active_people(program)
    run = preview(program)
    groups_services.assignment_commit(run=run, actor=None)
    run.refresh_from_db()
    before = run.result
    first, second = run.result["groups"][:2]

    response = coordinator_client.post(
        url("assignment_move", program, pk=run.pk),
        {"clinician": first["members"][0], "to": second["key"]},
        follow=True,
    )

    assert "Only a preview can be changed." in messages_of(response)
    run.refresh_from_db()
    assert run.result == before
    assert "Commit these groups" not in page_text(response)


def test_commit_makes_the_preview_the_groups(coordinator_client, program):
    active_people(program)
    run = preview(program)

    response = coordinator_client.post(url("assignment_commit", program, pk=run.pk), follow=True)

    assert response.redirect_chain == [(url("group_list", program), 302)]
    assert messages_of(response) == ["Groups committed: 9 joined, 0 moved, 3 new groups."]
    expected = {(entry["name"], pk) for entry in run.result["groups"] for pk in entry["members"]}
    assert (
        set(GroupMembership.objects.filter(left_on=None).values_list("group__name", "clinician_id"))
        == expected
    )
    text = page_text(response)
    for person in Clinician.objects.filter(program=program):
        assert person.full_name in text


def test_commit_of_a_preview_that_breaks_a_rule_shows_why_and_changes_nothing(
    coordinator_client, program
):
    people = active_people(program)
    AssignmentConstraintFactory(program=program, kind="apart", clinician=people[0], other=people[1])
    run = preview(program)
    target = next(g for g in run.result["groups"] if people[1].pk in g["members"])
    coordinator_client.post(
        url("assignment_move", program, pk=run.pk),
        {"clinician": people[0].pk, "to": target["key"]},
    )
    broken = f"Person0 Test and Person1 Test must be kept apart but are both in {target['name']}."

    shown = coordinator_client.get(url("assignment_run", program, pk=run.pk))
    response = coordinator_client.post(url("assignment_commit", program, pk=run.pk), follow=True)

    assert broken in element_text(shown, "assignment-violations")
    assert response.redirect_chain == [(url("assignment_run", program, pk=run.pk), 302)]
    assert messages_of(response) == ["Not committed: the groups break these rules.", broken]
    assert GroupMembership.objects.count() == 0
    assert Group.objects.count() == 0


def test_commit_of_a_stale_preview_is_refused_with_the_reason(coordinator_client, program):
    people = active_people(program)
    run = preview(program)
    GroupMembershipFactory(group=GroupFactory(program=program), clinician=people[0])

    response = coordinator_client.post(url("assignment_commit", program, pk=run.pk), follow=True)

    assert messages_of(response) == [
        "The groups changed since this preview was computed. Run the assignment again."
    ]
    assert GroupMembership.objects.count() == 1


def test_discard_marks_the_preview_discarded(coordinator_client, program):
    active_people(program)
    run = preview(program)

    response = coordinator_client.post(url("assignment_discard", program, pk=run.pk))

    assert response["Location"] == url("assignment_start", program)
    run.refresh_from_db()
    assert run.status == AssignmentRun.Status.DISCARDED


def test_a_run_of_another_program_is_404(coordinator_client, program):
    other = ProgramFactory()
    active_people(other)
    run = preview(other)

    response = coordinator_client.get(url("assignment_run", program, pk=run.pk))

    assert response.status_code == 404


def test_newcomers_mode_from_the_page_keeps_existing_members(coordinator_client, program):
    group = GroupFactory(program=program, min_size=2, max_size=6)
    people = active_people(program, 5)
    kept = [GroupMembershipFactory(group=group, clinician=c) for c in people[:3]]

    response = coordinator_client.post(
        url("assignment_start", program),
        {"mode": "add_newcomers", "min_size": 8, "max_size": 12, "seed": 0},
    )
    run = AssignmentRun.objects.get()
    coordinator_client.post(url("assignment_commit", program, pk=run.pk))

    assert response.status_code == 302
    assert set(
        GroupMembership.objects.filter(left_on=None).values_list("clinician_id", "group_id")
    ) == {(c.pk, group.pk) for c in people}
    assert [m.pk for m in GroupMembership.objects.filter(clinician__in=people[:3])] == [
        m.pk for m in kept
    ]


def test_newcomers_mode_without_groups_says_so(coordinator_client, program):
    active_people(program)

    response = coordinator_client.post(
        url("assignment_start", program),
        {"mode": "add_newcomers", "min_size": 8, "max_size": 12, "seed": 0},
    )

    assert response.context["problems"] == [
        "The program has no groups yet: run a fresh assignment first."
    ]
    assert AssignmentRun.objects.count() == 0


# --- Rules -----------------------------------------------------------------------------------


def test_rules_are_added_from_the_page(coordinator_client, program):
    a, b, c = active_people(program, 3)
    group = GroupFactory(program=program, name="Group 1")
    path = url("constraint_list", program)

    for data in (
        {"kind": "pin", "clinician": a.pk, "group": group.pk, "note": ""},
        {"kind": "apart", "clinician": a.pk, "other": b.pk, "note": "supervisor"},
        {"kind": "together", "clinician": b.pk, "other": c.pk, "note": ""},
    ):
        response = coordinator_client.post(path, data)
        assert response.status_code == 302

    assert sorted(
        AssignmentConstraint.objects.values_list("kind", "clinician", "other", "group", "note")
    ) == [
        ("apart", a.pk, b.pk, None, "supervisor"),
        ("pin", a.pk, None, group.pk, ""),
        ("together", b.pk, c.pk, None, ""),
    ]
    text = page_text(coordinator_client.get(path))
    assert "Person0 Test pinned to Group 1" in text
    assert "Person0 Test apart from Person1 Test" in text
    assert "Person1 Test together with Person2 Test" in text


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"kind": "pin"}, {"group": ["Choose the group to pin this person to."]}),
        ({"kind": "apart"}, {"other": ["Choose the other person."]}),
        ({"kind": "together", "other": "self"}, {"other": ["Choose two different people."]}),
    ],
)
def test_rule_form_errors(coordinator_client, program, data, errors):
    (person,) = active_people(program, 1)
    data = {"clinician": person.pk, **data}
    if data.get("other") == "self":
        data["other"] = person.pk

    response = coordinator_client.post(url("constraint_list", program), data)

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert AssignmentConstraint.objects.count() == 0


def test_rules_about_another_programs_people_are_refused(coordinator_client, program):
    (mine,) = active_people(program, 1)
    theirs = ClinicianFactory()
    their_group = GroupFactory()

    pair = coordinator_client.post(
        url("constraint_list", program), {"kind": "apart", "clinician": mine.pk, "other": theirs.pk}
    )
    pin = coordinator_client.post(
        url("constraint_list", program),
        {"kind": "pin", "clinician": mine.pk, "group": their_group.pk},
    )

    assert list(pair.context["form"].errors) == ["other"]
    assert list(pin.context["form"].errors) == ["group"]
    assert AssignmentConstraint.objects.count() == 0


def test_a_rule_is_removed_and_another_programs_rule_is_404(coordinator_client, program):
    mine = AssignmentConstraintFactory(program=program)
    theirs = AssignmentConstraintFactory()

    removed = coordinator_client.post(url("constraint_delete", program, pk=mine.pk))
    foreign = coordinator_client.post(url("constraint_delete", program, pk=theirs.pk))

    assert (removed.status_code, foreign.status_code) == (302, 404)
    assert list(AssignmentConstraint.objects.all()) == [theirs]


# --- Groups: settings and facilitators -------------------------------------------------------


def test_group_settings_are_saved(coordinator_client, program):
    group = GroupFactory(program=program, name="Group 1")
    room = RoomFactory(program=program, name="Room 4")

    response = coordinator_client.post(
        url("group_edit", program, pk=group.pk),
        {
            "name": "Thursday group",
            "default_room": room.pk,
            "min_size": 6,
            "max_size": 10,
            "meeting_slot": "Thu 12:00",
        },
    )

    assert response["Location"] == url("group_detail", program, pk=group.pk)
    group.refresh_from_db()
    assert (group.name, group.default_room, group.min_size, group.max_size, group.meeting_slot) == (
        "Thursday group",
        room,
        6,
        10,
        "Thu 12:00",
    )


def test_group_settings_refuse_a_minimum_above_the_maximum(coordinator_client, program):
    group = GroupFactory(program=program)

    response = coordinator_client.post(
        url("group_edit", program, pk=group.pk),
        {"name": group.name, "min_size": 12, "max_size": 8, "meeting_slot": ""},
    )

    assert response.context["form"].errors == {"max_size": ["Must be at least the smallest size."]}
    group.refresh_from_db()
    assert (group.min_size, group.max_size) == (8, 12)


def test_a_facilitator_is_assigned_from_the_group_page(coordinator_client, program):
    group = GroupFactory(program=program)
    old = FacilitatorAssignmentFactory(group=group, role="lead")
    new = FacilitatorFactory(program=program, name="Dr. New")

    response = coordinator_client.post(
        url("group_facilitation_add", program, pk=group.pk),
        {"facilitator": new.pk, "role": "lead"},
        follow=True,
    )

    assert messages_of(response) == ["Facilitator assigned."]
    assert list(
        FacilitatorAssignment.objects.filter(group=group, ends_on=None).values_list(
            "facilitator__name", "role"
        )
    ) == [("Dr. New", "lead")]
    old.refresh_from_db()
    assert old.ends_on == timezone.localdate()


def test_a_member_cannot_be_assigned_to_facilitate_their_own_group(coordinator_client, program):
    group = GroupFactory(program=program, name="Group 1")
    member = GroupMembershipFactory(group=group).clinician
    facilitator = FacilitatorFactory(program=program, name="Dr. Member", clinician=member)

    response = coordinator_client.post(
        url("group_facilitation_add", program, pk=group.pk),
        {"facilitator": facilitator.pk, "role": "backup"},
        follow=True,
    )

    assert messages_of(response) == [
        "Dr. Member is a member of Group 1; a facilitator cannot be a member of a group they "
        "facilitate. Move them to another group first."
    ]
    assert FacilitatorAssignment.objects.count() == 0


def test_an_unavailable_facilitator_cannot_be_chosen(coordinator_client, program):
    group = GroupFactory(program=program)
    away = FacilitatorFactory(program=program, active=False)

    response = coordinator_client.post(
        url("group_facilitation_add", program, pk=group.pk),
        {"facilitator": away.pk, "role": "backup"},
        follow=True,
    )

    assert messages_of(response) == ["Choose a facilitator and a role."]
    assert FacilitatorAssignment.objects.count() == 0


def test_a_facilitation_is_ended_from_the_group_page(coordinator_client, program):
    assignment = FacilitatorAssignmentFactory(group__program=program)

    response = coordinator_client.post(url("facilitation_end", program, pk=assignment.pk))

    assert response["Location"] == url("group_detail", program, pk=assignment.group_id)
    assignment.refresh_from_db()
    assert assignment.ends_on == timezone.localdate()


def test_facilitator_page_shows_coverage_gaps_and_backups_available(coordinator_client, program):
    covered = GroupFactory(program=program, name="Group 1")
    bare = GroupFactory(program=program, name="Group 2")
    FacilitatorAssignmentFactory(group=covered, role="lead", facilitator__name="Dr. Lead")
    FacilitatorAssignmentFactory(group=covered, role="backup", facilitator__name="Dr. Backup")
    FacilitatorFactory(program=program, name="Dr. Spare")
    FacilitatorFactory(program=program, name="Dr. Away", active=False)

    response = coordinator_client.get(url("facilitator_list", program))

    assert element_text(response, "backups-available").startswith(
        "2 facilitators can cover an absence"
    )
    rows = {row["group"].name: row["gaps"] for row in response.context["coverage"].groups}
    assert rows == {"Group 1": [], "Group 2": ["no lead facilitator", "no backup"]}
    assert "no lead facilitator; no backup" in page_text(response)
    assert bare.name in page_text(response)
    for name in ("Dr. Lead", "Dr. Backup", "Dr. Spare", "Dr. Away"):
        assert name in page_text(response)


def test_a_facilitator_is_added_and_linked_to_the_account_with_their_email(
    coordinator_client, program
):
    account = UserFactory(username="ada", email="ada.stone@example.org")

    response = coordinator_client.post(
        url("facilitator_create", program),
        {
            "name": "Dr. Ada Stone",
            "email": "Ada.Stone@example.org",
            "background": "psychologist",
            "active": "on",
        },
        follow=True,
    )

    assert messages_of(response) == ["Facilitator saved."]
    facilitator = Facilitator.objects.get()
    assert (facilitator.program, facilitator.email, facilitator.user, facilitator.active) == (
        program,
        "ada.stone@example.org",
        account,
        True,
    )
    assert "ada" in page_text(response)


def test_a_facilitator_email_already_in_the_pool_is_refused(coordinator_client, program):
    FacilitatorFactory(program=program, email="ada@example.org")
    elsewhere = FacilitatorFactory(email="ben@example.org")  # another program: no clash

    response = coordinator_client.post(
        url("facilitator_create", program),
        {"name": "Dr. Ada Again", "email": "ADA@example.org", "background": "other"},
    )
    other_program = coordinator_client.post(
        url("facilitator_create", program),
        {"name": "Dr. Ben", "email": elsewhere.email, "background": "other"},
    )

    assert response.context["form"].errors == {
        "email": ["This email is already in the facilitator pool."]
    }
    assert other_program.status_code == 302
    assert Facilitator.objects.filter(program=program).count() == 2


def test_a_facilitator_is_edited_keeping_their_own_email(coordinator_client, program):
    facilitator = FacilitatorFactory(program=program, email="ada@example.org", name="Dr. Ada")
    clinician = ClinicianFactory(program=program)

    response = coordinator_client.post(
        url("facilitator_edit", program, pk=facilitator.pk),
        {
            "name": "Dr. Ada Stone",
            "email": "ada@example.org",
            "background": "psychiatrist",
            "clinician": clinician.pk,
        },
    )

    assert response.status_code == 302
    facilitator.refresh_from_db()
    assert (
        facilitator.name,
        facilitator.background,
        facilitator.clinician,
        facilitator.active,
    ) == ("Dr. Ada Stone", "psychiatrist", clinician, False)


def test_another_programs_facilitator_is_404(coordinator_client, program):
    response = coordinator_client.get(url("facilitator_edit", program, pk=FacilitatorFactory().pk))

    assert response.status_code == 404


# --- Regrouping mid-year: who changes group, and the confirmation once sessions were held ------


def squeezed(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def forced_move(program):
    """Two groups of three and two newcomers; a new keep-apart pair inside Group A makes adding
    the newcomers move one of the pair. Returns the preview and the person who moves."""
    a = GroupFactory(program=program, name="Group A", min_size=2, max_size=5)
    b = GroupFactory(program=program, name="Group B", min_size=2, max_size=5)
    people = active_people(program, 8)
    for person in people[:3]:
        GroupMembershipFactory(group=a, clinician=person)
    for person in people[3:6]:
        GroupMembershipFactory(group=b, clinician=person)
    AssignmentConstraintFactory(program=program, kind="apart", clinician=people[0], other=people[1])
    run = preview(program, mode=AssignmentRun.Mode.ADD_NEWCOMERS)
    [change] = groups_services.assignment_run_view(run=run).changes
    return run, change.clinician


def test_the_preview_lists_who_changes_group_and_why(coordinator_client, program, forced_move):
    run, mover = forced_move

    response = coordinator_client.get(url("assignment_run", program, pk=run.pk))

    changes = squeezed(element_text(response, "assignment-changes"))
    assert changes.startswith("1 person changes group")
    row = f"<tr><td>{mover.full_name}</td><td>Group A</td><td>Group B</td></tr>"
    assert row in page_text(response)
    assert (
        "Person0 Test and Person1 Test must be kept apart but are both already in Group A"
        in changes
    )
    assert 'id="confirm-moves"' not in page_text(response)  # no session held yet


def test_commit_after_a_held_session_needs_the_confirmation_that_names_the_people_moved(
    coordinator_client, program, forced_move
):
    run, mover = forced_move
    SessionFactory(
        group=Group.objects.get(name="Group A"), starts_at=timezone.now() - timedelta(days=2)
    )
    before = list(GroupMembership.objects.values_list("id", "group_id", "left_on"))
    page = coordinator_client.get(url("assignment_run", program, pk=run.pk))

    refused = coordinator_client.post(url("assignment_commit", program, pk=run.pk), follow=True)
    unchanged = list(GroupMembership.objects.values_list("id", "group_id", "left_on"))
    committed = coordinator_client.post(
        url("assignment_commit", program, pk=run.pk),
        {"confirm_moves": "1", "moved": [mover.pk]},
        follow=True,
    )

    label = squeezed(element_text(page, "assignment-commit"))
    assert (
        "Sessions of this program have already been held. I confirm that "
        f"{mover.full_name} changes group." in label
    )
    assert f'name="moved" value="{mover.pk}"' in page_text(page)
    assert messages_of(refused) == [
        "Not committed: sessions of this program have already been held, so moving people "
        f"needs your confirmation. 1 person changes group: {mover.full_name} "
        "(Group A \u2192 Group B)."
    ]
    assert unchanged == before
    assert messages_of(committed) == ["Groups committed: 2 joined, 1 moved."]
    assert GroupMembership.objects.get(clinician=mover, left_on=None).group.name == "Group B"


def test_commit_with_a_malformed_list_of_people_is_refused(
    coordinator_client, program, forced_move
):
    run, _ = forced_move

    response = coordinator_client.post(
        url("assignment_commit", program, pk=run.pk),
        {"confirm_moves": "1", "moved": ["x"]},
        follow=True,
    )

    assert messages_of(response) == ["Not committed: The list of people is not valid."]
    run.refresh_from_db()
    assert run.status == AssignmentRun.Status.PREVIEW


def test_the_coordinator_may_choose_to_rebalance_freely(coordinator_client, program):
    active_people(program)

    coordinator_client.post(
        url("assignment_start", program),
        {
            "mode": "fresh",
            "regroup": "rebalance",
            "groups": 3,
            "min_size": 2,
            "max_size": 4,
            "seed": 0,
        },
    )
    kept = coordinator_client.post(
        url("assignment_start", program),
        {"mode": "fresh", "groups": 3, "min_size": 2, "max_size": 4, "seed": 0},
    )

    free, default = AssignmentRun.objects.order_by("id")
    assert free.params["keep_current"] is False
    assert default.params["keep_current"] is True
    page = coordinator_client.get(kept["Location"])
    assert "keeping current groups as far as possible" in page_text(page)
