"""Balanced assignment of clinicians to Clinical Case Discussion Groups, with OR-Tools CP-SAT.

A pure module: no Django, no database. Dataclasses in (:class:`Problem`), dataclasses out
(:class:`Assignment` or :class:`Infeasible`)::

    result = solve(Problem(people=people, groups=make_groups(3)))
    if isinstance(result, Infeasible):
        show(result.problems)          # plain-English sentences naming people and rules
    else:
        save(result.groups)            # group key -> sorted person ids

Hard rules: everybody in exactly one group; group sizes within bounds; pins; keep-apart and
keep-together pairs; forbidden (person, group) placements (e.g. a facilitator cannot be a member
of the group they facilitate); meeting-time availability; "physicians only"; and, in
``mode="add_newcomers"``, existing members stay where they are unless a hard rule needs a move
(see "Moves" below).

Soft goals (one integer objective, minimised): every group should hold its fair share of each
discipline (weight 4), gender (weight 2) and experience band (weight 1), plus a size-balance term
(weight 1). With ``n`` people in ``K`` groups, a value ``v`` held by ``c_v`` people and a group of
size ``s_g`` holding ``k`` of them, the fair share is ``c_v * s_g / n``; to stay in exact integer
arithmetic its penalty is ``|n * k - c_v * s_g|`` (n times the distance in people), and the size
penalty is ``|K * s_g - n|`` (K times the distance in people from ``n / K``). The two are put in
one unit, "people off target times n*K / gcd(n, K)", so that one person too many in a group
weighs the same (1) as one person off an experience-band share::

    score = sum over groups g of
              K/d * sum over attributes a, values v of  w_a * |n * k_{a,v,g} - c_v * s_g|
            + n/d * |K * s_g - n|                              (d = gcd(n, K))

Without that scaling the size term is n/K times weaker than its weight says, and because a
group's share of a rare value grows with its size, the fair-share terms alone pull groups
holding one of a rare discipline above the others (30 people in 3 groups came out 11/10/9).
:func:`objective_value` computes the score of any assignment; ``Assignment.score`` is it.

Moves: ``Problem.existing`` maps people to their current group. With ``move_weight`` ``w > 0``
(a fresh assignment that keeps the current groups) the solver minimises ``score + move_cost``,
where every person placed outside their current group costs ``w * n*K/d``: ``w`` times what one
person off an experience-band share costs above. Counted in that unit, one move changes the
mover's discipline, gender and band count by one in two groups and both groups' sizes by one, so
(leaving aside the fractions by which fair shares follow the sizes) it gains at most 2 x 4 by
its discipline share (a whole person too many in the group left, a whole person too few in the
group joined), 2 x 2 by gender, 2 x 1 by experience band and 2 by size. :data:`MOVE_WEIGHT` = 5
lies between: a move never pays for gender (4), experience (2) or size (2) alone, and it pays
for a clear imbalance: a discipline share off by a whole person in both groups (8), or gender,
band and size off together (8). A swap is two moves, each paying for itself. Hard rules move
people whatever it costs (a new keep-apart pair inside a group, a pin, a size bound), and
further moves must each pay 5 too: a second person comes the other way only when the forced move
alone would leave a clear imbalance (a keep-apart pair inside a balanced group of the demo gives
one swap of two people of the same profile). ``move_weight=0`` (the default; "rebalance freely")
makes moves free and the model exactly the one above. :func:`move_cost` computes the move term;
``Assignment.moves`` counts the moves.

In ``mode="add_newcomers"`` the existing members are constants at first. Only when that is
infeasible is the problem solved again with them free but each move costing more than any
balance score can reach (the least possible number of moves, then the best balance), and
``Assignment.forced`` keeps the sentences that explained why they could not all stay.

Every infeasibility that simple reasoning can detect is explained *before* the solver runs
(:func:`check_problem`), so that the coordinator reads "Ana Ruiz is pinned to two groups: Group 1
and Group 2." rather than "INFEASIBLE".

Scale: people with no individual rule (no apart partner, no together-cluster) are
interchangeable within their "type" (discipline, gender, experience band, set of groups they may
join; pins make people constants), so the model has one integer count per (type, group) for
them and booleans only for the few rule-bound people. When moves cost, the current group joins
the type only through one more count per (type, current group), of those who stay: whoever
leaves a group is, for balance, like any other person of the type, so the model stays as compact
as without moves (putting the current group in the type key would multiply the counts by the
number of groups: 780,000 variables for the benchmark's 3,000 people, against 120,000). Those
booleans are cut down further without losing any solution: within a run of interchangeable
groups the ``r``-th unit may only use the first ``r + 1`` of them (any solution can be
relabelled that way). A greedy placement hints the solver with a complete, feasible start.

Large programs (:data:`_LOCAL_SEARCH_PEOPLE` people or more): on 3,000 people in 300 groups
CP-SAT alone improved nothing on the greedy start in 10 minutes, and proved a bound 2.6 times
below it: its linear relaxation knows each share only group by group. Two things replace it:

* a lower bound from the *count problem* (:func:`lower_bound`): the score depends only on how
  many groups have each size and, per attribute value, how many groups of each size hold 0,
  1, 2, ... people with it; minimising over those counts alone, with the counts adding up, is a
  small integer problem (a few thousand variables, solved to optimality in a fraction of a
  second) and a relaxation, so no assignment beats its optimum. It also shows that unequal
  sizes can pay: on the benchmark the best counts use groups of 9 and 11 (at 9, 1,666
  physicians out of 3,000 make a fair share of 4.998 physicians, at 10 one of 5.55);
* local search from the greedy start (:class:`_LocalSearch`): the best single move or swap of
  two people for each person in turn, until a pass finds none. The score is a sum of per-group
  terms, so each candidate's change is computed for all partners at once with numpy. Then,
  unless within :data:`_ILS_TARGET` (0.2%) of the bound, iterated local search: a few random
  swaps, the touched groups repaired, the result kept when no worse, for a fixed number of
  evaluations (seeded by ``Problem.seed``: deterministic). On 600 people in 60 groups it takes
  the gap from 1.0% to 0.35%.

When the local search ends within :data:`_GAP` (2%) of the count bound, that is the answer and
``best_bound`` is the count bound; otherwise CP-SAT goes on from it (relabelled to meet the
symmetry breaking) for the time left. On the benchmark (100 pins, 100 apart and 100 together
pairs, 30 facilitator exclusions, 50 people with one meeting time) it ends 0.2% above the bound
in 5 to 7 s on two shared cores, 14% below what CP-SAT alone reaches in 10 minutes; see
``bench/assign_groups.py``.

Determinism: with ``Problem.deterministic`` (the default) CP-SAT runs one worker with
``random_seed = Problem.seed`` and stops on optimality or on a *deterministic* time budget, so
the same problem and seed always give the same groups. (CP-SAT's parallel portfolio is not
reproducible; its ``interleave_search`` mode is, but measured 10-30x slower here on the small
problems and no better on the large one.) The wall-clock limit stays a safety net; a run it cut
short is flagged ``Assignment.stopped_by_wall_clock`` and may not be reproducible. With
``deterministic=False`` CP-SAT uses ``num_workers`` threads and the wall clock only.
The local search of large programs is sequential and seeded: the same in both modes, unless
the wall clock (its share :data:`_LS_SHARE` of the budget) cuts it short, which is flagged too.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal

import numpy as np
from ortools.sat.python import cp_model

__all__ = [
    "ATTRIBUTE_WEIGHTS",
    "DISCIPLINE_LABELS",
    "EXPERIENCE_LABELS",
    "FACILITATES",
    "GENDER_LABELS",
    "MOVE_WEIGHT",
    "SIZE_WEIGHT",
    "Assignment",
    "GroupComposition",
    "GroupSpec",
    "Infeasible",
    "Person",
    "Problem",
    "check_problem",
    "groups_for_target",
    "lower_bound",
    "make_groups",
    "move_cost",
    "objective_value",
    "solve",
]

# --------------------------------------------------------------------------------------------
# Labels and weights
# --------------------------------------------------------------------------------------------

#: Human labels of the discipline codes (the same as ``sessions_app.roster.models.Discipline``).
DISCIPLINE_LABELS: dict[str, str] = {
    "physician": "Physician",
    "nurse_practitioner": "Nurse practitioner",
    "physician_assistant": "Physician assistant",
    "social_worker": "Social worker",
    "pharmacist": "Clinical pharmacist",
    "psychologist": "Psychologist",
    "nurse": "Nurse",
    "other": "Other",
}
#: Human labels of the gender codes (the same as ``sessions_app.roster.models.Gender``).
GENDER_LABELS: dict[str, str] = {
    "female": "Female",
    "male": "Male",
    "nonbinary": "Non-binary",
    "undisclosed": "Prefer not to say",
}
#: Human labels of the usual experience bands (other band codes are allowed and shown as is).
EXPERIENCE_LABELS: dict[str, str] = {
    "lt5": "Less than 5 years",
    "5to10": "5 to 10 years",
    "gt10": "More than 10 years",
    "unknown": "Unknown",
}

#: Objective weight of each attribute, in priority order (discipline > gender > experience).
ATTRIBUTE_WEIGHTS: dict[str, int] = {"discipline": 4, "gender": 2, "experience": 1}
#: Objective weight of the size-balance term.
SIZE_WEIGHT = 1
#: Objective weight of moving one person out of their current group, when current groups are
#: kept (``Problem.move_weight``): more than balancing gender, experience or size alone can gain
#: from one move, less than fixing a discipline share (see the module docstring).
MOVE_WEIGHT = 5

#: A ``forbidden`` reason for facilitators: "Ana Ruiz is pinned to Group 1, which they facilitate."
FACILITATES = "which they facilitate"

_LABELS = {
    "discipline": DISCIPLINE_LABELS,
    "gender": GENDER_LABELS,
    "experience": EXPERIENCE_LABELS,
}

# (singular, plural) nouns for sentences such as "3 social workers for 4 groups".
_NOUNS: dict[str, dict[str, tuple[str, str]]] = {
    "discipline": {
        "physician": ("physician", "physicians"),
        "nurse_practitioner": ("nurse practitioner", "nurse practitioners"),
        "physician_assistant": ("physician assistant", "physician assistants"),
        "social_worker": ("social worker", "social workers"),
        "pharmacist": ("clinical pharmacist", "clinical pharmacists"),
        "psychologist": ("psychologist", "psychologists"),
        "nurse": ("nurse", "nurses"),
        "other": ("person of another discipline", "people of other disciplines"),
    },
    "gender": {
        "female": ("woman", "women"),
        "male": ("man", "men"),
        "nonbinary": ("non-binary person", "non-binary people"),
        "undisclosed": (
            "person who did not state a gender",
            "people who did not state a gender",
        ),
    },
    "experience": {
        "lt5": (
            "person with less than 5 years' experience",
            "people with less than 5 years' experience",
        ),
        "5to10": ("person with 5 to 10 years' experience", "people with 5 to 10 years' experience"),
        "gt10": (
            "person with more than 10 years' experience",
            "people with more than 10 years' experience",
        ),
        "unknown": ("person of unknown experience", "people of unknown experience"),
    },
}

_ATTRS: tuple[str, ...] = ("discipline", "gender", "experience")
_BIG_MODEL = 50_000  # variables; above this CP-SAT's presolve is switched off
_DTIME_PER_SECOND = 0.15  # default deterministic budget per wall-clock second of time_limit_s
_LOCAL_SEARCH_PEOPLE = 200  # from this many people on, local search before CP-SAT
_LS_PASSES = 30  # passes of local search at most (each visits every movable person once)
_LS_SHARE = 0.6  # share of time_limit_s local search may take at most (a safety net)
_GAP = 0.02  # local search within 2% of the count bound: CP-SAT is not run
_ILS_TARGET = 0.002  # iterated local search stops within 0.2% of the count bound
_ILS_EVALUATIONS_PER_PERSON = 5  # or after this many evaluations per person (deterministic)
_ILS_KICK = 10  # random swaps per kick of the iterated local search

# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A clinician who opted in.

    ``available_slots`` lists the meeting times (group ``slot`` labels) the person can attend;
    ``None`` means any time. Everybody can attend a group whose slot is ``""`` (the common time).
    """

    id: int
    name: str
    discipline: str
    gender: str
    experience: str
    available_slots: frozenset[str] | None = None


@dataclass(frozen=True)
class GroupSpec:
    """One discussion group: a stable key, a display name, size bounds and its meeting time."""

    key: str
    name: str
    min_size: int = 8
    max_size: int = 12
    slot: str = ""


Mode = Literal["fresh", "add_newcomers"]


