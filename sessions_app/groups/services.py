"""Group assignment in the database: build the solver's problem from a program, keep previews,
let the coordinator move people, and commit an assignment to group memberships.

The solving itself is :mod:`sessions_app.groups.solver.assignment` (pure, no Django).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from ccdg.audit import acting_user, audit_record, audited_update
from sessions_app.groups import history
from sessions_app.groups.models import (
    AssignmentConstraint,
    AssignmentRun,
    Facilitator,
    FacilitatorAssignment,
    Group,
    GroupMembership,
)
from sessions_app.groups.solver import assignment as solver
from sessions_app.groups.solver.evaluate import evaluate
from sessions_app.programs.models import Program
from sessions_app.roster.models import Clinician
from sessions_app.schedule.models import Session

NEW_GROUP_PREFIX = "new"


def experience_band(years: int | None) -> str:
    """The survey's bands of years at the institution: <5, 5-10, >10."""
    if years is None:
        return "unknown"
    if years < 5:
        return "lt5"
    return "5to10" if years <= 10 else "gt10"


def group_key(group: Group) -> str:
    return f"g{group.pk}"


@dataclass(frozen=True)
class AssignmentRequest:
    """What the coordinator asks for: how many groups (or a target size), bounds, mode, seed.

    ``keep_current`` (a fresh assignment while groups have members): keep people in their
    current group as far as the rules and balance allow (each move costs, see
    :data:`sessions_app.groups.solver.assignment.MOVE_WEIGHT`); ``False`` rebalances freely.
    """

    groups: int | None = None
    target_size: int | None = None
    min_size: int = 8
    max_size: int = 12
    seed: int = 0
    mode: str = AssignmentRun.Mode.FRESH
    time_limit_s: float = 10.0
    keep_current: bool = True
    # Re-evaluating a stored run: its own groups, as (key, name), instead of choosing groups.
    run_groups: tuple[tuple[str, str], ...] | None = None

    def as_params(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "target_size": self.target_size,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "seed": self.seed,
            "time_limit_s": self.time_limit_s,
            "keep_current": self.keep_current,
        }


def assignment_pool(*, program: Program) -> list[Clinician]:
    """The participants who opted in: the program's active clinicians."""
    return list(
        Clinician.objects.filter(program=program, status=Clinician.Status.ACTIVE).order_by("id")
    )


def current_groups(*, program: Program) -> dict[int, Group]:
    """Clinician id -> the group they are a current member of."""
    memberships = (
        GroupMembership.objects.current().filter(group__program=program).select_related("group")
    )
    return {m.clinician_id: m.group for m in memberships}


def _group_specs(
    program: Program, request: AssignmentRequest, n_people: int
) -> tuple[list[solver.GroupSpec], dict[str, Group]]:
    existing = list(Group.objects.filter(program=program).order_by("name", "id"))
    k = len(existing)
    if request.run_groups is not None:
        return _run_group_specs(existing, request)
    if request.mode == AssignmentRun.Mode.ADD_NEWCOMERS:
        chosen = existing
    else:
        k = request.groups
        if k is None:
            k = solver.groups_for_target(
                n_people, request.target_size or 10, request.min_size, request.max_size
            )
        chosen = existing[:k]
    by_key = {group_key(g): g for g in chosen}
    specs = [_spec_of(g, request) for g in chosen]
    if request.mode == AssignmentRun.Mode.FRESH:
        taken = {g.name for g in existing}
        number = len(existing)
        for index in range(len(chosen), k):
            number += 1
            while f"Group {number}" in taken:
                number += 1
            specs.append(
                solver.GroupSpec(
                    key=f"{NEW_GROUP_PREFIX}{index + 1}",
                    name=f"Group {number}",
                    min_size=request.min_size,
                    max_size=request.max_size,
                )
            )
    return specs, by_key


def _spec_of(group: Group, request: AssignmentRequest) -> solver.GroupSpec:
    # A fresh assignment applies the bounds the coordinator asked for; adding newcomers keeps
    # each group's own bounds.
    own = request.mode == AssignmentRun.Mode.ADD_NEWCOMERS
    return solver.GroupSpec(
        key=group_key(group),
        name=group.name,
        min_size=group.min_size if own else request.min_size,
        max_size=group.max_size if own else request.max_size,
        slot=group.meeting_slot,
    )


