"""Spearman's rank correlation test (R's ``cor.test(x, y, method = "spearman")``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from analysis.stats.distributions import normal_cdf, t_cdf
from analysis.stats.helpers import _midranks, _paired_present

#: Largest n for which R's ``cor.test`` uses AS 89 (exact or Edgeworth) rather than t.
SPEARMAN_EXACT_MAX_N = 1290
#: Largest n for which AS 89 (as R has it) counts every permutation; above, Edgeworth.
SPEARMAN_ENUMERATION_MAX_N = 9

# Coefficients of the Edgeworth series of AS 89 (Best and Roberts, Applied Statistics 24, 1975).
_C1, _C2, _C3, _C4, _C5, _C6 = 0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932
_C7, _C8, _C9, _C10, _C11, _C12 = 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4


@dataclass(frozen=True)
class SpearmanResult:
    """Result of :func:`spearman`.

    * ``estimate``: Spearman's rho; ``statistic``: R's ``S = (n^3 - n)(1 - rho) / 6``.
    * ``pvalue``: two-sided. The three are ``None`` when rho is undefined (a constant
      variable: R reports ``NA``), see ``note``.
    * ``method``: how the p-value was computed: ``"exact"`` (every permutation counted,
      ``n <= 9``), ``"edgeworth"`` (AS 89's Edgeworth series, ``10 <= n <= 1290``) or ``"t"``
      (t distribution with ``n - 2`` degrees of freedom: ties, larger ``n`` or ``exact=False``).
    * ``n``: complete pairs used.
    """

    estimate: float | None
    statistic: float | None
    pvalue: float | None
    method: str
    n: int
    note: str = ""


def _round_to_bits(value: Fraction, bits: int) -> Fraction:
    """``value`` rounded to ``bits`` significant bits, ties to even (a floating-point result
    with that many bits in its significand; the exponent range is not limited)."""
    if value == 0:
        return Fraction(0)
    sign = -1 if value < 0 else 1
    num, den = abs(value.numerator), value.denominator
    exponent = num.bit_length() - den.bit_length()  # 2^e <= |value| < 2^(e+1) after the fix
    if (num << max(0, -exponent)) < (den << max(0, exponent)):
        exponent -= 1
    shift = bits - 1 - exponent
    top, bottom = (num << shift, den) if shift >= 0 else (num, den << -shift)
    kept, rest = divmod(top, bottom)
    if 2 * rest > bottom or (2 * rest == bottom and kept & 1):
        kept += 1
    return sign * Fraction(kept) / Fraction(2) ** shift


def _sqrt_to_bits(value: Fraction, bits: int) -> Fraction:
    """The square root of ``value >= 0`` rounded to ``bits`` significant bits, ties to even."""
    if value == 0:
        return Fraction(0)
    num, den = value.numerator, value.denominator
    # scale by 4^k so that the integer square root has at least bits + 2 bits
    k = max(0, bits + 2 - (num.bit_length() - den.bit_length()) // 2 + 1)
    scaled, leftover = divmod(num << (2 * k), den)
    root = math.isqrt(scaled)
    exact = leftover == 0 and root * root == scaled
    drop = root.bit_length() - bits
    kept, rest = root >> drop, root & ((1 << drop) - 1)
    half = 1 << (drop - 1)
    if rest > half or (rest == half and (not exact or kept & 1)):
        kept += 1
    return Fraction(kept << drop, 1 << k)


#: Significand bits of the x87 extended precision that R's ``cor`` accumulates in.
_LONG_DOUBLE_BITS = 64


def _rank_correlation(rx: list[float], ry: list[float]) -> float | None:
    """R's ``cor(rank(x), rank(y))``, to the last bit.

    R sums in extended precision (``long double``) and rounds to doubles at fixed points:
    ``cov = (double)(Sxy / (n - 1))``, ``sd = (double)sqrtl(Sxx / (n - 1))``, and
    ``cov / (sd_x * sd_y)`` in doubles, clamped to [-1, 1]. With ranks the sums are exact
    (multiples of 1/4), so those roundings are done here exactly with fractions (64-bit
    significand, then 53). This matters for a perfect correlation with ties: R's rho then
    differs from 1 by a unit in the last place or not, and its t-based p-value (far below
    1e-200) follows from that difference. ``None`` when a variable is constant (R: ``NA``).
    """
    n = len(rx)
    centre = n + 1  # ranks doubled minus the doubled mean rank: exact integers
    dx = [round(2 * r) - centre for r in rx]
    dy = [round(2 * r) - centre for r in ry]
    sxx = Fraction(sum(v * v for v in dx), 4)
    syy = Fraction(sum(v * v for v in dy), 4)
    sxy = Fraction(sum(a * b for a, b in zip(dx, dy, strict=True)), 4)
    if sxx == 0 or syy == 0:
        return None
    cov = float(_round_to_bits(sxy / (n - 1), _LONG_DOUBLE_BITS))
    sd_x = float(_sqrt_to_bits(_round_to_bits(sxx / (n - 1), _LONG_DOUBLE_BITS), _LONG_DOUBLE_BITS))
    sd_y = float(_sqrt_to_bits(_round_to_bits(syy / (n - 1), _LONG_DOUBLE_BITS), _LONG_DOUBLE_BITS))
    rho = cov / (sd_x * sd_y)
    return max(-1.0, min(1.0, rho))


@lru_cache(maxsize=16)
def _s_counts(n: int) -> tuple[int, ...]:
    """For ``n`` items, how many of the ``n!`` permutations ``p`` give each value of
    ``S = sum_i (i - p_i)^2`` (entry ``s`` counts ``S = s``).

    A dynamic programme over the set of ranks already placed (positions filled in order):
    ``2^n n`` steps instead of the ``n!`` permutations that AS 89 lists, with the same integer
    counts. Each partial distribution is one integer holding the counts in fixed-width
    fields (a polynomial in ``2^width``), so adding ``(i - p_i)^2`` to every sum is a shift.
    """
    width = math.factorial(n).bit_length() + 1
    top = n * (n * n - 1) // 3  # the largest S
    partial: dict[int, int] = {0: 1}
    for position in range(n):
        following: dict[int, int] = {}
        for used, poly in partial.items():
            for value in range(n):
                bit = 1 << value
                if not used & bit:
                    shifted = poly << ((position - value) ** 2 * width)
                    following[used | bit] = following.get(used | bit, 0) + shifted
        partial = following
    (poly,) = partial.values()
    field = (1 << width) - 1
    return tuple((poly >> (s * width)) & field for s in range(top + 1))


def _prho(n: int, s: float, *, lower: bool) -> float:
    """R's ``prho`` (AS 89 as R has it): ``P(S >= s)``, or ``P(S < s)`` when ``lower``, for
    Spearman's ``S`` of ``n`` independent pairs without ties.

    ``n <= 9``: exact, from the counts of all ``n!`` permutations. Larger ``n``: AS 89's
    Edgeworth series, with ``x = (6 (s - 1) / (n (n^2 - 1)) - 1) sqrt(n - 1)`` and the
    correction term ``u exp(-x^2 / 2)`` added to (upper tail) or subtracted from (lower tail)
    the normal tail at ``x``, the result clipped to [0, 1]. The operations are written in R's
    order so that the doubles agree.
    """
    p = 0.0 if lower else 1.0
    if s <= 0:
        return p
    n3 = float(n)
    n3 *= (n3 * n3 - 1.0) / 3.0  # (n^3 - n) / 3, the largest S
    if s > n3:
        return 1.0 - p
    if n <= SPEARMAN_ENUMERATION_MAX_N:
        counts = _s_counts(n)
        total = math.factorial(n)
        at_least = sum(counts[math.ceil(s) :])
        return (total - at_least) / total if lower else at_least / total
    y = float(n)
    b = 1.0 / y
    x = (6.0 * (s - 1) * b / (y * y - 1) - 1) * math.sqrt(y - 1)
    y = x * x
    u = (
        x
        * b
        * (
            _C1
            + b * (_C2 + _C3 * b)
            + y
            * (
                -_C4
                + b * (_C5 + _C6 * b)
                - y * b * (_C7 + _C8 * b - y * (_C9 - _C10 * b + y * b * (_C11 - _C12 * y)))
            )
        )
    )
    y = u / math.exp(y / 2.0)
    p = (-y if lower else y) + normal_cdf(x, lower=lower)
    return min(1.0, max(0.0, p))


def spearman(
    x: Iterable[float | None],
    y: Iterable[float | None],
    *,
    exact: bool | None = None,
    continuity: bool = False,
) -> SpearmanResult:
    """Spearman's rank correlation with its two-sided test: R's ``cor.test(x, y, method =
    "spearman", exact = exact, continuity = continuity)``.

    Pairs with a missing value on either side are dropped (R's ``complete.cases``);
    ``rho = cor(rank(x), rank(y))`` (ties averaged; :func:`_rank_correlation` rounds as R does)
    and ``S = (n^3 - n)(1 - rho) / 6``. The p-value is twice the tail on the side of ``S``
    (lower when ``S <= (n^3 - n) / 6``, i.e. ``rho >= 0``), at most 1:

    * without ties, when ``exact`` is not false and ``n <= 1290``, R's ``prho`` (algorithm
      AS 89) at ``round(S) + 2`` for the lower tail, ``round(S)`` for the upper one: the exact
      permutation distribution for ``n <= 9`` (``method = "exact"``), its Edgeworth series
      approximation above (``"edgeworth"``);
    * otherwise (ties, ``exact=False``, or ``n > 1290``) the t distribution with ``n - 2``
      degrees of freedom at ``r / sqrt((1 - r^2) / (n - 2))``, where
      ``r = 1 - S / ((n^3 - n) / 6)`` (``(n^3 - n) / 6 + 1`` with ``continuity``): ``"t"``.
      With ties R warns "Cannot compute exact p-value with ties" unless ``exact=False``;
      ``note`` says so.

    Degenerate cases: fewer than 2 complete pairs raise ``ValueError`` (R stops: "not enough
    finite observations"); a constant ``x`` or ``y`` makes rho undefined (R: ``NA`` for rho,
    ``S`` and the p-value): ``estimate``, ``statistic`` and ``pvalue`` are ``None`` with a note.
    With ``n = 2`` and the t distribution (0 degrees of freedom) R's p-value is ``NaN``: here
    ``None``, with a note.
    """
    pairs = _paired_present(x, y)
    n = len(pairs)
    if n < 2:
        raise ValueError("not enough finite observations")
    xs = [a for a, _ in pairs]
    ys = [b for _, b in pairs]
    rx, _ = _midranks(xs)
    ry, _ = _midranks(ys)
    ties = min(len(set(xs)), len(set(ys))) < n
    use_exact = True if exact is None else exact
    notes: list[str] = []
    rho = _rank_correlation(rx, ry)
    if rho is None:
        notes.append(
            "One of the variables is constant, so the rank correlation is undefined (R reports NA)."
        )
        method = "t" if ties or not use_exact or n > SPEARMAN_EXACT_MAX_N else "exact"
        return SpearmanResult(None, None, None, method, n, " ".join(notes))
    n_cubed = float(n) ** 3 - n
    statistic = n_cubed * (1 - rho) / 6
    if ties and use_exact:
        use_exact = False
        notes.append("Ties: the exact p-value cannot be computed (R warns).")
    upper = statistic > n_cubed / 6
    if use_exact and n <= SPEARMAN_EXACT_MAX_N:
        method = "exact" if n <= SPEARMAN_ENUMERATION_MAX_N else "edgeworth"
        tail = _prho(n, round(statistic) + (0 if upper else 2), lower=not upper)
    else:
        method = "t"
        den = n * (float(n) ** 2 - 1) / 6
        if continuity:
            den += 1
        r = 1 - statistic / den
        if n < 3:
            notes.append(
                "With 2 pairs the t distribution has no degrees of freedom: no p-value (R "
                "reports NaN)."
            )
            return SpearmanResult(rho, statistic, None, method, n, " ".join(notes))
        squared = r * r
        t = r / math.sqrt((1 - squared) / (n - 2)) if squared < 1 else math.copysign(math.inf, r)
        tail = t_cdf(t, n - 2, lower=upper)
    return SpearmanResult(rho, statistic, min(2 * tail, 1.0), method, n, " ".join(notes))
