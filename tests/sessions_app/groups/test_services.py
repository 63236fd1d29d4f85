"""The group assignment service in the database: previews, moves, commits, rules, facilitators.

The solver itself (``sessions_app.groups.solver.assignment``) has its own tests; here every
test goes through ``sessions_app.groups.services`` with real rows, as the pages and the CLI do.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ccdg.models import AuditEvent
from sessions_app.groups import selectors as groups_selectors
from sessions_app.groups import services as groups_services
from sessions_app.groups.solver.assignment import Infeasible
from sessions_app.models import (
    AssignmentConstraint,
    AssignmentRun,
    Clinician,
    FacilitatorAssignment,
    Group,
    GroupMembership,
    Session,
)
from tests.factories import (
    AssignmentConstraintFactory,
    ClinicianFactory,
    FacilitatorAssignmentFactory,
    FacilitatorFactory,
    GroupFactory,
    GroupMembershipFactory,
    ProgramFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ACTIVE = Clinician.Status.ACTIVE
# Small problems keep the solver fast: 9 people in 3 groups of 2 to 4.
SMALL = groups_services.AssignmentRequest(groups=3, min_size=2, max_size=4)
DISCIPLINES = ["physician"] * 5 + ["nurse_practitioner"] * 2 + ["social_worker", "pharmacist"]


def active_people(program, n: int = 9, **kwargs) -> list[Clinician]:
    return [
        ClinicianFactory(
            program=program,
            status=ACTIVE,
            discipline=DISCIPLINES[i % len(DISCIPLINES)],
            gender=("female", "male")[i % 2],
            **kwargs,
        )
        for i in range(n)
    ]


def where(run: AssignmentRun) -> dict[int, str]:
    """Clinician id -> group key in the run."""
    return {pk: g["key"] for g in run.result["groups"] for pk in g["members"]}


def memberships() -> list[tuple]:
    return list(
        GroupMembership.objects.order_by("id").values_list(
            "id", "group_id", "clinician_id", "joined_on", "left_on"
        )
    )


def current_group_of() -> dict[int, int]:
    return dict(
        GroupMembership.objects.filter(left_on=None).values_list("clinician_id", "group_id")
    )


def preview(program, request=SMALL, actor=None) -> AssignmentRun:
    run = groups_services.assignment_preview(program=program, actor=actor, request=request)
    assert isinstance(run, AssignmentRun), run
    return run


# --- experience bands ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("years", "band"),
    [(None, "unknown"), (0, "lt5"), (4, "lt5"), (5, "5to10"), (10, "5to10"), (11, "gt10")],
)
def test_experience_band_follows_the_survey_bands(years, band):
    assert groups_services.experience_band(years) == band


# --- preview ---------------------------------------------------------------------------------


def test_preview_saves_a_run_and_changes_no_membership():
    program = ProgramFactory()
    people = active_people(program)
    group = GroupFactory(program=program, name="Existing")
    GroupMembershipFactory(group=group, clinician=people[0])
    GroupMembershipFactory(group=group, clinician=people[1])
    ClinicianFactory(program=program)  # eligible, not opted in: not placed
    before = memberships()
    actor = UserFactory()

    run = preview(program, actor=actor)

    assert memberships() == before
    assert (run.status, run.mode, run.created_by) == (AssignmentRun.Status.PREVIEW, "fresh", actor)
    assert sorted(where(run)) == sorted(c.pk for c in people)
    assert all(2 <= len(g["members"]) <= 4 for g in run.result["groups"])
    assert run.result["current"] == {
        str(people[0].pk): f"g{group.pk}",
        str(people[1].pk): f"g{group.pk}",
    }
    assert AuditEvent.objects.filter(action="assignment.preview").count() == 1


def test_preview_names_new_groups_after_the_existing_ones():
    program = ProgramFactory()
    active_people(program)
    existing = GroupFactory(program=program, name="Group 1")

    run = preview(program)

    assert [(g["key"], g["name"]) for g in run.result["groups"]] == [
        (f"g{existing.pk}", "Group 1"),
        ("new2", "Group 2"),
        ("new3", "Group 3"),
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_preview_keeps_pins_and_pairs_stored_as_rules(seed):
    program = ProgramFactory()
    a, b, c, d, e, *_ = active_people(program, 12)
    first, second, third = (GroupFactory(program=program, name=f"G{i}") for i in (1, 2, 3))
    AssignmentConstraintFactory(program=program, kind="pin", clinician=a, other=None, group=second)
    AssignmentConstraintFactory(program=program, kind="apart", clinician=b, other=c)
    AssignmentConstraintFactory(program=program, kind="apart", clinician=b, other=a)
    AssignmentConstraintFactory(program=program, kind="together", clinician=d, other=e)
    AssignmentConstraintFactory(program=program, kind="together", clinician=d, other=a)

    run = preview(
        program, groups_services.AssignmentRequest(groups=3, min_size=3, max_size=5, seed=seed)
    )

    placed = where(run)
    assert placed[a.pk] == f"g{second.pk}"
    assert placed[b.pk] not in (placed[c.pk], placed[a.pk])
    assert placed[d.pk] == placed[e.pk] == placed[a.pk]


def test_rules_of_people_who_are_not_active_do_not_apply():
    program = ProgramFactory()
    people = active_people(program)
    gone = ClinicianFactory(program=program, status=Clinician.Status.INACTIVE)
    AssignmentConstraintFactory(program=program, kind="together", clinician=people[0], other=gone)

    run = preview(program)

    assert sorted(where(run)) == sorted(c.pk for c in people)


def test_a_facilitator_on_the_roster_is_never_placed_in_a_group_they_facilitate():
    program = ProgramFactory()
    people = active_people(program)
    first, second, third = (GroupFactory(program=program, name=f"G{i}") for i in (1, 2, 3))
    facilitator = FacilitatorFactory(program=program, clinician=people[4])
    FacilitatorAssignmentFactory(group=first, facilitator=facilitator, role="lead")
    FacilitatorAssignmentFactory(group=second, facilitator=facilitator, role="backup")
    # An ended term no longer keeps them out.
    FacilitatorAssignmentFactory(
        group=third, facilitator=facilitator, role="backup", ends_on=date(2026, 10, 1)
    )

    runs = [
        preview(
            program, groups_services.AssignmentRequest(groups=3, min_size=2, max_size=4, seed=seed)
        )
        for seed in (0, 1, 2)
    ]

    assert [where(run)[people[4].pk] for run in runs] == [f"g{third.pk}"] * 3


def test_people_are_placed_only_in_groups_meeting_when_they_are_available():
    program = ProgramFactory()
    people = active_people(program)
    thu = GroupFactory(program=program, name="G1", meeting_slot="Thu 12:00")
    fri = GroupFactory(program=program, name="G2", meeting_slot="Fri 08:00")
    mon = GroupFactory(program=program, name="G3", meeting_slot="Mon 17:00")
    people[0].available_slots = ["Fri 08:00"]
    people[0].save()
    people[1].available_slots = ["Thu 12:00", "Mon 17:00"]
    people[1].save()
    people[2].available_slots = ["Mon 17:00"]
    people[2].save()

    placed = where(preview(program))

    assert placed[people[0].pk] == f"g{fri.pk}"
    assert placed[people[1].pk] in {f"g{thu.pk}", f"g{mon.pk}"}
    assert placed[people[2].pk] == f"g{mon.pk}"


def test_physicians_only_program_refuses_a_non_physician_by_name_and_saves_nothing():
    program = ProgramFactory(physicians_only=True)
    for _ in range(9):
        ClinicianFactory(program=program, status=ACTIVE, discipline="physician")
    ClinicianFactory(
        program=program,
        status=ACTIVE,
        discipline="nurse_practitioner",
        first_name="Nia",
        last_name="Park",
    )

    result = groups_services.assignment_preview(
        program=program, actor=None, request=groups_services.AssignmentRequest(groups=2, min_size=2)
    )

    assert result == Infeasible(
        ["The program accepts physicians only; Nia Park is a nurse practitioner."]
    )
    assert AssignmentRun.objects.count() == 0
    assert AuditEvent.objects.filter(action="assignment.preview").count() == 0


def test_physicians_only_program_assigns_physicians():
    program = ProgramFactory(physicians_only=True)
    people = [ClinicianFactory(program=program, status=ACTIVE) for _ in range(6)]
    ClinicianFactory(program=program, discipline="nurse_practitioner")  # not active: not placed

    run = preview(program, groups_services.AssignmentRequest(groups=2, min_size=2, max_size=4))

    assert sorted(where(run)) == sorted(c.pk for c in people)


def test_too_few_people_is_infeasible_with_a_plain_message_and_saves_nothing():
    program = ProgramFactory()
    active_people(program, 7)

    result = groups_services.assignment_preview(
        program=program, actor=None, request=groups_services.AssignmentRequest(groups=3)
    )

    assert result == Infeasible(["7 people cannot fill 3 groups of at least 8 (24 places needed)."])
    assert AssignmentRun.objects.count() == 0
    assert Group.objects.count() == 0


def test_contradictory_rules_are_each_explained_and_nothing_is_saved():
    program = ProgramFactory()
    people = [
        ClinicianFactory(program=program, status=ACTIVE, first_name=f"P{i}", last_name="Lee")
        for i in range(9)
    ]
    first, second, third = (GroupFactory(program=program, name=f"G{i}") for i in (1, 2, 3))
    pin = {"program": program, "kind": "pin", "other": None}
    AssignmentConstraintFactory(**pin, clinician=people[0], group=first)
    AssignmentConstraintFactory(**pin, clinician=people[0], group=second)
    AssignmentConstraintFactory(program=program, kind="apart", clinician=people[1], other=people[2])
    AssignmentConstraintFactory(
        program=program, kind="together", clinician=people[1], other=people[2]
    )
    AssignmentConstraintFactory(**pin, clinician=people[3], group=third)
    FacilitatorAssignmentFactory(
        group=third, facilitator=FacilitatorFactory(program=program, clinician=people[3])
    )

    result = groups_services.assignment_preview(program=program, actor=None, request=SMALL)

    assert result == Infeasible(
        [
            "P0 Lee is pinned to two groups: G1 and G2.",
            "P3 Lee is pinned to G3, which they facilitate.",
            "P1 Lee and P2 Lee must be together and apart at once.",
        ]
    )
    assert AssignmentRun.objects.count() == 0


def test_nobody_active_is_explained():
    program = ProgramFactory()
    ClinicianFactory(program=program)

    result = groups_services.assignment_preview(program=program, actor=None, request=SMALL)

    assert isinstance(result, Infeasible)
    assert result.problems[0].startswith("Nobody to assign: the program has no active clinicians.")
    assert AssignmentRun.objects.count() == 0


def test_the_same_seed_gives_the_same_groups():
    program = ProgramFactory()
    active_people(program, 12)
    request = groups_services.AssignmentRequest(groups=3, min_size=3, max_size=5, seed=7)

    first, second = preview(program, request), preview(program, request)

    assert first.result["groups"] == second.result["groups"]


# --- commit ----------------------------------------------------------------------------------


def test_commit_creates_the_groups_and_memberships():
    program = ProgramFactory()
    people = active_people(program)
    run = preview(program)
    actor = UserFactory()

    summary = groups_services.assignment_commit(run=run, actor=actor)

    assert summary == {"moved": 0, "joined": 9, "groups_created": 3}
    groups = {g.name: g for g in Group.objects.filter(program=program)}
    assert sorted(groups) == ["Group 1", "Group 2", "Group 3"]
    assert {(g.min_size, g.max_size) for g in groups.values()} == {(2, 4)}
    expected = {
        pk: groups[entry["name"]].pk for entry in run.result["groups"] for pk in entry["members"]
    }
    assert current_group_of() == expected
    assert sorted(expected) == sorted(c.pk for c in people)
    assert set(GroupMembership.objects.values_list("joined_on", flat=True)) == {
        timezone.localdate()
    }
    run.refresh_from_db()
    assert (run.status, run.committed_by) == (AssignmentRun.Status.COMMITTED, actor)
    assert run.committed_at is not None


def test_a_committed_run_still_reads_right_afterwards():
    program = ProgramFactory()
    active_people(program)
    run = preview(program)
    before = groups_services.assignment_run_view(run=run)

    groups_services.assignment_commit(run=run, actor=None)
    run.refresh_from_db()
    after = groups_services.assignment_run_view(run=run)

    assert after.violations == []
    assert after.score == before.score == run.result["score"]
    assert [(g["name"], g["members"]) for g in after.groups] == [
        (g["name"], g["members"]) for g in before.groups
    ]
    assert [g["mix"] for g in after.groups] == [g["mix"] for g in before.groups]


def test_commit_keeps_the_membership_of_who_stays_and_closes_the_old_one_of_who_moves():
    program = ProgramFactory()
    people = active_people(program)
    first, second, third = (GroupFactory(program=program, name=f"G{i}") for i in (1, 2, 3))
    stays = GroupMembershipFactory(group=first, clinician=people[0], joined_on=date(2026, 9, 1))
    moves = GroupMembershipFactory(group=first, clinician=people[1], joined_on=date(2026, 9, 1))
    pin = {"program": program, "kind": "pin", "other": None}
    AssignmentConstraintFactory(**pin, clinician=people[0], group=first)
    AssignmentConstraintFactory(**pin, clinician=people[1], group=second)
    run = preview(program)

    summary = groups_services.assignment_commit(run=run, actor=None)

    assert summary == {"moved": 1, "joined": 7, "groups_created": 0}
    today = timezone.localdate()
    assert list(
        GroupMembership.objects.filter(clinician=people[0]).values_list(
            "id", "group_id", "joined_on", "left_on"
        )
    ) == [(stays.pk, first.pk, date(2026, 9, 1), None)]
    assert list(
        GroupMembership.objects.filter(clinician=people[1])
        .order_by("id")
        .values_list("group_id", "joined_on", "left_on")
    ) == [(first.pk, date(2026, 9, 1), today), (second.pk, today, None)]
    moves.refresh_from_db()
    assert moves.left_on == today


def test_commit_creates_only_the_groups_that_do_not_exist_yet():
    program = ProgramFactory()
    active_people(program)
    GroupFactory(program=program, name="Alpha", min_size=1, max_size=20)

    summary = groups_services.assignment_commit(run=preview(program), actor=None)

    assert summary["groups_created"] == 2
    assert sorted(
        Group.objects.filter(program=program).values_list("name", "min_size", "max_size")
    ) == [("Alpha", 1, 20), ("Group 2", 2, 4), ("Group 3", 2, 4)]


def test_commit_supersedes_the_other_previews_and_cannot_be_repeated():
    program = ProgramFactory()
    active_people(program)
    other = preview(
        program, groups_services.AssignmentRequest(groups=3, min_size=2, max_size=4, seed=1)
    )
    run = preview(program)
    groups_services.assignment_commit(run=run, actor=None)
    before = memberships()

    with pytest.raises(ValidationError) as again:
        groups_services.assignment_commit(run=run, actor=None)
    with pytest.raises(ValidationError) as superseded:
        groups_services.assignment_commit(run=other, actor=None)

    assert again.value.messages == ["This assignment is committed."]
    assert superseded.value.messages == ["This assignment is superseded."]
    other.refresh_from_db()
    assert other.status == AssignmentRun.Status.SUPERSEDED
    assert memberships() == before


def test_commit_of_a_stale_preview_is_refused():
    program = ProgramFactory()
    people = active_people(program)
    group = GroupFactory(program=program)
    run = preview(program)
    GroupMembershipFactory(group=group, clinician=people[0])  # someone changed the groups
    before = memberships()

    with pytest.raises(ValidationError) as refused:
        groups_services.assignment_commit(run=run, actor=None)

    assert refused.value.messages == [
        "The groups changed since this preview was computed. Run the assignment again."
    ]
    assert memberships() == before
    run.refresh_from_db()
    assert run.status == AssignmentRun.Status.PREVIEW


def test_a_move_that_breaks_the_size_bounds_is_shown_and_commit_is_refused():
    program = ProgramFactory()
    people = active_people(program)
    run = preview(program, groups_services.AssignmentRequest(groups=3, min_size=3, max_size=3))
    source, target = run.result["groups"][0], run.result["groups"][1]
    person = source["members"][0]

    groups_services.assignment_move(run=run, actor=None, clinician_id=person, to_key=target["key"])
    run.refresh_from_db()
    view = groups_services.assignment_run_view(run=run)

    assert view.violations == [
        "Group 1 has 2 people; its minimum is 3.",
        "Group 2 has 4 people; its maximum is 3.",
    ]
    with pytest.raises(ValidationError) as refused:
        groups_services.assignment_commit(run=run, actor=None)
    assert refused.value.messages == [
        "Not committed: the groups break these rules.",
        "Group 1 has 2 people; its minimum is 3.",
        "Group 2 has 4 people; its maximum is 3.",
    ]
    assert GroupMembership.objects.count() == 0
    assert Group.objects.count() == 0
    run.refresh_from_db()
    assert run.status == AssignmentRun.Status.PREVIEW
    assert len(people) == 9


def test_a_move_that_puts_a_kept_apart_pair_together_is_refused_at_commit():
    program = ProgramFactory()
    people = [
        ClinicianFactory(program=program, status=ACTIVE, first_name=f"P{i}", last_name="Kim")
        for i in range(9)
    ]
    AssignmentConstraintFactory(program=program, kind="apart", clinician=people[0], other=people[1])
    run = preview(program)
    target = where(run)[people[1].pk]

    groups_services.assignment_move(run=run, actor=None, clinician_id=people[0].pk, to_key=target)
    run.refresh_from_db()
    name = {g["key"]: g["name"] for g in run.result["groups"]}[target]
    broken = f"P0 Kim and P1 Kim must be kept apart but are both in {name}."

    assert broken in groups_services.assignment_run_view(run=run).violations
    with pytest.raises(ValidationError) as refused:
        groups_services.assignment_commit(run=run, actor=None)
    assert broken in refused.value.messages
    assert refused.value.messages[0] == "Not committed: the groups break these rules."
    assert GroupMembership.objects.count() == 0


# --- adding newcomers ------------------------------------------------------------------------


def test_adding_newcomers_places_them_and_never_moves_existing_members():
    program = ProgramFactory()
    first = GroupFactory(program=program, name="G1", min_size=2, max_size=5)
    second = GroupFactory(program=program, name="G2", min_size=2, max_size=5)
    people = active_people(program, 8)
    for person in people[:3]:
        GroupMembershipFactory(group=first, clinician=person)
    for person in people[3:6]:
        GroupMembershipFactory(group=second, clinician=person)
    newcomers = people[6:]
    ClinicianFactory(program=program)  # eligible, not active: stays out
    before = memberships()

    run = preview(program, groups_services.AssignmentRequest(mode=AssignmentRun.Mode.ADD_NEWCOMERS))
    placed = where(run)
    summary = groups_services.assignment_commit(run=run, actor=None)

    assert {c.pk: placed[c.pk] for c in people[:6]} == {
        **{c.pk: f"g{first.pk}" for c in people[:3]},
        **{c.pk: f"g{second.pk}" for c in people[3:6]},
    }
    assert summary == {"moved": 0, "joined": 2, "groups_created": 0}
    assert memberships()[: len(before)] == before
    assert sorted(current_group_of()) == sorted(c.pk for c in people)
    assert {current_group_of()[c.pk] for c in newcomers} <= {first.pk, second.pk}
    assert run.mode == AssignmentRun.Mode.ADD_NEWCOMERS


def test_adding_newcomers_without_groups_says_to_run_a_fresh_assignment_first():
    program = ProgramFactory()
    active_people(program)

    result = groups_services.assignment_preview(
        program=program,
        actor=None,
        request=groups_services.AssignmentRequest(mode=AssignmentRun.Mode.ADD_NEWCOMERS),
    )

    assert result == Infeasible(["The program has no groups yet: run a fresh assignment first."])
    assert AssignmentRun.objects.count() == 0


# --- regrouping mid-year --------------------------------------------------------------------

DEMO = groups_services.AssignmentRequest(groups=3, min_size=8, max_size=12)
DEMO_DISCIPLINES = ["physician"] * 22 + ["nurse_practitioner"] * 6
DEMO_DISCIPLINES += ["social_worker", "pharmacist"]


def demo_program_in_groups():
    """The demo: 30 active clinicians in the 3 groups a fresh assignment gave them, then three
    newcomers who opted in later (a nurse practitioner and two physicians)."""
    program = ProgramFactory()
    for i, discipline in enumerate(DEMO_DISCIPLINES):
        ClinicianFactory(
            program=program,
            status=ACTIVE,
            last_name=f"Member{i:02d}",
            discipline=discipline,
            gender=("female", "male", "female", "male", "nonbinary")[i % 5],
            years_at_institution=(2, 7, 15)[i % 3],
        )
    groups_services.assignment_commit(run=preview(program, DEMO), actor=None)
    newcomers = [
        ClinicianFactory(
            program=program, status=ACTIVE, last_name=f"Newcomer{i}", discipline=discipline
        )
        for i, discipline in enumerate(["nurse_practitioner", "physician", "physician"])
    ]
    return program, newcomers


def changes(run: AssignmentRun) -> list[tuple[int, str, str]]:
    """(clinician id, from, to) for everyone who changes group in the run's preview."""
    view = groups_services.assignment_run_view(run=run)
    return [(c.clinician.pk, c.from_name, c.to_name) for c in view.changes]