def _run_group_specs(
    existing: list[Group], request: AssignmentRequest
) -> tuple[list[solver.GroupSpec], dict[str, Group]]:
    """The groups of a stored run, whatever groups were added or renamed since."""
    by_key = {group_key(g): g for g in existing}
    specs = [
        _spec_of(by_key[key], request)
        if key in by_key
        else solver.GroupSpec(
            key=key, name=name, min_size=request.min_size, max_size=request.max_size
        )
        for key, name in request.run_groups or ()
    ]
    return specs, {key: by_key[key] for key, _ in request.run_groups or () if key in by_key}


def assignment_problem_build(
    *, program: Program, request: AssignmentRequest
) -> tuple[solver.Problem, dict[int, Clinician]]:
    """The solver's problem for this program, and the clinicians by id."""
    people = assignment_pool(program=program)
    by_id = {c.pk: c for c in people}
    specs, by_key = _group_specs(program, request, len(people))
    valid_keys = {s.key for s in specs}
    persons = [
        solver.Person(
            id=c.pk,
            name=c.full_name,
            discipline=c.discipline,
            gender=c.gender,
            experience=experience_band(c.years_at_institution),
            available_slots=frozenset(c.available_slots) if c.available_slots else None,
        )
        for c in people
    ]
    pins, apart, together = [], [], []
    rules = AssignmentConstraint.objects.filter(program=program).select_related("group")
    for rule in rules:
        if rule.clinician_id not in by_id:
            continue  # not in the pool this year (inactive): the rule does not apply
        if rule.kind == AssignmentConstraint.Kind.PIN:
            key = group_key(rule.group)
            if key in valid_keys:
                pins.append((rule.clinician_id, key))
        elif rule.other_id in by_id:
            pair = (rule.clinician_id, rule.other_id)
            (apart if rule.kind == AssignmentConstraint.Kind.APART else together).append(pair)
    forbidden = [
        (fa.facilitator.clinician_id, group_key(fa.group), solver.FACILITATES)
        for fa in FacilitatorAssignment.objects.current()
        .filter(group__program=program, facilitator__clinician__isnull=False)
        .select_related("facilitator", "group")
        if fa.facilitator.clinician_id in by_id and group_key(fa.group) in valid_keys
    ]
    # Current groups: kept in place when adding newcomers, and priced per move in a fresh
    # assignment that keeps them (a move is free when rebalancing freely).
    existing = {
        pk: group_key(group) for pk, group in current_groups(program=program).items() if pk in by_id
    }
    keep = request.mode == AssignmentRun.Mode.FRESH and request.keep_current
    problem = solver.Problem(
        people=persons,
        groups=specs,
        pins=pins,
        apart=apart,
        together=together,
        forbidden=forbidden,
        physicians_only=program.physicians_only,
        seed=request.seed,
        time_limit_s=request.time_limit_s,
        existing=existing,
        mode=request.mode,
        move_weight=solver.MOVE_WEIGHT if keep else 0,
    )
    return problem, by_id


def _result_json(
    problem: solver.Problem, result: solver.Assignment, current: dict[int, Group]
) -> dict[str, Any]:
    return {
        "groups": [
            {"key": spec.key, "name": spec.name, "members": result.groups.get(spec.key, [])}
            for spec in problem.groups
        ],
        "score": result.score,
        "best_bound": result.best_bound,
        "optimal": result.optimal,
        "unmet": result.unmet,
        "wall_time_s": round(result.wall_time_s, 3),
        "current": {str(pk): group_key(g) for pk, g in current.items()},
        # why adding newcomers had to move members (empty: nobody had to)
        "forced": result.forced,
    }


