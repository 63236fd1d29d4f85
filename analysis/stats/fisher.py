"""Fisher's exact test for r x c tables (R's ``fisher.test``): exact by a network algorithm,
or by Monte Carlo with a standard error when the exact computation is out of reach."""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numpy import ndarray

try:  # numpy comes with the project's dependencies; without it the pure-Python paths run
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

#: R's ``fisher.test`` on a 2 x 2 table counts tables with probability
#: ``<= observed * (1 + 1e-7)``.
FISHER_REL_TOL_2X2 = 1e-7
#: For larger tables R uses FEXACT, which compares log-probabilities with the tolerance
#: ``3.45254e-7``: probability ``<= observed * exp(3.45254e-7)``.
FISHER_LOG_TOL_RXC = 3.45254e-7

#: Default time budget of the exact computation, in seconds. The only caller is the analysis
#: job (a Celery task, never a web request), which can afford R's time: R takes 10 to 40 s on
#: the hardest tables it computes exactly, the compiled kernel a few seconds.
FISHER_BUDGET_SECONDS = 60.0
#: Default number of random tables of the Monte Carlo fallback.
FISHER_MC_SAMPLES = 10_000
#: Default seed of the Monte Carlo fallback (fixed, so results are reproducible).
FISHER_MC_SEED = 20_240_917
#: Work units of the exact computation allowed per second of budget: the budget of
#: ``budget_seconds`` is also a work limit of ``budget_seconds * FISHER_WORK_PER_SECOND``
#: units, the same on every machine (the compiled kernel does 8-10 million a second on the
#: development machine; half that leaves room for slower ones).
FISHER_WORK_PER_SECOND = 5_000_000
#: The exact computation is not attempted when its estimated work exceeds the work limit
#: this many times over (the estimate is at most about twice the actual work, and often far
#: above it: the hardest tables R computes exactly are estimated at up to 1.4e9, 20 times
#: below the 3e10 at which the default budget skips; the tables skipped are estimated at
#: 1e12 and more).
FISHER_SKIP_FACTOR = 100


@dataclass(frozen=True)
class FisherResult:
    """Result of :func:`fisher_exact`.

    * ``pvalue``: two-sided p-value (R's ``fisher.test(x)$p.value``).
    * ``method``: ``"exact"`` or ``"monte_carlo"``.
    * ``statistic``: probability of the observed table given its margins (the hypergeometric
      point probability); ``None`` for a degenerate table (see ``note``).
    * ``stderr``: ``None`` when exact; the Monte Carlo standard error of ``pvalue`` otherwise.
    * ``mc_samples``: number of random tables drawn (Monte Carlo only).
    * ``shape``: (rows, columns) of the table after all-zero rows and columns were dropped.
    * ``note``: empty, or why the p-value is 1 by definition, or why Monte Carlo was used.
    * ``fallback``: ``None`` when exact; otherwise why Monte Carlo was used: ``"estimate"``
      (exact computation not attempted: its estimated work is far beyond the budget),
      ``"work"`` (stopped at the work limit), ``"time"`` (stopped at the time budget),
      ``"memory"`` (would need too much memory) or ``"no budget"`` (``budget_seconds=0``).
    """

    pvalue: float
    method: str
    statistic: float | None
    stderr: float | None = None
    mc_samples: int | None = None
    shape: tuple[int, int] = (0, 0)
    note: str = ""
    fallback: str | None = None