@dataclass(frozen=True)
class Problem:
    """Everything :func:`solve` needs.

    ``pins`` is a list of ``(person id, group key)`` pairs (a mapping is accepted too; a list lets
    the same person be pinned twice, which :func:`check_problem` reports). ``apart`` and
    ``together`` are pairs of person ids. ``forbidden`` holds ``(person id, group key, reason)``
    where reason is a clause completing "Ana Ruiz is pinned to Group 1, ..." such as
    :data:`FACILITATES`. ``existing`` maps current members to their group; with
    ``mode="add_newcomers"`` they stay where they are (unless a hard rule needs a move) and
    only the other people are placed. In ``mode="fresh"`` each person placed outside their
    current group costs ``move_weight`` (:data:`MOVE_WEIGHT` keeps current groups as far as
    balance allows; 0, the default, rebalances freely); a current group that is not among
    ``groups`` is simply left.

    Solver knobs: ``time_limit_s`` bounds the whole call in wall-clock seconds. With
    ``deterministic=True`` (the default) one CP-SAT worker searches for at most
    ``deterministic_time_s`` units of CP-SAT's deterministic time (default: 0.15 per second of the
    wall-clock budget, which on two cores usually ends first), so results are reproducible.
    With ``deterministic=False`` it uses ``num_workers`` threads until optimal or out of time.
    ``local_search=False`` leaves large problems to CP-SAT alone, as small ones are (the
    benchmark's reference run).
    """

    people: Sequence[Person]
    groups: Sequence[GroupSpec]
    pins: Sequence[tuple[int, str]] | Mapping[int, str] = field(default_factory=list)
    apart: Sequence[tuple[int, int]] = field(default_factory=list)
    together: Sequence[tuple[int, int]] = field(default_factory=list)
    forbidden: Sequence[tuple[int, str, str]] = field(default_factory=list)
    physicians_only: bool = False
    seed: int = 0
    time_limit_s: float = 10.0
    existing: Mapping[int, str] | None = None
    mode: Mode = "fresh"
    num_workers: int = 2
    deterministic: bool = True
    deterministic_time_s: float | None = None
    move_weight: int = 0
    local_search: bool = True


def make_groups(
    k: int,
    min_size: int = 8,
    max_size: int = 12,
    names: Sequence[str] | None = None,
    slot: str = "",
) -> list[GroupSpec]:
    """``k`` groups keyed ``"g1"`` .. ``"gk"`` and named "Group 1" .. (or ``names``)."""
    if k < 0:
        raise ValueError("k must not be negative")
    if names is not None and len(names) != k:
        raise ValueError(f"{len(names)} names given for {k} groups")
    return [
        GroupSpec(
            key=f"g{i + 1}",
            name=names[i] if names is not None else f"Group {i + 1}",
            min_size=min_size,
            max_size=max_size,
            slot=slot,
        )
        for i in range(k)
    ]


