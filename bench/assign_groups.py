"""Benchmark: balanced group assignment (sessions_app/groups/solver/assignment.py) with CP-SAT.

    .venv/bin/python bench/assign_groups.py [--seed N] [--big-time-limit S] [--workers W]
                                            [--regroup] [--reference-minutes [N]]

Generates two seeded programs and solves them:

* demo: 30 people (22 physicians, 6 nurse practitioners, a social worker, a pharmacist)
  into 3 groups of 8-12, no individual rules;
* big (run twice: ``--workers`` threads, then the reproducible one-worker mode):
  3,000 people into 300 groups of 8-12 meeting at two times, with 100 pins, 100 keep-apart
  pairs, 100 keep-together pairs, 30 facilitator exclusions and 50 people who can attend only
  one of the two meeting times.

For each it prints people, groups, rules, wall time, objective, best bound, objective / best
bound (the gap: 1.000 is proven optimal), whether optimal, and the unmet-goal count. From 200
people on the solver improves a greedy start by local search and proves a lower bound from the
count problem (see the module docstring); the big problem stops there.

``--reference-minutes N`` (N = 10 when no value is given) then runs the same model the way it
ran before local search existed: CP-SAT alone, from the greedy start, one worker, for N minutes
(run it with ``nice``: it keeps a core busy), and prints its objective and bound and the ratio
of the deterministic big run's objective to it (below 1: better than the long run).

Then regrouping mid-year: the demo's groups as solved, with 3 newcomers, regrouped keeping
current groups (moves cost ``MOVE_WEIGHT``) and rebalancing freely; with ``--regroup`` also the
big program's groups (from a 10 s solve), after 2% left and 60 newcomers joined. For each it
prints wall time, moves, the balance score and the move cost. Pure Python: no Django or
database needed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataclasses import replace  # noqa: E402

from sessions_app.groups.solver.assignment import (
    FACILITATES,
    MOVE_WEIGHT,
    Assignment,
    GroupSpec,
    Infeasible,
    Person,
    Problem,
    make_groups,
    solve,
)

DISCIPLINES = {
    "physician": 55,
    "nurse_practitioner": 12,
    "physician_assistant": 8,
    "nurse": 10,
    "social_worker": 5,
    "pharmacist": 4,
    "psychologist": 3,
    "other": 3,
}
GENDERS = {"female": 55, "male": 40, "nonbinary": 3, "undisclosed": 2}
EXPERIENCE = {"lt5": 30, "5to10": 30, "gt10": 35, "unknown": 5}
SLOTS = ("Tue 07:30", "Thu 12:00")


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def demo_problem(seed: int, time_limit_s: float = 5.0) -> Problem:
    rng = random.Random(seed)
    disciplines = ["physician"] * 22 + ["nurse_practitioner"] * 6 + ["social_worker", "pharmacist"]
    people = [
        Person(
            id=i + 1,
            name=f"Person {i + 1}",
            discipline=d,
            gender=_pick(rng, GENDERS),
            experience=_pick(rng, EXPERIENCE),
        )
        for i, d in enumerate(disciplines)
    ]
    return Problem(people=people, groups=make_groups(3), seed=seed, time_limit_s=time_limit_s)


def big_problem(
    seed: int, time_limit_s: float, workers: int, deterministic: bool = False
) -> Problem:
    rng = random.Random(seed)
    n, k = 3000, 300
    groups = [
        GroupSpec(key=f"g{i + 1}", name=f"Group {i + 1}", slot=SLOTS[i % 2]) for i in range(k)
    ]
    ids = list(range(1, n + 1))
    shuffled = ids[:]
    rng.shuffle(shuffled)
    # disjoint pools so that the generated rules never contradict each other
    pinned, rest = shuffled[:100], shuffled[100:]
    together_pool, rest = rest[:200], rest[200:]
    apart_pool, rest = rest[:200], rest[200:]
    restricted, rest = rest[:50], rest[50:]
    facilitators = rest[:30]
    only_slot = {pid: SLOTS[j % 2] for j, pid in enumerate(restricted)}
    people = [
        Person(
            id=pid,
            name=f"Person {pid}",
            discipline=_pick(rng, DISCIPLINES),
            gender=_pick(rng, GENDERS),
            experience=_pick(rng, EXPERIENCE),
            available_slots=frozenset({only_slot[pid]}) if pid in only_slot else None,
        )
        for pid in ids
    ]
    pins = [(pid, groups[rng.randrange(k)].key) for pid in pinned]
    together = [(together_pool[2 * i], together_pool[2 * i + 1]) for i in range(100)]
    apart = [(apart_pool[2 * i], apart_pool[2 * i + 1]) for i in range(100)]
    forbidden = [(pid, groups[rng.randrange(k)].key, FACILITATES) for pid in facilitators]
    return Problem(
        people=people,
        groups=groups,
        pins=pins,
        apart=apart,
        together=together,
        forbidden=forbidden,
        seed=seed,
        time_limit_s=time_limit_s,
        num_workers=workers,
        deterministic=deterministic,
    )


def report(label: str, problem: Problem) -> Assignment | Infeasible:
    started = time.perf_counter()
    result = solve(problem)
    wall = time.perf_counter() - started
    rules = (
        f"{len(problem.pins)} pins, {len(problem.apart)} apart, {len(problem.together)} together, "
        f"{len(problem.forbidden)} forbidden, "
        f"{sum(1 for p in problem.people if p.available_slots is not None)} limited times"
    )
    print(f"{label}: {len(problem.people)} people, {len(problem.groups)} groups ({rules})")
    if isinstance(result, Infeasible):
        print(f"  INFEASIBLE after {wall:.2f} s:")
        for line in result.problems:
            print(f"    {line}")
        return result
    assert isinstance(result, Assignment)
    bound = result.best_bound
    ratio = (
        f"{result.score / bound:.3f}" if bound > 0 else ("1.000" if result.score == 0 else "inf")
    )
    sizes = sorted(len(m) for m in result.groups.values())
    print(
        f"  wall time {wall:.2f} s | objective {result.score} | best bound {bound:.0f} | "
        f"objective/bound {ratio} | optimal {result.optimal}"
    )
    print(
        f"  sizes {sizes[0]}-{sizes[-1]} | unmet goals {len(result.unmet)} | "
        f"stopped by wall clock {result.stopped_by_wall_clock}"
    )
    return result


def mid_year(problem: Problem, seed: int, leave: float, newcomers: int) -> Problem:
    """``problem`` solved, then ``leave`` of its people gone and ``newcomers`` new ones: the
    groups as current groups."""
    first = solve(replace(problem, time_limit_s=min(problem.time_limit_s, 10.0)))
    assert isinstance(first, Assignment), first
    rng = random.Random(seed)
    people = [p for p in problem.people if rng.random() >= leave]
    ids = {p.id for p in people}
    start = max(p.id for p in problem.people) + 1
    people += [
        Person(
            id=start + i,
            name=f"Newcomer {i + 1}",
            discipline=_pick(rng, DISCIPLINES),
            gender=_pick(rng, GENDERS),
            experience=_pick(rng, EXPERIENCE),
        )
        for i in range(newcomers)
    ]
    return replace(
        problem,
        people=people,
        existing={
            pid: key for key, members in first.groups.items() for pid in members if pid in ids
        },
        pins=[(p, g) for p, g in problem.pins if p in ids],
        apart=[(a, b) for a, b in problem.apart if a in ids and b in ids],
        together=[(a, b) for a, b in problem.together if a in ids and b in ids],
        forbidden=[(p, g, r) for p, g, r in problem.forbidden if p in ids],
    )


def report_regroup(label: str, problem: Problem) -> None:
    print(
        f"{label}: {len(problem.people)} people ({len(problem.existing or {})} in groups), "
        f"{len(problem.groups)} groups"
    )
    for how, weight in (("keep current groups", MOVE_WEIGHT), ("rebalance freely", 0)):
        started = time.perf_counter()
        result = solve(replace(problem, move_weight=weight))
        wall = time.perf_counter() - started
        if isinstance(result, Infeasible):
            print(f"  {how}: INFEASIBLE after {wall:.2f} s")
            continue
        print(
            f"  {how}: wall time {wall:.2f} s | moves {result.moves} | score {result.score} | "
            f"move cost {result.move_cost} | optimal {result.optimal}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--big-time-limit", type=float, default=25.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--regroup", action="store_true", help="Also regroup the big program mid-year."
    )
    parser.add_argument(
        "--reference-minutes",
        type=float,
        nargs="?",
        const=10.0,
        default=None,
        metavar="N",
        help="Also run CP-SAT alone on the big problem for N minutes (10 without a value) and "
        "compare.",
    )
    args = parser.parse_args()
    report("demo (deterministic)", demo_problem(args.seed))
    report(
        f"big ({args.workers} workers, not deterministic)",
        big_problem(args.seed, args.big_time_limit, args.workers),
    )
    ours = report(
        "big (deterministic: 1 worker)",
        big_problem(args.seed, args.big_time_limit, args.workers, deterministic=True),
    )
    report_regroup("demo regrouped mid-year", mid_year(demo_problem(args.seed), args.seed, 0, 3))
    if args.regroup:
        big = big_problem(args.seed, args.big_time_limit, args.workers, deterministic=True)
        report_regroup("big regrouped mid-year", mid_year(big, args.seed, 0.02, 60))
    if args.reference_minutes is not None:
        minutes = args.reference_minutes
        reference = big_problem(args.seed, 60 * minutes, 1)
        ref = report(
            f"big reference (CP-SAT alone, 1 worker, {minutes:g} min)",
            replace(reference, local_search=False),
        )
        if isinstance(ours, Assignment) and isinstance(ref, Assignment):
            print(
                f"  objective ratio (ours at {args.big_time_limit:g} s / reference): "
                f"{ours.score / ref.score:.3f} | ours / best bound of either: "
                f"{ours.score / max(ours.best_bound, ref.best_bound):.4f}"
            )


if __name__ == "__main__":
    main()
