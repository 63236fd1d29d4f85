"""Wilcoxon rank-sum / Mann-Whitney test (R's ``wilcox.test(x, y)``), with the two-sample
Hodges-Lehmann shift and its confidence interval (R's ``conf.int = TRUE``)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from analysis.stats.distributions import normal_quantile, normal_two_sided_p
from analysis.stats.helpers import _midranks, _present
from analysis.stats.signed_ranks import R_TOL_ROOT, _median_sorted
from analysis.stats.zeroin import uniroot

_EPSILON = 2.220446049250313e-16  # R's DBL_EPSILON


@dataclass(frozen=True)
class RankSumResult:
    """Result of :func:`rank_sum`.

    * ``statistic``: R's ``W``, the rank sum of ``x`` minus ``n_x (n_x + 1) / 2``.
    * ``pvalue``: two-sided p-value; ``None`` when undefined (R gives ``NaN``), see ``note``.
    * ``method``: ``"exact"``, ``"normal approximation with continuity correction"`` or
      ``"normal approximation"``.
    * ``n_x``, ``n_y``: the non-missing sample sizes.
    * ``note``: empty, or why the exact p-value was not used, or why there is no p-value or
      no interval, or that the requested confidence level was not achievable.
    * ``estimate``: R's "difference in location" of ``x`` minus ``y`` (the Hodges-Lehmann
      shift: the median of the differences ``x_i - y_j`` in the exact branch, the root of the
      standardized statistic in the normal branch); ``None`` when R cannot compute it.
    * ``conf_int``: ``(low, high)``, the two-sided interval for the shift; ``None`` when R
      cannot compute it.
    * ``conf_level``: the level the interval has: as asked, or what R reports when that was
      not achievable (exact branch, see ``note``); ``None`` when there is no interval.
    """

    statistic: float
    pvalue: float | None
    method: str
    n_x: int
    n_y: int
    note: str = ""
    estimate: float | None = None
    conf_int: tuple[float, float] | None = None
    conf_level: float | None = None


def _wilcox_counts(m: int, n: int) -> list[int]:
    """Frequencies of W = 0 .. m*n for samples of m and n without ties (R's ``cwilcox``).

    The coefficients of the Gaussian binomial ``[m + n choose m]_q``, built as
    ``prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)`` in exact integer arithmetic.
    """
    if m > n:
        m, n = n, m
    poly = [1]
    for i in range(1, m + 1):
        grown = poly + [0] * (n + i)
        for t in range(len(grown) - 1, n + i - 1, -1):  # times (1 - q^(n+i))
            grown[t] -= grown[t - n - i]
        for t in range(i, len(grown)):  # divided by (1 - q^i)
            grown[t] += grown[t - i]
        poly = grown[: i * n + 1]
    return poly


@lru_cache(maxsize=64)
def _wilcox_probabilities(m: int, n: int) -> tuple[float, ...]:
    """Each frequency of :func:`_wilcox_counts` divided by ``choose(m + n, n)`` in doubles:
    the terms R's ``pwilcox`` and ``qwilcox`` add up."""
    total = float(math.comb(m + n, n))
    return tuple(float(c) / total for c in _wilcox_counts(m, n))


def _pwilcox_two_sided(w: int, m: int, n: int) -> float:
    freqs = _wilcox_counts(m, n)
    total = math.comb(m + n, m)
    if w > m * n / 2:
        tail = sum(freqs[w:])  # P(W >= w) = pwilcox(w - 1, lower.tail = FALSE)
    else:
        tail = sum(freqs[: w + 1])  # P(W <= w)
    return float(min(Fraction(2 * tail, total), Fraction(1)))


def _pwilcox(q: int, m: int, n: int) -> float:
    """R's ``pwilcox(q, m, n)`` (lower tail), summed in doubles from the nearer end as R
    sums it."""
    top = m * n
    if q < 0:
        return 0.0
    if q >= top:
        return 1.0
    probs = _wilcox_probabilities(m, n)
    p = 0.0
    if q <= top / 2:
        for i in range(q + 1):
            p += probs[i]
        return p
    for i in range(top - q):
        p += probs[i]
    return 0.5 - p + 0.5