def assignment_preview(
    *, program: Program, actor: Any, request: AssignmentRequest, save: bool = True
) -> AssignmentRun | solver.Infeasible:
    """Compute an assignment and keep it as a preview; an infeasible request saves nothing.

    With ``save=False`` the run is returned unsaved (the command line's dry run).
    """
    if (
        request.mode == AssignmentRun.Mode.ADD_NEWCOMERS
        and not Group.objects.filter(program=program).exists()
    ):
        return solver.Infeasible(["The program has no groups yet: run a fresh assignment first."])
    problem, _ = assignment_problem_build(program=program, request=request)
    if not problem.people:
        return solver.Infeasible(
            [
                "Nobody to assign: the program has no active clinicians. Activate or invite "
                "clinicians on the roster first."
            ]
        )
    result = solver.solve(problem)
    if isinstance(result, solver.Infeasible):
        return result
    run = AssignmentRun(
        program=program,
        mode=request.mode,
        params=request.as_params(),
        result=_result_json(problem, result, current_groups(program=program)),
        created_by=acting_user(actor),
    )
    if not save:
        return run
    run.save()
    audit_record(
        actor=actor,
        action="assignment.preview",
        obj=run,
        program_id=program.pk,
        data={"score": result.score, "groups": len(problem.groups), "moves": result.moves},
    )
    return run


def run_groups(run: AssignmentRun) -> dict[str, list[int]]:
    return {g["key"]: list(g["members"]) for g in run.result["groups"]}


def _request_of(run: AssignmentRun) -> AssignmentRequest:
    p = run.params
    return AssignmentRequest(
        groups=len(run.result["groups"]),
        min_size=p["min_size"],
        max_size=p["max_size"],
        seed=p["seed"],
        mode=run.mode,
        keep_current=p.get("keep_current", False),  # runs before the choice rebalanced freely
        run_groups=tuple((g["key"], g["name"]) for g in run.result["groups"]),
    )


def _counts_text(counts: dict[str, int], labels: dict[str, str]) -> str:
    return (
        ", ".join(f"{n} {labels.get(code, code).lower()}" for code, n in counts.items() if n)
        or "none"
    )


def composition_text(composition: solver.GroupComposition | None) -> list[tuple[str, str]]:
    """A group's mix as rows of (what, "7 physician, 2 nurse practitioner")."""
    if composition is None:
        return []
    return [
        ("Disciplines", _counts_text(composition.disciplines, solver.DISCIPLINE_LABELS)),
        ("Gender", _counts_text(composition.genders, solver.GENDER_LABELS)),
        ("Years here", _counts_text(composition.experience, solver.EXPERIENCE_LABELS)),
    ]


@dataclass(frozen=True)
class GroupChange:
    """One person who changes group in a run: who, from which group, to which."""

    clinician: Clinician
    from_name: str
    to_name: str


@dataclass
class RunView:
    """A run, evaluated: composition, score and the rules a manual move may have broken."""

    run: AssignmentRun
    groups: list[dict[str, Any]]  # key, name, members (Clinician list), composition, moved ids
    score: int
    solver_score: int
    violations: list[str]
    unmet: list[str]
    moved: int
    changes: list[GroupChange]  # by name
    forced: list[str]  # why adding newcomers had to move members
    sessions_held: bool  # committing moves needs an explicit confirmation

    @property
    def needs_confirmation(self) -> bool:
        return self.sessions_held and bool(self.changes)


def program_sessions_held(*, program: Program) -> bool:
    """Whether any session of the program has been held (started and not cancelled)."""
    return (
        Session.objects.filter(group__program=program, starts_at__lte=timezone.now())
        .exclude(status=Session.Status.CANCELLED)
        .exists()
    )


def assignment_run_view(*, run: AssignmentRun) -> RunView:
    """Everything the preview page shows, recomputed from the run's current groups."""
    problem, by_id = assignment_problem_build(program=run.program, request=_request_of(run))
    # Name the groups as the run did (new groups do not exist in the database yet), and the
    # current groups as the database does (a fresh run may leave some out).
    names = {group_key(g): g.name for g in Group.objects.filter(program=run.program)}
    names |= {g["key"]: g["name"] for g in run.result["groups"]}
    groups = run_groups(run)
    evaluation = evaluate(problem, groups)
    composition = {c.key: c for c in evaluation.composition}
    current = run.result.get("current", {})
    view_groups = []
    changes = []
    moved = 0
    for key, members in groups.items():
        people = [by_id[pk] for pk in members if pk in by_id]
        changed = {pk for pk in members if current.get(str(pk)) not in (None, key)}
        moved += len(changed)
        changes += [
            GroupChange(
                clinician=c,
                from_name=names.get(current[str(c.pk)], current[str(c.pk)]),
                to_name=names.get(key, key),
            )
            for c in people
            if c.pk in changed
        ]
        view_groups.append(
            {
                "key": key,
                "name": names.get(key, key),
                "members": people,
                "composition": composition.get(key),
                "mix": composition_text(composition.get(key)),
                "changed": changed,
                "new": [pk for pk in members if str(pk) not in current],
            }
        )
    return RunView(
        run=run,
        groups=view_groups,
        score=evaluation.score,
        solver_score=run.result["score"],
        violations=evaluation.violations,
        unmet=evaluation.unmet,
        moved=moved,
        changes=sorted(changes, key=lambda c: (c.clinician.last_name, c.clinician.first_name)),
        forced=run.result.get("forced", []),
        sessions_held=program_sessions_held(program=run.program),
    )