def apart_pair_in_one_group(program) -> tuple[Clinician, Clinician, Group]:
    group = Group.objects.filter(program=program).order_by("name").first()
    first, second = group_members_sorted(group)[:2]
    AssignmentConstraintFactory(program=program, kind="apart", clinician=first, other=second)
    return first, second, group


def group_members_sorted(group: Group) -> list[Clinician]:
    return sorted(groups_selectors.group_members(group=group), key=lambda c: c.pk)


def hold_a_session(program, **kwargs) -> Session:
    group = Group.objects.filter(program=program).order_by("name").first()
    return SessionFactory(group=group, starts_at=timezone.now() - timedelta(days=3), **kwargs)


def test_a_fresh_assignment_mid_year_keeps_everyone_in_their_group_and_places_newcomers():
    program, newcomers = demo_program_in_groups()
    before = current_group_of()

    run = preview(program, DEMO)

    placed = where(run)
    assert {pk: placed[pk] for pk in before} == {pk: f"g{g}" for pk, g in before.items()}
    assert changes(run) == []
    assert groups_services.assignment_run_view(run=run).moved == 0
    assert {c.pk for c in newcomers} <= set(placed)
    assert all(8 <= len(g["members"]) <= 12 for g in run.result["groups"])
    # balance kept: every group keeps at least its two nurse practitioners
    disciplines = dict(Clinician.objects.values_list("pk", "discipline"))
    assert sorted(
        sum(disciplines[pk] == "nurse_practitioner" for pk in g["members"])
        for g in run.result["groups"]
    ) == [2, 2, 3]
    assert run.params["keep_current"] is True


