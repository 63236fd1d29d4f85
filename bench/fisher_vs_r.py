"""Benchmark: exact Fisher test of analysis.stats against R's fisher.test on the same tables.

    .venv/bin/python bench/fisher_vs_r.py

For each table (from 2 x 2 up to 2 x 10 with n = 200, 4 x 5 with n = 120 and 5 x 5 with
n = 80, made from a fixed seed; then two fixed tables at the edge of what R computes exactly
with ``workspace = 2e7``: 4 x 5 with n = 150 and 5 x 6 with n = 300, 10 to 30 s each in R)
prints the time of one exact ``fisher_exact`` call (no time budget), the time of one R
``fisher.test`` call, their ratio (ours / R) and whether the two p-values agree to a
relative 1e-6. R is run once, through ``Rscript``, and times itself with ``system.time`` over
repeated calls, so its start-up is not counted; both sides repeat a call until it has taken
at least half a second and report the mean (our first call, which may compile the kernel,
is not timed). Without ``Rscript`` on the
PATH only our timings are printed.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.stats import fisher_exact  # noqa: E402

SHAPES = [  # rows, columns, n
    (2, 2, 40),
    (2, 5, 100),
    (3, 4, 60),
    (3, 3, 150),
    (4, 4, 100),
    (3, 6, 150),
    (2, 10, 200),
    (4, 5, 120),
    (5, 5, 80),
]
#: Tables R still computes exactly, slowly: most random 4 x 5 tables with n = 150 and 5 x 6
#: ones with n = 300 stop R's FEXACT with a workspace error (these two do not).
FIXED = [
    [[1, 6, 13, 3, 4], [2, 10, 6, 6, 2], [2, 10, 12, 4, 9], [7, 15, 17, 8, 13]],
    [[2, 3, 0, 0, 0, 0], [17, 34, 5, 1, 10, 1], [14, 24, 3, 0, 8, 0], [2, 2, 0, 0, 0, 0],
     [45, 90, 12, 0, 27, 0]],
]  # fmt: skip
MIN_SECONDS = 0.5
RSCRIPT = shutil.which("Rscript")
MAX_REPEATS = 1000

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
tables <- readLines(args[[1]])
for (line in tables) {
  v <- as.numeric(strsplit(line, " ")[[1]])
  m <- matrix(v[-(1:2)], nrow = v[1], ncol = v[2], byrow = TRUE)
  reps <- 1
  repeat {
    t <- system.time(for (i in seq_len(reps)) p <- fisher.test(m, workspace = 2e7)$p.value)
    t <- t[["elapsed"]]
    if (t >= %(min)s || reps >= %(max)s) break
    reps <- reps * 4
  }
  cat(sprintf("%%.17g %%.17g\n", p, t / reps))
}
"""


def make_table(rng: random.Random, rows: int, cols: int, n: int) -> list[list[int]]:
    """n observations spread over the cells with unequal row and column weights."""
    row_w = [rng.uniform(0.5, 2) for _ in range(rows)]
    col_w = [rng.uniform(0.5, 2) for _ in range(cols)]
    cells = [(i, j) for i in range(rows) for j in range(cols)]
    weights = [row_w[i] * col_w[j] for i, j in cells]
    table = [[0] * cols for _ in range(rows)]
    for i, j in rng.choices(cells, weights=weights, k=n):
        table[i][j] += 1
    return table


def time_ours(table: list[list[int]]) -> tuple[float, float]:
    result = fisher_exact(table, budget_seconds=None)
    assert result.method == "exact"
    repeats = 1
    while True:
        start = time.perf_counter()
        for _ in range(repeats):
            fisher_exact(table, budget_seconds=None)
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_SECONDS or repeats >= MAX_REPEATS:
            return result.pvalue, elapsed / repeats
        repeats *= 4


def time_r(tables: list[list[list[int]]]) -> list[tuple[float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT % {"min": MIN_SECONDS, "max": MAX_REPEATS})
        data = Path(tmp) / "tables.txt"
        data.write_text(
            "".join(
                f"{len(t)} {len(t[0])} " + " ".join(str(x) for row in t for x in row) + "\n"
                for t in tables
            )
        )
        out = subprocess.run(  # noqa: S603 (fixed arguments)
            [RSCRIPT, str(script), str(data)], capture_output=True, text=True, check=True
        )
    return [tuple(map(float, line.split())) for line in out.stdout.splitlines()]


def main() -> None:
    rng = random.Random(20240917)
    tables = [make_table(rng, r, c, n) for r, c, n in SHAPES] + FIXED
    have_r = RSCRIPT is not None
    r_results: list[tuple[float, float]] = []
    if have_r:
        version = subprocess.run(  # noqa: S603 (fixed arguments)
            [RSCRIPT, "-e", "cat(R.version.string)"], capture_output=True, text=True
        ).stdout
        print(f"R: {version}")
        r_results = time_r(tables)
    else:
        print("Rscript not found: only our timings are printed (apt-get install r-base-core).")
    print(f"{'table':<14} {'n':>4} {'ours':>11} {'R':>11} {'ours/R':>7}  p-value       agree")
    for table in tables:
        p, ours = time_ours(table)
        label = f"{len(table)} x {len(table[0])}"
        n = sum(map(sum, table))
        if have_r:
            r_p, r_time = r_results.pop(0)
            agree = math.isclose(p, r_p, rel_tol=1e-6)
            print(
                f"{label:<14} {n:>4} {ours * 1000:>8.2f} ms {r_time * 1000:>8.2f} ms "
                f"{ours / r_time:>7.2f}  {p:<12.6g}  {'yes' if agree else f'NO (R {r_p:.6g})'}"
            )
        else:
            print(f"{label:<14} {n:>4} {ours * 1000:>8.2f} ms {'-':>11} {'-':>7}  {p:<12.6g}")


if __name__ == "__main__":
    main()
