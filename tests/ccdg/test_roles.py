"""Roles held per program, and what each allows."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from sessions_app import roles
from sessions_app.models import ProgramRole
from tests.factories import (
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    ProgramRoleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def request_as(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_one_person_holds_several_roles_across_programs():
    person = UserFactory()
    first, second, third = ProgramFactory(), ProgramFactory(), ProgramFactory()
    ProgramRoleFactory(program=first, user=person, role=ProgramRole.Role.COORDINATOR)
    ProgramRoleFactory(program=first, user=person, role=ProgramRole.Role.REPORT_VIEWER)
    GroupMembershipFactory(group__program=second, clinician__user=person)
    FacilitatorAssignmentFactory(group__program=third, facilitator__user=person)
    ProgramFactory()

    assert roles.role_map(person) == {
        first.pk: frozenset({roles.COORDINATOR, roles.REPORT_VIEWER}),
        second.pk: frozenset({roles.PARTICIPANT}),
        third.pk: frozenset({roles.FACILITATOR}),
    }


def test_facilitator_and_participant_in_the_same_program():
    person = UserFactory()
    group = GroupFactory()
    GroupMembershipFactory(group=group, clinician__user=person)
    FacilitatorAssignmentFactory(
        group=GroupFactory(program=group.program), facilitator__user=person, role="backup"
    )

    assert roles.roles_in(person, group.program) == {roles.PARTICIPANT, roles.FACILITATOR}


def test_ended_facilitator_assignment_gives_no_role():
    person = UserFactory()
    assignment = FacilitatorAssignmentFactory(facilitator__user=person, ends_on=date(2026, 12, 1))

    assert roles.roles_in(person, assignment.group.program) == frozenset()


def test_facilitator_in_the_pool_without_assignment_has_no_role():
    person = UserFactory()
    facilitator = FacilitatorFactory(user=person)

    assert roles.roles_in(person, facilitator.program) == frozenset()


def test_past_group_membership_gives_no_role():
    person = UserFactory()
    membership = GroupMembershipFactory(clinician__user=person, left_on=date(2026, 12, 1))

    assert roles.roles_in(person, membership.group.program) == frozenset()


@pytest.mark.parametrize("status", ["eligible", "invited", "active"])
def test_clinician_on_the_roster_never_in_a_group_may_open_the_program_only(status):
    person = UserFactory()
    clinician = ClinicianFactory(user=person, status=status)
    program = clinician.program

    assert roles.roles_in(person, program) == {roles.ROSTERED}
    assert {p for p in roles.PERMISSIONS if roles.can(person, p, program)} == {
        "program.view",
        "groups.view",
        "sessions.view",
    }


def test_inactive_clinician_without_a_group_has_no_role():
    person = UserFactory()
    clinician = ClinicianFactory(user=person, status="inactive")

    assert roles.roles_in(person, clinician.program) == frozenset()


def test_a_member_is_a_participant_not_also_on_the_roster_only():
    person = UserFactory()
    membership = GroupMembershipFactory(clinician__user=person)

    assert roles.roles_in(person, membership.group.program) == {roles.PARTICIPANT}


def test_role_map_costs_one_query_once_then_none(django_assert_num_queries):
    person = UserFactory()
    ProgramRoleFactory(user=person)

    with django_assert_num_queries(1):
        roles.role_map(person)
    with django_assert_num_queries(0):
        roles.role_map(person)


def test_forget_drops_the_cached_roles():
    person = UserFactory()
    assert roles.role_map(person) == {}
    role = ProgramRoleFactory(user=person)

    roles.forget(person)

    assert roles.roles_in(person, role.program) == {roles.COORDINATOR}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (
            ProgramRole.Role.COORDINATOR,
            {
                "program.view",
                "program.edit",
                "roster.view",
                "roster.manage",
                "roster.invite",
                "roster.export",
                "reports.view",
                "audit.view",
                "groups.view",
                "groups.manage",
                "facilitators.manage",
                "sessions.view",
                "sessions.manage",
                "presenters.manage",
                "attendance.view",
                "calendar.program_feed",
                "casenote.metadata",
                "casenote.access_log",
                "surveys.view",
                "surveys.manage",
                "analysis.run",
                "coding.view",
                "coding.manage",
            },
        ),
        (
            ProgramRole.Role.REPORT_VIEWER,
            {
                "program.view",
                "roster.export",
                "reports.view",
                "groups.view",
                "sessions.view",
                "attendance.view",
                "casenote.metadata",
                "surveys.view",
                "analysis.run",
                "coding.view",
            },
        ),
    ],
)
def test_appointed_roles_allow_their_permissions_only(role, allowed):
    user = ProgramRoleFactory(role=role).user
    program = user.program_roles.get().program

    granted = {perm for perm in roles.PERMISSIONS if roles.can(user, perm, program)}

    assert granted == allowed


def test_participants_and_facilitators_get_only_their_permissions():
    participant = GroupMembershipFactory(clinician__user=UserFactory()).clinician
    facilitator = FacilitatorAssignmentFactory(
        group__program=participant.program, facilitator__user=UserFactory()
    ).facilitator
    program = participant.program

    common = {"program.view", "groups.view", "sessions.view"}
    assert {p for p in roles.PERMISSIONS if roles.can(participant.user, p, program)} == common | {
        "casenote.read",
        "casenote.write",
    }
    # Facilitators also ask people to present and see attendance (of their own groups: the
    # per-session checks narrow it further).
    assert {p for p in roles.PERMISSIONS if roles.can(facilitator.user, p, program)} == common | {
        "presenters.manage",
        "attendance.view",
        "casenote.read",
    }


def test_roles_do_not_carry_over_to_another_program():
    user = ProgramRoleFactory().user

    assert roles.can(user, "program.view", ProgramFactory()) is False


def test_staff_get_every_program_permission_without_a_role():
    staff = UserFactory(is_staff=True)
    program = ProgramFactory()

    assert all(
        roles.can(staff, perm, program) for perm in set(roles.PERMISSIONS) - roles.NEED_TO_KNOW
    )
    assert not any(roles.can(staff, perm, program) for perm in roles.NEED_TO_KNOW)
    assert roles.program_for_request(request_as(staff), program.slug, "roster.manage") == program


def test_inactive_staff_get_nothing():
    staff = UserFactory(is_staff=True, is_active=False)

    assert roles.can(staff, "program.view", ProgramFactory()) is False


def test_anonymous_gets_nothing():
    assert roles.role_map(AnonymousUser()) == {}
    assert roles.can(AnonymousUser(), "program.view", ProgramFactory()) is False


def test_unknown_permission_raises_value_error():
    with pytest.raises(ValueError, match="roster.delete"):
        roles.can(UserFactory(), "roster.delete", ProgramFactory())


def test_program_for_request_gives_404_without_a_role_and_403_with_one():
    program = ProgramFactory()
    participant = GroupMembershipFactory(
        group__program=program, clinician__user=UserFactory()
    ).clinician.user

    with pytest.raises(Http404):
        roles.program_for_request(request_as(UserFactory()), program.slug, "program.view")
    with pytest.raises(PermissionDenied):
        roles.program_for_request(request_as(participant), program.slug, "roster.view")
    assert (
        roles.program_for_request(request_as(participant), program.slug, "program.view") == program
    )


def test_unknown_program_slug_is_404_even_for_staff():
    with pytest.raises(Http404):
        roles.program_for_request(
            request_as(UserFactory(is_staff=True)), "no-such-program", "program.view"
        )


def test_programs_for_lists_the_users_programs_with_role_labels():
    person = UserFactory()
    mine = ProgramRoleFactory(user=person, role=ProgramRole.Role.REPORT_VIEWER).program
    ProgramFactory()

    (program,) = roles.programs_for(person)

    assert (program, program.my_roles) == (mine, ["Report viewer"])


def test_programs_for_staff_lists_every_program():
    programs = {ProgramFactory(), ProgramFactory()}

    assert set(roles.programs_for(UserFactory(is_staff=True))) == programs


# --- who sees a group's members ----------------------------------------------------------------


def test_group_members_are_seen_by_the_coordinator_and_staff():
    group = GroupFactory()
    coordinator = ProgramRoleFactory(program=group.program).user

    assert roles.can_view_group_members(coordinator, group) is True
    assert roles.can_view_group_members(UserFactory(is_staff=True), group) is True


def test_group_members_are_seen_by_the_groups_own_members_and_facilitators():
    group = GroupFactory()
    member = GroupMembershipFactory(group=group, clinician__user=UserFactory()).clinician.user
    lead = FacilitatorAssignmentFactory(
        group=group, facilitator__user=UserFactory(), role="lead"
    ).facilitator.user
    backup = FacilitatorAssignmentFactory(
        group=group, facilitator__user=UserFactory(), role="backup"
    ).facilitator.user

    assert [roles.can_view_group_members(u, group) for u in (member, lead, backup)] == [
        True,
        True,
        True,
    ]


def test_group_members_are_not_seen_by_other_groups_or_other_roles():
    group = GroupFactory()
    other = GroupFactory(program=group.program)
    other_member = GroupMembershipFactory(group=other, clinician__user=UserFactory())
    other_facilitator = FacilitatorAssignmentFactory(group=other, facilitator__user=UserFactory())
    report_viewer = ProgramRoleFactory(
        program=group.program, role=ProgramRole.Role.REPORT_VIEWER
    ).user
    other_coordinator = ProgramRoleFactory().user
    # Pool facilitator without an assignment to this group, and a clinician on the roster
    # without a group.
    pool_only = FacilitatorFactory(program=group.program, user=UserFactory()).user
    roster_only = ClinicianFactory(program=group.program, user=UserFactory()).user

    seen = [
        roles.can_view_group_members(user, group)
        for user in (
            other_member.clinician.user,
            other_facilitator.facilitator.user,
            report_viewer,
            other_coordinator,
            pool_only,
            roster_only,
            AnonymousUser(),
        )
    ]

    assert seen == [False] * 7


def test_former_members_and_facilitators_no_longer_see_the_group():
    group = GroupFactory()
    former_member = GroupMembershipFactory(
        group=group, clinician__user=UserFactory(), left_on=date(2026, 12, 1)
    ).clinician.user
    former_facilitator = FacilitatorAssignmentFactory(
        group=group, facilitator__user=UserFactory(), ends_on=date(2026, 12, 1)
    ).facilitator.user

    assert roles.can_view_group_members(former_member, group) is False
    assert roles.can_view_group_members(former_facilitator, group) is False


def test_groups_with_visible_members_follows_the_same_rule_for_a_whole_program():
    program = ProgramFactory()
    mine, facilitated, other = (GroupFactory(program=program) for _ in range(3))
    person = UserFactory()
    GroupMembershipFactory(group=mine, clinician__user=person)
    FacilitatorAssignmentFactory(group=facilitated, facilitator__user=person, role="backup")
    FacilitatorAssignmentFactory(group=other, facilitator__user=person, ends_on=date(2026, 12, 1))
    GroupMembershipFactory(group=GroupFactory(), clinician__user=person)  # another program
    coordinator = ProgramRoleFactory(program=program).user

    assert roles.groups_with_visible_members(person, program) == {mine.pk, facilitated.pk}
    assert roles.groups_with_visible_members(coordinator, program) == {
        mine.pk,
        facilitated.pk,
        other.pk,
    }
    assert roles.groups_with_visible_members(AnonymousUser(), program) == set()
    assert {
        g.pk for g in (mine, facilitated, other) if roles.can_view_group_members(person, g)
    } == roles.groups_with_visible_members(person, program)