def test_rebalancing_freely_may_move_many_people():
    program, _ = demo_program_in_groups()

    kept = preview(program, DEMO)
    free = preview(program, replace(DEMO, keep_current=False))

    assert free.params["keep_current"] is False
    assert len(changes(free)) > len(changes(kept)) == 0
    assert free.result["score"] <= kept.result["score"]


def test_a_new_keep_apart_pair_inside_a_group_moves_one_of_them_and_a_swap_keeps_the_mix():
    program, _ = demo_program_in_groups()
    first, second, group = apart_pair_in_one_group(program)

    moves = changes(preview(program, DEMO))

    # The rule needs one move. Alone, it would leave the two groups a man and a 5-10 years
    # band apart from their fair shares (8.7 units of imbalance, more than the 5 a move
    # costs), so one person of the same profile comes the other way; nobody else moves.
    assert len(moves) == 2
    (mover, source, target), (partner, partner_from, partner_to) = sorted(
        moves, key=lambda m: m[0] not in (first.pk, second.pk)
    )
    assert mover in (first.pk, second.pk)
    assert source == group.name == partner_to
    assert target == partner_from != group.name
    profile = ("discipline", "gender", "years_at_institution")
    assert Clinician.objects.filter(pk=mover).values(*profile).get() == (
        Clinician.objects.filter(pk=partner).values(*profile).get()
    )


