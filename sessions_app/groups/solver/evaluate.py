"""Evaluating any grouping of a problem, not only the solver's: after the coordinator moves
people by hand, the preview shows the new score and composition, and which hard rules the
groups now break (a preview that breaks one cannot be committed). Pure, like the solver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sessions_app.groups.solver import assignment as solver


@dataclass(frozen=True)
class Evaluation:
    score: int
    composition: list[solver.GroupComposition]
    violations: list[str]
    unmet: list[str]


def violations(problem: solver.Problem, groups: Mapping[str, Sequence[int]]) -> list[str]:
    """Each hard rule the grouping breaks, as a sentence naming the people and the rule."""
    people = {p.id: p for p in problem.people}
    specs = {g.key: g for g in problem.groups}
    where = {pid: key for key, members in groups.items() for pid in members}

    def name(pid: int) -> str:
        return people[pid].name if pid in people else f"#{pid}"

    def gname(key: str | None) -> str:
        return specs[key].name if key in specs else "no group"

    found: list[str] = []
    for pid in people:
        if pid not in where:
            found.append(f"{name(pid)} is in no group.")
    for spec in problem.groups:
        size = len(groups.get(spec.key, ()))
        if size > spec.max_size:
            found.append(f"{spec.name} has {size} people; its maximum is {spec.max_size}.")
        elif size < spec.min_size:
            found.append(f"{spec.name} has {size} people; its minimum is {spec.min_size}.")
        if spec.slot:
            for pid in groups.get(spec.key, ()):
                slots = people[pid].available_slots if pid in people else None
                if slots is not None and spec.slot not in slots:
                    found.append(
                        f"{name(pid)} cannot attend {spec.name}'s meeting time ({spec.slot})."
                    )
    pins = problem.pins.items() if isinstance(problem.pins, Mapping) else problem.pins
    for pid, key in pins:
        if pid in where and where[pid] != key:
            found.append(
                f"{name(pid)} is pinned to {gname(key)} but placed in {gname(where[pid])}."
            )
    for a, b in problem.apart:
        if a in where and where.get(a) == where.get(b):
            found.append(
                f"{name(a)} and {name(b)} must be kept apart but are both in {gname(where[a])}."
            )
    for a, b in problem.together:
        if a in where and b in where and where[a] != where[b]:
            found.append(
                f"{name(a)} and {name(b)} must be together but are in {gname(where[a])} "
                f"and {gname(where[b])}."
            )
    for pid, key, reason in problem.forbidden:
        if where.get(pid) == key:
            found.append(f"{name(pid)} is in {gname(key)}, {reason}.")
    if problem.physicians_only:
        for pid in where:
            if pid in people and people[pid].discipline != "physician":
                label = solver.DISCIPLINE_LABELS.get(people[pid].discipline, "non-physician")
                found.append(
                    f"{name(pid)} is a {label.lower()}; the program accepts physicians only."
                )
    return found


def evaluate(problem: solver.Problem, groups: Mapping[str, Sequence[int]]) -> Evaluation:
    """Score, composition, broken rules and unmet balance goals of ``groups``."""
    complete = {spec.key: list(groups.get(spec.key, ())) for spec in problem.groups}
    broken = violations(problem, complete)
    ctx = solver._normalise(problem)  # noqa: SLF001 - same package, shared reasoning
    return Evaluation(
        score=solver.objective_value(problem, complete),
        composition=solver._composition(problem, complete),  # noqa: SLF001
        violations=broken,
        # Explain shortfalls by the rules and priorities, as for a proven-best grouping: a
        # hand-made grouping is not the solver's to excuse.
        unmet=solver._unmet(ctx, complete, True),  # noqa: SLF001
    )