def groups_for_target(
    n_people: int, target_size: int = 10, min_size: int = 8, max_size: int = 12
) -> int:
    """How many groups of about ``target_size`` suit ``n_people`` within ``[min_size, max_size]``.

    The nearest whole number of groups to ``n_people / target_size``, moved into the range where
    every group can stay within its bounds. When no number of groups works (e.g. 7 people and a
    minimum of 8) it returns the smallest count that can hold everybody, and :func:`solve` then
    explains why it cannot work.
    """
    if target_size <= 0 or min_size < 0 or max_size <= 0 or min_size > max_size:
        raise ValueError("need 0 <= min_size <= max_size and a positive target_size")
    if n_people <= 0:
        return 0
    k = max(1, (2 * n_people + target_size) // (2 * target_size))  # round half up
    lo = -(-n_people // max_size)
    hi = n_people // min_size if min_size > 0 else n_people
    if lo > hi:
        return lo
    return min(max(k, lo), hi)


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Infeasible:
    """No assignment exists (or none was found in time); each problem is a plain sentence."""

    problems: list[str]


@dataclass(frozen=True)
class GroupComposition:
    """Who is in one group, counted per discipline, gender and experience band (codes)."""

    key: str
    name: str
    size: int
    disciplines: dict[str, int]
    genders: dict[str, int]
    experience: dict[str, int]


@dataclass(frozen=True)
class Assignment:
    """A solution. ``groups`` maps every group key to its members' ids, sorted.

    ``score`` is the balance objective (see the module docstring) of these groups and
    ``move_cost`` the cost of their moves (0 when moves are free); ``best_bound`` is the solver's
    proven lower bound on ``score + move_cost``; ``optimal`` whether the two meet. ``unmet``
    lists each soft goal that is not met, and why. ``moves`` counts the ``existing`` members
    whose group changed. ``forced`` is empty unless ``add_newcomers`` had to move existing
    members: then it says why they could not all stay.
    """

    groups: dict[str, list[int]]
    score: int
    best_bound: float
    optimal: bool
    composition: list[GroupComposition]
    unmet: list[str]
    moves: int
    wall_time_s: float
    stopped_by_wall_clock: bool = False
    move_cost: int = 0
    forced: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Small text helpers
# --------------------------------------------------------------------------------------------


def _join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _join_capped(items: Sequence[str], cap: int = 8) -> str:
    items = list(items)
    if len(items) <= cap:
        return _join(items)
    return ", ".join(items[:cap]) + f" and {len(items) - cap} others"


def _plural(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _noun(attr: str, value: str, count: int) -> str:
    singular, plural = _NOUNS.get(attr, {}).get(
        value, (f"person with {attr} {value!r}", f"people with {attr} {value!r}")
    )
    return singular if count == 1 else plural


def _discipline_phrase(code: str) -> str:
    """'a nurse practitioner', 'an ...', 'of another discipline'."""
    if code == "other":
        return "of another discipline"
    label = DISCIPLINE_LABELS.get(code, code.replace("_", " ")).lower()
    article = "an" if label[:1] in "aeiou" else "a"
    return f"{article} {label}"


def _slot_text(slot: str) -> str:
    return slot if slot else "the common time"


# --------------------------------------------------------------------------------------------
# Normalised view of a problem (shared by the checks and the model)
# --------------------------------------------------------------------------------------------


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, a: int) -> int:
        self.parent.setdefault(a, a)
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:
            self.parent[a], a = root, self.parent[a]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller id becomes the root: deterministic
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


@dataclass
class _Ctx:
    problem: Problem
    people: dict[int, Person]
    order: list[int]  # person ids in input order
    groups: list[GroupSpec]
    gidx: dict[str, int]
    pins: list[tuple[int, str]]
    pin_sources: dict[int, dict[str, str]]  # person -> {group key: "pin" | "existing"}
    apart: list[tuple[int, int]]
    together: list[tuple[int, int]]
    forbidden: dict[int, dict[str, str]]  # person -> {group key: reason}
    existing: dict[int, str]
    uf: _UnionFind
    clusters: dict[int, list[int]]  # root -> member ids (only clusters of 2+ people)
    avail: dict[int, frozenset[str]]  # person -> group keys whose meeting time they can attend
    allowed: dict[int, frozenset[str]]  # avail minus forbidden
    fixed_existing: bool  # add_newcomers, first attempt: existing members are constants
    move_cost: int  # objective units one move costs (0: moves are free or impossible)
    current: dict[int, int]  # person -> current group index, -1 if it is not among the groups;
    # only when moves cost

    def name(self, pid: int) -> str:
        return self.people[pid].name

    def gname(self, key: str) -> str:
        return self.groups[self.gidx[key]].name

    def names(self, pids: Iterable[int]) -> str:
        return _join([self.name(p) for p in pids])

    def apart_in_order(self) -> list[tuple[int, int]]:
        """The apart pairs, each with its people in input order (for messages)."""
        pos = {pid: i for i, pid in enumerate(self.order)}
        return [(a, b) if pos[a] <= pos[b] else (b, a) for a, b in self.apart]

    def cluster_of(self, pid: int) -> list[int]:
        return self.clusters.get(self.uf.find(pid), [pid])


def _normalise(problem: Problem, *, fixed_existing: bool = True) -> _Ctx:
    """Validate references and build lookups. Raises ``ValueError`` for malformed input
    (duplicate ids or keys, unknown ids or keys, bad size bounds, bad mode): those are
    programming errors, not coordinator decisions.

    ``fixed_existing=False`` is the second attempt of ``add_newcomers``: existing members may
    move, at a cost above any balance score.
    """
    people, order = _index_people(problem)
    groups, gidx = _index_groups(problem)
    _validate_mode(problem)
    newcomers_mode = problem.mode == "add_newcomers"
    fixed_existing = fixed_existing and newcomers_mode
    refs = _Refs(people, gidx)
    pins, existing, pin_sources = _pins(problem, refs, fixed_existing=fixed_existing)
    apart = _apart(problem, refs)
    together, uf, clusters = _together(problem, refs)
    forbidden = _forbidden(problem, refs)
    avail, allowed = _availability(people, groups, forbidden)
    if newcomers_mode:
        move_cost = 0 if fixed_existing else _balance_bound(problem, people, groups) + 1
    else:
        move_cost = problem.move_weight * _move_unit(len(people), len(groups))
    current = {p: gidx.get(g, -1) for p, g in existing.items()} if move_cost else {}
    return _Ctx(
        problem=problem,
        people=people,
        order=order,
        groups=groups,
        gidx=gidx,
        pins=pins,
        pin_sources=pin_sources,
        apart=apart,
        together=together,
        forbidden=forbidden,
        existing=existing,
        uf=uf,
        clusters=clusters,
        avail=avail,
        allowed=allowed,
        fixed_existing=fixed_existing,
        move_cost=move_cost,
        current=current,
    )


def _index_people(problem: Problem) -> tuple[dict[int, Person], list[int]]:
    """People by id, and their ids in input order; a repeated id is refused."""
    people: dict[int, Person] = {}
    order: list[int] = []
    for p in problem.people:
        if p.id in people:
            raise ValueError(f"duplicate person id {p.id}")
        people[p.id] = p
        order.append(p.id)
    return people, order


def _index_groups(problem: Problem) -> tuple[list[GroupSpec], dict[str, int]]:
    """The groups, and each key's index; a repeated key or impossible size bounds are
    refused."""
    groups = list(problem.groups)
    gidx: dict[str, int] = {}
    for i, g in enumerate(groups):
        if g.key in gidx:
            raise ValueError(f"duplicate group key {g.key!r}")
        if g.min_size < 0 or g.min_size > g.max_size:
            raise ValueError(f"group {g.key!r}: need 0 <= min_size <= max_size")
        gidx[g.key] = i
    return groups, gidx


def _validate_mode(problem: Problem) -> None:
    """A known mode, ``existing`` members for ``add_newcomers``, a move weight of 0 or more."""
    if problem.mode not in ("fresh", "add_newcomers"):
        raise ValueError(f"unknown mode {problem.mode!r}")
    if problem.mode == "add_newcomers" and problem.existing is None:
        raise ValueError("mode='add_newcomers' needs existing (member id -> group key)")
    if problem.move_weight < 0:
        raise ValueError("move_weight must not be negative")


@dataclass(frozen=True)
class _Refs:
    """Checks that a rule names a known person or group (``what`` names the rule)."""

    people: Mapping[int, Person]
    gidx: Mapping[str, int]

    def person(self, pid: int, what: str) -> int:
        if pid not in self.people:
            raise ValueError(f"{what} refers to unknown person id {pid}")
        return pid

    def group(self, key: str, what: str) -> str:
        if key not in self.gidx:
            raise ValueError(f"{what} refers to unknown group key {key!r}")
        return key


def _pins(
    problem: Problem, refs: _Refs, *, fixed_existing: bool
) -> tuple[list[tuple[int, str]], dict[int, str], dict[int, dict[str, str]]]:
    """The pins, the current groups, and for each person the groups they must join and why:
    ``"pin"``, or ``"existing"`` when existing members stay put."""
    raw_pins = problem.pins.items() if isinstance(problem.pins, Mapping) else problem.pins
    pins = [(refs.person(p, "a pin"), refs.group(g, "a pin")) for p, g in raw_pins]
    existing: dict[int, str] = {}
    if problem.existing is not None:
        for p, g in problem.existing.items():
            existing[refs.person(p, "existing")] = g
            if problem.mode == "add_newcomers":
                refs.group(g, "existing")
    pin_sources: dict[int, dict[str, str]] = defaultdict(dict)
    if fixed_existing:
        for p, g in existing.items():
            pin_sources[p][g] = "existing"
    for p, g in pins:
        pin_sources[p].setdefault(g, "pin")
    return pins, existing, dict(pin_sources)


def _apart(problem: Problem, refs: _Refs) -> list[tuple[int, int]]:
    """The keep-apart pairs; a pair naming one person twice is refused."""
    apart: list[tuple[int, int]] = []
    for a, b in problem.apart:
        refs.person(a, "an apart pair")
        refs.person(b, "an apart pair")
        if a == b:
            raise ValueError(f"apart pair ({a}, {b}) names the same person twice")
        apart.append((a, b))
    return apart


def _together(
    problem: Problem, refs: _Refs
) -> tuple[list[tuple[int, int]], _UnionFind, dict[int, list[int]]]:
    """The keep-together pairs (a person paired with themselves is dropped), joined into
    clusters: root -> member ids, for clusters of two people or more."""
    together: list[tuple[int, int]] = []
    uf = _UnionFind()
    for a, b in problem.together:
        refs.person(a, "a together pair")
        refs.person(b, "a together pair")
        if a != b:
            together.append((a, b))
            uf.union(a, b)
    clusters_dd: dict[int, list[int]] = defaultdict(list)
    for pid in sorted(uf.parent):
        clusters_dd[uf.find(pid)].append(pid)
    clusters = {r: m for r, m in clusters_dd.items() if len(m) >= 2}
    return together, uf, clusters


def _forbidden(problem: Problem, refs: _Refs) -> dict[int, dict[str, str]]:
    """Forbidden placements: person -> {group key: reason}, the first reason given for each."""
    forbidden: dict[int, dict[str, str]] = defaultdict(dict)
    for p, g, reason in problem.forbidden:
        forbidden[refs.person(p, "a forbidden placement")].setdefault(
            refs.group(g, "a forbidden placement"), reason
        )
    return dict(forbidden)


def _availability(
    people: Mapping[int, Person],
    groups: Sequence[GroupSpec],
    forbidden: Mapping[int, Mapping[str, str]],
) -> tuple[dict[int, frozenset[str]], dict[int, frozenset[str]]]:
    """For each person, the groups whose meeting time they can attend, and of those the ones
    they may join (no forbidden placement)."""
    all_keys = frozenset(g.key for g in groups)
    avail: dict[int, frozenset[str]] = {}
    allowed: dict[int, frozenset[str]] = {}
    for pid, p in people.items():
        if p.available_slots is None:
            a = all_keys
        else:
            a = frozenset(g.key for g in groups if g.slot == "" or g.slot in p.available_slots)
        avail[pid] = a
        allowed[pid] = a - frozenset(forbidden.get(pid, ()))
    return avail, allowed


def _move_unit(n: int, k: int) -> int:
    """What one person off an experience-band share costs: n*K/d (see the module docstring)."""
    attr_scale, _ = _scales(n, k)
    return attr_scale * n


def _balance_bound(
    problem: Problem, people: Mapping[int, Person], groups: Sequence[GroupSpec]
) -> int:
    """An upper bound on the balance score of any assignment (each term at its largest): a move
    costing more than this is never traded for balance."""
    n, k = len(people), len(groups)
    attr_scale, size_scale = _scales(n, k)
    totals = _value_totals(people.values())
    bound = 0
    for spec in groups:
        bound += (
            size_scale * SIZE_WEIGHT * max(abs(k * spec.min_size - n), abs(k * spec.max_size - n))
        )
        for a, weight in ATTRIBUTE_WEIGHTS.items():
            for c in totals[a].values():
                bound += attr_scale * weight * max(n, c) * spec.max_size
    return bound


def _person_pin(ctx: _Ctx, pid: int) -> str | None:
    """The one group a person is pinned to (by a pin or by staying put), if any and unique."""
    src = ctx.pin_sources.get(pid)
    if src and len(src) == 1:
        return next(iter(src))
    return None


def _cluster_pin(ctx: _Ctx, pid: int) -> str | None:
    """The one group a person must join, through their own pin or their together-cluster's."""
    keys = {k for m in ctx.cluster_of(pid) for k in ctx.pin_sources.get(m, {})}
    return next(iter(keys)) if len(keys) == 1 else None


def _why_not(ctx: _Ctx, pid: int, key: str) -> str:
    """Why ``pid`` cannot join group ``key`` (meeting time or forbidden), as a clause."""
    if key not in ctx.avail[pid]:
        return f"it meets at {ctx.groups[ctx.gidx[key]].slot}, a time they cannot attend"
    reason = ctx.forbidden.get(pid, {}).get(key, "")
    return reason or "which they may not join"


def _tpath(ctx: _Ctx, a: int, b: int) -> list[int]:
    """People on a shortest together-chain from ``a`` to ``b`` (both included)."""
    adj: dict[int, list[int]] = defaultdict(list)
    for x, y in ctx.together:
        adj[x].append(y)
        adj[y].append(x)
    prev: dict[int, int | None] = {a: None}
    queue = deque([a])
    while queue:
        x = queue.popleft()
        if x == b:
            break
        for y in sorted(adj[x]):
            if y not in prev:
                prev[y] = x
                queue.append(y)
    path = [b]
    while prev.get(path[-1]) is not None:
        path.append(prev[path[-1]])  # type: ignore[arg-type]
    return path[::-1]


# --------------------------------------------------------------------------------------------
# Explicit checks (before the solver)
# --------------------------------------------------------------------------------------------


def check_problem(problem: Problem) -> list[str]:
    """Every reason, found by direct checks, why ``problem`` has no solution (empty: none found).

    Raises ``ValueError`` for malformed input (see :func:`_normalise`).
    """
    return _checks(_normalise(problem))


def _checks(ctx: _Ctx) -> list[str]:
    """Run every check of :data:`_CHECKS` in turn and gather their sentences, in that order."""
    if not ctx.groups:
        return (
            ["There are no groups to place people in."] if ctx.people else ["There are no groups."]
        )
    return [message for check in _CHECKS for message in check(ctx)]


def _linked(ctx: _Ctx, a: int, b: int) -> bool:
    """Whether together rules (directly or through a chain) put ``a`` and ``b`` in one cluster."""
    return a in ctx.uf.parent and b in ctx.uf.parent and ctx.uf.find(a) == ctx.uf.find(b)


# --- capacity -------------------------------------------------------------------------------


def _check_capacity(ctx: _Ctx) -> list[str]:
    """Whether the people fit the groups' size bounds: the newcomers the free places while the
    existing members stay put, otherwise everybody the sums of the minimum and maximum sizes."""
    if ctx.problem.mode == "add_newcomers" and ctx.fixed_existing:
        return _check_newcomer_places(ctx)
    return _check_total_size(ctx)


def _check_newcomer_places(ctx: _Ctx) -> list[str]:
    """With existing members as constants: no group may already be over its maximum, and the
    newcomers must fit in the free places and be enough to bring every group to its minimum."""
    out: list[str] = []
    groups = ctx.groups
    members: dict[str, int] = defaultdict(int)
    for g in ctx.existing.values():
        members[g] += 1
    newcomers = len(ctx.people) - len(ctx.existing)
    free = {g.key: max(0, g.max_size - members[g.key]) for g in groups}
    short = {g.key: max(0, g.min_size - members[g.key]) for g in groups}
    for g in groups:
        if members[g.key] > g.max_size:
            out.append(
                f"{g.name} already has {members[g.key]} members, more than its maximum "
                f"of {g.max_size}."
            )
    there_are = f"There {'is' if newcomers == 1 else 'are'} {_plural(newcomers, 'newcomer')}"
    if newcomers > sum(free.values()):
        detail = ", ".join(f"{g.name}: {free[g.key]}" for g in groups)
        out.append(f"{there_are} but only {_plural(sum(free.values()), 'free place')} ({detail}).")
    if newcomers < sum(short.values()):
        detail = ", ".join(f"{g.name}: {short[g.key]}" for g in groups if short[g.key])
        out.append(
            f"{there_are} but the groups need {sum(short.values())} more members to reach their "
            f"minimum sizes ({detail})."
        )
    return out


def _check_total_size(ctx: _Ctx) -> list[str]:
    """Whether everybody is enough to fill every group to its minimum size, and few enough to
    fit within the maximum sizes."""
    out: list[str] = []
    groups = ctx.groups
    n = len(ctx.people)
    need = sum(g.min_size for g in groups)
    cap = sum(g.max_size for g in groups)
    people = _plural(n, "person", "people")
    groups_word = _plural(len(groups), "group")
    if n < need:
        if len({g.min_size for g in groups}) == 1:
            out.append(
                f"{people} cannot fill {groups_word} of at least {groups[0].min_size} "
                f"({need} places needed)."
            )
        else:
            out.append(
                f"{people} cannot fill {groups_word} whose minimum sizes add up to {need} places."
            )
    if n > cap:
        if len({g.max_size for g in groups}) == 1:
            out.append(
                f"{people} do not fit in {groups_word} of at most {groups[0].max_size} "
                f"({cap} places)."
            )
        else:
            out.append(
                f"{people} do not fit in {groups_word} whose maximum sizes add up to {cap} places."
            )
    return out


# --- physicians only ------------------------------------------------------------------------


def _check_physicians_only(ctx: _Ctx) -> list[str]:
    """In a physicians-only program, everybody of another discipline (one sentence)."""
    if not ctx.problem.physicians_only:
        return []
    others = [ctx.people[i] for i in ctx.order if ctx.people[i].discipline != "physician"]
    if not others:
        return []
    return [
        "The program accepts physicians only; "
        + _join_capped([f"{o.name} is {_discipline_phrase(o.discipline)}" for o in others], 20)
        + "."
    ]


# --- each person on their own ---------------------------------------------------------------


def _check_each_person(ctx: _Ctx) -> list[str]:
    """Whether each person, on their own, can be placed: at most one sentence per person."""
    found = (_person_problem(ctx, pid) for pid in ctx.order)
    return [message for message in found if message is not None]


def _person_problem(ctx: _Ctx, pid: int) -> str | None:
    """What keeps one person out of every group, if anything: two pins (or a pin and their
    current group), no meeting time they can attend, a pin to a group they cannot join, or no
    group they may join at all."""
    src = ctx.pin_sources.get(pid, {})
    name = ctx.name(pid)
    if len(src) > 1:
        return _double_pin_problem(ctx, pid, src)
    if not ctx.avail[pid]:
        slots = list(dict.fromkeys(g.slot for g in ctx.groups))
        return f"{name} can attend none of the groups' meeting times ({', '.join(slots)})."
    if src:
        (key, source) = next(iter(src.items()))
        if key in ctx.allowed[pid]:
            return None
        verb = "is pinned to" if source == "pin" else "already belongs to"
        if key not in ctx.avail[pid]:
            return (
                f"{name} {verb} {ctx.gname(key)}, which meets at "
                f"{ctx.groups[ctx.gidx[key]].slot}, a time they cannot attend."
            )
        return f"{name} {verb} {ctx.gname(key)}, {_why_not(ctx, pid, key)}."
    if not ctx.allowed[pid]:
        reasons = [f"{ctx.gname(g.key)} ({_why_not(ctx, pid, g.key)})" for g in ctx.groups]
        return f"{name} cannot join any group: {'; '.join(reasons)}."
    return None


def _double_pin_problem(ctx: _Ctx, pid: int, src: Mapping[str, str]) -> str:
    """A person held in two groups: pinned to both, or pinned away from where they stay."""
    name = ctx.name(pid)
    pinned = [g for g, s in src.items() if s == "pin"]
    stays = [g for g, s in src.items() if s == "existing"]
    if stays:
        return (
            f"{name} is pinned to {_join([ctx.gname(g) for g in pinned])} but already "
            f"belongs to {ctx.gname(stays[0])}, and existing members are not moved."
        )
    ordered = sorted(pinned, key=ctx.gidx.__getitem__)
    count = "two" if len(ordered) == 2 else str(len(ordered))
    return f"{name} is pinned to {count} groups: {_join([ctx.gname(g) for g in ordered])}."


# --- together clusters ----------------------------------------------------------------------


def _check_together_and_apart(ctx: _Ctx) -> list[str]:
    """Pairs to be kept apart that together rules (directly or through a chain) join."""
    out: list[str] = []
    direct_together = {frozenset(pair) for pair in ctx.together}
    for a, b in ctx.apart_in_order():
        if not _linked(ctx, a, b):
            continue
        if frozenset((a, b)) in direct_together:
            out.append(f"{ctx.name(a)} and {ctx.name(b)} must be together and apart at once.")
        else:
            chain = _tpath(ctx, a, b)
            out.append(
                f"{ctx.name(a)} and {ctx.name(b)} must be together and apart at once: they "
                f"must be kept apart, but together rules chain {ctx.names(chain)}."
            )
    return out


def _check_clusters(ctx: _Ctx) -> list[str]:
    """Whether each together-cluster fits in a group and has a group all its members may join,
    given their pins, meeting times and forbidden placements."""
    out: list[str] = []
    largest = max(g.max_size for g in ctx.groups)
    same = len({g.max_size for g in ctx.groups}) == 1
    for members in ctx.clusters.values():
        if len(members) > largest:
            out.append(
                f"{ctx.names(members)} must be together ({len(members)} people), more than "
                f"{'a' if same else 'the largest'} group's maximum of {largest}."
            )
        pinned = {m: next(iter(ctx.pin_sources[m])) for m in members if m in ctx.pin_sources}
        pinned = {m: g for m, g in pinned.items() if len(ctx.pin_sources[m]) == 1}
        if pinned:
            out.extend(_pinned_cluster_problems(ctx, members, pinned))
        else:
            out.extend(_unpinned_cluster_problems(ctx, members))
    return out


def _pinned_cluster_problems(
    ctx: _Ctx, members: Sequence[int], pinned: Mapping[int, str]
) -> list[str]:
    """A cluster with pinned members: pinned to different groups, or pinned to one group that
    another member cannot join (one sentence per such member)."""
    if len(set(pinned.values())) > 1:
        who = sorted(pinned, key=lambda m: (ctx.gidx[pinned[m]], m))
        detail = ", ".join(f"{ctx.name(m)} to {ctx.gname(pinned[m])}" for m in who)
        via = ""
        if len(members) > len(pinned):
            via = f" (together rules link {ctx.names(members)})"
        return [
            f"{ctx.names(who)} must be together but are pinned to different groups ({detail}){via}."
        ]
    key = next(iter(pinned.values()))
    blocked = [m for m in members if m not in pinned and key not in ctx.allowed[m]]
    pinned_names = ctx.names(sorted(pinned))
    verb = "is" if len(pinned) == 1 else "are"
    return [
        f"{ctx.names(members)} must be together and {pinned_names} {verb} "
        f"pinned to {ctx.gname(key)}, but {ctx.name(m)} cannot join it "
        f"({_why_not(ctx, m, key)})."
        for m in blocked
    ]


def _unpinned_cluster_problems(ctx: _Ctx, members: Sequence[int]) -> list[str]:
    """A cluster with no pin whose members may each join some group, but no group in common."""
    common = frozenset.intersection(*(ctx.allowed[m] for m in members))
    if common or not all(ctx.allowed[m] for m in members):
        return []  # a member who may join no group is reported on their own
    parts = []
    for m in members:
        if ctx.allowed[m] != frozenset(ctx.gidx):
            ok = sorted(ctx.allowed[m], key=ctx.gidx.__getitem__)
            parts.append(f"{ctx.name(m)} can join only {_join([ctx.gname(g) for g in ok])}")
    return [
        f"{ctx.names(members)} must be together, but no group suits all of them: "
        f"{'; '.join(parts)}."
    ]


# --- apart pairs ----------------------------------------------------------------------------


def _check_apart_pairs(ctx: _Ctx) -> list[str]:
    """Pairs to be kept apart whose pins (or current groups), through together rules or not,
    put both in the same group."""
    out: list[str] = []
    for a, b in ctx.apart_in_order():
        if _linked(ctx, a, b):
            continue  # reported by _check_together_and_apart
        pa, pb = _cluster_pin(ctx, a), _cluster_pin(ctx, b)
        if pa is None or pa != pb:
            continue
        if _person_pin(ctx, a) == pa and _person_pin(ctx, b) == pa:
            sources = {ctx.pin_sources[a][pa], ctx.pin_sources[b][pa]}
            if sources == {"pin"}:
                how = f"are both pinned to {ctx.gname(pa)}"
            elif sources == {"existing"}:
                how = f"are both already in {ctx.gname(pa)}, and existing members are not moved"
            else:
                how = f"are both pinned to or already in {ctx.gname(pa)}"
            out.append(f"{ctx.name(a)} and {ctx.name(b)} must be kept apart but {how}.")
        else:
            out.append(
                f"{ctx.name(a)} and {ctx.name(b)} must be kept apart but pins and together "
                f"rules put both in {ctx.gname(pa)}."
            )
    return out


def _check_apart_blocked(ctx: _Ctx) -> list[str]:
    """Unpinned people (or together-clusters, checked once each) whose only possible groups
    are all taken by the pins of partners they must be kept apart from."""
    out: list[str] = []
    for pid in ctx.order:
        if _cluster_pin(ctx, pid) is not None or len(ctx.pin_sources.get(pid, {})) > 1:
            continue
        members = ctx.cluster_of(pid)
        if pid != members[0]:
            continue  # one check per cluster
        common = frozenset.intersection(*(ctx.allowed[m] for m in members))
        if not common:
            continue  # reported by _check_each_person or _check_clusters
        blockers = _apart_blockers(ctx, members, common)
        if blockers and set(blockers) >= common:
            parts = [
                f"{ctx.name(y)} (to be kept apart from {ctx.name(x)}) is pinned to {ctx.gname(g)}"
                for g in sorted(blockers, key=ctx.gidx.__getitem__)
                for x, y in blockers[g][:1]
            ]
            who = ctx.names(members)
            only = _join([ctx.gname(g) for g in sorted(common, key=ctx.gidx.__getitem__)])
            out.append(f"{who} can join only {only}, but {'; '.join(parts)}.")
    return out


def _apart_blockers(
    ctx: _Ctx, members: Sequence[int], common: frozenset[str]
) -> dict[str, list[tuple[int, int]]]:
    """Of the groups in ``common``, those an apart partner of a member is pinned to:
    group key -> (member, partner) pairs."""
    blockers: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a, b in ctx.apart:
        for x, y in ((a, b), (b, a)):
            if x in members:
                g = _cluster_pin(ctx, y)
                if g is not None and g in common:
                    blockers[g].append((x, y))
    return blockers


# --- pins per group -------------------------------------------------------------------------


def _check_pins_per_group(ctx: _Ctx) -> list[str]:
    """Groups that pins (direct or through together rules) fill beyond their maximum size."""
    out: list[str] = []
    load: dict[str, list[int]] = defaultdict(list)
    for pid in ctx.order:
        g = _cluster_pin(ctx, pid)
        if g is not None:
            load[g].append(pid)
    for g in ctx.groups:
        who = load.get(g.key, [])
        if len(who) <= g.max_size:
            continue
        explicit = [m for m in who if ctx.pin_sources.get(m, {}).get(g.key) != "existing"]
        if ctx.problem.mode == "add_newcomers" and not explicit:
            continue  # "already has N members" by _check_newcomer_places
        out.append(
            f"{len(who)} people are pinned to {g.name}, more than its maximum of {g.max_size}: "
            f"{_join_capped([ctx.name(m) for m in sorted(who)], 20)}."
        )
    return out


# --- meeting times (simple counting conditions) ---------------------------------------------


def _check_meeting_time_capacity(ctx: _Ctx) -> list[str]:
    """For each set of groups that some people are limited to by their meeting times: whether
    the people who can attend only those groups fit in them."""
    out: list[str] = []
    groups = ctx.groups
    all_keys = frozenset(ctx.gidx)
    restricted_sets = sorted(
        {ctx.avail[pid] for pid in ctx.order if ctx.avail[pid] and ctx.avail[pid] != all_keys},
        key=lambda s: sorted(ctx.gidx[x] for x in s),
    )
    for keys in restricted_sets:
        who = [pid for pid in ctx.order if ctx.avail[pid] and ctx.avail[pid] <= keys]
        capacity = sum(groups[ctx.gidx[x]].max_size for x in keys)
        if len(who) > capacity:
            gs = [g for g in groups if g.key in keys]
            slots = _join(list(dict.fromkeys(_slot_text(g.slot) for g in gs)))
            out.append(
                f"{len(who)} people can only attend {slots} "
                f"({_join_capped([ctx.name(m) for m in who])}), but the groups meeting then "
                f"({_join([g.name for g in gs])}) hold at most {capacity}."
            )
    return out


def _check_slot_minimums(ctx: _Ctx) -> list[str]:
    """For each meeting time other than the common one: whether enough people can attend it to
    fill the groups meeting then to their minimum sizes."""
    out: list[str] = []
    groups = ctx.groups
    for slot in dict.fromkeys(g.slot for g in groups if g.slot):
        gs = [g for g in groups if g.slot == slot]
        needed = sum(g.min_size for g in gs)
        able = sum(1 for pid in ctx.order if any(g.key in ctx.avail[pid] for g in gs))
        if able < needed:
            verb = "meets" if len(gs) == 1 else "meet"
            need_verb = "needs" if len(gs) == 1 else "need"
            out.append(
                f"{_join([g.name for g in gs])} {verb} at {slot} and {need_verb} at least "
                f"{needed} people, but only {able} can attend then."
            )
    return out


#: The checks :func:`_checks` runs, in the order their sentences are reported.
_CHECKS: tuple[Callable[[_Ctx], list[str]], ...] = (
    _check_capacity,
    _check_physicians_only,
    _check_each_person,
    _check_together_and_apart,
    _check_clusters,
    _check_apart_pairs,
    _check_apart_blocked,
    _check_pins_per_group,
    _check_meeting_time_capacity,
    _check_slot_minimums,
)


# --------------------------------------------------------------------------------------------
# Objective (exact, in Python) and composition
# --------------------------------------------------------------------------------------------


def _value_totals(people: Iterable[Person]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {a: defaultdict(int) for a in _ATTRS}
    for person in people:
        for a in _ATTRS:
            totals[a][getattr(person, a)] += 1
    return {a: dict(t) for a, t in totals.items()}


def objective_value(problem: Problem, groups: Mapping[str, Sequence[int]]) -> int:
    """The objective (see the module docstring) of a complete assignment of ``problem``."""
    people = {p.id: p for p in problem.people}
    n = len(people)
    k = len(problem.groups)
    totals = _value_totals(people.values())
    attr_scale, size_scale = _scales(n, k)
    total = 0
    for spec in problem.groups:
        members = [people[i] for i in groups.get(spec.key, ())]
        size = len(members)
        total += size_scale * SIZE_WEIGHT * abs(k * size - n)
        for a, weight in ATTRIBUTE_WEIGHTS.items():
            counts: dict[str, int] = defaultdict(int)
            for m in members:
                counts[getattr(m, a)] += 1
            for value, c in totals[a].items():
                total += attr_scale * weight * abs(n * counts[value] - c * size)
    return total


def move_cost(problem: Problem, groups: Mapping[str, Sequence[int]]) -> int:
    """The move term of a fresh assignment's objective: ``problem.move_weight * n*K/d`` for
    each person of ``problem.existing`` placed outside their current group (see the module
    docstring). Always 0 in ``add_newcomers`` mode, where moves are not traded for balance."""
    if problem.mode != "fresh" or not problem.existing or not problem.move_weight:
        return 0
    where = {pid: key for key, ids in groups.items() for pid in ids}
    moved = sum(1 for pid, key in problem.existing.items() if where.get(pid) != key)
    return problem.move_weight * _move_unit(len(problem.people), len(problem.groups)) * moved


def _scales(n: int, k: int) -> tuple[int, int]:
    """Multipliers that put the attribute and size terms in one unit (see module docstring)."""
    if n == 0 or k == 0:
        return 1, 1
    g = math.gcd(n, k)
    return k // g, n // g


def _ordered_codes(attr: str, seen: Iterable[str]) -> list[str]:
    known = list(_LABELS[attr])
    return known + sorted(set(seen) - set(known))


def _composition(problem: Problem, groups: Mapping[str, Sequence[int]]) -> list[GroupComposition]:
    people = {p.id: p for p in problem.people}
    codes = {a: _ordered_codes(a, (getattr(p, a) for p in people.values())) for a in _ATTRS}
    out = []
    for spec in problem.groups:
        members = [people[i] for i in groups[spec.key]]
        counts = {a: dict.fromkeys(codes[a], 0) for a in _ATTRS}
        for m in members:
            for a in _ATTRS:
                counts[a][getattr(m, a)] += 1
        out.append(
            GroupComposition(
                key=spec.key,
                name=spec.name,
                size=len(members),
                disciplines=counts["discipline"],
                genders=counts["gender"],
                experience=counts["experience"],
            )
        )
    return out


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class _Unit:
    """People who must move as one: a together-cluster, or one person with an apart rule."""

    members: list[int]
    allowed: list[int]  # group indexes
    counts: dict[tuple[str, str], int]  # (attribute, value) -> members with it
    candidates: list[int] = field(default_factory=list)  # group indexes given a variable


# discipline, gender, experience band, allowed group indexes
_TypeKey = tuple[str, str, str, tuple[int, ...]]


@dataclass
class _Layout:
    """How the people enter the model.

    ``fixed`` people (pinned, directly or through a together-cluster, or staying put) are
    constants; ``units`` get one boolean per candidate group; everybody else is ``pooled`` by
    type (discipline, gender, experience, allowed groups) with one integer count per group.
    When moves cost, ``stays`` counts the people of each type currently in each group they may
    stay in: a person who moves is like any other of their type, so the model needs only one
    more count per (type, current group), of those who stay. ``classes`` are runs of
    interchangeable groups (same bounds and slot, no pin, no forbidden placement, no apart
    exclusion, nobody's current group when moves cost): permuting their groups maps solutions
    to solutions.
    """

    fixed: dict[int, int]
    units: list[_Unit]
    unit_of: dict[int, int]
    pooled: dict[_TypeKey, list[int]]
    type_keys: list[_TypeKey]
    classes: list[list[int]]
    special: set[int]
    stays: dict[tuple[int, int], int]  # (type index, current group index) -> people


def _layout(ctx: _Ctx) -> _Layout:
    """Sort the people into fixed ones, units and pooled types, and the groups into classes
    of interchangeable ones (see :class:`_Layout`)."""
    fixed: dict[int, int] = {}
    for pid in ctx.order:
        key = _cluster_pin(ctx, pid)
        if key is not None:
            fixed[pid] = ctx.gidx[key]
    units, unit_of, pooled = _units_and_types(ctx, fixed)
    classes = _interchangeable_classes(ctx, fixed)
    in_class = {g for c in classes for g in c}
    type_keys = sorted(pooled)
    stays: dict[tuple[int, int], int] = defaultdict(int)
    for ti, t in enumerate(type_keys):
        for pid in pooled[t]:
            home = ctx.current.get(pid, -1)
            if home in t[3]:
                stays[ti, home] += 1
    return _Layout(
        fixed=fixed,
        units=units,
        unit_of=unit_of,
        pooled=pooled,
        type_keys=type_keys,
        classes=classes,
        special={g for g in range(len(ctx.groups)) if g not in in_class},
        stays=dict(stays),
    )


def _units_and_types(
    ctx: _Ctx, fixed: Mapping[int, int]
) -> tuple[list[_Unit], dict[int, int], dict[_TypeKey, list[int]]]:
    """The people who are not fixed: together-clusters and people with a free apart partner
    become units (with the groups all their members may join); everybody else is pooled by
    type. Returns the units, each unit member's unit index, and the pooled ids by type."""
    # an apart partner who is fixed only removes one group; both free: both become units
    excluded: dict[int, set[int]] = defaultdict(set)
    paired: set[int] = set()
    for a, b in ctx.apart:
        if a in fixed and b not in fixed:
            excluded[b].add(fixed[a])
        elif b in fixed and a not in fixed:
            excluded[a].add(fixed[b])
        elif a not in fixed and b not in fixed:
            paired.update((a, b))

    def allowed_idx(pid: int) -> set[int]:
        return {ctx.gidx[k] for k in ctx.allowed[pid]} - excluded.get(pid, set())

    units: list[_Unit] = []
    unit_of: dict[int, int] = {}
    pooled: dict[_TypeKey, list[int]] = defaultdict(list)
    for pid in ctx.order:
        if pid in fixed or pid in unit_of:
            continue
        members = ctx.cluster_of(pid)
        person = ctx.people[pid]
        if len(members) == 1 and pid not in paired:
            key = (person.discipline, person.gender, person.experience)
            pooled[(*key, tuple(sorted(allowed_idx(pid))))].append(pid)
            continue
        allowed = set.intersection(*(allowed_idx(m) for m in members))
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for m in members:
            for a in _ATTRS:
                counts[(a, getattr(ctx.people[m], a))] += 1
        for m in members:
            unit_of[m] = len(units)
        units.append(_Unit(members=list(members), allowed=sorted(allowed), counts=dict(counts)))
    for ids in pooled.values():
        ids.sort()
    return units, unit_of, dict(pooled)


def _interchangeable_classes(ctx: _Ctx, fixed: Mapping[int, int]) -> list[list[int]]:
    """Runs of two or more groups with the same bounds and meeting time that no pin, forbidden
    placement or (when moves cost) current member singles out."""
    referenced = set(fixed.values()) | {ctx.gidx[k] for f in ctx.forbidden.values() for k in f}
    referenced |= set(ctx.current.values())  # a move out of a group costs: not interchangeable
    by_kind: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    for g, spec in enumerate(ctx.groups):
        if g not in referenced:
            by_kind[(spec.min_size, spec.max_size, spec.slot)].append(g)
    return [c for c in by_kind.values() if len(c) > 1]


def _choose_candidates(layout: _Layout) -> int:
    """Give every unit its candidate groups; return how many booleans that makes.

    Every allowed group outside the classes, and, inside each class of interchangeable groups,
    the first ``r + 1`` groups for the unit of rank ``r`` among the units that may join the class
    (value precedence: any solution can be relabelled so that the group holding the
    lowest-ranked unit comes first, the group holding the lowest-ranked unit not in it second,
    and so on). Exact: no solution is lost up to a relabelling of interchangeable groups.
    """
    rank: dict[int, int] = defaultdict(int)
    total = 0
    for u in layout.units:
        allowed = set(u.allowed)
        cand = [g for g in u.allowed if g in layout.special]
        for ci, cls in enumerate(layout.classes):
            if cls[0] in allowed:
                r = rank[ci]
                rank[ci] += 1
                cand.extend(cls[: min(r, len(cls) - 1) + 1])
        u.candidates = sorted(cand)
        total += len(cand)
    return total


def _size_lb(c: int, s: int, n: int) -> int:
    """min over integers k of |n*k - c*s|: the least penalty a group of size s can have."""
    r = (c * s) % n
    return min(r, n - r)


@dataclass
class _Built:
    model: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]
    y: dict[tuple[int, int], cp_model.IntVar]
    sizes: list[cp_model.IntVar]
    onehots: list[dict[int, cp_model.IntVar]]
    counts: dict[tuple[str, str, int], cp_model.IntVar]
    devs: dict[tuple[str, str, int], cp_model.IntVar]
    stay: dict[tuple[int, int], cp_model.IntVar]


def _build(ctx: _Ctx, layout: _Layout) -> _Built:
    """The CP-SAT model of the problem: placement variables, group sizes, the balance penalty of
    every (attribute, value, group) and the cost of moves, minimised together.

    The steps create variables and constraints in a fixed order: the solver's search (and so
    the result for a given seed) depends on it.
    """
    groups = ctx.groups
    model = cp_model.CpModel()
    x = _unit_vars(model, ctx, layout)
    y = _type_vars(model, ctx, layout)
    terms = _GroupTerms.of(ctx, layout, x, y)
    objective: list[cp_model.LinearExprT] = []
    sizes: list[cp_model.IntVar] = []
    onehots: list[dict[int, cp_model.IntVar]] = []
    counts: dict[tuple[str, str, int], cp_model.IntVar] = {}
    devs: dict[tuple[str, str, int], cp_model.IntVar] = {}
    for g, spec in enumerate(groups):
        size, onehot = _size_vars(model, ctx, terms, g, spec, objective)
        sizes.append(size)
        onehots.append(onehot)
        for a, weight in ATTRIBUTE_WEIGHTS.items():
            for value, c in sorted(terms.totals[a].items()):
                count, dev = _share_vars(model, ctx, terms, g, spec, a, value, c, size, onehot)
                counts[(a, value, g)] = count
                devs[(a, value, g)] = dev
                objective.append(terms.attr_scale * weight * dev)
    _order_untouched_classes(model, layout, sizes)
    moved_const = _move_terms(ctx, layout, x, objective)
    stay = _stay_vars(model, ctx, layout, y, objective)
    model.minimize(sum(objective) + ctx.move_cost * moved_const)
    return _Built(
        model=model, x=x, y=y, sizes=sizes, onehots=onehots, counts=counts, devs=devs, stay=stay
    )


def _unit_vars(
    model: cp_model.CpModel, ctx: _Ctx, layout: _Layout
) -> dict[tuple[int, int], cp_model.IntVar]:
    """One boolean per (unit, candidate group), exactly one true per unit; two units to be kept
    apart never share a group."""
    units = layout.units
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    for ui, u in enumerate(units):
        for g in u.candidates:
            x[ui, g] = model.new_bool_var(f"x_u{ui}_g{g}")
        model.add_exactly_one(x[ui, g] for g in u.candidates)
    for a, b in ctx.apart:
        ua, ub = layout.unit_of.get(a), layout.unit_of.get(b)
        if ua is not None and ub is not None and ua != ub:
            for g in set(units[ua].candidates) & set(units[ub].candidates):
                model.add_at_most_one(x[ua, g], x[ub, g])
    return x


def _type_vars(
    model: cp_model.CpModel, ctx: _Ctx, layout: _Layout
) -> dict[tuple[int, int], cp_model.IntVar]:
    """One count per (pooled type, allowed group), adding up to the people of the type."""
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    for ti, t in enumerate(layout.type_keys):
        count = len(layout.pooled[t])
        for g in t[3]:
            y[ti, g] = model.new_int_var(0, min(count, ctx.groups[g].max_size), f"y_t{ti}_g{g}")
        model.add(sum(y[ti, g] for g in t[3]) == count)
    return y


@dataclass
class _GroupTerms:
    """What makes up each group: its fixed people (as constants) and the unit and type
    variables that may put people in it; with the totals and scales of the objective."""

    units: list[_Unit]
    type_keys: list[_TypeKey]
    totals: dict[str, dict[str, int]]
    attr_scale: int
    size_scale: int
    const_size: list[int]  # group index -> fixed people
    const_count: dict[tuple[str, str, int], int]  # (attribute, value, group) -> fixed people
    unit_terms: list[list[tuple[int, cp_model.IntVar]]]  # group index -> (unit index, x)
    type_terms: list[list[tuple[int, cp_model.IntVar]]]  # group index -> (type index, y)

    @classmethod
    def of(
        cls,
        ctx: _Ctx,
        layout: _Layout,
        x: Mapping[tuple[int, int], cp_model.IntVar],
        y: Mapping[tuple[int, int], cp_model.IntVar],
    ) -> _GroupTerms:
        k = len(ctx.groups)
        const_size = [0] * k
        const_count: dict[tuple[str, str, int], int] = defaultdict(int)
        for pid, g in layout.fixed.items():
            const_size[g] += 1
            for a in _ATTRS:
                const_count[(a, getattr(ctx.people[pid], a), g)] += 1
        unit_terms: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(k)]
        for (ui, g), var in x.items():
            unit_terms[g].append((ui, var))
        type_terms: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(k)]
        for (ti, g), var in y.items():
            type_terms[g].append((ti, var))
        attr_scale, size_scale = _scales(len(ctx.people), k)
        return cls(
            units=layout.units,
            type_keys=layout.type_keys,
            totals=_value_totals(ctx.people.values()),
            attr_scale=attr_scale,
            size_scale=size_scale,
            const_size=const_size,
            const_count=const_count,
            unit_terms=unit_terms,
            type_terms=type_terms,
        )