class _BudgetExceeded(Exception):
    """The exact computation ran out of time or work (or would need too much memory)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class _Limits:
    """The clock and the work counter of one exact computation.

    Work is counted in units that do not depend on the machine: each node expanded costs
    :data:`_NODE_WORK`, each column filling enumerated :data:`_FILLING_WORK` and each
    (node, partial probability) pair carried to the next column one unit. ``max_work``
    (``None``: no limit) stops the computation at the same point on every machine;
    ``deadline`` (a ``time.perf_counter()`` value, ``None``: none) stops it after a
    wall-clock time.
    """

    def __init__(self, deadline: float | None = None, max_work: int | None = None) -> None:
        self.deadline = deadline
        self.max_work = max_work
        self.work = 0
        self.nodes = 0

    def node(self, fillings: int, carried: int) -> None:
        """Count one node expanded, with its column fillings and carried pairs; check both."""
        self.nodes += 1
        self.spend(_NODE_WORK + _FILLING_WORK * fillings + carried)
        self.check_time()

    def spend(self, units: int) -> None:
        self.work += units
        if self.max_work is not None and self.work > self.max_work:
            raise _BudgetExceeded(_WORK_LIMIT)

    def check_time(self) -> None:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _BudgetExceeded


def _check_table(table: Sequence[Sequence[int]]) -> list[list[int]]:
    rows = [list(row) for row in table]
    if not rows:
        return []
    width = len(rows[0])
    out: list[list[int]] = []
    for row in rows:
        if len(row) != width:
            raise ValueError("the table's rows must all have the same length")
        line = []
        for cell in row:
            if isinstance(cell, bool) or not isinstance(cell, numbers.Real):
                raise ValueError(f"table cells must be non-negative integers, not {cell!r}")
            if not isinstance(cell, numbers.Integral) and not float(cell).is_integer():
                raise ValueError(f"table cells must be non-negative integers, not {cell!r}")
            if cell < 0:
                raise ValueError(f"table cells must be non-negative integers, not {cell!r}")
            line.append(int(cell))
        out.append(line)
    return out


def fisher_exact(
    table: Sequence[Sequence[int]],
    *,
    budget_seconds: float | None = FISHER_BUDGET_SECONDS,
    mc_samples: int = FISHER_MC_SAMPLES,
    seed: int = FISHER_MC_SEED,
) -> FisherResult:
    """Fisher's exact test of independence for an r x c table of counts (Freeman-Halton).

    The two-sided p-value is R's ``fisher.test(table)$p.value``: the total probability, under
    the multivariate hypergeometric distribution of tables with the observed margins, of all
    tables whose probability is at most the observed table's times ``1 + 1e-7`` (R's 2 x 2
    rule, :data:`FISHER_REL_TOL_2X2`), or times ``exp(3.45254e-7)`` for larger tables (the
    tolerance of R's FEXACT, :data:`FISHER_LOG_TOL_RXC`). The tolerance makes tables that tie
    with the observed one in exact arithmetic count although rounding separates them.

    Exact computation: a network algorithm. Columns are processed one at a time; a node is
    the multiset of row totals still to fill, and paths reaching a node with the same partial
    probability are merged. At each node, bounds on the most and least probable completion
    decide whether all of its completions count (their total probability has a closed form),
    none does, or it must be expanded further. It runs compiled (numba,
    :mod:`analysis.stats._fisher_kernel`); a 2 x 2 table is summed over its one free cell.

    Budget: ``budget_seconds`` (``None``: no limit; ``0``: go straight to Monte Carlo) sets
    three limits, in this order. (1) Before starting, the work is estimated
    (:func:`_exact_work_estimate`); if the estimate exceeds :data:`FISHER_SKIP_FACTOR` times
    the work limit, the exact computation is not attempted. (2) A work limit of
    ``budget_seconds * FISHER_WORK_PER_SECOND`` units counted by the algorithm, independent
    of the machine's speed. (3) The wall-clock budget itself, the safety net. When any of
    them stops it, or it would need more memory than a fixed cap allows, the p-value is
    estimated from ``B = mc_samples`` random tables with the observed margins, as R's
    ``simulate.p.value = TRUE`` does (``fallback`` says which rule applied):
    ``p = (1 + hits) / (B + 1)``, where ``hits`` counts random tables at most as probable as
    the observed one (same tolerance as above), and ``stderr = sqrt(p * (1 - p) / B)``. The
    tables are drawn cell by cell from their conditional hypergeometric distributions with a
    generator seeded by ``seed``, so the result is reproducible. The estimate and the work
    limit depend only on the table and the budget, so the method is the same on any machine
    unless the wall-clock budget trips first (on a machine slower than the nominal rate).
    The time taken by the fallback grows with ``mc_samples`` and the table's size, not with
    its counts' difficulty, so the call always ends.

    Degenerate tables: all-zero rows and columns are dropped first (R does the same). If
    fewer than two rows or two columns are left, only one table has those margins and the
    p-value is 1 (R returns 1 for such 2 x c tables; R stops with an error for a 1 x k table
    or an all-zero table, where this returns 1 with a ``note``).

    Raises ``ValueError`` for ragged rows or cells that are not non-negative integers.
    """
    if mc_samples < 1:
        raise ValueError("mc_samples must be at least 1")
    reduced, shape, drop_note = _drop_empty(_check_table(table))
    if shape[0] < 2 or shape[1] < 2:
        return _degenerate_result(shape, drop_note)
    observed = _Observed.of(reduced, shape)
    exact_p, why, fallback = _exact_within_budget(observed, budget_seconds)
    if exact_p is not None:
        return FisherResult(
            pvalue=min(1.0, max(0.0, exact_p)),
            method="exact",
            statistic=observed.statistic,
            shape=shape,
            note=drop_note.strip(),
        )
    return _monte_carlo_result(observed, shape, drop_note + why, fallback, mc_samples, seed)


def warm_up() -> None:
    """Compile the exact test's kernel, or load it from numba's cache: one small exact test.

    The first exact test in a process pays this (seconds on a cold cache, about 0.3 s on a
    warm one); a deployment runs it once after installing, as the service user, so that no
    analysis pays the compilation (docs/operations.md).
    """
    fisher_exact([[3, 1, 2], [1, 3, 2], [2, 2, 3]], budget_seconds=None)


def _drop_empty(cells: list[list[int]]) -> tuple[list[list[int]], tuple[int, int], str]:
    """The table without its all-zero rows and columns, its shape, and the note that says
    how many were left out ("" when none)."""
    nr0 = len(cells)
    nc0 = len(cells[0]) if cells else 0
    keep_rows = [i for i in range(nr0) if sum(cells[i]) > 0]
    keep_cols = [j for j in range(nc0) if any(cells[i][j] for i in range(nr0))]
    reduced = [[cells[i][j] for j in keep_cols] for i in keep_rows]
    shape = (len(keep_rows), len(keep_cols))
    dropped = (nr0 - shape[0], nc0 - shape[1])
    drop_note = ""
    if dropped != (0, 0):
        drop_note = (
            f"{dropped[0]} all-zero row(s) and {dropped[1]} all-zero column(s) were left out. "
        )
    return reduced, shape, drop_note


def _degenerate_result(shape: tuple[int, int], drop_note: str) -> FisherResult:
    """p = 1 for a table with fewer than two rows or columns left, saying why."""
    if shape == (0, 0):
        why = "The table has no observations"
    else:
        why = (
            f"After dropping empty rows and columns the table is {shape[0]} x {shape[1]}: "
            "only one table has these margins"
        )
    return FisherResult(
        pvalue=1.0,
        method="exact",
        statistic=None,
        shape=shape,
        note=drop_note + why + ", so the p-value is 1.",
    )


@dataclass(frozen=True)
class _Observed:
    """The observed table as both computations need it: its margins (oriented so that the
    rows are the shorter dimension), the log factorials up to its total, the log of the
    margins' constant ``log_k``, its point probability ``statistic`` and the log weight at or
    below which a table counts (``threshold``, with R's tolerance)."""

    row_totals: list[int]
    col_totals: list[int]
    lf: list[float]
    log_k: float
    statistic: float
    threshold: float

    @classmethod
    def of(cls, reduced: list[list[int]], shape: tuple[int, int]) -> _Observed:
        # Orient so that the state (remaining row totals) is the shorter dimension.
        if shape[0] > shape[1]:
            reduced = [list(col) for col in zip(*reduced, strict=True)]
        row_totals = [sum(r) for r in reduced]
        col_totals = [sum(c) for c in zip(*reduced, strict=True)]
        n = sum(row_totals)
        lf = _log_factorials(n)
        observed_log_weight = -math.fsum(lf[x] for r in reduced for x in r)
        log_k = math.fsum(lf[r] for r in row_totals) + math.fsum(lf[c] for c in col_totals) - lf[n]
        statistic = math.exp(log_k + observed_log_weight)
        is_2x2 = shape == (2, 2)
        tolerance = math.log1p(FISHER_REL_TOL_2X2) if is_2x2 else FISHER_LOG_TOL_RXC
        threshold = observed_log_weight + tolerance
        return cls(row_totals, col_totals, lf, log_k, statistic, threshold)


def _exact_within_budget(
    observed: _Observed, budget_seconds: float | None
) -> tuple[float | None, str, str]:
    """(exact p-value or ``None``, why not, fallback kind): :func:`_try_exact`, unless the
    budget is zero."""
    if budget_seconds is not None and budget_seconds <= 0:
        return None, "Exact computation was not attempted (no time budget)", "no budget"
    o = observed
    if len(o.row_totals) == 2 and len(o.col_totals) == 2:
        return _two_by_two_pvalue(o), "", ""
    return _try_exact(o.row_totals, o.col_totals, o.lf, o.threshold, o.log_k, budget_seconds)


def _two_by_two_pvalue(observed: _Observed) -> float:
    """The exact p-value of a 2 x 2 table: one free cell, so the sum over its values of the
    hypergeometric probabilities at most the observed one's (with R's 2 x 2 tolerance),
    without any set-up (tens of microseconds for small tables, milliseconds at n = 50,000)."""
    (r1, r2), c1, lf = observed.row_totals, observed.col_totals[0], observed.lf
    least = -observed.threshold  # a table counts when its sum of log x! is at least this
    terms = []
    for x in range(max(0, c1 - r2), min(r1, c1) + 1):
        log_cells = lf[x] + lf[r1 - x] + lf[c1 - x] + lf[r2 - c1 + x]
        if log_cells >= least:
            terms.append(math.exp(observed.log_k - log_cells))
    return math.fsum(terms)


def _monte_carlo_result(
    observed: _Observed,
    shape: tuple[int, int],
    why: str,
    fallback: str,
    mc_samples: int,
    seed: int,
) -> FisherResult:
    """The Monte Carlo estimate from ``mc_samples`` random tables with the observed margins,
    ``why`` (with the drop note) saying why the exact test was not used."""
    o = observed
    hits = _monte_carlo_hits(o.row_totals, o.col_totals, o.lf, o.threshold, mc_samples, seed)
    p = (1 + hits) / (mc_samples + 1)
    stderr = math.sqrt(p * (1 - p) / mc_samples)
    return FisherResult(
        pvalue=p,
        method="monte_carlo",
        statistic=o.statistic,
        stderr=stderr,
        mc_samples=mc_samples,
        shape=shape,
        note=(
            f"{why}; Monte Carlo p-value from {mc_samples} random tables with the "
            f"observed margins (seed {seed}), standard error {stderr:.2g}."
        ),
        fallback=fallback,
    )


def _try_exact(
    rows: list[int],
    cols: list[int],
    lf: list[float],
    threshold: float,
    log_k: float,
    budget_seconds: float | None,
) -> tuple[float | None, str, str]:
    """(exact p-value or ``None``, why not, fallback kind) within the budget's limits.

    With a finite budget, the work is first estimated (:func:`_exact_work_estimate`) and the
    computation is not started when the estimate exceeds :data:`FISHER_SKIP_FACTOR` times
    the work limit; otherwise it runs until it finishes, reaches the work limit or the
    deadline, or would need too much memory.
    """
    max_work = None
    if budget_seconds is not None and math.isfinite(budget_seconds):
        max_work = math.ceil(budget_seconds * FISHER_WORK_PER_SECOND)
        estimate = _exact_work_estimate(rows, cols)
        if estimate > FISHER_SKIP_FACTOR * max_work:
            about = f"about {estimate:.2g}" if estimate < 1e300 else "more than 1e+300"
            return (
                None,
                f"Exact computation not attempted: {about} partial tables to "
                f"enumerate, far beyond the {max_work:.2g} its {budget_seconds:g} s budget "
                f"allows ({_BEYOND_R})",
                "estimate",
            )
    deadline = None if budget_seconds is None else time.perf_counter() + budget_seconds
    limits = _Limits(deadline, max_work)
    try:
        return _network_pvalue(rows, cols, lf, threshold, log_k, limits), "", ""
    except _BudgetExceeded as exceeded:
        if exceeded.reason == _WORK_LIMIT:
            why = (
                f"The exact computation stopped at its work limit of {max_work:.2g} steps "
                f"({budget_seconds:g} s of budget at {FISHER_WORK_PER_SECOND:.2g} a second)"
            )
            return None, why, "work"
        if exceeded.reason:
            return None, f"{exceeded.reason} ({_BEYOND_R})", "memory"
        return None, f"The exact computation did not finish within {budget_seconds:g} s", "time"


#: What the notes of the two fallbacks for tables out of reach say about R.
_BEYOND_R = (
    "R's fisher.test does not compute such tables exactly either: it stops with a workspace error"
)


#: log(i!) for i = 0, 1, ...: grown as needed and shared, read only (an analysis tests dozens of
#: tables of the same n, each would otherwise work out the same n lgammas again).
_LOG_FACTORIALS: list[float] = [0.0]
_LOG_FACTORIALS_LOCK = threading.Lock()


def _log_factorials(n: int) -> list[float]:
    """log(i!) for i = 0..n (at least: the list may be longer; never write to it)."""
    known = _LOG_FACTORIALS
    if len(known) <= n:
        with _LOG_FACTORIALS_LOCK:
            known.extend(math.lgamma(i + 1) for i in range(len(known), n + 1))
    return known


class _Network:
    """State shared by one run of the network algorithm (see :func:`_network_pvalue`)."""

    def __init__(self, cols: list[int], lf: list[float], limits: _Limits | None = None) -> None:
        self.cols = cols
        self.lf = lf
        self.limits = limits
        self.leaves = 0
        k = len(cols)
        self.suffix_total = [sum(cols[j:]) for j in range(k + 1)]
        self.suffix_lf = [math.fsum(lf[c] for c in cols[j:]) for j in range(k + 1)]
        self.log_cols = [math.log(c) for c in cols]
        self.bounds_cache: dict[tuple[int, tuple[int, ...]], tuple[float, float, float]] = {}
        self.group_cache: dict[tuple[int, int, int], list[tuple[tuple[int, ...], float, int]]] = {}

    # -- bounds -----------------------------------------------------------------------------

    def bounds(self, stage: int, state: tuple[int, ...]) -> tuple[float, float, float]:
        """(hi, lo, total) for the completions of ``state`` with columns ``stage..``.

        Log-weights are ``-sum(log x!)`` over the cells still to fill. ``hi`` bounds the
        largest from above, ``lo`` the smallest from below, and ``total`` is the log of the
        sum of ``exp(weight)`` over all completions, ``log(N! / (prod m! prod c!))``.
        """
        key = (stage, state)
        cached = self.bounds_cache.get(key)
        if cached is not None:
            return cached
        lf = self.lf
        cols = self.cols
        if stage == len(cols) - 1:
            w = -sum(lf[m] for m in state)
            result = (w, w, w)
        else:
            total_n = self.suffix_total[stage]
            total = lf[total_n] - sum(lf[m] for m in state) - self.suffix_lf[stage]
            rest = cols[stage:]
            log_rest = self.log_cols[stage:]
            nonzero = [m for m in state if m]
            lower_min = max(
                _dual_min_bound(nonzero, rest, log_rest, total_n, lf),
                _dual_min_bound(rest, nonzero, [math.log(m) for m in nonzero], total_n, lf),
            )
            upper_max = min(_greedy_max(nonzero, rest, lf), _greedy_max(rest, nonzero, lf))
            result = (min(total, -lower_min), -upper_max, total)
        self.bounds_cache[key] = result
        return result

    # -- edges ------------------------------------------------------------------------------

    def group_options(
        self, value: int, size: int, total: int
    ) -> list[tuple[tuple[int, ...], float, int]]:
        """Ways to take ``total`` from ``size`` rows that each have ``value`` left.

        Rows with equal remaining totals are interchangeable, so only non-increasing choices
        are listed, each with the number of distinct arrangements it stands for. Items:
        (what is left in those rows, log-weight ``-sum(log x!)``, arrangements).
        """
        key = (value, size, total)
        cached = self.group_cache.get(key)
        if cached is not None:
            return cached
        lf = self.lf
        out: list[tuple[tuple[int, ...], float, int]] = []

        def rec(left: int, slots: int, cap: int, taken: list[int]) -> None:
            if slots == 0:
                if left == 0:
                    weight = -sum(lf[x] for x in taken)
                    arrangements = math.factorial(size)
                    run = 1
                    for i in range(1, len(taken) + 1):
                        if i < len(taken) and taken[i] == taken[i - 1]:
                            run += 1
                        else:
                            arrangements //= math.factorial(run)
                            run = 1
                    out.append((tuple(value - x for x in taken), weight, arrangements))
                return
            top = min(cap, left)
            bottom = -(-left // slots)  # the others can take at most as much as this one
            for x in range(top, bottom - 1, -1):
                taken.append(x)
                rec(left - x, slots - 1, x, taken)
                taken.pop()

        if size * value >= total:
            rec(total, size, value, [])
        self.group_cache[key] = out
        return out

    def edges(
        self, state: tuple[int, ...], col_total: int
    ) -> dict[tuple[int, ...], list[tuple[float, float]]]:
        """Children of ``state`` after filling one column with ``col_total``.

        Returns {child state: [(log-weight, arrangements), ...]} with equal weights merged.
        """
        groups: list[tuple[int, int]] = []
        for m in state:
            if groups and groups[-1][0] == m:
                groups[-1] = (m, groups[-1][1] + 1)
            else:
                groups.append((m, 1))
        capacity = [0] * (len(groups) + 1)
        for g in range(len(groups) - 1, -1, -1):
            capacity[g] = capacity[g + 1] + groups[g][0] * groups[g][1]
        children: dict[tuple[int, ...], dict[float, list]] = {}

        def rec(g: int, left: int, parts: tuple[int, ...], weight: float, mult: int) -> None:
            if g == len(groups):
                self.leaves += 1
                if self.limits is not None and not self.leaves % 8192:
                    self.limits.check_time()  # the work is counted per node by the caller
                child = tuple(sorted(parts, reverse=True))
                by_weight = children.setdefault(child, {})
                wkey = round(weight, 9)
                entry = by_weight.get(wkey)
                if entry is None:
                    by_weight[wkey] = [weight, mult]
                else:
                    entry[1] += mult
                return
            value, size = groups[g]
            low = max(0, left - capacity[g + 1])
            high = min(left, value * size)
            for t in range(low, high + 1):
                for rest, w, arrangements in self.group_options(value, size, t):
                    rec(g + 1, left - t, parts + rest, weight + w, mult * arrangements)

        rec(0, col_total, (), 0.0, 1)
        return {
            child: [(w, float(mu)) for w, mu in by_weight.values()]
            for child, by_weight in children.items()
        }


def _dual_min_bound(
    a: Sequence[int], b: Sequence[int], log_b: Sequence[float], total: int, lf: list[float]
) -> float:
    """A lower bound on ``min sum log x_ij!`` over tables with row sums ``a``, column sums ``b``.

    Lagrangian relaxation of the column sums with prices ``log b_j``: each row then solves a
    separable convex problem exactly (take the ``a_i`` cheapest units, unit ``t`` of column
    ``j`` costing ``log(t / b_j)``, i.e. fill columns in proportion to ``b``). Weak duality
    makes the result a valid bound for any prices; these ones make it nearly tight.
    """
    value = math.fsum(lb * bj for lb, bj in zip(log_b, b, strict=True))
    seen: dict[int, float] = {}
    for ai in a:
        if ai in seen:
            value += seen[ai]
            continue
        xs = [ai * bj // total for bj in b]
        left = ai - sum(xs)
        while left > 0:
            best = -1
            best_ratio = math.inf
            for j, bj in enumerate(b):
                if xs[j] < bj:
                    ratio = (xs[j] + 1) / bj
                    if ratio < best_ratio:
                        best_ratio = ratio
                        best = j
            xs[best] += 1
            left -= 1
        part = math.fsum(lf[x] - lb * x for x, lb in zip(xs, log_b, strict=True))
        seen[ai] = part
        value += part
    return value


def _greedy_max(a: Sequence[int], b: Sequence[int], lf: list[float]) -> float:
    """An upper bound on ``max sum log x_ij!``: each row on its own, largest columns first.

    Dropping the column sums leaves one problem per row, maximising a sum of convex
    functions, whose optimum fills the largest columns first.
    """
    caps = sorted(b, reverse=True)
    value = 0.0
    for ai in a:
        left = ai
        for cap in caps:
            if left <= 0:
                break
            x = cap if cap < left else left
            value += lf[x]
            left -= x
    return value


def _network_pvalue_python(
    rows: list[int],
    cols: list[int],
    lf: list[float],
    threshold: float,
    log_k: float,
    limits: _Limits,
) -> float:
    """Sum of the probabilities of tables with log-weight ``<= threshold`` (exact).

    A table's probability is ``exp(log_k + weight)`` with ``weight = -sum(log x_ij!)``.
    Raises :class:`_BudgetExceeded` once ``limits`` runs out (time or work).
    """
    cols = sorted(cols, reverse=True)
    net = _Network(cols, lf, limits)
    k = len(cols)
    root = tuple(sorted(rows, reverse=True))
    hi, _lo, _total = net.bounds(0, root)
    if hi <= threshold:
        return 1.0
    # Probabilities are accumulated relative to exp(shift), close to the observed table's.
    shift = max(log_k + threshold, -700.0)
    base = log_k - shift
    accumulated: list[float] = []
    exp = math.exp
    # nodes of the current stage: state -> {rounded past: [past, multiplicity]}
    current: dict[tuple[int, ...], dict[int, list[float]]] = {root: {0: [0.0, 1.0]}}
    for stage in range(k - 1):
        col_total = cols[stage]
        following: dict[tuple[int, ...], dict[int, list[float]]] = {}
        for state, pasts in current.items():
            leaves_before = net.leaves
            carried = 0
            items = sorted(pasts.values())
            values = [p for p, _ in items]
            top = values[-1]
            prefix = [0.0]
            for p, mult in items:
                prefix.append(prefix[-1] + mult * exp(p - top))
            for child, edge_list in net.edges(state, col_total).items():
                c_hi, c_lo, c_total = net.bounds(stage + 1, child)
                child_pasts = None
                for weight, arrangements in edge_list:
                    # pasts with value + weight + c_hi <= threshold: all completions count
                    cut_all = bisect.bisect_right(values, threshold - weight - c_hi)
                    if cut_all:
                        accumulated.append(
                            arrangements * prefix[cut_all] * exp(base + top + weight + c_total)
                        )
                    # pasts with value + weight + c_lo > threshold: no completion counts
                    cut_none = bisect.bisect_right(values, threshold - weight - c_lo)
                    if cut_none > cut_all:
                        carried += cut_none - cut_all
                        if child_pasts is None:
                            child_pasts = following.setdefault(child, {})
                        for p, mult in items[cut_all:cut_none]:
                            v = p + weight
                            key = round(v * 1e9)
                            entry = child_pasts.get(key)
                            if entry is None:
                                child_pasts[key] = [v, mult * arrangements]
                            else:
                                entry[1] += mult * arrangements
            limits.node(net.leaves - leaves_before, carried)
        current = following
        if not current:
            break
    return math.fsum(accumulated) * math.exp(shift)


#: Largest number of column fillings one node may have before the exact computation gives up.
_MAX_EDGES_PER_NODE = 1_000_000
#: Largest number of (node, partial probability) pairs one stage may hold.
_MAX_PASTS_PER_STAGE = 60_000_000
#: Up to this many observations the pure-Python network is as fast (numpy's per-call cost).
_PURE_PYTHON_MAX_N = 30
_TOO_LARGE = "The exact computation would need too much memory for this table"
#: Work units charged per node expanded (the fixed cost of its array operations) and per
#: column filling enumerated; a pair carried to the next column is one unit. The weights are
#: the relative costs measured on the numpy network (about 0.15 microseconds a unit).
_NODE_WORK = 1500
_FILLING_WORK = 2
_WORK_LIMIT = "The exact computation reached its work limit"


def _network_pvalue(
    rows: list[int],
    cols: list[int],
    lf: list[float],
    threshold: float,
    log_k: float,
    limits: _Limits,
) -> float:
    """Exact p-value by the network algorithm: the compiled kernel when a node fits in one
    integer (always, short of huge tables that no budget lets finish), else numpy when
    available, else pure Python."""
    if len(rows) > len(cols):
        rows, cols = cols, rows
    r = len(rows)
    n = sum(rows)
    if _use_kernel and (n + 1) ** r < 2**62:
        return _kernel_pvalue(rows, cols, lf, threshold, log_k, limits)
    if _np is not None and n > _PURE_PYTHON_MAX_N and (n + 1) ** r < 2**62:
        return _network_pvalue_numpy(rows, cols, lf, threshold, log_k, limits)
    return _network_pvalue_python(rows, cols, lf, threshold, log_k, limits)


#: Whether the compiled kernel runs the network (numba is a requirement; tests turn it off to
#: check the numpy and pure-Python networks, which give the same p-values).
_use_kernel = True


def _kernel_pvalue(
    rows: list[int],
    cols: list[int],
    lf: list[float],
    threshold: float,
    log_k: float,
    limits: _Limits,
) -> float:
    """:func:`analysis.stats._fisher_kernel.network_pvalue` under ``limits``: its work is
    added to theirs, and its stops raise :class:`_BudgetExceeded` as the other networks do."""
    from analysis.stats import _fisher_kernel as kernel  # numba's import costs 0.3 s: lazily

    left = None if limits.max_work is None else max(0, limits.max_work - limits.work)
    p, status, work = kernel.network_pvalue(
        rows, cols, lf, threshold, log_k, max_work=left, deadline=limits.deadline
    )
    limits.work += work
    if status == kernel.WORK:
        raise _BudgetExceeded(_WORK_LIMIT)
    if status == kernel.MEMORY:
        raise _BudgetExceeded(_TOO_LARGE)
    if p is None:
        raise _BudgetExceeded  # the deadline passed
    return p


def _bounded_compositions(caps: Sequence[int], total: int) -> float:
    """How many vectors ``0 <= x_i <= caps[i]`` sum to ``total`` (as a float; may be inf).

    The coefficient of ``t^total`` in ``prod_i (1 + t + ... + t^caps[i])``, one factor at a
    time with prefix sums.
    """
    if _np is not None:
        np = _np
        ways_arr = np.zeros(total + 1)
        ways_arr[0] = 1.0
        index = np.arange(total + 1)
        for cap in caps:
            prefix_arr = np.concatenate(([0.0], np.cumsum(ways_arr)))
            ways_arr = prefix_arr[index + 1] - prefix_arr[np.maximum(0, index - cap)]
        count = float(ways_arr[total])
        return count if math.isfinite(count) else math.inf  # nan: inf - inf on the way
    ways = [1.0] + [0.0] * total
    for cap in caps:
        prefix = [0.0, *itertools.accumulate(ways)]
        ways = [prefix[m + 1] - prefix[max(0, m - cap)] for m in range(total + 1)]
    return ways[total] if math.isfinite(ways[total]) else math.inf


def _partition_counts(n: int, max_parts: int) -> list[list[float]]:
    """``table[p][m]``: partitions of ``m <= n`` into at most ``p <= max_parts`` parts."""
    table = [[1.0] + [0.0] * n]
    for p in range(1, max_parts + 1):
        row = list(table[-1])
        for m in range(p, n + 1):
            row[m] += row[m - p]  # parts of size p: p(m, <= p) = p(m, <= p-1) + p(m-p, <= p)
        table.append(row)
    return table


#: Up to this many observations the estimate also caps its counts by partition numbers.
_PARTITION_CAP_MAX_N = 1000


def _exact_work_estimate(rows: list[int], cols: list[int]) -> float:
    """Estimated work units of the network algorithm on a table with these margins.

    ``rows`` is the shorter side (the node state), ``cols`` the columns filled one per stage,
    as :func:`_network_pvalue` orients them. For stage ``j`` (columns ``0..j-1``, largest
    first, already filled) it estimates

    * the partial tables carried to stage ``j``: the effective number of ways to fill the
      first ``j`` columns, ``exp(entropy)`` of their multivariate hypergeometric
      distribution in its normal approximation (``(2 pi e)^(d/2) sqrt(det Sigma)`` over the
      ``d = (r - 1) j`` free cells; the determinant has a closed form in the margins). For
      large counts few paths merge, and the bounds cut off only the improbable ones, so this
      is about the number of (node, partial probability) pairs the network holds;
    * the nodes of stage ``j``: the same for the remaining row totals (``r - 1`` free values);
    * the column fillings each node enumerates: the exact number of compositions of column
      ``j``'s total into ``r`` parts bounded by the typical remaining row totals.

    With at most :data:`_PARTITION_CAP_MAX_N` observations, nodes are also capped by the
    number of partitions of the remaining total into ``r`` parts and partial probabilities
    per node by the partitions of the filled total into ``r j`` parts (paths with the same
    multiset of cells merge), which keeps the estimate sane for sparse tables.

    Work units as :class:`_Limits` counts them. Validated against the counted work on tables
    from 2 x 2 to 6 x 6 and 2 x 10, n = 11 to 46,000 (``docs/statistics.md``): the estimate is
    at most about twice the actual work and often well above it (the bounds prune more than
    it assumes), so it is used only to skip computations that are clearly out of reach.
    """
    if len(rows) > len(cols):
        rows, cols = cols, rows
    cols = sorted(cols, reverse=True)
    r = len(rows)
    n = sum(rows)
    log_p = math.fsum(math.log(x / n) for x in rows)
    log_scale = math.log(2 * math.pi * math.e * n * n / (n - 1))
    partitions = _partition_counts(n, r * (len(cols) - 1)) if n <= _PARTITION_CAP_MAX_N else None
    total = 0.0
    filled = 0
    for j in range(len(cols) - 1):
        if j == 0:
            log_paths = log_nodes = 0.0
        else:
            share = filled / n
            log_q = math.fsum(math.log(c / n) for c in cols[:j]) + math.log1p(-share)
            log_paths = max(0.0, 0.5 * ((r - 1) * j * log_scale + j * log_p + (r - 1) * log_q))
            log_nodes = 0.5 * ((r - 1) * (log_scale + math.log(share) + math.log1p(-share)) + log_p)
            log_nodes = min(max(0.0, log_nodes), log_paths)
            if partitions is not None:
                node_cap = math.log(max(1.0, partitions[r][n - filled]))
                past_cap = math.log(max(1.0, partitions[min(r * j, n)][filled]))
                log_nodes = min(log_nodes, node_cap)
                log_paths = min(log_paths, log_nodes + past_cap)
        caps = [round(x * (n - filled) / n) for x in rows]
        fillings = _bounded_compositions(caps, cols[j])
        nodes = math.exp(min(log_nodes, 700.0))  # beyond e^700 the answer is the same
        total += nodes * (_NODE_WORK + _FILLING_WORK * fillings)
        if j:
            total += math.exp(min(log_paths, 700.0))
        filled += cols[j]
    return total


def _compositions(state: tuple[int, ...], total: int) -> ndarray:
    """Every way to take ``total`` from rows with ``state`` left: an (E, r) integer array."""
    np = _np
    after = [sum(state[i + 1 :]) for i in range(len(state))]
    rem = np.array([total], dtype=np.int64)
    columns: list[ndarray] = []
    for i, cap in enumerate(state):
        low = np.maximum(0, rem - after[i])
        high = np.minimum(cap, rem)
        count = high - low + 1
        size = int(count.sum())
        if size > _MAX_EDGES_PER_NODE:
            raise _BudgetExceeded(_TOO_LARGE)
        parent = np.repeat(np.arange(len(rem)), count)
        offset = np.arange(size) - np.repeat(np.cumsum(count) - count, count)
        x = low[parent] + offset
        columns = [c[parent] for c in columns]
        columns.append(x)
        rem = rem[parent] - x
    return np.stack(columns, axis=1)


class _BatchBounds:
    """The bounds of :meth:`_Network.bounds` for many states at once, with numpy.

    Same quantities and relaxations. One difference: in the relaxation that prices the rows,
    the few units left after the proportional allocation are all charged the cheapest next
    unit's cost instead of being placed one by one, which can only lower the bound on the
    minimum, so it stays valid.
    """

    def __init__(self, cols: list[int], lf: list[float]) -> None:
        np = _np
        self.cols = cols
        self.lf = lf
        self.lf_arr = np.array(lf)
        k = len(cols)
        self.suffix_total = [sum(cols[j:]) for j in range(k + 1)]
        self.suffix_lf = [math.fsum(lf[c] for c in cols[j:]) for j in range(k + 1)]
        self.row_tables: dict[int, tuple[float, ndarray]] = {}

    def _row_table(self, stage: int) -> tuple[float, ndarray]:
        """For each row total a: the exact row subproblem of the column-priced relaxation."""
        cached = self.row_tables.get(stage)
        if cached is None:
            rest = self.cols[stage:]
            log_rest = [math.log(c) for c in rest]
            total = self.suffix_total[stage]
            const = math.fsum(lb * c for lb, c in zip(log_rest, rest, strict=True))
            table = _np.array(
                [
                    _dual_min_bound([a], rest, log_rest, total, self.lf) - const
                    for a in range(total + 1)
                ]
            )
            cached = (const, table)
            self.row_tables[stage] = cached
        return cached

    def bounds(self, stage: int, states: ndarray) -> ndarray:
        """(hi, lo, total) for each row of ``states`` (an (U, r) array, rows sorted)."""
        np = _np
        lf = self.lf_arr
        m = np.asarray(states, dtype=np.int64)
        rest = self.cols[stage:]
        if len(rest) == 1:
            w = -lf[m].sum(axis=1)
            return np.stack((w, w, w), axis=1)
        total_n = self.suffix_total[stage]
        total = self.lf[total_n] - lf[m].sum(axis=1) - self.suffix_lf[stage]
        # lower bounds on min sum log x!: columns priced (exact table) and rows priced
        const, table = self._row_table(stage)
        lower1 = const + table[m].sum(axis=1)
        log_m = np.log(np.maximum(m, 1))
        lower2 = (m * log_m).sum(axis=1)
        for b in rest:
            xs = (b * m) // total_n
            left = b - xs.sum(axis=1)
            part = (lf[xs] - log_m * xs).sum(axis=1)
            with np.errstate(divide="ignore"):
                step = np.where(xs < m, np.log((xs + 1) / np.maximum(m, 1)), np.inf).min(axis=1)
            lower2 += part + np.where(left > 0, left * np.where(left > 0, step, 0.0), 0.0)
        hi = np.minimum(total, -np.maximum(lower1, lower2))
        # upper bounds on max sum log x!: each row alone, or each column alone, greedily
        caps = sorted(rest, reverse=True)
        upper1 = np.zeros(len(m))
        before = 0
        for cap in caps:
            upper1 += lf[np.clip(m - before, 0, cap)].sum(axis=1)
            before += cap
        before_rows = np.cumsum(m, axis=1) - m
        upper2 = np.zeros(len(m))
        for b in rest:
            upper2 += lf[np.clip(b - before_rows, 0, m)].sum(axis=1)
        lo = -np.minimum(upper1, upper2)
        return np.stack((hi, lo, total), axis=1)


def _network_pvalue_numpy(
    rows: list[int],
    cols: list[int],
    lf: list[float],
    threshold: float,
    log_k: float,
    limits: _Limits,
) -> float:
    """The network algorithm of :func:`_network_pvalue_python`, one node at a time in numpy.

    Same nodes, bounds and merging; a node's column fillings, its children's bounds and the
    classification of its (partial probability, filling) pairs are computed as arrays, and
    the pairs that need a further column are merged per child at the end of each stage.
    """
    np = _np
    if len(rows) > len(cols):
        rows, cols = cols, rows
    cols = sorted(cols, reverse=True)
    root = tuple(sorted(rows, reverse=True))
    hi, _lo, _total = _Network(cols, lf).bounds(0, root)
    if hi <= threshold:
        return 1.0
    shift = max(log_k + threshold, -700.0)
    net = _NumpyNetwork(rows, cols, lf, threshold, base=log_k - shift)
    accumulated: list[float] = []
    nodes = [(root, np.zeros(1), np.ones(1))]
    for stage in range(len(cols) - 1):
        level = _NumpyStage(net, stage)
        for state, values, mults in nodes:
            accumulated.append(level.expand(state, values, mults, limits))
        if not level.out_ids:
            break
        limits.check_time()
        nodes = level.next_nodes()
    return math.fsum(accumulated) * math.exp(shift)


class _NumpyNetwork:
    """What every stage of :func:`_network_pvalue_numpy` reads: the columns (largest first),
    the batch bounds, the log factorials as an array, the encoding of a state as one integer
    (digits of base ``radix``, weights ``powers``), the threshold and the log scale ``base``
    of the probability mass (``log_k`` less the shift that keeps it in range)."""

    def __init__(
        self, rows: list[int], cols: list[int], lf: list[float], threshold: float, base: float
    ) -> None:
        np = _np
        self.cols = cols
        self.batch = _BatchBounds(cols, lf)
        self.radix = sum(rows) + 1
        self.powers = np.array([self.radix**i for i in range(len(rows))], dtype=np.int64)
        self.lf_arr = np.array(lf)
        self.threshold = threshold
        self.base = base


class _NumpyStage:
    """One stage (column) of :func:`_network_pvalue_numpy`: the children met so far, with
    their bounds and numbers, and the (child, partial probability, multiplicity) triples
    carried to the next column."""

    def __init__(self, net: _NumpyNetwork, stage: int) -> None:
        np = _np
        self.net = net
        self.stage = stage
        self.col_total = net.cols[stage]
        self.known_codes = np.zeros(0, dtype=np.int64)  # children seen at this stage, sorted
        self.known_bounds = np.zeros((0, 3))  # their (hi, lo, total)
        self.known_ids = np.zeros(0, dtype=np.int64)  # their numbers, in order of discovery
        self.id_codes: list[ndarray] = []  # number -> code
        self.out_ids: list[ndarray] = []
        self.out_values: list[ndarray] = []
        self.out_mults: list[ndarray] = []
        self.stored = 0

    def expand(
        self, state: tuple[int, ...], values: ndarray, mults: ndarray, limits: _Limits
    ) -> float:
        """Expand one node (its partial log probabilities ``values``, sorted, each with its
        multiplicity): return the probability mass of the completions that all count, and
        carry the pairs that need a further column."""
        np = _np
        net = self.net
        fillings = _compositions(state, self.col_total)
        weights = -net.lf_arr[fillings].sum(axis=1)
        children = np.sort(np.array(state, dtype=np.int64) - fillings, axis=1)[:, ::-1]
        codes = children @ net.powers
        unique_codes, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        where = self._where(unique_codes, children, first)
        inverse = inverse.reshape(-1)
        per_edge = self.known_bounds[where][inverse]
        c_hi, c_lo, c_total = per_edge[:, 0], per_edge[:, 1], per_edge[:, 2]
        top = values[-1]
        prefix = np.concatenate(([0.0], np.cumsum(mults * np.exp(values - top))))
        cut_all = np.searchsorted(values, net.threshold - weights - c_hi, side="right")
        mass = prefix[cut_all] * np.exp(net.base + top + weights + c_total)
        total = float(mass.sum())
        cut_none = np.searchsorted(values, net.threshold - weights - c_lo, side="right")
        band = cut_none - cut_all
        chosen = np.nonzero(band > 0)[0]
        if chosen.size:
            edge_ids = self.known_ids[where][inverse]
            self._carry(chosen, band[chosen], cut_all, edge_ids, values, weights, mults)
        limits.node(len(fillings), int(band[chosen].sum()) if chosen.size else 0)
        return total

    def _where(self, unique_codes: ndarray, children: ndarray, first: ndarray) -> ndarray:
        """The positions of the children ``unique_codes`` among the known ones: known ones by
        binary search, new ones given their bounds and numbers first."""
        np = _np
        where = np.searchsorted(self.known_codes, unique_codes)
        known = where < len(self.known_codes)
        known[known] = self.known_codes[where[known]] == unique_codes[known]
        if not known.all():
            missing = np.nonzero(~known)[0]
            new_bounds = self.net.batch.bounds(self.stage + 1, children[first[missing]])
            new_ids = np.arange(len(self.known_codes), len(self.known_codes) + len(missing))
            self.id_codes.append(unique_codes[missing])
            merged_codes = np.concatenate((self.known_codes, unique_codes[missing]))
            merged_bounds = np.concatenate((self.known_bounds, new_bounds))
            merged_ids = np.concatenate((self.known_ids, new_ids))
            order = np.argsort(merged_codes, kind="stable")
            self.known_codes, self.known_bounds = merged_codes[order], merged_bounds[order]
            self.known_ids = merged_ids[order]
            where = np.searchsorted(self.known_codes, unique_codes)
        return where

    def _carry(
        self,
        chosen: ndarray,
        lengths: ndarray,
        cut_all: ndarray,
        edge_ids: ndarray,
        values: ndarray,
        weights: ndarray,
        mults: ndarray,
    ) -> None:
        """Keep, for the next column, the pairs of the ``chosen`` fillings that are neither
        all counted nor all left out (``lengths`` of them each, from ``cut_all``)."""
        np = _np
        size = int(lengths.sum())
        self.stored += size
        if self.stored > _MAX_PASTS_PER_STAGE:
            raise _BudgetExceeded(_TOO_LARGE)
        edge = np.repeat(chosen, lengths)
        past = cut_all[edge] + (np.arange(size) - np.repeat(np.cumsum(lengths) - lengths, lengths))
        self.out_ids.append(edge_ids[edge])
        self.out_values.append(values[past] + weights[edge])
        self.out_mults.append(mults[past])

    def next_nodes(self) -> list[tuple[tuple[int, ...], ndarray, ndarray]]:
        """The next stage's nodes: the carried pairs with equal partial probabilities (to
        1e-9) merged per child, sorted by child then value."""
        np = _np
        powers, radix = self.net.powers, self.net.radix
        ids = np.concatenate(self.out_ids)
        values = np.concatenate(self.out_values)
        mults = np.concatenate(self.out_mults)
        keys = np.rint(values * 1e9).astype(np.int64)
        keys -= keys.min()
        value_bits = int(keys.max()).bit_length()
        if value_bits + len(self.known_codes).bit_length() <= 62:
            keys |= ids << value_bits  # one integer key sorts faster than two
            order = np.argsort(keys)
        else:
            order = np.lexsort((keys, ids))
        ids, values, mults, keys = ids[order], values[order], mults[order], keys[order]
        new_pair = np.ones(len(ids), dtype=bool)
        new_pair[1:] = (ids[1:] != ids[:-1]) | (keys[1:] != keys[:-1])
        starts = np.nonzero(new_pair)[0]
        mults = np.add.reduceat(mults, starts)
        values = values[starts]
        ids = ids[starts]
        new_node = np.ones(len(ids), dtype=bool)
        new_node[1:] = ids[1:] != ids[:-1]
        node_starts = np.nonzero(new_node)[0]
        codes = np.concatenate(self.id_codes)[ids[node_starts]]
        states = (codes[:, None] // powers[None, :]) % radix
        return list(
            zip(
                map(tuple, states.tolist()),
                np.split(values, node_starts[1:]),
                np.split(mults, node_starts[1:]),
                strict=True,
            )
        )


def _hypergeometric(rng: random.Random, total: int, good: int, draws: int, lf: list[float]) -> int:
    """One draw of the number of ``good`` items among ``draws`` taken from ``total``.

    Inversion that starts at the mode and walks outwards, alternating sides, so the expected
    number of steps is of the order of the standard deviation.
    """
    bad = total - good
    low = max(0, draws - bad)
    high = min(draws, good)
    if low == high:
        return low
    mode = (draws + 1) * (good + 1) // (total + 2)
    mode = min(max(mode, low), high)
    p_mode = math.exp(
        lf[good]
        - lf[mode]
        - lf[good - mode]
        + lf[bad]
        - lf[draws - mode]
        - lf[bad - draws + mode]
        - lf[total]
        + lf[draws]
        + lf[total - draws]
    )
    u = rng.random() - p_mode
    if u <= 0:
        return mode
    up = down = mode
    p_up = p_down = p_mode
    while True:
        moved = False
        if up < high:
            p_up *= (good - up) * (draws - up) / ((up + 1) * (bad - draws + up + 1))
            up += 1
            u -= p_up
            if u <= 0:
                return up
            moved = True
        if down > low:
            p_down *= down * (bad - draws + down) / ((good - down + 1) * (draws - down + 1))
            down -= 1
            u -= p_down
            if u <= 0:
                return down
            moved = True
        if not moved:  # rounding left a sliver of probability: give it to the mode
            return mode


def _monte_carlo_hits(
    rows: list[int], cols: list[int], lf: list[float], threshold: float, samples: int, seed: int
) -> int:
    """How many of ``samples`` random tables with these margins have log-weight ``<= threshold``.

    Cells are drawn one at a time from their hypergeometric distribution given the cells
    already drawn, which gives tables with exactly the null (multivariate hypergeometric)
    distribution. With numpy, all samples are drawn together (``numpy.random.default_rng(
    seed)``); without it, one at a time with ``random.Random(seed)``. Either way the result
    depends only on the seed.
    """
    if _np is None:
        rng = random.Random(seed)
        return sum(
            _random_table_log_weight(rng, rows, cols, lf) <= threshold for _ in range(samples)
        )
    np = _np
    gen = np.random.default_rng(seed)
    lf_arr = np.array(lf)
    col_left = np.tile(np.array(cols, dtype=np.int64), (samples, 1))
    remaining = sum(rows)
    weight = np.zeros(samples)
    last = len(cols) - 1
    for i in range(len(rows) - 1):
        row_left = np.full(samples, rows[i], dtype=np.int64)
        block = np.full(samples, remaining, dtype=np.int64)
        for j in range(last):
            cj = col_left[:, j].copy()
            x = gen.hypergeometric(cj, block - cj, row_left)
            weight -= lf_arr[x]
            col_left[:, j] = cj - x
            row_left -= x
            block -= cj
        weight -= lf_arr[row_left]
        col_left[:, last] -= row_left
        remaining -= rows[i]
    weight -= lf_arr[col_left].sum(axis=1)
    return int(np.count_nonzero(weight <= threshold))


def _random_table_log_weight(
    rng: random.Random, rows: list[int], cols: list[int], lf: list[float]
) -> float:
    """Log-weight ``-sum(log x!)`` of a random table with the given margins.

    Cells are drawn one at a time from their conditional hypergeometric distribution given
    the cells already drawn, which yields tables with exactly the multivariate
    hypergeometric distribution of the null hypothesis.
    """
    col_left = list(cols)
    remaining = sum(rows)
    weight = 0.0
    last = len(cols) - 1
    for i in range(len(rows) - 1):
        row_left = rows[i]
        block = remaining  # total of the rows i.. over the columns j..
        for j in range(last):
            cj = col_left[j]
            x = _hypergeometric(rng, block, cj, row_left, lf) if row_left else 0
            weight -= lf[x]
            col_left[j] = cj - x
            row_left -= x
            block -= cj
        weight -= lf[row_left]
        col_left[last] -= row_left
        remaining -= rows[i]
    for c in col_left:
        weight -= lf[c]
    return weight