def test_adding_newcomers_moves_one_member_when_a_rule_needs_it_and_says_why():
    program, newcomers = demo_program_in_groups()
    first, second, group = apart_pair_in_one_group(program)

    run = preview(program, groups_services.AssignmentRequest(mode=AssignmentRun.Mode.ADD_NEWCOMERS))

    moves = changes(run)
    assert len(moves) == 1
    assert moves[0][0] in (first.pk, second.pk)
    assert run.result["forced"] == [
        f"{first.full_name} and {second.full_name} must be kept apart but are both already in "
        f"{group.name}, and existing members are not moved."
    ]
    assert {c.pk for c in newcomers} <= set(where(run))


def test_adding_newcomers_mid_year_moves_nobody():
    program, newcomers = demo_program_in_groups()
    before = current_group_of()

    run = preview(program, groups_services.AssignmentRequest(mode=AssignmentRun.Mode.ADD_NEWCOMERS))

    assert changes(run) == []
    assert run.result["forced"] == []
    assert {pk: where(run)[pk] for pk in before} == {pk: f"g{g}" for pk, g in before.items()}


NEWCOMERS = groups_services.AssignmentRequest(mode=AssignmentRun.Mode.ADD_NEWCOMERS)


def test_commit_after_a_held_session_is_refused_without_confirming_the_moves():
    program, _ = demo_program_in_groups()
    apart_pair_in_one_group(program)
    hold_a_session(program)
    run = preview(program, NEWCOMERS)
    [(who, source, target)] = changes(run)
    before = memberships()

    with pytest.raises(ValidationError) as refused:
        groups_services.assignment_commit(run=run, actor=None)

    name = Clinician.objects.get(pk=who).full_name
    assert refused.value.messages == [
        "Not committed: sessions of this program have already been held, so moving people "
        f"needs your confirmation. 1 person changes group: {name} ({source} \u2192 {target})."
    ]
    assert memberships() == before
    run.refresh_from_db()
    assert run.status == AssignmentRun.Status.PREVIEW
    assert not AuditEvent.objects.filter(action="assignment.commit", object_id=str(run.pk)).exists()