def _size_vars(
    model: cp_model.CpModel,
    ctx: _Ctx,
    terms: _GroupTerms,
    g: int,
    spec: GroupSpec,
    objective: list[cp_model.LinearExprT],
) -> tuple[cp_model.IntVar, dict[int, cp_model.IntVar]]:
    """Group ``g``'s size within its bounds, and one literal per possible size, which gives the
    exact size penalty (appended to ``objective``)."""
    K = len(ctx.groups)  # noqa: N806 - the notation of the module docstring
    n = len(ctx.people)
    size = model.new_int_var(spec.min_size, spec.max_size, f"size_g{g}")
    model.add(
        size
        == terms.const_size[g]
        + sum(len(terms.units[ui].members) * var for ui, var in terms.unit_terms[g])
        + sum(var for _, var in terms.type_terms[g])
    )
    # one literal per possible size: exact size penalty and per-size least penalties
    onehot = {
        v: model.new_bool_var(f"size_g{g}_{v}") for v in range(spec.min_size, spec.max_size + 1)
    }
    model.add_exactly_one(onehot.values())
    model.add(size == sum(v * b for v, b in onehot.items()))
    objective.append(
        terms.size_scale * SIZE_WEIGHT * sum(abs(K * v - n) * b for v, b in onehot.items())
    )
    return size, onehot