def _qwilcox(prob: float, m: int, n: int) -> int:
    """R's ``qwilcox(prob, m, n)`` (lower tail): the smallest ``q`` with ``P(W <= q) >=
    prob``, by R's double sums with its allowance of 10 machine epsilons."""
    if prob <= 0.0:
        return 0
    if prob >= 1.0:
        return m * n
    probs = _wilcox_probabilities(m, n)
    p = 0.0
    q = 0
    if prob <= 0.5:
        target = prob - 10 * _EPSILON
        while True:
            p += probs[q]
            if p >= target:
                return q
            q += 1
    target = 1 - prob + 10 * _EPSILON
    while True:
        p += probs[q]
        if p > target:
            return m * n - q
        q += 1


def _shift_statistic(xs: list[float], ys: list[float], correct: bool) -> Callable[[float], float]:
    """R's ``W(d)`` inside the two-sample ``wilcox.test``: the rank-sum statistic of ``x - d``
    against ``y``, centred (``W - n_x n_y / 2``), continuity-corrected when ``correct``
    (``sign * 0.5``) and divided by its tie-corrected standard deviation; NaN when every
    shifted value is tied (R: ``0 / 0``).

    The rank sum of ``x - d`` minus ``n_x (n_x + 1) / 2`` is counted as the pairs with
    ``x_i - d > y_j`` plus half those with ``x_i - d == y_j`` (the same number R's average
    ranks give), and the tie groups of the pooled values from the counts of each distinct
    value, so one evaluation costs ``n log n`` without ranking the pooled sample again.
    """
    nx, ny = len(xs), len(ys)
    n = nx + ny
    y_counts = Counter(ys)
    y_values = sorted(y_counts)
    below = [0]  # below[k]: how many y are smaller than y_values[k]
    for v in y_values:
        below.append(below[-1] + y_counts[v])
    y_ties = sum(t**3 - t for t in y_counts.values())
    scale = nx * ny / 12
    pairs = nx * ny / 2

    def w(d: float) -> float:
        twice_count = 0  # 2 * (#(x_i - d > y_j) + #(x_i - d == y_j) / 2)
        ties = y_ties
        for v, cx in Counter([a - d for a in xs]).items():
            k = bisect_left(y_values, v)
            cy = y_counts.get(v, 0)
            twice_count += 2 * cx * below[k] + cx * cy
            if cx > 1 or cy:
                t = cx + cy
                ties += t**3 - t - (cy**3 - cy)
        dz = twice_count / 2 - pairs
        correction = math.copysign(0.5, dz) if (correct and dz != 0) else 0.0
        sigma = math.sqrt(scale * ((n + 1) - ties / (n * (n - 1))))
        if sigma == 0:
            return math.nan
        return (dz - correction) / sigma

    return w


def _exact_interval(
    xs: list[float], ys: list[float], conf_level: float
) -> tuple[float, tuple[float, float], float, str]:
    """R's exact two-sample interval: from the ``n_x n_y`` sorted differences ``x_i - y_j``,
    the ``qu``-th and the ``(n_x n_y - qu + 1)``-th, ``qu = qwilcox(alpha / 2)`` (at least 1);
    the estimate is their median. Returns the estimate, the interval, its level and a note."""
    nx, ny = len(xs), len(ys)
    alpha = 1.0 - conf_level
    diffs = sorted(a - b for a in xs for b in ys)
    qu = _qwilcox(alpha / 2, nx, ny) or 1
    ql = nx * ny - qu
    achieved = 2 * _pwilcox(qu - 1, nx, ny)
    level, note = conf_level, ""
    if achieved - alpha > alpha / 2:
        level = 1 - achieved
        note = (
            f"Requested confidence level not achievable with {nx} and {ny} value(s): the "
            f"interval's level is {level:.4g} (R warns: Requested conf.level not achievable)."
        )
    return _median_sorted(diffs), (diffs[qu - 1], diffs[ql]), level, note