def test_commit_after_a_held_session_is_refused_when_the_confirmation_names_other_people():
    program, _ = demo_program_in_groups()
    first, second, _ = apart_pair_in_one_group(program)
    hold_a_session(program)
    run = preview(program, NEWCOMERS)
    [(who, _, _)] = changes(run)
    other = second.pk if who == first.pk else first.pk
    before = memberships()

    with pytest.raises(ValidationError) as refused:
        groups_services.assignment_commit(run=run, actor=None, confirmed_moves=[other])

    assert refused.value.messages[0].startswith(
        "Not committed: the people who change group are not the ones you confirmed"
    )
    assert memberships() == before


def test_commit_after_a_held_session_moves_the_confirmed_people_and_audits_ids():
    program, _ = demo_program_in_groups()
    apart_pair_in_one_group(program)
    hold_a_session(program)
    run = preview(program, NEWCOMERS)
    [(who, _, target)] = changes(run)

    summary = groups_services.assignment_commit(run=run, actor=None, confirmed_moves=[who])

    assert summary == {"moved": 1, "joined": 3, "groups_created": 0}
    assert Group.objects.get(pk=current_group_of()[who]).name == target
    event = AuditEvent.objects.get(action="assignment.commit", object_id=str(run.pk))
    assert event.data == {
        "moved": 1,
        "joined": 3,
        "groups_created": 0,
        "mode": "add_newcomers",
        "keep_current": True,
        "moved_clinicians": [who],
        "forced_moves": True,
        "sessions_held": True,
        "moves_confirmed": True,
    }


