"""Benchmark: analyse a paper wave of N responses end to end (default 50,000).

    .venv/bin/python bench/analysis_50k.py [N] [--profile]

Runs on a fresh SQLite database in a temporary folder (or on DATABASE_URL if set, which must
then be a throwaway database). Creates a program with 10 groups and a paper wave of the
built-in questionnaire, writes N synthetic responses (seeded, so every run writes the same
data: skewed agreement, a group effect on two items, 3% missing answers, 2% excluded forms),
then times :func:`analysis.runs.services.run_execute`, the code path of the page and the command:
load, compute, charts and store, and prints seconds per step, the total, responses/s and the
peak memory (resident set) of the process that ran the analysis: a fresh one, started once the
data is written. ``--profile`` adds a cProfile listing of the run. On PostgreSQL:
``python -m tests.services --no-redis -- python bench/analysis_50k.py``.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CCDG_VAR_DIR", tempfile.mkdtemp(prefix="ccdg-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccdg.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from analysis.runs.services import run_create, run_execute  # noqa: E402
from sessions_app.models import Group, Program  # noqa: E402
from surveys.digest import stored_digest  # noqa: E402
from surveys.models import Response  # noqa: E402
from surveys.waves import paper_wave_create  # noqa: E402

SEED = 20_270_315
GROUPS = 10
MISSING = 0.03
EXCLUDED = 0.02


def pick(rng: random.Random, values: list[str], weights: list[float]) -> str:
    return rng.choices(values, weights)[0]


def synthetic_answers(rng: random.Random, groups: list[str]) -> dict[str, str]:
    group_index = rng.randrange(len(groups))
    lift = (group_index - len(groups) / 2) / len(groups)  # a mild group effect
    answers = {
        "gender": pick(rng, ["female", "male", "nonbinary", "undisclosed"], [58, 38, 2, 2]),
        "clinician_type": pick(
            rng,
            [
                "physician",
                "nurse_practitioner",
                "physician_assistant",
                "psychologist",
                "social_worker",
                "pharmacist",
                "nurse",
                "other",
            ],
            [55, 12, 8, 6, 7, 4, 6, 2],
        ),  # fmt: skip
        "years_at_institution": pick(rng, ["lt5", "5to10", "gt10"], [40, 30, 30]),
        "patient_care_halfdays": pick(rng, ["ge7", "le6"], [60, 40]),
        "group": groups[group_index],
    }
    agree = [2, 5, 13, 45, 35]
    for code in (
        "skill_self_reflection", "skill_tolerate_uncertainty", "skill_empathy",
        "skill_flexibility_uncertainty", "skill_blind_spots", "skill_patient_challenges",
    ):  # fmt: skip
        weights = list(agree)
        if code in ("skill_empathy", "skill_blind_spots"):
            weights[4] *= 1 + lift
            weights[1] *= 1 - lift
        answers[code] = pick(rng, ["1", "2", "3", "4", "5"], weights)
    for code in ("relevance_prioritize", "relevance_communicate", "relevance_conflict"):
        answers[code] = pick(rng, ["1", "2", "3", "4", "5"], [4, 8, 25, 38, 25])
    for code in ("isolation", "personal_stress", "professional_stress"):
        answers[f"challenge_{code}"] = pick(rng, ["1", "2", "3", "4"], [30, 35, 25, 10])
        answers[f"addressed_{code}"] = pick(rng, ["1", "0"], [55, 45])
    if rng.random() < 0.1:
        answers["open_unique"] = "A place to think about hard cases with colleagues."
    return {k: v for k, v in answers.items() if rng.random() >= MISSING}


def write_wave(n: int) -> int:
    """The program, its groups and a paper wave of ``n`` responses; the id of a queued run."""
    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    program = Program.objects.create(
        name="Bench", slug=f"bench-{time.time_ns()}", academic_year="2026-2027"
    )
    groups = [
        Group.objects.create(program=program, name=f"Group {i + 1:02d}").name for i in range(GROUPS)
    ]
    wave = paper_wave_create(
        program=program, actor=None, name="Bench wave", distributed=int(n * 1.25)
    )
    start = time.perf_counter()
    now = timezone.now()
    reasons = ["damaged form", "answered twice", "not a participant"]
    Response.objects.bulk_create(
        (
            Response(
                wave=wave,
                source=Response.Source.PAPER,
                answers=synthetic_answers(rng, groups),
                submitted_at=now,
                excluded_reason=rng.choice(reasons) if rng.random() < EXCLUDED else "",
            )
            for _ in range(n)
        ),
        batch_size=2000,
    )
    # The app's write paths keep the wave's running digest (surveys/digest.py) as they go;
    # written in bulk here, the wave gets it once, as the first reader would make it.
    stored_digest(wave.pk)
    written = time.perf_counter() - start
    print(
        f"wave of {n:,} responses, {GROUPS} groups, database {django.db.connection.vendor}; "
        f"written in {written:.1f} s (setup, not timed below)"
    )
    return run_create(wave=wave, actor=None).pk


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the peak resident memory of this process so far.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def execute(run_id: int, profile: bool) -> None:
    """Run the analysis in this (fresh) process and print its steps and peak memory."""
    before = peak_rss_mb()
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    run = run_execute(run_id)
    if profiler is not None:
        profiler.disable()
    wall = time.perf_counter() - start
    peak = peak_rss_mb()
    assert run.status == run.Status.DONE, run.error
    line = run.results["response"]
    print(
        f"analysed {line['analyzed']:,} of {line['returned']:,} returned "
        f"({line['excluded']:,} excluded); {len(run.results['notes'])} notes"
    )
    for step in ("load", "compute", "charts", "store"):
        print(f"  {step:<8} {run.timings[step]:8.3f} s")
    print(f"  {'total':<8} {run.timings['total']:8.3f} s   ({wall:.3f} s wall, with the claim)")
    print(f"  {line['analyzed'] / run.timings['total']:,.0f} responses/s end to end")
    print(
        f"  peak memory {peak:,.0f} MB (process; {before:,.0f} MB before the run, "
        f"+{peak - before:,.0f} MB for it)"
    )
    methods = {r["test"]["method"] for r in run.results["table2"]}
    print(f"  table 2 tests: {', '.join(sorted(str(m) for m in methods))}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            40
        )


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    profile = "--profile" in sys.argv
    if "--run" in sys.argv:
        execute(int(args[0]), profile)
        return
    n = int(args[0]) if args else 50_000
    run_id = write_wave(n)
    # A fresh process for the run: its peak memory is the analysis's, not the set-up's.
    child = [sys.executable, __file__, "--run", str(run_id)] + (["--profile"] if profile else [])
    subprocess.run(child, check=True)  # noqa: S603 - this script, with our own arguments


if __name__ == "__main__":
    main()