def _share_vars(
    model: cp_model.CpModel,
    ctx: _Ctx,
    terms: _GroupTerms,
    g: int,
    spec: GroupSpec,
    a: str,
    value: str,
    c: int,
    size: cp_model.IntVar,
    onehot: Mapping[int, cp_model.IntVar],
) -> tuple[cp_model.IntVar, cp_model.IntVar]:
    """How many people with ``value`` of attribute ``a`` (``c`` in all) group ``g`` holds, and
    that count's distance from the fair share, ``|n * count - c * size|``, bounded below by
    the least any size allows and, for each size, by the chord cut."""
    n = len(ctx.people)
    ai = _ATTRS.index(a)
    units, type_keys = terms.units, terms.type_keys
    expr = (
        terms.const_count.get((a, value, g), 0)
        + sum(
            units[ui].counts[(a, value)] * var
            for ui, var in terms.unit_terms[g]
            if (a, value) in units[ui].counts
        )
        + sum(var for ti, var in terms.type_terms[g] if type_keys[ti][ai] == value)
    )
    count = model.new_int_var(0, spec.max_size, f"n_{a}_{value}_g{g}")
    model.add(count == expr)
    least = min(_size_lb(c, v, n) for v in onehot)
    dev = model.new_int_var(least, max(n, c) * spec.max_size, f"dev_{a}_{value}_g{g}")
    model.add(dev >= n * count - c * size)
    model.add(dev >= c * size - n * count)
    model.add(dev >= sum(_size_lb(c, v, n) * b for v, b in onehot.items()))
    # for a known size the penalty is convex in the count: the chord between the
    # two counts nearest the fair share is a valid cut
    for v, b in onehot.items():
        j = (c * v) // n
        f0, f1 = c * v - n * j, n * (j + 1) - c * v
        if f0 and f1:
            model.add(dev >= f0 + (f1 - f0) * (count - j)).only_enforce_if(b)
    return count, dev


def _order_untouched_classes(
    model: cp_model.CpModel, layout: _Layout, sizes: Sequence[cp_model.IntVar]
) -> None:
    """Interchangeable groups that no unit may join: sizes non-increasing in group order."""
    touched = {g for u in layout.units for g in u.candidates}
    for cls in layout.classes:
        if not touched.intersection(cls):
            for g1, g2 in zip(cls, cls[1:], strict=False):
                model.add(sizes[g1] >= sizes[g2])


