"""Proportions across independent groups: the chi-squared test for trend over ordered waves
(R's ``prop.trend.test``) and the difference of two proportions with its interval (R's
``prop.test``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from analysis.stats.distributions import chisq_sf, normal_quantile
from analysis.stats.helpers import _is_missing


def _count(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be finite numbers")
    if value < 0:
        raise ValueError(f"{name} must be nonnegative")
    return float(value)


@dataclass(frozen=True)
class TrendResult:
    """Result of :func:`trend_test`.

    * ``statistic``: R's "X-squared"; ``pvalue``: its upper chi-square tail with ``df`` = 1.
      Both ``None`` when the test is undefined (see ``note``).
    * ``groups``: the waves used (those with no missing count or score).
    """

    statistic: float | None
    pvalue: float | None
    df: int
    groups: int
    note: str = ""


def trend_test(
    successes: Sequence[float | None],
    totals: Sequence[float | None],
    score: Sequence[float | None] | None = None,
) -> TrendResult:
    """Chi-squared test for a linear trend in proportions over ordered groups (survey waves):
    R's ``prop.trend.test(successes, totals, score = score)``, ``score`` defaulting to
    ``1, 2, ..., k`` as in R.

    R fits the weighted regression of ``x_i / n_i`` on the scores with weights
    ``n_i / (p (1 - p))``, ``p = sum(x) / sum(n)``, and reports the regression sum of squares
    of the score. That is Armitage's statistic, computed here in closed form with exact
    fractions (then rounded once)::

        X^2 = (sum_i x_i (s_i - s_bar))^2 / (p (1 - p) sum_i n_i (s_i - s_bar)^2),
        s_bar = sum_i n_i s_i / sum_i n_i

    so it agrees with R to its rounding error (R's least-squares fit gives about 1e-30
    instead of 0 when there is no trend at all). The p-value is the upper tail of chi-square
    with 1 degree of freedom.

    A wave with a missing (``None``/NaN) count or score is left out, with a note; a wave with
    no answers (``n_i = 0``) carries no weight, as in R. Degenerate cases: no success or no
    failure anywhere (``p`` is 0 or 1: R stops with "NA/NaN/Inf in 'x'" from its regression)
    and fewer than two distinct scores among the waves with answers (R reports ``NA``) give
    ``None`` with a note. Lengths that differ, negative counts or more successes than the
    total raise ``ValueError``.
    """
    k = len(successes)
    scores: Sequence[float | None] = list(range(1, k + 1)) if score is None else score
    if len(totals) != k or len(scores) != k:
        raise ValueError("successes, totals and score must have the same length")
    rows: list[tuple[Fraction, Fraction, Fraction]] = []
    dropped = 0
    for x, n, s in zip(successes, totals, scores, strict=True):
        if (
            x is None
            or n is None
            or s is None
            or _is_missing(x)
            or _is_missing(n)
            or _is_missing(s)
        ):
            dropped += 1
            continue
        xf, nf = _count(x, "successes"), _count(n, "totals")
        if xf > nf:
            raise ValueError("successes must not be greater than totals")
        if not math.isfinite(s):
            raise ValueError("scores must be finite")
        rows.append((Fraction(xf), Fraction(nf), Fraction(float(s))))
    notes = [f"{dropped} wave(s) with a missing count or score left out."] if dropped else []
    total = sum(n for _, n, _ in rows)
    hits = sum(x for x, _, _ in rows)
    if total == 0 or hits == 0 or hits == total:
        notes.append(
            "No answers, or every answer is the same (no successes or no failures in any "
            "wave), so the test is undefined (R's prop.trend.test stops with an error)."
        )
        return TrendResult(None, None, 1, len(rows), " ".join(notes))
    mean_score = sum(n * s for _, n, s in rows) / total
    spread = sum(n * (s - mean_score) ** 2 for _, n, s in rows)
    if spread == 0:
        notes.append(
            "Fewer than two different scores among the waves with answers, so there is no "
            "trend to test (R reports NA)."
        )
        return TrendResult(None, None, 1, len(rows), " ".join(notes))
    p = hits / total
    covariance = sum(x * (s - mean_score) for x, _, s in rows)
    statistic = float(covariance**2 / (p * (1 - p) * spread))
    return TrendResult(statistic, chisq_sf(statistic, 1), 1, len(rows), " ".join(notes))


@dataclass(frozen=True)
class ProportionDifferenceResult:
    """Result of :func:`proportion_difference`.

    * ``estimate``: ``x1 / n1 - x2 / n2``; ``conf_int``: R's ``prop.test`` interval.
    * ``statistic``, ``pvalue``: R's ``prop.test`` chi-squared (1 df) and p-value; ``None``
      when no group has a success or none has a failure (R: ``NaN``), see ``note``.
    * ``method``: ``"with continuity correction"`` or ``"without continuity correction"``
      (R drops the correction when it is asked for but the estimate is 0).
    """

    estimate: float
    conf_int: tuple[float, float]
    statistic: float | None
    pvalue: float | None
    method: str
    note: str = ""


def proportion_difference(
    x1: float,
    n1: float,
    x2: float,
    n2: float,
    conf_level: float = 0.95,
    *,
    correct: bool = True,
) -> ProportionDifferenceResult:
    """Difference of two independent proportions with its confidence interval: R's
    ``prop.test(c(x1, x2), c(n1, n2), conf.level = conf_level, correct = correct)``.

    ``D = x1/n1 - x2/n2``; with ``Y = min(1/2, |D| / (1/n1 + 1/n2))`` when ``correct`` (else 0)
    the interval is ``D -+ (z sqrt(sum p_i (1 - p_i) / n_i) + Y (1/n1 + 1/n2))``, clipped to
    [-1, 1], ``z = qnorm((1 + conf_level) / 2)`` (a Wald interval with Yates' correction, R's
    default). The test statistic is Pearson's chi-squared of the 2 x 2 table with the same
    correction ``Y`` subtracted from each ``|observed - expected|``.

    Raises ``ValueError`` where R stops: a total of 0 ("elements of 'n' must be positive"),
    negative successes or more successes than the total, ``conf_level`` outside (0, 1).
    """
    if not 0.0 < conf_level < 1.0:
        raise ValueError("'conf.level' must be a single number between 0 and 1")
    xs = (_count(x1, "successes"), _count(x2, "successes"))
    ns = (_count(n1, "totals"), _count(n2, "totals"))
    if ns[0] <= 0 or ns[1] <= 0:
        raise ValueError("elements of 'n' must be positive")
    if xs[0] > ns[0] or xs[1] > ns[1]:
        raise ValueError("elements of 'x' must not be greater than those of 'n'")
    p1, p2 = xs[0] / ns[0], xs[1] / ns[1]
    delta = p1 - p2
    inverse_sum = 1 / ns[0] + 1 / ns[1]
    yates = min(0.5 if correct else 0.0, abs(delta) / inverse_sum)
    width = (
        normal_quantile((1 + conf_level) / 2)
        * math.sqrt(p1 * (1 - p1) / ns[0] + p2 * (1 - p2) / ns[1])
        + yates * inverse_sum
    )
    conf_int = (max(delta - width, -1.0), min(delta + width, 1.0))
    method = "with continuity correction" if yates else "without continuity correction"
    pooled = (xs[0] + xs[1]) / (ns[0] + ns[1])
    if pooled in (0.0, 1.0):
        return ProportionDifferenceResult(
            delta,
            conf_int,
            None,
            None,
            method,
            "No successes or no failures in either group: the chi-squared statistic is "
            "undefined (R reports NaN).",
        )
    terms = []
    for x, n in zip(xs, ns, strict=True):
        for observed, expected in ((x, n * pooled), (n - x, n * (1 - pooled))):
            terms.append((abs(observed - expected) - yates) ** 2 / expected)
    statistic = math.fsum(terms)
    return ProportionDifferenceResult(delta, conf_int, statistic, chisq_sf(statistic, 1), method)