@pytest.mark.parametrize(
    "session",
    [
        {"starts_at": timezone.now() + timedelta(days=3)},  # not started yet
        {"status": Session.Status.CANCELLED},  # past but cancelled
    ],
)
def test_commit_needs_no_confirmation_before_any_session_was_held(session):
    program, _ = demo_program_in_groups()
    apart_pair_in_one_group(program)
    group = Group.objects.filter(program=program).first()
    SessionFactory(group=group, **{"starts_at": timezone.now() - timedelta(days=3), **session})
    run = preview(program, DEMO)
    moves = changes(run)

    summary = groups_services.assignment_commit(run=run, actor=None)

    assert summary["moved"] == len(moves) > 0


def test_newcomers_joining_after_a_held_session_need_no_confirmation():
    program, newcomers = demo_program_in_groups()
    hold_a_session(program)
    run = preview(program, DEMO)

    summary = groups_services.assignment_commit(run=run, actor=None)

    assert summary == {"moved": 0, "joined": 3, "groups_created": 0}


# --- moving people in a preview --------------------------------------------------------------


def size_score(sizes: list[int]) -> int:
    """The objective's size term (the issue's balance figure) for people who are all alike:
    n / gcd(n, K) * sum |K * size - n|."""
    n, k = sum(sizes), len(sizes)
    return n // math.gcd(n, k) * sum(abs(k * s - n) for s in sizes)


def test_moving_a_person_changes_the_preview_only_and_its_score():
    program = ProgramFactory()
    people = [ClinicianFactory(program=program, status=ACTIVE) for _ in range(4)]
    run = preview(program, groups_services.AssignmentRequest(groups=2, min_size=1, max_size=3))
    assert groups_services.assignment_run_view(run=run).score == size_score([2, 2]) == 0
    source, target = run.result["groups"]
    person = source["members"][0]

    groups_services.assignment_move(run=run, actor=None, clinician_id=person, to_key=target["key"])

    run.refresh_from_db()
    view = groups_services.assignment_run_view(run=run)
    assert where(run)[person] == target["key"]
    assert [len(g["members"]) for g in view.groups] == [1, 3]
    assert view.score == size_score([1, 3]) == 8
    assert view.solver_score == 0
    assert view.violations == []
    assert run.moves == [{"clinician": person, "from": source["key"], "to": target["key"]}]
    assert GroupMembership.objects.count() == 0
    assert len(people) == 4