@transaction.atomic
def assignment_move(
    *, run: AssignmentRun, actor: Any, clinician_id: int, to_key: str
) -> AssignmentRun:
    """Move one person to another group in a preview."""
    run = AssignmentRun.objects.select_for_update().get(pk=run.pk)
    if run.status != AssignmentRun.Status.PREVIEW:
        raise ValidationError("Only a preview can be changed.")
    groups = run.result["groups"]
    target = next((g for g in groups if g["key"] == to_key), None)
    source = next((g for g in groups if clinician_id in g["members"]), None)
    if target is None or source is None:
        raise ValidationError("That person or group is not part of this preview.")
    if source is target:
        return run
    source["members"].remove(clinician_id)
    target["members"] = sorted([*target["members"], clinician_id])
    run.moves = [*run.moves, {"clinician": clinician_id, "from": source["key"], "to": to_key}]
    run.save(update_fields=["result", "moves"])
    audit_record(
        actor=actor,
        action="assignment.move",
        obj=run,
        program_id=run.program_id,
        data={"clinician": clinician_id, "from": source["key"], "to": to_key},
    )
    return run


@transaction.atomic
def assignment_discard(*, run: AssignmentRun, actor: Any) -> None:
    updated = AssignmentRun.objects.filter(pk=run.pk, status=AssignmentRun.Status.PREVIEW).update(
        status=AssignmentRun.Status.DISCARDED
    )
    if updated:
        audit_record(actor=actor, action="assignment.discard", obj=run, program_id=run.program_id)


def _changes_text(changes: list[GroupChange]) -> str:
    return "; ".join(f"{c.clinician.full_name} ({c.from_name} \u2192 {c.to_name})" for c in changes)


def assignment_commit(
    *, run: AssignmentRun, actor: Any, confirmed_moves: Collection[int] | None = None
) -> dict[str, int]:
    """Make a preview the program's groups. Only people whose group changes get new memberships;
    the old ones are closed (kept as history). Refused when the preview breaks a hard rule or
    the groups changed since it was computed.

    Once a session of the program has been held, moving people changes groups that already
    meet: ``confirmed_moves`` must then name exactly the clinicians (ids) the preview moves,
    as the coordinator saw them, or nothing is committed.
    """
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=run.program_id)
        run = AssignmentRun.objects.select_for_update().get(pk=run.pk)
        current, view = _committable(run=run, program=program, confirmed_moves=confirmed_moves)
        by_key, created_groups = _groups_of_run(run=run, program=program)
        moved, joined = _memberships_apply(run=run, program=program, by_key=by_key, current=current)
        _run_mark_committed(run=run, program=program, by_key=by_key, actor=actor)
        summary = {"moved": moved, "joined": joined, "groups_created": created_groups}
        audit_record(
            actor=actor,
            action="assignment.commit",
            obj=run,
            program_id=program.pk,
            data={
                **summary,
                "mode": run.mode,
                "keep_current": run.params.get("keep_current", False),
                "moved_clinicians": sorted(c.clinician.pk for c in view.changes),  # ids only
                "forced_moves": bool(view.forced),
                "sessions_held": view.sessions_held,
                "moves_confirmed": view.needs_confirmation,
            },
        )
    return summary


