"""Tests and effect sizes for paired binary and paired ordinal answers (baseline against
follow-up of the same respondents): McNemar's test (R's ``mcnemar.test``), its exact version
and the sign test (both R's ``binom.test``), and the difference of paired proportions with
Newcombe's interval."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analysis.stats.binomial import binom_test
from analysis.stats.distributions import chisq_sf, normal_quantile
from analysis.stats.helpers import _paired_present


def _paired_table(table: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    """``[[a, b], [c, d]]`` as four non-negative finite counts, or ``ValueError`` (R stops on
    negative or missing entries: "all entries of 'x' must be nonnegative and finite")."""
    rows = [list(row) for row in table]
    if len(rows) != 2 or any(len(row) != 2 for row in rows):
        raise ValueError("the table must be 2 x 2: [[a, b], [c, d]]")
    cells = []
    for value in (rows[0][0], rows[0][1], rows[1][0], rows[1][1]):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("all entries of the table must be numbers")
        if not math.isfinite(value) or value < 0:
            raise ValueError("all entries of the table must be nonnegative and finite")
        cells.append(value)
    a, b, c, d = cells
    return a, b, c, d


def _discordant(table: Sequence[Sequence[float]]) -> tuple[int, int]:
    """The discordant counts ``b`` and ``c`` as integers (``binom.test`` needs whole counts)."""
    _, b, c, _ = _paired_table(table)
    if b != int(b) or c != int(c):
        raise ValueError("the discordant counts must be whole numbers")
    return int(b), int(c)


# ---------------------------------------------------------------------------------------------
# McNemar


@dataclass(frozen=True)
class McNemarResult:
    """Result of :func:`mcnemar`.

    * ``statistic``: R's "McNemar's chi-squared"; ``pvalue``: its upper chi-square tail with
      ``df`` = 1. Both ``None`` when there are no discordant pairs (R: ``NaN``), see ``note``.
    * ``method``: ``"chi-squared with continuity correction"`` or ``"chi-squared"`` (R adds
      the correction only when asked and ``b != c``).
    * ``b``, ``c``: the discordant counts (yes then no; no then yes).
    """

    statistic: float | None
    pvalue: float | None
    df: int
    method: str
    b: float
    c: float
    note: str = ""


def mcnemar(table: Sequence[Sequence[float]], *, correct: bool = True) -> McNemarResult:
    """McNemar's chi-squared test for a 2 x 2 table of paired counts: R's
    ``mcnemar.test(matrix(c(a, c, b, d), 2), correct = correct)`` for ``table =
    [[a, b], [c, d]]`` (rows: before yes / no; columns: after yes / no).

    ``X^2 = (|b - c| - 1)^2 / (b + c)`` with the continuity correction, which R applies only
    when ``correct`` and ``b != c``; otherwise ``(b - c)^2 / (b + c)``. ``p`` is the upper tail
    of chi-square with 1 degree of freedom. The concordant cells ``a`` and ``d`` do not enter.

    With ``b + c == 0`` (no one changed) R's statistic is ``0/0 = NaN`` and its p-value
    ``NA``: here both are ``None``, with a note. A table that is not 2 x 2 or has negative or
    non-finite entries raises ``ValueError`` (R stops too).
    """
    _, b, c, _ = _paired_table(table)
    use_correction = correct and b != c
    method = "chi-squared with continuity correction" if use_correction else "chi-squared"
    if b + c == 0:
        return McNemarResult(
            None,
            None,
            1,
            method,
            b,
            c,
            "No discordant pairs (no one changed), so the test is undefined (R reports NaN).",
        )
    numerator = abs(b - c) - 1 if use_correction else b - c
    statistic = numerator**2 / (b + c)
    return McNemarResult(statistic, chisq_sf(statistic, 1), 1, method, b, c)


@dataclass(frozen=True)
class McNemarExactResult:
    """Result of :func:`mcnemar_exact`.

    * ``pvalue``: R's ``binom.test(b, b + c)$p.value``.
    * ``estimate``: the conditional odds ratio ``b / c`` (``inf`` when ``c = 0``), and
      ``conf_int`` its exact interval ``(p_L / (1 - p_L), p_U / (1 - p_U))`` from the
      Clopper-Pearson limits of ``b / (b + c)``; the upper limit is ``inf`` when ``c = 0``.
    * ``b``, ``c``: the discordant counts. All ``None`` but these when ``b + c == 0``.
    """

    pvalue: float | None
    estimate: float | None
    conf_int: tuple[float, float] | None
    b: int
    c: int
    note: str = ""


def _odds(p: float) -> float:
    return math.inf if p >= 1.0 else p / (1.0 - p)


def mcnemar_exact(
    table: Sequence[Sequence[float]], *, conf_level: float = 0.95
) -> McNemarExactResult:
    """Exact McNemar test: R's ``binom.test(b, b + c)`` on the discordant pairs of
    ``table = [[a, b], [c, d]]`` (under no change, ``b`` is binomial with ``p = 1/2`` given
    ``b + c``; see :func:`analysis.stats.binomial.binom_test` for R's two-sided p-value).

    The effect size is the conditional (paired) odds ratio ``b / c``: the odds of changing from
    yes to no rather than from no to yes. Its exact interval maps the Clopper-Pearson interval
    ``(p_L, p_U)`` of ``b / (b + c)`` through ``p / (1 - p)`` (the R fixture computes it as
    ``ci / (1 - ci)`` on ``binom.test``'s interval).

    With ``b + c == 0`` R's ``binom.test`` stops ("'n' must be a positive integer >= 'x'"):
    here ``pvalue``, ``estimate`` and ``conf_int`` are ``None`` with a note, since "no one
    changed" is an ordinary survey outcome. ``conf_level`` outside (0, 1) raises.
    """
    b, c = _discordant(table)
    if b + c == 0:
        if not 0.0 < conf_level < 1.0:
            raise ValueError("'conf.level' must be a single number between 0 and 1")
        return McNemarExactResult(
            None,
            None,
            None,
            b,
            c,
            "No discordant pairs (no one changed), so there is nothing to test (R's binom.test "
            "stops: 'n' must be a positive integer >= 'x').",
        )
    test = binom_test(b, b + c, conf_level=conf_level)
    low, high = test.conf_int
    estimate = math.inf if c == 0 else b / c
    return McNemarExactResult(test.pvalue, estimate, (_odds(low), _odds(high)), b, c)


# ---------------------------------------------------------------------------------------------
# Sign test


@dataclass(frozen=True)
class SignTestResult:
    """Result of :func:`sign_test`.

    * ``pvalue``: R's ``binom.test(n_positive, n_positive + n_negative)$p.value``.
    * ``estimate``: the share of positive differences among the non-zero ones, with
      ``conf_int`` its Clopper-Pearson interval (R's ``binom.test`` estimate and interval).
    * ``n_positive``, ``n_negative``: differences ``x - y`` above and below zero;
      ``zeros``: pairs with no difference, left out.
    * ``pvalue``, ``estimate`` and ``conf_int`` are ``None`` when every difference is zero.
    """

    pvalue: float | None
    estimate: float | None
    conf_int: tuple[float, float] | None
    n_positive: int
    n_negative: int
    zeros: int
    note: str = ""


def sign_test(
    x: Iterable[float | None], y: Iterable[float | None], *, conf_level: float = 0.95
) -> SignTestResult:
    """Two-sided sign test of paired values: with ``d = x - y`` over the complete pairs (a
    missing value on either side drops the pair) and zero differences left out, R's
    ``binom.test(sum(d > 0), sum(d != 0))``.

    No complete pair raises ``ValueError``; when every difference is zero R's ``binom.test``
    stops ("'n' must be a positive integer >= 'x'"), and here ``pvalue``, ``estimate`` and
    ``conf_int`` are ``None`` with a note. ``x`` and ``y`` of different lengths raise.
    """
    if not 0.0 < conf_level < 1.0:
        raise ValueError("'conf.level' must be a single number between 0 and 1")
    pairs = _paired_present(x, y)
    if not pairs:
        raise ValueError("not enough (non-missing) observations")
    diffs = [a - b for a, b in pairs]
    positive = sum(1 for d in diffs if d > 0)
    negative = sum(1 for d in diffs if d < 0)
    zeros = len(diffs) - positive - negative
    if positive + negative == 0:
        return SignTestResult(
            None,
            None,
            None,
            0,
            0,
            zeros,
            "Every difference is zero, so there is nothing to test (R's binom.test stops: "
            "'n' must be a positive integer >= 'x').",
        )
    test = binom_test(positive, positive + negative, conf_level=conf_level)
    return SignTestResult(test.pvalue, test.estimate, test.conf_int, positive, negative, zeros)


# ---------------------------------------------------------------------------------------------
# Difference of paired proportions


@dataclass(frozen=True)
class PairedDifferenceResult:
    """Result of :func:`paired_proportion_difference`.

    * ``estimate``: ``p_after - p_before``; ``conf_int``: Newcombe's interval (method 10).
    * ``p_before``, ``p_after``: the two proportions of "yes"; ``n``: the number of pairs.
    * All ``None`` but ``n`` when the table is empty, see ``note``.
    """

    estimate: float | None
    conf_int: tuple[float, float] | None
    p_before: float | None
    p_after: float | None
    n: float
    method: str
    note: str = ""


def _wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson's score interval for ``successes / n``, written as R's ``prop.test(successes,
    n, correct = FALSE)`` computes it (same operations in the same order)."""
    estimate = successes / n
    z22n = z**2 / (2 * n)
    if estimate >= 1:
        upper = 1.0
    else:
        upper = (
            estimate + z22n + z * math.sqrt(estimate * (1 - estimate) / n + z22n / (2 * n))
        ) / (1 + 2 * z22n)
    if estimate <= 0:
        lower = 0.0
    else:
        lower = (
            estimate + z22n - z * math.sqrt(estimate * (1 - estimate) / n + z22n / (2 * n))
        ) / (1 + 2 * z22n)
    return max(lower, 0.0), min(upper, 1.0)


def paired_proportion_difference(
    table: Sequence[Sequence[float]], conf_level: float = 0.95
) -> PairedDifferenceResult:
    """Difference of paired proportions ``p_after - p_before`` with Newcombe's hybrid score
    interval for paired data (Newcombe 1998, Statistics in Medicine 17:2635, method 10, no
    continuity correction).

    ``table = [[a, b], [c, d]]`` as for :func:`mcnemar` (rows: before yes / no, columns: after
    yes / no), ``n = a + b + c + d``, ``p_before = (a + b) / n``, ``p_after = (a + c) / n``,
    ``D = p_after - p_before = (c - b) / n``. With ``(l1, u1)`` and ``(l2, u2)`` the Wilson
    score intervals of ``p_after`` and ``p_before`` (R's ``prop.test(k, n, correct =
    FALSE)$conf.int``) and the phi coefficient ``phi = (a d - b c) / sqrt((a + b)(c + d)(a +
    c)(b + d))`` (0 when a margin is empty)::

        low  = D - sqrt((p_after - l1)^2 - 2 phi (p_after - l1)(u2 - p_before) + (u2 - p_before)^2)
        high = D + sqrt((u1 - p_after)^2 - 2 phi (u1 - p_after)(p_before - l2) + (p_before - l2)^2)

    The interval stays within [-1, 1], is never degenerate at 0 discordant pairs unless the
    table is, and has close to nominal coverage for small counts, where the Wald interval
    ``D +- z sqrt(b + c - (b - c)^2 / n) / n`` does not (Newcombe's comparison). The fixture's
    reference values are R's Wilson limits combined by this formula written out in base R.

    An empty table gives ``None`` values with a note; a table that is not 2 x 2, or has
    negative or non-finite entries, and ``conf_level`` outside (0, 1) raise ``ValueError``.
    """
    if not 0.0 < conf_level < 1.0:
        raise ValueError("'conf.level' must be a single number between 0 and 1")
    a, b, c, d = _paired_table(table)
    n = a + b + c + d
    method = "Newcombe hybrid score (method 10)"
    if n == 0:
        return PairedDifferenceResult(
            None, None, None, None, n, method, "The table is empty: no pairs to compare."
        )
    p_before = (a + b) / n
    p_after = (a + c) / n
    estimate = p_after - p_before
    z = normal_quantile((1 + conf_level) / 2)
    l1, u1 = _wilson(a + c, n, z)
    l2, u2 = _wilson(a + b, n, z)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(margins) if margins > 0 else 0.0
    down = (p_after - l1) ** 2 - 2 * phi * (p_after - l1) * (u2 - p_before) + (u2 - p_before) ** 2
    up = (u1 - p_after) ** 2 - 2 * phi * (u1 - p_after) * (p_before - l2) + (p_before - l2) ** 2
    conf_int = (estimate - math.sqrt(max(down, 0.0)), estimate + math.sqrt(max(up, 0.0)))
    return PairedDifferenceResult(estimate, conf_int, p_before, p_after, n, method)