def test_moving_a_person_scores_the_discipline_mix():
    # 2 physicians and 2 nurse practitioners in 2 groups: the solver gives each group one of
    # each (score 0). Moving a physician over gives sizes 1 and 3; with n=4, K=2 (gcd 2) the
    # size term is 2 * (|2-4| + |6-4|) = 8 and the discipline term (weight 4) is
    # 4 * (|0-2| + |4-2|) for the first group plus 4 * (|8-6| + |4-6|) for the second = 32.
    program = ProgramFactory()
    for discipline in ("physician", "physician", "nurse_practitioner", "nurse_practitioner"):
        ClinicianFactory(program=program, status=ACTIVE, discipline=discipline)
    run = preview(program, groups_services.AssignmentRequest(groups=2, min_size=1, max_size=3))
    assert groups_services.assignment_run_view(run=run).score == 0
    source, target = run.result["groups"]
    physician = next(
        pk for pk in source["members"] if Clinician.objects.get(pk=pk).discipline == "physician"
    )

    run = groups_services.assignment_move(
        run=run, actor=None, clinician_id=physician, to_key=target["key"]
    )

    assert groups_services.assignment_run_view(run=run).score == 40


def test_moving_to_the_same_group_changes_nothing():
    program = ProgramFactory()
    active_people(program)
    run = preview(program)
    entry = run.result["groups"][0]

    groups_services.assignment_move(
        run=run, actor=None, clinician_id=entry["members"][0], to_key=entry["key"]
    )

    run.refresh_from_db()
    assert run.moves == []


def test_moving_someone_who_is_not_in_the_preview_is_refused():
    program = ProgramFactory()
    active_people(program)
    run = preview(program)
    stranger = ClinicianFactory(program=program, status=ACTIVE)

    with pytest.raises(ValidationError, match="not part of this preview"):
        groups_services.assignment_move(
            run=run, actor=None, clinician_id=stranger.pk, to_key="new1"
        )
    with pytest.raises(ValidationError, match="not part of this preview"):
        groups_services.assignment_move(
            run=run, actor=None, clinician_id=run.result["groups"][0]["members"][0], to_key="zz"
        )


def test_moving_in_a_committed_run_is_refused():
    program = ProgramFactory()
    active_people(program)
    run = preview(program)
    groups_services.assignment_commit(run=run, actor=None)
    run.refresh_from_db()
    first, second = run.result["groups"][:2]
    before = (memberships(), run.result)

    with pytest.raises(ValidationError) as refused:
        groups_services.assignment_move(
            run=run, actor=None, clinician_id=first["members"][0], to_key=second["key"]
        )

    assert refused.value.messages == ["Only a preview can be changed."]
    run.refresh_from_db()
    assert (memberships(), run.result) == before


def test_discard_marks_the_preview_discarded_and_only_a_preview():
    program = ProgramFactory()
    active_people(program)
    run = preview(program)

    groups_services.assignment_discard(run=run, actor=None)
    run.refresh_from_db()

    assert run.status == AssignmentRun.Status.DISCARDED
    with pytest.raises(ValidationError, match="discarded"):
        groups_services.assignment_commit(run=run, actor=None)


# --- rules -----------------------------------------------------------------------------------


def test_constraint_add_stores_the_rule():
    program = ProgramFactory()
    a, b = ClinicianFactory(program=program), ClinicianFactory(program=program)
    actor = UserFactory()

    rule = groups_services.constraint_add(
        program=program, actor=actor, kind="apart", clinician=a, other=b, note="supervisor"
    )

    assert (rule.kind, rule.clinician, rule.other, rule.group, rule.note, rule.created_by) == (
        "apart",
        a,
        b,
        None,
        "supervisor",
        actor,
    )


def test_constraint_add_refuses_people_or_groups_of_another_program():
    program = ProgramFactory()
    mine = ClinicianFactory(program=program)
    theirs = ClinicianFactory()
    their_group = GroupFactory()

    with pytest.raises(ValidationError, match="on this program's roster"):
        groups_services.constraint_add(
            program=program, actor=None, kind="apart", clinician=mine, other=theirs
        )
    with pytest.raises(ValidationError, match="on this program's roster"):
        groups_services.constraint_add(
            program=program, actor=None, kind="apart", clinician=theirs, other=mine
        )
    with pytest.raises(ValidationError, match="another program"):
        groups_services.constraint_add(
            program=program, actor=None, kind="pin", clinician=mine, group=their_group
        )

    assert AssignmentConstraint.objects.count() == 0


def test_constraint_remove_deletes_the_rule():
    rule = AssignmentConstraintFactory()

    groups_services.constraint_remove(rule=rule, actor=None)

    assert AssignmentConstraint.objects.count() == 0


# --- facilitators ----------------------------------------------------------------------------


def current_facilitations(group) -> list[tuple[str, str]]:
    return sorted(
        FacilitatorAssignment.objects.filter(group=group, ends_on=None).values_list(
            "facilitator__name", "role"
        )
    )


def test_a_new_lead_replaces_the_current_lead():
    group = GroupFactory()
    old = FacilitatorAssignmentFactory(group=group, facilitator__name="Old", role="lead")
    new = FacilitatorFactory(program=group.program, name="New")

    groups_services.facilitation_assign(group=group, facilitator=new, role="lead", actor=None)

    old.refresh_from_db()
    assert old.ends_on == timezone.localdate()
    assert current_facilitations(group) == [("New", "lead")]


