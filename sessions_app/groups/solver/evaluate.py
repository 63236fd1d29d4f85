"""Evaluating any grouping of a problem, not only the solver's: after the coordinator moves
people by hand, the preview shows the new score and composition, and which hard rules the
groups now break (a preview that breaks one cannot be committed). Pure, like the solver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sessions_app.groups.solver import assignment as solver


@dataclass(frozen=True)
class Evaluation:
    score: int
    composition: list[solver.GroupComposition]
    violations: list[str]
    unmet: list[str]


def violations(problem: solver.Problem, groups: Mapping[str, Sequence[int]]) -> list[str]:
    """Each hard rule the grouping breaks, as a sentence naming the people and the rule: the
    rules of :data:`_RULES`, in that order."""
    placed = _Placed.of(problem, groups)
    return [sentence for rule in _RULES for sentence in rule(placed)]


@dataclass(frozen=True)
class _Placed:
    """A grouping with its problem's lookups: people by id, groups by key, person -> group."""

    problem: solver.Problem
    groups: Mapping[str, Sequence[int]]
    people: dict[int, solver.Person]
    specs: dict[str, solver.GroupSpec]
    where: dict[int, str]

    @classmethod
    def of(cls, problem: solver.Problem, groups: Mapping[str, Sequence[int]]) -> _Placed:
        return cls(
            problem=problem,
            groups=groups,
            people={p.id: p for p in problem.people},
            specs={g.key: g for g in problem.groups},
            where={pid: key for key, members in groups.items() for pid in members},
        )

    def name(self, pid: int) -> str:
        return self.people[pid].name if pid in self.people else f"#{pid}"

    def gname(self, key: str | None) -> str:
        return self.specs[key].name if key in self.specs else "no group"


def _unplaced(placed: _Placed) -> list[str]:
    """Everybody must be in a group."""
    return [
        f"{placed.name(pid)} is in no group." for pid in placed.people if pid not in placed.where
    ]


def _sizes_and_times(placed: _Placed) -> list[str]:
    """Each group within its size bounds, and its members able to attend its meeting time."""
    found: list[str] = []
    for spec in placed.problem.groups:
        members = placed.groups.get(spec.key, ())
        size = len(members)
        if size > spec.max_size:
            found.append(f"{spec.name} has {size} people; its maximum is {spec.max_size}.")
        elif size < spec.min_size:
            found.append(f"{spec.name} has {size} people; its minimum is {spec.min_size}.")
        if spec.slot:
            for pid in members:
                slots = placed.people[pid].available_slots if pid in placed.people else None
                if slots is not None and spec.slot not in slots:
                    found.append(
                        f"{placed.name(pid)} cannot attend {spec.name}'s meeting time "
                        f"({spec.slot})."
                    )
    return found


def _pins_broken(placed: _Placed) -> list[str]:
    """Pinned people in their pinned group."""
    problem, where = placed.problem, placed.where
    pins = problem.pins.items() if isinstance(problem.pins, Mapping) else problem.pins
    return [
        f"{placed.name(pid)} is pinned to {placed.gname(key)} but placed in "
        f"{placed.gname(where[pid])}."
        for pid, key in pins
        if pid in where and where[pid] != key
    ]


def _apart_broken(placed: _Placed) -> list[str]:
    """Pairs to be kept apart in different groups."""
    where = placed.where
    return [
        f"{placed.name(a)} and {placed.name(b)} must be kept apart but are both in "
        f"{placed.gname(where[a])}."
        for a, b in placed.problem.apart
        if a in where and where.get(a) == where.get(b)
    ]


def _together_broken(placed: _Placed) -> list[str]:
    """Pairs to be kept together in the same group."""
    where = placed.where
    return [
        f"{placed.name(a)} and {placed.name(b)} must be together but are in "
        f"{placed.gname(where[a])} and {placed.gname(where[b])}."
        for a, b in placed.problem.together
        if a in where and b in where and where[a] != where[b]
    ]


def _forbidden_broken(placed: _Placed) -> list[str]:
    """Nobody in a group they may not join (e.g. a group they facilitate)."""
    return [
        f"{placed.name(pid)} is in {placed.gname(key)}, {reason}."
        for pid, key, reason in placed.problem.forbidden
        if placed.where.get(pid) == key
    ]


def _physicians_only_broken(placed: _Placed) -> list[str]:
    """In a physicians-only program, nobody of another discipline in a group."""
    if not placed.problem.physicians_only:
        return []
    found: list[str] = []
    for pid in placed.where:
        if pid in placed.people and placed.people[pid].discipline != "physician":
            label = solver.DISCIPLINE_LABELS.get(placed.people[pid].discipline, "non-physician")
            found.append(
                f"{placed.name(pid)} is a {label.lower()}; the program accepts physicians only."
            )
    return found


#: The hard rules :func:`violations` checks, in the order its sentences come.
_RULES: tuple[Callable[[_Placed], list[str]], ...] = (
    _unplaced,
    _sizes_and_times,
    _pins_broken,
    _apart_broken,
    _together_broken,
    _forbidden_broken,
    _physicians_only_broken,
)


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