def _move_terms(
    ctx: _Ctx,
    layout: _Layout,
    x: Mapping[tuple[int, int], cp_model.IntVar],
    objective: list[cp_model.LinearExprT],
) -> int:
    """When moves cost: every person with a current group counts as moved (returned), and a
    unit placed back in its members' current group earns its cost back (appended to
    ``objective``); pooled people earn it back through :func:`_stay_vars`."""
    cost, moved_const = ctx.move_cost, 0
    if not cost:
        return 0
    for pid, g in layout.fixed.items():
        moved_const += pid in ctx.current and ctx.current[pid] != g
    for ui, u in enumerate(layout.units):
        for m in u.members:
            if m in ctx.current:
                moved_const += 1
                if (ui, ctx.current[m]) in x:
                    objective.append(-cost * x[ui, ctx.current[m]])
    for t in layout.type_keys:
        moved_const += sum(1 for pid in layout.pooled[t] if pid in ctx.current)
    return moved_const


def _stay_vars(
    model: cp_model.CpModel,
    ctx: _Ctx,
    layout: _Layout,
    y: Mapping[tuple[int, int], cp_model.IntVar],
    objective: list[cp_model.LinearExprT],
) -> dict[tuple[int, int], cp_model.IntVar]:
    """Of the people of a type now in group g, as many stay as the type's count in g allows;
    each who stays earns the move cost back (appended to ``objective``)."""
    stay: dict[tuple[int, int], cp_model.IntVar] = {}
    for (ti, g), now in layout.stays.items():
        stay[ti, g] = model.new_int_var(0, min(now, ctx.groups[g].max_size), f"stay_t{ti}_g{g}")
        model.add(stay[ti, g] <= y[ti, g])
        objective.append(-ctx.move_cost * stay[ti, g])
    return stay


def _greedy(ctx: _Ctx, layout: _Layout) -> list[list[int]] | None:
    """A quick balanced placement (members per group index) to hint the solver with.

    Target sizes as equal as the bounds allow; then units (fewest candidate groups first) and
    pooled people (rarest values first) each go to the candidate group where they add the least
    penalty, computed against the target sizes. ``None`` when it paints itself into a corner.
    """
    fixed_sizes = [0] * len(ctx.groups)
    for g in layout.fixed.values():
        fixed_sizes[g] += 1
    target = _target_sizes(ctx.groups, fixed_sizes, len(ctx.people))
    if target is None:
        return None
    placer = _Placer(ctx, layout, target)
    partners: dict[int, list[int]] = defaultdict(list)
    for a, b in ctx.apart:
        partners[a].append(b)
        partners[b].append(a)
    order = sorted(
        range(len(layout.units)),
        key=lambda ui: (len(layout.units[ui].candidates), -len(layout.units[ui].members), ui),
    )
    for ui in order:
        u = layout.units[ui]
        taken = {placer.group_of[p] for m in u.members for p in partners[m] if p in placer.group_of}
        if not placer.place(u.members, [g for g in u.candidates if g not in taken]):
            return None
    rarity = placer.totals
    pooled = [
        (len(t[3]), *(rarity[a][t[i]] for i, a in enumerate(_ATTRS)), pid, t[3])
        for t, ids in layout.pooled.items()
        for pid in ids
    ]
    pooled.sort()
    for *_, pid, allowed in pooled:
        if not placer.place([pid], list(allowed)):
            return None
    return placer.members


def _target_sizes(
    groups: Sequence[GroupSpec], fixed_sizes: Sequence[int], n: int
) -> list[int] | None:
    """Group sizes as equal as the bounds allow for ``n`` people, none below its fixed people:
    each group starts at its minimum (or its fixed people) and the smallest grows by one until
    everybody has a place. ``None`` when the bounds cannot hold ``n``."""
    target = [max(spec.min_size, fixed_sizes[g]) for g, spec in enumerate(groups)]
    spare = n - sum(target)
    heap = [(target[g], g) for g, spec in enumerate(groups) if target[g] < spec.max_size]
    heapq.heapify(heap)
    while spare > 0:
        if not heap:
            return None
        _, g = heapq.heappop(heap)
        target[g] += 1
        spare -= 1
        if target[g] < groups[g].max_size:
            heapq.heappush(heap, (target[g], g))
    if spare < 0:
        return None
    return target


class _Placer:
    """The greedy placement under way: who is where, and each group's size and counts of
    every attribute value so far."""

    def __init__(self, ctx: _Ctx, layout: _Layout, target: Sequence[int]) -> None:
        groups = ctx.groups
        k = len(groups)
        self.ctx = ctx
        self.n = len(ctx.people)
        self.totals = _value_totals(ctx.people.values())
        self.members: list[list[int]] = [[] for _ in groups]
        for pid, g in layout.fixed.items():
            self.members[g].append(pid)
        self.cur = np.array([len(m) for m in self.members], dtype=np.int64)
        self.tgt = np.array(target, dtype=np.int64)
        self.cap = np.array([spec.max_size for spec in groups], dtype=np.int64)
        self.cnt = {(a, v): np.zeros(k, dtype=np.int64) for a in _ATTRS for v in self.totals[a]}
        for pid, g in layout.fixed.items():
            for a in _ATTRS:
                self.cnt[(a, getattr(ctx.people[pid], a))][g] += 1
        self.group_of: dict[int, int] = dict(layout.fixed)
        self.move_penalty = ctx.move_cost // _scales(self.n, k)[0]

    def place(self, pids: list[int], candidates: list[int]) -> bool:
        """Put ``pids`` together in the candidate group where they add the least penalty,
        within its target size if any group allows (its maximum for a group some of them stay
        in), else within its maximum; False when none has room."""
        ctx, n = self.ctx, self.n
        cur, tgt, cap, cnt = self.cur, self.tgt, self.cap, self.cnt
        size = len(pids)
        cand = np.array(candidates, dtype=np.int64)
        if cand.size == 0:
            return False
        values: dict[tuple[str, str], int] = defaultdict(int)
        for pid in pids:
            for a in _ATTRS:
                values[(a, getattr(ctx.people[pid], a))] += 1
        delta = np.zeros(cand.size, dtype=np.int64)
        for (a, v), m in values.items():
            c = self.totals[a][v]
            now = cnt[(a, v)][cand]
            fair = c * tgt[cand]
            delta += ATTRIBUTE_WEIGHTS[a] * (np.abs(n * (now + m) - fair) - np.abs(n * now - fair))
        homes = [ctx.current[pid] for pid in pids if pid in ctx.current]
        first_limit = tgt[cand]
        if homes:
            # a move costs (in the unscaled units of delta); staying may fill a group to its max
            delta += sum(self.move_penalty * (cand != h) for h in homes)
            first_limit = np.where(np.isin(cand, homes), cap[cand], tgt[cand])
        room = tgt[cand] - cur[cand]
        key = delta * 1000 - room
        for limit in (first_limit, cap[cand]):
            ok = cur[cand] + size <= limit
            if ok.any():
                best = int(cand[np.flatnonzero(ok)[np.argmin(key[ok])]])
                break
        else:
            return False
        cur[best] += size
        for (a, v), m in values.items():
            cnt[(a, v)][best] += m
        for pid in pids:
            self.group_of[pid] = best
            self.members[best].append(pid)
        return True


def _hint(ctx: _Ctx, layout: _Layout, built: _Built, members: list[list[int]]) -> None:
    n = len(ctx.people)
    totals = _value_totals(ctx.people.values())
    group_of = {pid: g for g, ms in enumerate(members) for pid in ms}
    for (ui, g), var in built.x.items():
        built.model.add_hint(var, int(group_of[layout.units[ui].members[0]] == g))
    for (ti, g), var in built.y.items():
        ids = layout.pooled[layout.type_keys[ti]]
        built.model.add_hint(var, sum(1 for pid in ids if group_of[pid] == g))
        if (ti, g) in built.stay:
            here = sum(1 for pid in ids if group_of[pid] == g)
            built.model.add_hint(built.stay[ti, g], min(here, layout.stays[ti, g]))
    for g, ms in enumerate(members):
        size = len(ms)
        built.model.add_hint(built.sizes[g], size)
        for v, b in built.onehots[g].items():
            built.model.add_hint(b, int(v == size))
        for a in _ATTRS:
            for value, c in totals[a].items():
                have = sum(1 for pid in ms if getattr(ctx.people[pid], a) == value)
                built.model.add_hint(built.counts[(a, value, g)], have)
                dev = max(abs(n * have - c * size), _size_lb(c, size, n))
                built.model.add_hint(built.devs[(a, value, g)], dev)


# --------------------------------------------------------------------------------------------
# Large problems: a lower bound from the counts, and local search
# --------------------------------------------------------------------------------------------