def test_a_group_may_have_several_backups():
    group = GroupFactory()
    FacilitatorAssignmentFactory(group=group, facilitator__name="Lead", role="lead")
    for name in ("Backup A", "Backup B"):
        groups_services.facilitation_assign(
            group=group,
            facilitator=FacilitatorFactory(program=group.program, name=name),
            role="backup",
            actor=None,
        )

    assert current_facilitations(group) == [
        ("Backup A", "backup"),
        ("Backup B", "backup"),
        ("Lead", "lead"),
    ]


def test_switching_a_facilitator_from_backup_to_lead_ends_the_backup_role():
    group = GroupFactory()
    facilitator = FacilitatorFactory(program=group.program, name="Ada")
    groups_services.facilitation_assign(
        group=group, facilitator=facilitator, role="backup", actor=None
    )

    groups_services.facilitation_assign(
        group=group, facilitator=facilitator, role="lead", actor=None
    )

    assert current_facilitations(group) == [("Ada", "lead")]


def test_a_facilitator_who_is_a_member_of_the_group_is_refused():
    group = GroupFactory(name="Group 1")
    member = GroupMembershipFactory(group=group).clinician
    facilitator = FacilitatorFactory(program=group.program, name="Dr. Ada Stone", clinician=member)

    with pytest.raises(ValidationError) as refused:
        groups_services.facilitation_assign(
            group=group, facilitator=facilitator, role="lead", actor=None
        )

    assert refused.value.messages == [
        "Dr. Ada Stone is a member of Group 1; a facilitator cannot be a member of a group "
        "they facilitate. Move them to another group first."
    ]
    assert current_facilitations(group) == []


def test_an_unavailable_or_foreign_facilitator_is_refused():
    group = GroupFactory()
    inactive = FacilitatorFactory(program=group.program, name="Dr. Away", active=False)
    foreign = FacilitatorFactory(name="Dr. Elsewhere")

    with pytest.raises(ValidationError) as away:
        groups_services.facilitation_assign(
            group=group, facilitator=inactive, role="backup", actor=None
        )
    with pytest.raises(ValidationError) as elsewhere:
        groups_services.facilitation_assign(
            group=group, facilitator=foreign, role="backup", actor=None
        )

    assert away.value.messages == ["Dr. Away is not available this year."]
    assert elsewhere.value.messages == ["This facilitator belongs to another program."]
    assert current_facilitations(group) == []


def test_facilitation_end_closes_the_term():
    assignment = FacilitatorAssignmentFactory()

    groups_services.facilitation_end(assignment=assignment, actor=None)

    assignment.refresh_from_db()
    assert assignment.ends_on == timezone.localdate()


def test_coverage_lists_the_gaps_and_counts_the_backups_available():
    program = ProgramFactory()
    full = GroupFactory(program=program, name="G1")
    lead_only = GroupFactory(program=program, name="G2")
    empty = GroupFactory(program=program, name="G3")
    FacilitatorAssignmentFactory(group=full, facilitator__name="Lead 1", role="lead")
    FacilitatorAssignmentFactory(group=full, facilitator__name="Backup 1", role="backup")
    FacilitatorAssignmentFactory(group=lead_only, facilitator__name="Lead 2", role="lead")
    FacilitatorAssignmentFactory(
        group=empty, facilitator__name="Past", role="backup", ends_on=date(2026, 10, 1)
    )
    FacilitatorFactory(program=program, name="Spare", active=True)
    FacilitatorFactory(program=program, name="Away", active=False)

    coverage = groups_selectors.facilitator_coverage(program=program)

    assert [
        (
            row["group"].name,
            row["lead"].name if row["lead"] else None,
            [b.name for b in row["backups"]],
            row["gaps"],
        )
        for row in coverage.groups
    ] == [
        ("G1", "Lead 1", ["Backup 1"], []),
        ("G2", "Lead 2", [], ["no backup"]),
        ("G3", None, [], ["no lead facilitator", "no backup"]),
    ]
    # Backup 1, plus the available facilitators with no group: Spare and Past (term ended).
    assert sorted(f.name for f in coverage.unassigned) == ["Past", "Spare"]
    assert coverage.backups_available == 3


def test_facilitator_save_links_the_account_with_the_same_email():
    program = ProgramFactory()
    account = UserFactory(email="Ada.Stone@Example.org")

    facilitator = groups_services.facilitator_save(
        program=program,
        actor=None,
        data={
            "name": "Dr. Ada Stone",
            "email": " ada.stone@example.org ",
            "background": "psychologist",
        },
    )

    assert (facilitator.email, facilitator.user, facilitator.active) == (
        "ada.stone@example.org",
        account,
        True,
    )


def test_facilitator_save_changes_an_existing_facilitator():
    facilitator = FacilitatorFactory(name="Dr. Old", active=True)

    groups_services.facilitator_save(
        program=facilitator.program,
        actor=None,
        facilitator=facilitator,
        data={"name": "Dr. New", "active": False},
    )

    facilitator.refresh_from_db()
    assert (facilitator.name, facilitator.active, facilitator.user) == ("Dr. New", False, None)