def _normal_interval(
    xs: list[float], ys: list[float], conf_level: float, correct: bool
) -> tuple[float, tuple[float, float]] | str:
    """R's interval and estimate in the normal branch, by ``uniroot`` on :func:`_shift_statistic`
    between ``min(x) - max(y)`` and ``max(x) - min(y)``; where R stops with an error instead
    (every value tied at an end of that range), why, in words."""
    alpha = 1.0 - conf_level
    mumin = min(xs) - max(ys)
    mumax = max(xs) - min(ys)
    w = _shift_statistic(xs, ys, correct)
    w_min, w_max = w(mumin), w(mumax)

    def root(zq: float) -> float | None:
        f_lower = w_min - zq
        if math.isnan(f_lower):
            return None  # R: "missing value where TRUE/FALSE needed"
        if f_lower <= 0:
            return mumin
        f_upper = w_max - zq
        if math.isnan(f_upper):
            return None
        if f_upper >= 0:
            return mumax
        return uniroot(
            lambda d: w(d) - zq,
            mumin,
            mumax,
            f_lower=f_lower,
            f_upper=f_upper,
            tol=R_TOL_ROOT,
        ).root

    low = root(normal_quantile(alpha / 2, lower=False))
    high = root(normal_quantile(alpha / 2))
    if low is None or high is None:
        return (
            "Each sample holds only one distinct value, so every shifted value is tied: no "
            "estimate or interval (R stops: missing value where TRUE/FALSE needed)."
        )
    try:
        estimate = uniroot(_shift_statistic(xs, ys, False), mumin, mumax, tol=R_TOL_ROOT).root
    except ValueError as error:  # R's uniroot stops as well
        return f"No estimate or interval: the root finding stops ({error}), as R's does."
    return estimate, (low, high)