def _committable(
    *, run: AssignmentRun, program: Program, confirmed_moves: Collection[int] | None
) -> tuple[dict[int, Group], RunView]:
    """The program's current groups and the run's view, or the reason the preview cannot be
    committed: no longer a preview, the groups changed since, a hard rule broken, or moves
    after held sessions that the coordinator did not confirm exactly."""
    if run.status != AssignmentRun.Status.PREVIEW:
        raise ValidationError(f"This assignment is {run.get_status_display().lower()}.")
    # Staleness first: once the groups changed, the preview's rule check means little.
    current = current_groups(program=program)
    if {str(k): group_key(g) for k, g in current.items()} != run.result.get("current", {}):
        raise ValidationError(
            "The groups changed since this preview was computed. Run the assignment again."
        )
    view = assignment_run_view(run=run)
    if view.violations:
        raise ValidationError(["Not committed: the groups break these rules."] + view.violations)
    moving = {c.clinician.pk for c in view.changes}
    if view.needs_confirmation and set(confirmed_moves or ()) != moving:
        count = len(view.changes)
        people = "person changes" if count == 1 else "people change"
        if not confirmed_moves:
            first = (
                f"Not committed: sessions of this program have already been held, so "
                f"moving people needs your confirmation. {count} {people} group: "
            )
        else:
            first = (
                f"Not committed: the people who change group are not the ones you "
                f"confirmed (the preview changed). Check and confirm again. {count} "
                f"{people} group: "
            )
        raise ValidationError(first + _changes_text(view.changes) + ".")
    return current, view


def _groups_of_run(*, run: AssignmentRun, program: Program) -> tuple[dict[str, Group], int]:
    """The run's groups by key, creating the new ones; and how many were created."""
    by_key = {group_key(g): g for g in Group.objects.filter(program=program)}
    created = 0
    for entry in run.result["groups"]:
        if entry["key"] not in by_key:
            by_key[entry["key"]] = Group.objects.create(
                program=program,
                name=entry["name"],
                min_size=run.params["min_size"],
                max_size=run.params["max_size"],
            )
            created += 1
    return by_key, created


def _memberships_apply(
    *, run: AssignmentRun, program: Program, by_key: dict[str, Group], current: dict[int, Group]
) -> tuple[int, int]:
    """New memberships for the people whose group changes (how many moved, how many joined).

    Changes take effect today in the program's time zone, or tomorrow for people whose old or
    new group already met today (that session keeps the members it had)."""
    met = history.groups_met_today(program=program)
    since = dict(
        GroupMembership.objects.current()
        .filter(group__program=program)
        .values_list("clinician_id", "joined_on")
    )
    moved = joined = 0
    for entry in run.result["groups"]:
        group = by_key[entry["key"]]
        for pk in entry["members"]:
            old = current.get(pk)
            if old is not None and old.pk == group.pk:
                continue
            day = history.change_day(
                program=program,
                group_ids=(group.pk, old and old.pk),
                met=met,
                current_since=since.get(pk),
            )
            if old is not None:
                GroupMembership.objects.current().filter(clinician_id=pk).update(left_on=day)
                moved += 1
            else:
                joined += 1
            GroupMembership.objects.create(group=group, clinician_id=pk, joined_on=day)
    return moved, joined


def _run_mark_committed(
    *, run: AssignmentRun, program: Program, by_key: dict[str, Group], actor: Any
) -> None:
    """The run is the program's assignment now; other previews are superseded."""
    # Key the groups as the database now does, so the committed run still reads right
    # (its new groups' keys, "new1"..., would otherwise match no group any more).
    for entry in run.result["groups"]:
        entry["key"] = group_key(by_key[entry["key"]])
    run.status = AssignmentRun.Status.COMMITTED
    run.committed_at = timezone.now()
    run.committed_by = acting_user(actor)
    run.save(update_fields=["status", "committed_at", "committed_by", "result"])
    AssignmentRun.objects.filter(program=program, status=AssignmentRun.Status.PREVIEW).update(
        status=AssignmentRun.Status.SUPERSEDED
    )


def group_update(*, group: Group, actor: Any, data: dict[str, Any]) -> Group:
    audited_update(
        obj=group, actor=actor, action="group.update", data=data, program_id=group.program_id
    )
    return group


# --- Constraints ---------------------------------------------------------------------------


def constraint_add(
    *,
    program: Program,
    actor: Any,
    kind: str,
    clinician: Clinician,
    other: Clinician | None = None,
    group: Group | None = None,
    note: str = "",
) -> AssignmentConstraint:
    if clinician.program_id != program.pk or (other and other.program_id != program.pk):
        raise ValidationError("Both people must be on this program's roster.")
    if group is not None and group.program_id != program.pk:
        raise ValidationError("The group belongs to another program.")
    rule = AssignmentConstraint(
        program=program,
        kind=kind,
        clinician=clinician,
        other=other,
        group=group,
        note=note,
        created_by=acting_user(actor),
    )
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor,
        action="assignment.rule_add",
        obj=rule,
        program_id=program.pk,
        data={"kind": kind},
    )
    return rule


