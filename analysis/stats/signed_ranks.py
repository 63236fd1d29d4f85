"""Wilcoxon signed-rank test for paired samples, with the Hodges-Lehmann estimate and its
confidence interval (R's ``wilcox.test(x, y, paired = TRUE, conf.int = TRUE)``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from analysis.stats.distributions import normal_cdf, normal_quantile
from analysis.stats.helpers import _midranks, _paired_present
from analysis.stats.zeroin import uniroot

#: ``wilcox.test``'s ``tol.root``: the tolerance of its ``uniroot`` calls.
R_TOL_ROOT = 1e-4
_LN2 = math.log(2.0)  # R's M_LN2 as a double


@dataclass(frozen=True)
class SignedRankResult:
    """Result of :func:`signed_rank`.

    * ``statistic``: R's ``V``, the sum of the ranks of ``|x - y|`` over the positive
      differences (zero differences left out).
    * ``pvalue``: two-sided; ``None`` when undefined (R gives ``NA``/``NaN``), see ``note``.
    * ``estimate``: R's ``(pseudo)median`` of the differences (the Hodges-Lehmann estimate: the
      median of the Walsh averages in the exact branch, the root of the standardized statistic
      in the normal branch), or R's ``midrange`` when every non-zero difference is the same;
      ``None`` when every difference is zero.
    * ``conf_int``: ``(low, high)``, or ``None`` when R reports ``NaN`` limits.
    * ``conf_level``: the level the interval has: ``conf_level`` as asked, or what R reports
      when that was not achievable (see ``note``), 0 when there is no interval.
    * ``method``: ``"exact"``, ``"normal approximation with continuity correction"`` or
      ``"normal approximation"``.
    * ``n``: the number of non-zero differences used; ``zeros``: zero differences left out.
    * ``note``: empty, or R's warnings in words, or why a value is ``None``.
    """

    statistic: float
    pvalue: float | None
    estimate: float | None
    conf_int: tuple[float, float] | None
    conf_level: float
    method: str
    n: int
    zeros: int
    note: str = ""


@lru_cache(maxsize=64)
def _signrank_counts(n: int) -> tuple[int, ...]:
    """How many subsets of ``{1, ..., n}`` have each sum ``0 .. n(n+1)/2``: the frequencies of
    the signed-rank statistic (R's ``csignrank``), exact integers."""
    top = n * (n + 1) // 2
    counts = [0] * (top + 1)
    counts[0] = 1
    reach = 0
    for rank in range(1, n + 1):
        reach += rank
        for total in range(reach, rank - 1, -1):
            counts[total] += counts[total - rank]
    return tuple(counts)


def _psignrank(q: float, n: int, *, lower: bool = True) -> float:
    """R's ``psignrank(q, n, lower.tail)``, summed in doubles the way R sums it (each
    frequency times ``exp(-n log 2)``, from the nearer end of the distribution)."""
    x = math.floor(q + 1e-7)
    top = n * (n + 1) / 2
    if x < 0:
        return 0.0 if lower else 1.0
    if x >= top:
        return 1.0 if lower else 0.0
    counts = _signrank_counts(n)
    f = math.exp(-n * _LN2)
    p = 0.0
    if x <= n * (n + 1) / 4:
        for i in range(int(x) + 1):
            p += counts[i] * f
    else:
        for i in range(int(top - x)):
            p += counts[i] * f
        lower = not lower
    return p if lower else 0.5 - p + 0.5


def _qsignrank(prob: float, n: int) -> int:
    """R's ``qsignrank(prob, n)`` (lower tail): the smallest ``q`` with ``P(V <= q) >= prob``,
    found by R's double sums with its allowance of 10 machine epsilons."""
    if prob <= 0.0:
        return 0
    if prob >= 1.0:
        return n * (n + 1) // 2
    counts = _signrank_counts(n)
    f = math.exp(-n * _LN2)
    p = 0.0
    q = 0
    if prob <= 0.5:
        target = prob - 10 * 2.220446049250313e-16
        while True:
            p += counts[q] * f
            if p >= target:
                return q
            q += 1
    target = 1 - prob + 10 * 2.220446049250313e-16
    while True:
        p += counts[q] * f
        if p > target:
            return n * (n + 1) // 2 - q
        q += 1


def _median_sorted(values: list[float]) -> float:
    """R's ``median`` of already sorted values (the middle two averaged, correctly rounded)."""
    n = len(values)
    half = n // 2
    if n % 2:
        return values[half]
    return float((Fraction(values[half - 1]) + Fraction(values[half])) / 2)


def _signif2(x: float) -> float:
    """R's ``signif(x, 2)``: two significant digits, the exact binary value rounded half to
    even (as R's ``signif`` does for the dyadic values it gets here)."""
    return float(f"{x:.2g}")


def _tie_sum(ties: list[int]) -> int:
    return sum(t**3 - t for t in ties)


def _standardized(diffs: list[float], correct: bool) -> Callable[[float], float]:
    """R's ``W(d)`` inside ``wilcox.test``: the signed-rank statistic of ``diffs - d`` (zero
    differences dropped), centred, continuity-corrected when ``correct`` (``sign * 0.5``) and
    divided by its tie-corrected standard deviation."""

    def w(d: float) -> float:
        shifted = [v - d for v in diffs]
        shifted = [v for v in shifted if v != 0]
        nx = len(shifted)
        ranks, ties = _midranks([abs(v) for v in shifted])
        zd = math.fsum(r for r, v in zip(ranks, shifted, strict=True) if v > 0) - nx * (nx + 1) / 4
        sigma = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - _tie_sum(ties) / 48)
        correction = math.copysign(0.5, zd) if (correct and zd != 0) else 0.0
        if sigma == 0:
            return math.nan
        return (zd - correction) / sigma

    return w


