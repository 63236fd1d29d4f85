"""Wilcoxon rank-sum / Mann-Whitney test (R's ``wilcox.test(x, y)``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from analysis.stats.distributions import normal_two_sided_p
from analysis.stats.helpers import _midranks, _present


@dataclass(frozen=True)
class RankSumResult:
    """Result of :func:`rank_sum`.

    * ``statistic``: R's ``W``, the rank sum of ``x`` minus ``n_x (n_x + 1) / 2``.
    * ``pvalue``: two-sided p-value; ``None`` when undefined (R gives ``NaN``), see ``note``.
    * ``method``: ``"exact"``, ``"normal approximation with continuity correction"`` or
      ``"normal approximation"``.
    * ``n_x``, ``n_y``: the non-missing sample sizes.
    * ``note``: empty, or why the exact p-value was not used, or why there is no p-value.
    """

    statistic: float
    pvalue: float | None
    method: str
    n_x: int
    n_y: int
    note: str = ""


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


def _pwilcox_two_sided(w: int, m: int, n: int) -> float:
    freqs = _wilcox_counts(m, n)
    total = math.comb(m + n, m)
    if w > m * n / 2:
        tail = sum(freqs[w:])  # P(W >= w) = pwilcox(w - 1, lower.tail = FALSE)
    else:
        tail = sum(freqs[: w + 1])  # P(W <= w)
    return float(min(Fraction(2 * tail, total), Fraction(1)))


def rank_sum(
    x: Iterable[float | None],
    y: Iterable[float | None],
    *,
    correct: bool = True,
    exact: bool | None = None,
) -> RankSumResult:
    """Two-sided Wilcoxon rank-sum (Mann-Whitney) test: R's ``wilcox.test(x, y)``.

    ``None``/NaN values are left out (R drops ``NA``). Ranks are R's ``rank`` (ties get the
    average rank) of the pooled sample, and ``W = sum(ranks of x) - n_x (n_x + 1) / 2``.

    Exact p-value when ``exact`` is true, or when it is ``None`` and both samples have fewer
    than 50 values, provided there are no ties (R's rule): with the exact null distribution
    of W (R's ``pwilcox``), ``p = min(1, 2 * P(W <= w))`` if ``w <= n_x n_y / 2``, else
    ``min(1, 2 * P(W >= w))``. Its cost grows like ``min(n_x, n_y)^2 * max(n_x, n_y)``, which
    R's rule keeps small; forcing ``exact=True`` on samples of thousands is slow.

    Otherwise the normal approximation, exactly R's formula: ``z = W - n_x n_y / 2``,
    ``sigma = sqrt(n_x n_y / 12 * ((n_x + n_y + 1) - sum(t^3 - t) / ((n_x + n_y)(n_x + n_y
    - 1))))`` over tie groups of size t, with continuity correction ``sign(z) * 0.5`` when
    ``correct`` (default), ``p = 2 * min(pnorm(z'), 1 - pnorm(z'))`` with
    ``z' = (z - correction) / sigma``. When exact was asked for or would have applied but the
    data have ties, ``note`` says so (R warns "cannot compute exact p-value with ties").

    Degenerate cases: an empty sample (after dropping missing values) raises ``ValueError``,
    as R stops with "not enough (non-missing) 'x' observations" (or 'y'). When every value is
    the same, sigma is 0 and R's p-value is ``NaN``: here ``pvalue`` is ``None`` with a note;
    the statistic is still W = n_x n_y / 2, as in R.
    """
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
        return RankSumResult(statistic, pvalue, "exact", nx, ny)
    note = "Ties in the data: the exact p-value cannot be computed. " if use_exact else ""
    n = nx + ny
    tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
    variance = nx * ny / 12 * ((n + 1) - tie_term)
    method = (
        "normal approximation with continuity correction" if correct else ("normal approximation")
    )
    if variance <= 0:
        return RankSumResult(
            statistic,
            None,
            method,
            nx,
            ny,
            note + "All values are identical, so the rank statistic has no variance and the "
            "p-value is undefined (R reports NaN).",
        )
    z = statistic - nx * ny / 2
    correction = math.copysign(0.5, z) if (correct and z != 0) else 0.0
    z = (z - correction) / math.sqrt(variance)
    return RankSumResult(statistic, normal_two_sided_p(z), method, nx, ny, note.strip())