def _count_bound(ctx: _Ctx) -> int:
    """A proven lower bound on the balance score: the optimum of the count problem.

    Any assignment determines, for each group size ``s``, how many groups have that size and,
    for each attribute value, how many of those groups hold 0, 1, ..., ``s`` people with it. The
    score depends on nothing else, so minimising it over those counts alone (keeping only that
    the counts add up to the people of each value, the sizes to everybody, and every attribute's
    values to each group's size) is a relaxation of the problem: a small integer problem, one
    variable per (size, value, count), whose optimum no assignment can beat. Pins, pairs and
    meeting times are left out, so the bound is valid whatever they are; on the benchmark it
    is 2.2 times CP-SAT's own bound, and the assignments found come within 0.2% of it.
    """
    n, k = len(ctx.people), len(ctx.groups)
    if n == 0 or k == 0:
        return 0
    attr_scale, size_scale = _scales(n, k)
    totals = _value_totals(ctx.people.values())
    kinds: dict[tuple[int, int], int] = defaultdict(int)
    for spec in ctx.groups:
        kinds[(spec.min_size, spec.max_size)] += 1
    model = cp_model.CpModel()
    groups_of: dict[tuple[tuple[int, int], int], cp_model.IntVar] = {}
    objective: list[cp_model.LinearExprT] = []
    for kind, count in sorted(kinds.items()):
        lo, hi = kind
        for s in range(lo, hi + 1):
            groups_of[kind, s] = model.new_int_var(0, count, f"p_{lo}_{hi}_{s}")
            objective.append(size_scale * SIZE_WEIGHT * abs(k * s - n) * groups_of[kind, s])
        model.add(sum(groups_of[kind, s] for s in range(lo, hi + 1)) == count)
    model.add(sum(s * var for (_, s), var in groups_of.items()) == n)
    for a, weight in ATTRIBUTE_WEIGHTS.items():
        held: dict[tuple[tuple[int, int], int], list[cp_model.LinearExprT]] = defaultdict(list)
        for _, c in sorted(totals[a].items()):
            people_with: list[cp_model.LinearExprT] = []
            for (kind, s), p in groups_of.items():
                # q[j]: groups of this kind and size holding exactly j people with the value
                q = [model.new_int_var(0, kinds[kind], "") for _ in range(min(s, c) + 1)]
                model.add(sum(q) == p)
                for j, var in enumerate(q):
                    people_with.append(j * var)
                    held[kind, s].append(j * var)
                    objective.append(attr_scale * weight * abs(n * j - c * s) * var)
            model.add(sum(people_with) == c)
        for (kind, s), terms in held.items():
            model.add(sum(terms) == s * groups_of[kind, s])
    model.minimize(sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 5.0  # a bound, not the optimum, if it stops here
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return 0
    return math.ceil(solver.best_objective_bound - 1e-6)


def lower_bound(problem: Problem) -> int:
    """A proven lower bound on the score of every assignment of ``problem``, from the counts
    alone (see the module docstring); 0 when even the counts cannot add up."""
    return _count_bound(_normalise(problem))


class _LocalSearch:
    """Improve a complete assignment by single moves and swaps of two people, each the best
    for the person at hand, until a whole pass over the people finds none.

    The score is a sum over groups of terms that depend only on the group's size and counts
    (the fair shares come from the program-wide totals), so a move or swap changes the terms of
    two groups only; numpy computes the change for every possible partner at once. Fixed
    people and together-clusters stay where they are; a move keeps meeting times, forbidden
    placements, keep-apart pairs and size bounds; when moves cost, their cost is counted.
    Deterministic: people are visited in input order and ties go to the lowest index.
    """

    def __init__(self, ctx: _Ctx, layout: _Layout, members: Sequence[Sequence[int]]) -> None:
        self.ctx = ctx
        people, groups = ctx.people, ctx.groups
        self.n, self.k = n, k = len(people), len(groups)
        attr_scale, self.size_scale = _scales(n, k)
        self.pids = list(ctx.order)
        index = {pid: i for i, pid in enumerate(self.pids)}
        count = len(self.pids)
        self.grp = np.zeros(count, dtype=np.int64)
        for g, ms in enumerate(members):
            for pid in ms:
                self.grp[index[pid]] = g
        self.sizes = np.bincount(self.grp, minlength=k).astype(np.int64)
        totals = _value_totals(people.values())
        self.vals: dict[str, np.ndarray] = {}
        self.total: dict[str, np.ndarray] = {}
        self.counts: dict[str, np.ndarray] = {}
        self.weight = {a: ATTRIBUTE_WEIGHTS[a] * attr_scale for a in _ATTRS}
        for a in _ATTRS:
            codes = sorted(totals[a])
            code = {v: i for i, v in enumerate(codes)}
            self.vals[a] = np.array([code[getattr(people[p], a)] for p in self.pids])
            self.total[a] = np.array([totals[a][v] for v in codes], dtype=np.int64)
            self.counts[a] = np.zeros((k, len(codes)), dtype=np.int64)
            np.add.at(self.counts[a], (self.grp, self.vals[a]), 1)
        # who may go where: pooled people and one-person units, within their allowed groups
        self.allowed = np.zeros((count, k), dtype=bool)
        for t, ids in layout.pooled.items():
            for pid in ids:
                self.allowed[index[pid], list(t[3])] = True
        for u in layout.units:
            if len(u.members) == 1:
                self.allowed[index[u.members[0]], u.allowed] = True
        self.movable = self.allowed.any(axis=1)
        self.allowed_t = np.ascontiguousarray(self.allowed.T)
        self.partners: dict[int, list[int]] = defaultdict(list)
        for a_, b_ in ctx.apart:
            self.partners[index[a_]].append(index[b_])
            self.partners[index[b_]].append(index[a_])
        self.pa = np.array([index[a_] for a_, _ in ctx.apart], dtype=np.int64)
        self.pb = np.array([index[b_] for _, b_ in ctx.apart], dtype=np.int64)
        self.min_size = np.array([spec.min_size for spec in groups], dtype=np.int64)
        self.max_size = np.array([spec.max_size for spec in groups], dtype=np.int64)
        self.move_cost = ctx.move_cost
        self.home = np.array([ctx.current.get(p, -2) for p in self.pids], dtype=np.int64)
        self.has_home = np.array([p in ctx.current for p in self.pids], dtype=bool)
        self.evaluations = 0
        self.up: dict[str, np.ndarray] = {}
        self.down: dict[str, np.ndarray] = {}
        self.join: dict[str, np.ndarray] = {}
        self.join_own: dict[str, np.ndarray] = {}
        self.leave: dict[str, np.ndarray] = {}
        self.leave_own: dict[str, np.ndarray] = {}
        for a in _ATTRS:
            self._deltas(a, np.arange(k))

    def _deltas(self, a: str, rows: np.ndarray) -> None:
        """For each group of ``rows``, at its current size: what one more (``up``) or one fewer
        (``down``) person with each value costs; and, as the size changes too, what a person
        joining costs (``join`` for every value's share, ``join_own`` for the count of their
        own value) and a person leaving (``leave``, ``leave_own``)."""
        n, w = self.n, self.weight[a]
        total = self.total[a][None, :]
        base = n * self.counts[a][rows] - total * self.sizes[rows, None]
        if a not in self.up:
            shape = self.counts[a].shape
            for name in ("up", "down", "join_own", "leave_own"):
                getattr(self, name)[a] = np.zeros(shape, dtype=np.int64)
            self.join[a] = np.zeros(shape[0], dtype=np.int64)
            self.leave[a] = np.zeros(shape[0], dtype=np.int64)
        now = np.abs(base)
        self.up[a][rows] = w * (np.abs(base + n) - now)
        self.down[a][rows] = w * (np.abs(base - n) - now)
        joined, left = base - total, base + total  # the shares follow the size
        self.join[a][rows] = w * (np.abs(joined) - now).sum(axis=1)
        self.join_own[a][rows] = w * (np.abs(joined + n) - np.abs(joined))
        self.leave[a][rows] = w * (np.abs(left) - now).sum(axis=1)
        self.leave_own[a][rows] = w * (np.abs(left - n) - np.abs(left))

    def score(self) -> int:
        """The score plus the cost of moves of the current assignment."""
        n, k = self.n, self.k
        total = self.size_scale * SIZE_WEIGHT * int(np.abs(k * self.sizes - n).sum())
        for a in _ATTRS:
            dev = n * self.counts[a] - self.total[a][None, :] * self.sizes[:, None]
            total += self.weight[a] * int(np.abs(dev).sum())
        moved = self.has_home & (self.grp != self.home)
        return total + self.move_cost * int(moved.sum())

    def _swap_gains(self, i: int) -> np.ndarray:
        """The change of the objective if ``i`` swapped groups with each person; a huge value
        where the swap is not allowed."""
        g, grp = self.grp[i], self.grp
        delta = np.zeros(len(grp), dtype=np.int64)
        for a in _ATTRS:
            vi, v = self.vals[a][i], self.vals[a]
            up, down = self.up[a], self.down[a]
            change = down[g, vi] + up[g, v] + down[grp, v] + up[grp, vi]
            delta += np.where(v != vi, change, 0)
        if self.move_cost:
            delta += self.move_cost * (
                self.has_home[i] * ((grp != self.home[i]).astype(np.int64) - int(g != self.home[i]))
                + self.has_home * ((g != self.home).astype(np.int64) - (grp != self.home))
            )
        ok = self.movable & self.allowed_t[g] & self.allowed[i, grp] & (grp != g)
        for j in self.partners.get(i, ()):
            ok &= grp != grp[j]
        if self.pa.size:
            ok[self.pa[grp[self.pb] == g]] = False
            ok[self.pb[grp[self.pa] == g]] = False
        return np.where(ok, delta, np.iinfo(np.int64).max)

    def _move_gains(self, i: int) -> np.ndarray:
        """The change of the objective if ``i`` moved to each group; huge where not allowed."""
        n, k, g = self.n, self.k, self.grp[i]
        sizes = self.sizes
        unit = self.size_scale * SIZE_WEIGHT
        delta = unit * (np.abs(k * (sizes + 1) - n) - np.abs(k * sizes - n))
        delta += unit * (abs(k * (sizes[g] - 1) - n) - abs(k * sizes[g] - n))
        for a in _ATTRS:
            v = self.vals[a][i]
            delta += self.join[a] + self.join_own[a][:, v]
            delta += self.leave[a][g] + self.leave_own[a][g, v]
        if self.move_cost and self.has_home[i]:
            delta += self.move_cost * (
                (np.arange(k) != self.home[i]).astype(np.int64) - int(g != self.home[i])
            )
        ok = self.allowed[i] & (sizes < self.max_size)
        ok[g] = False
        for j in self.partners.get(i, ()):
            ok[self.grp[j]] = False
        return np.where(ok, delta, np.iinfo(np.int64).max)

    def _apply(self, i: int, h: int, j: int | None) -> None:
        """Move ``i`` to group ``h`` and, for a swap, ``j`` (now in ``h``) to ``i``'s group."""
        g = int(self.grp[i])
        for a in _ATTRS:
            counts, vals = self.counts[a], self.vals[a]
            counts[g, vals[i]] -= 1
            counts[h, vals[i]] += 1
            if j is not None:
                counts[h, vals[j]] -= 1
                counts[g, vals[j]] += 1
        self.grp[i] = h
        if j is not None:
            self.grp[j] = g
        else:
            self.sizes[g] -= 1
            self.sizes[h] += 1
        for a in _ATTRS:
            self._deltas(a, np.array([g, h]))

    def _improve(self, i: int) -> tuple[int, int] | None:
        """Make the best improving move or swap for person ``i``, if any; the two groups it
        changed, or None."""
        self.evaluations += 1
        g = int(self.grp[i])
        swaps = self._swap_gains(i)
        j = int(np.argmin(swaps))
        best = swaps[j]
        if self.sizes[g] > self.min_size[g]:
            moves = self._move_gains(i)
            h = int(np.argmin(moves))
            if moves[h] < 0 and moves[h] < best:
                self._apply(i, h, None)
                return g, h
        if best < 0:
            h = int(self.grp[j])
            self._apply(i, h, j)
            return g, h
        return None

    def run(self, max_passes: int, deadline: float) -> bool:
        """Improve until a pass finds nothing or after ``max_passes`` passes; False when the
        wall clock (``deadline``, a ``time.perf_counter`` value) cut it short."""
        order = np.flatnonzero(self.movable)
        for _ in range(max_passes):
            improved = False
            for i in order:
                if time.perf_counter() > deadline:
                    return False
                improved = self._improve(int(i)) is not None or improved
            if not improved:
                break
        return True

    def _repair(self, groups: Iterable[int], deadline: float) -> bool:
        """Improve the people of ``groups``, and of every group an improvement changes, until
        none of them has an improving move or swap; False when cut short by the wall clock."""
        queue = deque(sorted(set(groups)))
        queued = set(queue)
        while queue:
            g = queue.popleft()
            queued.discard(g)
            for i in np.flatnonzero((self.grp == g) & self.movable):
                if time.perf_counter() > deadline:
                    return False
                changed = self._improve(int(i))
                for h in changed or ():
                    if h not in queued:
                        queue.append(h)
                        queued.add(h)
        return True

    def perturb(
        self, *, seed: int, target: int, max_evaluations: int, kick: int, deadline: float
    ) -> bool:
        """Iterated local search: a local optimum is left for another by ``kick`` random swaps
        and a repair of the groups they touched; kept when no worse, undone otherwise. Stops at
        ``target`` or after ``max_evaluations`` people evaluated (deterministic for a seed);
        False when the wall clock cut it short. Ends with a full pass (a local optimum)."""
        rng = np.random.default_rng(seed)
        movable = np.flatnonzero(self.movable)
        best = self.score()
        none = np.iinfo(np.int64).max
        while best > target and self.evaluations < max_evaluations and movable.size:
            saved = (
                self.grp.copy(),
                self.sizes.copy(),
                {a: c.copy() for a, c in self.counts.items()},
            )
            touched: set[int] = set()
            for _ in range(kick):
                i = int(movable[rng.integers(movable.size)])
                partners = np.flatnonzero(self._swap_gains(i) < none)
                if partners.size:
                    j = int(partners[rng.integers(partners.size)])
                    touched.update((int(self.grp[i]), int(self.grp[j])))
                    self._apply(i, int(self.grp[j]), j)
            if not self._repair(touched, deadline):
                return False
            score = self.score()
            if score <= best:
                best = score
            else:
                self.grp, self.sizes, self.counts = saved
                for a in _ATTRS:
                    self._deltas(a, np.arange(self.k))
        return self.run(_LS_PASSES, deadline)

    def members(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(self.k)]
        for i, pid in enumerate(self.pids):
            out[self.grp[i]].append(pid)
        return out


def _relabel(layout: _Layout, members: list[list[int]]) -> list[list[int]]:
    """The same assignment with the groups of each interchangeable class reordered to meet the
    model's symmetry breaking (units in rank order open the class's groups in order; groups no
    unit may join by size, largest first), so that it can hint the solver."""
    out = [list(m) for m in members]
    group_of = {pid: g for g, ms in enumerate(members) for pid in ms}
    touched = {g for u in layout.units for g in u.candidates}
    for cls in layout.classes:
        in_cls = set(cls)
        if touched.intersection(cls):
            order: list[int] = []
            for u in layout.units:  # units in rank order, as _choose_candidates ranks them
                g = group_of[u.members[0]]
                if cls[0] in u.allowed and g in in_cls and g not in order:
                    order.append(g)
            order += [g for g in cls if g not in order]
        else:
            order = sorted(cls, key=lambda g: -len(members[g]))
        for slot, g in zip(cls, order, strict=True):
            out[slot] = list(members[g])
    return out


def _run(
    problem: Problem, model: cp_model.CpModel, wall_s: float, big: bool
) -> tuple[cp_model.CpSolver, int]:
    """Solve with the determinism policy of :class:`Problem`."""
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.random_seed = problem.seed
    params.max_time_in_seconds = max(0.05, wall_s)
    if problem.deterministic:
        # one worker: CP-SAT's sequential search is reproducible for a fixed seed as long as it
        # stops on optimality or on deterministic time, never on the wall clock
        params.num_workers = 1
        det = problem.deterministic_time_s
        if det is None:  # from the budget, never from the time left: that varies run to run
            det = _DTIME_PER_SECOND * problem.time_limit_s
        params.max_deterministic_time = det
    else:
        params.num_workers = max(1, problem.num_workers)
    if big:
        # presolving a model this size takes longer than the whole budget on two cores
        params.cp_model_presolve = False
    return solver, solver.solve(model)


def _greedy_fits(groups: Sequence[GroupSpec], start: list[list[int]] | None) -> bool:
    """Whether the greedy start keeps every group within its size bounds (it keeps every other
    hard rule by construction)."""
    return start is not None and all(
        spec.min_size <= len(m) <= spec.max_size for spec, m in zip(groups, start, strict=True)
    )


def solve(problem: Problem) -> Assignment | Infeasible:
    """Assign ``problem.people`` to ``problem.groups``; see the module docstring."""
    started = time.perf_counter()
    ctx = _normalise(problem)
    problems = _checks(ctx)
    if not problems:
        result, proven = _solve(ctx, started)
        if isinstance(result, Assignment) or not proven:
            return result
        problems = result.problems
    if not (ctx.fixed_existing and ctx.existing):
        return Infeasible(problems)
    # Adding newcomers with every member in place is impossible: let the fewest members move
    # (each move costs more than any balance score) and keep the reasons for the preview. If
    # moving does not help either, the first explanation stands.
    relaxed = _normalise(problem, fixed_existing=False)
    if _checks(relaxed):
        return Infeasible(problems)
    result, _ = _solve(relaxed, started)
    if isinstance(result, Infeasible):
        return Infeasible(problems)
    return replace(result, forced=problems, wall_time_s=time.perf_counter() - started)


def _solve(ctx: _Ctx, started: float) -> tuple[Assignment | Infeasible, bool]:
    """Solve a checked problem; the flag says whether an ``Infeasible`` is proven (not a
    timeout).

    From :data:`_LOCAL_SEARCH_PEOPLE` people on, the greedy start is first improved by local
    search and compared with the count bound: within :data:`_GAP` of it, that is the answer
    (CP-SAT would spend its whole budget without closing the gap); otherwise CP-SAT goes on from
    it for the time left, and the better of the two is kept.
    """
    problem = ctx.problem
    groups = ctx.groups

    layout = _layout(ctx)
    _choose_candidates(layout)
    start = _greedy(ctx, layout)
    bound, searched, cut = 0, None, False
    large = problem.local_search and len(ctx.people) >= _LOCAL_SEARCH_PEOPLE
    if large and start is not None and _greedy_fits(groups, start):
        bound = _count_bound(ctx)
        search = _LocalSearch(ctx, layout, start)
        deadline = started + _LS_SHARE * problem.time_limit_s
        cut = not search.run(_LS_PASSES, deadline)
        if not cut:
            cut = not search.perturb(
                seed=problem.seed,
                target=math.floor(bound * (1 + _ILS_TARGET)),
                max_evaluations=search.evaluations + _ILS_EVALUATIONS_PER_PERSON * len(ctx.people),
                kick=_ILS_KICK,
                deadline=deadline,
            )
        searched, searched_score = search.members(), search.score()
        if searched_score <= bound * (1 + _GAP):
            return _assignment(ctx, searched, bound, searched_score <= bound, cut, started), True
        start = _relabel(layout, searched)
    built = _build(ctx, layout)
    if start is not None:
        _hint(ctx, layout, built, start)
    size = len(built.model.proto.variables)
    wall_left = problem.time_limit_s - (time.perf_counter() - started)
    solver, status = _run(problem, built.model, wall_left, size > _BIG_MODEL)

    if status == cp_model.INFEASIBLE:
        return Infeasible([_generic_infeasible(ctx)]), True
    if status == cp_model.MODEL_INVALID:  # a bug here, not the coordinator's problem
        raise RuntimeError(f"invalid CP-SAT model: {built.model.validate()}")
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    if not found and not _greedy_fits(groups, start):
        return Infeasible(
            [
                f"The solver found no assignment within the time limit of "
                f"{problem.time_limit_s:g} s and did not prove that none exists. Try a longer "
                f"time limit or fewer hard rules."
            ]
        ), False
    optimal = status == cp_model.OPTIMAL
    stopped = not optimal and solver.wall_time >= 0.98 * solver.parameters.max_time_in_seconds
    if found:
        bound = max(bound, solver.best_objective_bound)
        # decode: fixed people and units where they are; pooled people of each type by id,
        # dealt to the groups in group order according to the counts
        members: list[list[int]] = [[] for _ in groups]
        for pid, g in layout.fixed.items():
            members[g].append(pid)
        for ui, u in enumerate(layout.units):
            g = next(g for g in u.candidates if solver.value(built.x[ui, g]))
            members[g].extend(u.members)
        for ti, t in enumerate(layout.type_keys):
            _deal(
                ctx, layout.pooled[t], t[3], [solver.value(built.y[ti, g]) for g in t[3]], members
            )
        if searched is not None and solver.objective_value > searched_score:
            members = searched
    else:  # out of time before the solver reported anything: the start is valid
        members = start or []
    return _assignment(ctx, members, bound, optimal, stopped or cut, started), True


def _assignment(
    ctx: _Ctx,
    members: Sequence[Sequence[int]],
    bound: float,
    optimal: bool,
    stopped: bool,
    started: float,
) -> Assignment:
    """The :class:`Assignment` of ``members`` (people per group index)."""
    problem = ctx.problem
    result = {ctx.groups[g].key: sorted(m) for g, m in enumerate(members)}
    moves = sum(1 for pid, key in ctx.existing.items() if pid not in result.get(key, ()))
    return Assignment(
        groups=result,
        score=objective_value(problem, result),
        best_bound=float(bound),
        optimal=optimal,
        composition=_composition(problem, result),
        unmet=_unmet(ctx, result, optimal),
        moves=moves,
        wall_time_s=time.perf_counter() - started,
        stopped_by_wall_clock=stopped,
        move_cost=ctx.move_cost * moves if ctx.current else 0,
    )


def _deal(
    ctx: _Ctx, ids: list[int], allowed: tuple[int, ...], counts: list[int], members: list[list[int]]
) -> None:
    """Deal the interchangeable people ``ids`` to the ``allowed`` groups by ``counts``: in each
    group first those already in it (they stay), then the others by id in group order."""
    seats = dict(zip(allowed, counts, strict=True))
    rest = []
    for pid in ids:
        home = ctx.current.get(pid, -1)
        if seats.get(home, 0) > 0:
            seats[home] -= 1
            members[home].append(pid)
        else:
            rest.append(pid)
    queue = iter(rest)
    for g in allowed:
        members[g].extend(next(queue) for _ in range(seats[g]))


def _generic_infeasible(ctx: _Ctx) -> str:
    restricted = sum(1 for pid in ctx.order if ctx.avail[pid] != frozenset(ctx.gidx))
    forbidden = sum(len(v) for v in ctx.forbidden.values())
    bounds = _join(sorted({f"{g.min_size}-{g.max_size}" for g in ctx.groups}, key=lambda s: s))
    rules = [
        _plural(len(ctx.pins), "pin"),
        _plural(len(ctx.apart), "keep-apart pair"),
        _plural(len(ctx.together), "keep-together pair"),
        _plural(forbidden, "forbidden placement"),
        _plural(
            restricted, "person with limited meeting times", "people with limited meeting times"
        ),
        f"group sizes {bounds} for {_plural(len(ctx.groups), 'group')}",
    ]
    if ctx.fixed_existing:
        rules.append(f"{_plural(len(ctx.existing), 'existing member')} kept in place")
    return (
        "No assignment satisfies all the hard rules together, although each passed its own "
        "check. Rules in play: " + _join(rules) + "."
    )


# --------------------------------------------------------------------------------------------
# Explaining unmet goals
# --------------------------------------------------------------------------------------------


def _unmet(ctx: _Ctx, groups: Mapping[str, Sequence[int]], optimal: bool) -> list[str]:
    out: list[str] = []
    n = len(ctx.people)
    k = len(ctx.groups)
    totals = _value_totals(ctx.people.values())
    group_of = {pid: key for key, ms in groups.items() for pid in ms}
    uniform_bounds = len({(g.min_size, g.max_size) for g in ctx.groups}) == 1
    for attr in _ATTRS:
        for value in _ordered_codes(attr, totals[attr]):
            c = totals[attr].get(value, 0)
            if c == 0:
                continue
            if c < k:
                missing = k - c
                have = "one group has none" if missing == 1 else f"{missing} groups have none"
                out.append(f"{c} {_noun(attr, value, c)} for {k} groups: {have}.")
            holders = [pid for pid in ctx.order if getattr(ctx.people[pid], attr) == value]
            for spec in ctx.groups:
                members = groups[spec.key]
                size = len(members)
                have_n = sum(1 for m in members if getattr(ctx.people[m], attr) == value)
                fair = Fraction(c * size, n)
                lo, hi = math.floor(fair), math.ceil(fair)
                if lo <= have_n <= hi:
                    continue
                share = f"{lo}" if lo == hi else f"{lo}-{hi}"
                reasons = _reasons(
                    ctx, attr, value, spec, holders, group_of, have_n > hi, optimal, uniform_bounds
                )
                label = _noun(attr, value, 2)
                out.append(
                    f"{label[:1].upper()}{label[1:]}: {spec.name} has {have_n}, its fair share is "
                    f"{share}, because: {'; '.join(reasons)}."
                )
    return out


def _reasons(
    ctx: _Ctx,
    attr: str,
    value: str,
    spec: GroupSpec,
    holders: list[int],
    group_of: Mapping[int, str],
    too_many: bool,
    optimal: bool,
    uniform_bounds: bool,
) -> list[str]:
    """Why group ``spec`` holds more (``too_many``) or fewer people with ``value`` of ``attr``
    than its fair share: the rules that put them there or keep them away, else the program's
    limits, else the size bounds, else the solver's time limit or the priority of the goals."""
    if too_many:
        reasons = _too_many_reasons(ctx, spec, holders, group_of)
    else:
        reasons = _too_few_reasons(ctx, attr, value, spec, holders, group_of)
    if ctx.problem.physicians_only and attr == "discipline":
        reasons.append("the program accepts physicians only")
    if not reasons and not uniform_bounds:
        size = sum(1 for g in group_of.values() if g == spec.key)
        if size in (spec.min_size, spec.max_size):
            reasons.append(f"{spec.name}'s size is limited to {spec.min_size}-{spec.max_size}")
    if not reasons:
        reasons.append(_no_rule_reason(attr, optimal))
    return reasons


def _too_many_reasons(
    ctx: _Ctx, spec: GroupSpec, holders: list[int], group_of: Mapping[int, str]
) -> list[str]:
    """The rules that put the holders in the group: pins, staying put, together rules, and
    the holders who may join only a few groups."""
    reasons: list[str] = []
    key = spec.key
    here = [h for h in holders if group_of[h] == key]
    pinned = [h for h in here if ctx.pin_sources.get(h, {}).get(key) == "pin"]
    staying = [h for h in here if ctx.pin_sources.get(h, {}).get(key) == "existing"]
    if pinned:
        reasons.append(
            f"{ctx.names(pinned)} {'is' if len(pinned) == 1 else 'are'} pinned to {spec.name}"
        )
    if staying:
        reasons.append(
            f"{ctx.names(staying)} already {'belongs' if len(staying) == 1 else 'belong'} "
            f"to {spec.name} and existing members are not moved"
        )
    seen: set[int] = set()
    for h in here:
        members = ctx.cluster_of(h)
        if len(members) > 1 and members[0] not in seen:
            seen.add(members[0])
            same = [m for m in members if m in here]
            if len(same) > 1:
                reasons.append(f"{ctx.names(members)} must be together")
    limited = [h for h in here if ctx.allowed[h] != frozenset(ctx.gidx) and h not in pinned]
    for h in limited:
        ok = sorted(ctx.allowed[h], key=ctx.gidx.__getitem__)
        if len(ok) < len(ctx.gidx):
            reasons.append(
                f"{ctx.name(h)} can only join {_join_capped([ctx.gname(g) for g in ok], 4)}"
            )
    return reasons


def _too_few_reasons(
    ctx: _Ctx,
    attr: str,
    value: str,
    spec: GroupSpec,
    holders: list[int],
    group_of: Mapping[int, str],
) -> list[str]:
    """The rules that keep the holders elsewhere: pins or staying put in other groups, groups
    they cannot join, and together rules that take them along."""
    reasons: list[str] = []
    key = spec.key
    elsewhere: dict[str, list[int]] = defaultdict(list)
    for h in holders:
        target = _cluster_pin(ctx, h)
        if target is not None and target != key:
            elsewhere[target].append(h)
    for target in sorted(elsewhere, key=ctx.gidx.__getitem__):
        who = elsewhere[target]
        stay = all(ctx.pin_sources.get(h, {}).get(target) == "existing" for h in who)
        if stay:
            verb = "belongs" if len(who) == 1 else "belong"
            reasons.append(f"{ctx.names(who)} already {verb} to {ctx.gname(target)}")
        else:
            reasons.append(
                f"{ctx.names(who)} {'is' if len(who) == 1 else 'are'} pinned to {ctx.gname(target)}"
            )
    blocked = [
        h for h in holders if key not in ctx.allowed[h] and h not in elsewhere.get(group_of[h], [])
    ]
    for h in blocked:
        reasons.append(f"{ctx.name(h)} cannot join {spec.name} ({_why_not(ctx, h, key)})")
    seen: set[int] = set()
    for h in holders:
        members = ctx.cluster_of(h)
        if len(members) > 1 and members[0] not in seen and group_of[h] != key:
            seen.add(members[0])
            same = [m for m in members if getattr(ctx.people[m], attr) == value]
            if len(same) > 1:
                reasons.append(f"{ctx.names(members)} must be together in {ctx.gname(group_of[h])}")
    return reasons


def _no_rule_reason(attr: str, optimal: bool) -> str:
    """Why a share is missed when no rule explains it: the time limit, or the other goals."""
    if not optimal:
        return "the solver stopped at its time limit before finding a better mix"
    if attr == "discipline":
        return (
            "it conflicts with balancing the other disciplines and the group sizes "
            "(discipline > gender > experience)"
        )
    return "it conflicts with balancing a higher-priority goal (discipline > gender > experience)"