def signed_rank(
    x: Iterable[float | None],
    y: Iterable[float | None],
    *,
    correct: bool = True,
    exact: bool | None = None,
    conf_level: float = 0.95,
) -> SignedRankResult:
    """Two-sided Wilcoxon signed-rank test of paired values: R's ``wilcox.test(x, y, paired =
    TRUE, conf.int = TRUE, conf.level = conf_level, correct = correct, exact = exact)``.

    Pairs with a missing value (``None``/NaN) on either side are dropped (R's
    ``complete.cases``). The differences ``d = x - y`` that are zero are left out (counted in
    ``zeros``); ``V`` is the sum of the ranks of ``|d|`` (ties averaged) over ``d > 0``.

    **Exact branch**: when ``exact`` is true, or ``None`` and fewer than 50 non-zero
    differences remain, provided there are no ties among ``|d|`` and no zero differences (R's
    rule). With the exact distribution of ``V`` (R's ``psignrank``),
    ``p = min(1, 2 P(V >= v))`` if ``v > n(n+1)/4``, else ``min(1, 2 P(V <= v))``. The
    interval is R's: from the ``n(n+1)/2`` sorted Walsh averages ``(d_i + d_j) / 2``,
    ``i <= j``, the ``qu``-th and the ``(n(n+1)/2 - qu + 1)``-th, where
    ``qu = qsignrank(alpha / 2, n)`` (at least 1); the estimate is their median. When the
    achieved level falls short (``2 psignrank(qu - 1, n) - alpha > alpha / 2``, e.g. with fewer
    than 6 pairs at 95%), R warns "requested conf.level not achievable" and reports
    ``1 - signif(achieved alpha, 2)`` as the level: ``conf_level`` and ``note`` say the same.
    The exact distribution costs ``n^3 / 4`` integer additions, so forcing ``exact=True`` on
    thousands of pairs is slow, as in R.

    **Normal approximation** otherwise: ``z = (V - n(n+1)/4 - c) / sigma`` with
    ``sigma^2 = n(n+1)(2n+1)/24 - sum(t^3 - t)/48`` over tie groups of size ``t`` and
    ``c = sign(V - n(n+1)/4) / 2`` when ``correct`` (0 otherwise); ``p = 2 min(Phi(z),
    1 - Phi(z))``. ``note`` carries R's warnings when the exact test was asked for or would
    have applied ("cannot compute exact p-value with ties" / "with zeroes"). The interval and
    estimate are found as R finds them, by root finding on ``W(mu)``, the same standardized
    statistic computed for ``d - mu``: R widens ``alpha`` (doubling it) until ``W`` at the
    smallest and largest difference brackets the normal quantiles, warns when the level it can
    achieve is below the one asked for (then ``conf_level`` is R's reduced level), and solves
    ``W(mu) = z_{1 - alpha/2}`` and ``W(mu) = z_{alpha/2}`` by ``uniroot`` with
    ``tol = 1e-4`` between those two differences (with the continuity correction as asked);
    the estimate is the root of ``W(mu) = 0`` without continuity correction. ``uniroot``'s
    answer depends on its iterations, not only on the data, so they are R's own
    (:func:`analysis.stats.zeroin.uniroot`, Brent's method as in R's C code), which gives R's
    numbers to the last few bits rather than only to ``1e-4``.

    Degenerate cases (R's outcome in brackets):

    * no complete pair: ``ValueError`` (R stops: "not enough (non-missing) 'x' observations");
      ``x`` and ``y`` of different lengths: ``ValueError`` (R stops as well);
    * every difference zero: ``V = 0``, ``pvalue``, ``estimate`` and ``conf_int`` ``None``
      with a note (``NaN``);
    * every non-zero difference the same: the p-value is computed, ``conf_int`` is ``None``
      (``NaN``) and ``estimate`` is the midrange of the differences, as in R;
    * a single pair: exact, p = 1, the interval is the one difference at level 0.
    """
    if not 0.0 < conf_level < 1.0:
        raise ValueError("'conf.level' must be a single number between 0 and 1")
    pairs = _paired_present(x, y)
    diffs_all = [a - b for a, b in pairs]
    diffs_all = [d for d in diffs_all if not math.isnan(d)]
    if not diffs_all:
        raise ValueError("not enough (non-missing) 'x' observations")
    diffs = [d for d in diffs_all if d != 0]
    zeros = len(diffs_all) - len(diffs)
    n = len(diffs)
    use_exact = (n < 50) if exact is None else exact
    ranks, ties = _midranks([abs(d) for d in diffs])
    statistic = math.fsum(r for r, d in zip(ranks, diffs, strict=True) if d > 0)
    alpha = 1.0 - conf_level
    notes: list[str] = []

    if use_exact and not ties and not zeros:
        if statistic > n * (n + 1) / 4:
            p = _psignrank(statistic - 1, n, lower=False)
        else:
            p = _psignrank(statistic, n)
        pvalue = min(2 * p, 1.0)
        walsh = sorted(d_i + d_j for i, d_i in enumerate(diffs) for d_j in diffs[i:])
        walsh = [w / 2 for w in walsh]
        qu = _qsignrank(alpha / 2, n) or 1
        ql = n * (n + 1) // 2 - qu
        achieved = 2 * _psignrank(qu - 1, n)
        level = conf_level
        if achieved - alpha > alpha / 2:
            level = 1 - _signif2(achieved)
            notes.append(
                f"Requested confidence level not achievable with {n} pair(s): the interval's "
                f"level is {level:g} (R warns: requested conf.level not achievable)."
            )
        return SignedRankResult(
            statistic,
            pvalue,
            _median_sorted(walsh),
            (walsh[qu - 1], walsh[ql]),
            level,
            "exact",
            n,
            zeros,
            " ".join(notes),
        )

    method = (
        "normal approximation with continuity correction" if correct else "normal approximation"
    )
    if use_exact and ties:
        notes.append(
            "Ties among the differences: the exact p-value and interval cannot be computed "
            "(R warns: cannot compute exact p-value with ties)."
        )
    if use_exact and zeros:
        notes.append(
            f"{zeros} zero difference(s): the exact p-value and interval cannot be computed "
            "(R warns: cannot compute exact p-value with zeroes)."
        )
    z = statistic - n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - _tie_sum(ties) / 48)
    if sigma == 0:  # n == 0: every difference is zero
        notes.append(
            "Every difference is zero, so the signed-rank statistic has no variance: the "
            "p-value, estimate and interval are undefined (R reports NaN)."
        )
        return SignedRankResult(statistic, None, None, None, 0.0, method, n, zeros, " ".join(notes))
    correction = math.copysign(0.5, z) if (correct and z != 0) else 0.0
    z = (z - correction) / sigma
    pvalue = 2 * min(normal_cdf(z), normal_cdf(z, lower=False))

    w = _standardized(diffs, correct)
    mumin, mumax = min(diffs), max(diffs)
    w_min = w(mumin)
    w_max = w(mumax) if math.isfinite(w_min) else math.nan
    if not math.isfinite(w_max):
        notes.append(
            "Every non-zero difference is the same, so there is no confidence interval (R "
            "reports NaN) and the estimate is that difference (R's midrange)."
        )
        return SignedRankResult(
            statistic,
            pvalue,
            (mumin + mumax) / 2,
            None,
            0.0,
            method,
            n,
            zeros,
            " ".join(notes),
        )
    while True:
        below = w_min - normal_quantile(alpha / 2, lower=False)
        above = w_max - normal_quantile(alpha / 2)
        if below < 0 or above > 0:
            alpha *= 2
        else:
            break
    level = conf_level
    if alpha >= 1 or 1 - conf_level < alpha * 0.75:
        level = 1 - min(1.0, alpha)
        notes.append(
            f"Requested confidence level not achievable with {n} non-zero difference(s): the "
            f"interval's level is {level:g} (R warns: requested conf.level not achievable)."
        )
    if alpha < 1:

        def root(zq: float) -> float:
            return uniroot(
                lambda d: w(d) - zq,
                mumin,
                mumax,
                f_lower=w_min - zq,
                f_upper=w_max - zq,
                tol=R_TOL_ROOT,
            ).root

        conf_int = (
            root(normal_quantile(alpha / 2, lower=False)),
            root(normal_quantile(alpha / 2)),
        )
    else:
        middle = _median_sorted(sorted(diffs))
        conf_int = (middle, middle)
    estimate = uniroot(_standardized(diffs, False), mumin, mumax, tol=R_TOL_ROOT).root
    return SignedRankResult(
        statistic, pvalue, estimate, conf_int, level, method, n, zeros, " ".join(notes)
    )