def constraint_remove(*, rule: AssignmentConstraint, actor: Any) -> None:
    audit_record(
        actor=actor,
        action="assignment.rule_remove",
        obj=rule,
        program_id=rule.program_id,
        data={"kind": rule.kind},
    )
    rule.delete()


# --- Facilitators ---------------------------------------------------------------------------


@transaction.atomic
def facilitator_save(
    *, program: Program, actor: Any, data: dict[str, Any], facilitator: Facilitator | None = None
) -> Facilitator:
    """Add a facilitator to the pool, or change one."""
    creating = facilitator is None
    facilitator = facilitator or Facilitator(program=program)
    for name in ("name", "email", "background", "clinician", "active"):
        if name in data:
            setattr(facilitator, name, data[name])
    facilitator.email = facilitator.email.strip().lower()
    if facilitator.user_id is None:
        # Link the account with the same email, so the facilitator's pages appear at sign-in.
        from django.contrib.auth import get_user_model

        facilitator.user = (
            get_user_model().objects.filter(email__iexact=facilitator.email).order_by("id").first()
        )
    facilitator.full_clean()
    facilitator.save()
    audit_record(
        actor=actor,
        action="facilitator.create" if creating else "facilitator.update",
        obj=facilitator,
        program_id=program.pk,
    )
    return facilitator


def facilitation_change_day(group: Group) -> date:
    """The day a facilitator change made now takes effect: today on the program's clock, or
    tomorrow when the group already met today (that session keeps the facilitators it had),
    as for memberships (:func:`sessions_app.groups.history.change_day`)."""
    program = group.program
    met = history.groups_met_today(program=program)
    return history.change_day(program=program, group_ids=(group.pk,), met=met)


@transaction.atomic
def facilitation_assign(
    *, group: Group, facilitator: Facilitator, role: str, actor: Any
) -> FacilitatorAssignment:
    """Make a facilitator the lead or a backup of a group. A new lead replaces the current one
    (whose term ends today); a facilitator holds one role per group."""
    if facilitator.program_id != group.program_id:
        raise ValidationError("This facilitator belongs to another program.")
    if not facilitator.active:
        raise ValidationError(f"{facilitator.name} is not available this year.")
    if (
        facilitator.clinician_id
        and GroupMembership.objects.current()
        .filter(group=group, clinician_id=facilitator.clinician_id)
        .exists()
    ):
        raise ValidationError(
            f"{facilitator.name} is a member of {group.name}; a facilitator cannot be a member "
            "of a group they facilitate. Move them to another group first."
        )
    day = facilitation_change_day(group)
    current = FacilitatorAssignment.objects.select_for_update().current().filter(group=group)
    # One role per group and facilitator: switching roles ends the old one. An assignment that
    # had not started yet ends the day it would have started: it was never in force.
    ended = {"ends_on": Greatest(F("starts_on"), Value(day))}
    current.filter(facilitator=facilitator).update(**ended)
    if role == FacilitatorAssignment.Role.LEAD:
        current.filter(role=FacilitatorAssignment.Role.LEAD).update(**ended)
    assignment = FacilitatorAssignment.objects.create(
        group=group, facilitator=facilitator, role=role, starts_on=day
    )
    audit_record(
        actor=actor,
        action="facilitation.assign",
        obj=group,
        program_id=group.program_id,
        data={"facilitator": facilitator.pk, "role": role},
    )
    return assignment


@transaction.atomic
def facilitation_end(*, assignment: FacilitatorAssignment, actor: Any) -> None:
    if assignment.ends_on is not None:
        return
    assignment.ends_on = max(facilitation_change_day(assignment.group), assignment.starts_on)
    assignment.save(update_fields=["ends_on"])
    audit_record(
        actor=actor,
        action="facilitation.end",
        obj=assignment.group,
        program_id=assignment.group.program_id,
        data={"facilitator": assignment.facilitator_id, "role": assignment.role},
    )