def rank_sum(
    x: Iterable[float | None],
    y: Iterable[float | None],
    *,
    correct: bool = True,
    exact: bool | None = None,
    conf_level: float = 0.95,
    shift: bool = True,
) -> RankSumResult:
    """Two-sided Wilcoxon rank-sum (Mann-Whitney) test with the Hodges-Lehmann shift: R's
    ``wilcox.test(x, y, conf.int = TRUE, conf.level = conf_level, correct = correct,
    exact = exact)``.

    ``None``/NaN values are left out (R drops ``NA``). Ranks are R's ``rank`` (ties get the
    average rank) of the pooled sample, and ``W = sum(ranks of x) - n_x (n_x + 1) / 2``.

    **Exact branch** when ``exact`` is true, or when it is ``None`` and both samples have
    fewer than 50 values, provided there are no ties (R's rule): with the exact null
    distribution of W (R's ``pwilcox``), ``p = min(1, 2 * P(W <= w))`` if
    ``w <= n_x n_y / 2``, else ``min(1, 2 * P(W >= w))``. The interval is R's: of the
    ``n_x n_y`` sorted differences ``x_i - y_j``, the ``qu``-th and the
    ``(n_x n_y - qu + 1)``-th, where ``qu = qwilcox(alpha / 2, n_x, n_y)`` (at least 1) and
    ``alpha = 1 - conf_level``; the estimate is the median of the differences. When the
    achieved ``alpha`` (``2 pwilcox(qu - 1)``) exceeds the one asked for by more than half of
    it (tiny samples, e.g. 2 and 3 values at 95%), R warns "Requested conf.level not
    achievable" and reports ``1 - achieved alpha`` as the level: ``conf_level`` and ``note``
    say the same. The cost grows like ``min(n_x, n_y)^2 * max(n_x, n_y)`` (and ``n_x n_y``
    differences are sorted), which R's rule keeps small; forcing ``exact=True`` on samples of
    thousands is slow, as in R.

    **Normal approximation** otherwise, exactly R's formula: ``z = W - n_x n_y / 2``,
    ``sigma = sqrt(n_x n_y / 12 * ((n_x + n_y + 1) - sum(t^3 - t) / ((n_x + n_y)(n_x + n_y
    - 1))))`` over tie groups of size t, with continuity correction ``sign(z) * 0.5`` when
    ``correct`` (default), ``p = 2 * min(pnorm(z'), 1 - pnorm(z'))`` with
    ``z' = (z - correction) / sigma``. When exact was asked for or would have applied but the
    data have ties, ``note`` says so (R warns "cannot compute exact p-value with ties" and
    "cannot compute exact confidence intervals with ties"). The interval and estimate are
    found as R finds them: with ``W(d)``, the same standardized statistic (ties and the
    continuity correction as asked) of ``x - d`` against ``y``, the lower limit solves
    ``W(d) = z_{1 - alpha/2}`` and the upper ``W(d) = z_{alpha/2}`` by ``uniroot`` with
    ``tol = 1e-4`` between ``min(x) - max(y)`` and ``max(x) - min(y)`` (an end of that range
    is the limit when ``W`` there is already past the quantile), and the estimate solves
    ``W(d) = 0`` without continuity correction. The level is the one asked for. ``uniroot``'s
    answer depends on its iterations, so they are R's own
    (:func:`analysis.stats.zeroin.uniroot`).

    Degenerate cases: an empty sample (after dropping missing values) raises ``ValueError``,
    as R stops with "not enough (non-missing) 'x' observations" (or 'y'). When every value is
    the same, sigma is 0 and R's p-value is ``NaN``: here ``pvalue`` is ``None`` with a note;
    the statistic is still W = n_x n_y / 2, as in R. When each sample is constant but they
    differ, and there are ties (so the normal branch), the p-value is computed but R stops on
    the interval ("missing value where TRUE/FALSE needed", every shifted value being tied):
    ``estimate``, ``conf_int`` and ``conf_level`` are ``None`` with a note. One value in each
    sample (different) is exact: p = 1, the interval is the one difference at level 0.

    ``conf_level`` must be strictly between 0 and 1 (``ValueError`` otherwise, as R).
    ``shift=False`` leaves the estimate and interval out (``None``; R's ``conf.int = FALSE``):
    the p-value alone, for callers that test many tables of thousands of answers.
    """
    if not 0.0 < conf_level < 1.0:
        raise ValueError("'conf.level' must be a single number between 0 and 1")
    xs = [float(v) for v in _present(x)]
    ys = [float(v) for v in _present(y)]
    if not xs:
        raise ValueError("not enough (non-missing) 'x' observations")
    if not ys:
        raise ValueError("not enough (non-missing) 'y' observations")
    nx, ny = len(xs), len(ys)
    ranks, ties = _midranks(xs + ys)
    statistic = math.fsum(ranks[:nx]) - nx * (nx + 1) / 2
    use_exact = (nx < 50 and ny < 50) if exact is None else exact
    if use_exact and not ties:
        pvalue = _pwilcox_two_sided(round(statistic), nx, ny)
        if not shift:
            return RankSumResult(statistic, pvalue, "exact", nx, ny)
        estimate, conf_int, level, note = _exact_interval(xs, ys, conf_level)
        return RankSumResult(statistic, pvalue, "exact", nx, ny, note, estimate, conf_int, level)
    notes: list[str] = []
    if use_exact:
        notes.append(
            "Ties in the data: the exact p-value and interval cannot be computed (R warns: "
            "cannot compute exact p-value with ties)."
            if shift
            else "Ties in the data: the exact p-value cannot be computed."
        )
    n = nx + ny
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = nx * ny / 12 * ((n + 1) - tie_term)
    method = (
        "normal approximation with continuity correction" if correct else ("normal approximation")
    )
    if variance <= 0:
        notes.append(
            "All values are identical, so the rank statistic has no variance and the "
            "p-value, estimate and interval are undefined (R reports a NaN p-value, and with "
            "conf.int = TRUE R stops: missing value where TRUE/FALSE needed)."
            if shift
            else "All values are identical, so the rank statistic has no variance and the "
            "p-value is undefined (R reports NaN)."
        )
        return RankSumResult(statistic, None, method, nx, ny, " ".join(notes))
    z = statistic - nx * ny / 2
    correction = math.copysign(0.5, z) if (correct and z != 0) else 0.0
    z = (z - correction) / math.sqrt(variance)
    pvalue = normal_two_sided_p(z)
    if not shift:
        return RankSumResult(statistic, pvalue, method, nx, ny, " ".join(notes))
    found = _normal_interval(xs, ys, conf_level, correct)
    if isinstance(found, str):
        notes.append(found)
        return RankSumResult(statistic, pvalue, method, nx, ny, " ".join(notes))
    estimate, conf_int = found
    return RankSumResult(
        statistic, pvalue, method, nx, ny, " ".join(notes), estimate, conf_int, conf_level
    )
