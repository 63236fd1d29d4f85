"""Distribution functions: normal, chi-squared, Student's t, beta and binomial probabilities
(and the normal and beta quantiles) that the tests need, each equal to the R function named."""

from __future__ import annotations

import math
import struct
from statistics import NormalDist


def normal_two_sided_p(z: float) -> float:
    """Two-sided normal p-value ``2 * min(pnorm(z), pnorm(z, lower.tail = FALSE))``.

    Computed as ``erfc(|z| / sqrt(2))``, which keeps full relative precision far in the tail.
    """
    return math.erfc(abs(z) / math.sqrt(2.0))


def _regularized_gamma_q(a: float, x: float) -> float:
    """Upper regularized incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a).

    Series for P = 1 - Q when x < a + 1 (Q is then not small, so 1 - P loses nothing that
    matters), and a Lentz continued fraction for Q otherwise, which keeps relative precision
    for very small Q. Both run to double precision.
    """
    if a <= 0:
        raise ValueError("a must be positive")
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        # P(a, x) = x^a e^-x / Gamma(a + 1) * sum_k x^k / ((a + 1) ... (a + k))
        term = 1.0 / a
        total = term
        k = 0
        while True:
            k += 1
            term *= x / (a + k)
            total += term
            if abs(term) < abs(total) * 1e-17 or k > 100_000:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    # Continued fraction: Q = e^-x x^a / Gamma(a) * 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    i = 0
    while True:
        i += 1
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16 or i > 100_000:
            break
    return math.exp(log_prefix) * h


def chisq_sf(statistic: float, df: int) -> float:
    """Upper tail of the chi-square distribution: R's ``pchisq(q, df, lower.tail = FALSE)``.

    A statistic at or below zero gives 1 (as R does).
    """
    if df <= 0:
        raise ValueError("df must be positive")
    return _regularized_gamma_q(df / 2.0, statistic / 2.0)


# ---------------------------------------------------------------------------------------------
# Normal, Student's t, beta and binomial distributions for the paired and trend tests.

_STANDARD_NORMAL = NormalDist()


def normal_cdf(z: float, *, lower: bool = True) -> float:
    """R's ``pnorm(z, lower.tail = lower)``, as ``erfc`` of the scaled argument.

    Either tail keeps full relative precision far out (``erfc`` of a large argument does not
    lose digits the way ``1 - Phi`` would).
    """
    if math.isnan(z):
        return math.nan
    return 0.5 * math.erfc((-z if lower else z) / math.sqrt(2.0))


def normal_quantile(p: float, *, lower: bool = True) -> float:
    """R's ``qnorm(p, lower.tail = lower)`` for ``0 < p < 1``, to the last bit.

    R and Python's :class:`statistics.NormalDist` both use Wichura's algorithm AS 241, which
    works from ``q = p - 1/2`` near the centre and from ``r = sqrt(-log(min(p, 1 - p)))`` in
    the tails. For the upper tail R first forms ``p' = 1/2 - p + 1/2`` and takes
    ``q = p' - 1/2`` in the centre, but in the tails it takes ``r`` from ``p`` itself (not from
    ``1 - p'``, which may differ in the last bit). The same two cases are followed here, so the
    result is R's own double, which the signed-rank confidence interval depends on.
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must be strictly between 0 and 1")
    if lower:
        return _STANDARD_NORMAL.inv_cdf(p)
    complement = 0.5 - p + 0.5
    if abs(complement - 0.5) <= 0.425:
        return _STANDARD_NORMAL.inv_cdf(complement)
    return -_STANDARD_NORMAL.inv_cdf(p)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function,
    ``I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * cf``, evaluated by the modified Lentz method.

    It converges quickly for ``x < (a + 1) / (a + b + 2)``; the terms are
    ``d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1))`` and
    ``d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m))``.
    """
    tiny = 1e-300
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    result = d
    for m in range(1, 100_000):
        two_m = 2.0 * m
        # even step
        coef = m * (b - m) * x / ((a + two_m - 1.0) * (a + two_m))
        d = 1.0 + coef * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + coef / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        result *= d * c
        # odd step
        coef = -(a + m) * (a + b + m) * x / ((a + two_m) * (a + two_m + 1.0))
        d = 1.0 + coef * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + coef / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        step = d * c
        result *= step
        if abs(step - 1.0) < 1e-16:
            break
    return result


def beta_cdf_pair(a: float, b: float, x: float, y: float | None = None) -> tuple[float, float]:
    """``(I_x(a, b), 1 - I_x(a, b))``: the lower and upper tails of the Beta(a, b) distribution
    at ``x`` (R's ``pbeta(x, a, b)`` and ``pbeta(x, a, b, lower.tail = FALSE)``).

    ``y`` is ``1 - x`` when the caller has it more precisely than ``1 - x`` would give (near
    ``x = 1``). The tail that the continued fraction computes directly (the one below the
    distribution's centre) has full relative precision; the other is one minus it.
    """
    if y is None:
        y = 1.0 - x
    if x <= 0.0:
        return 0.0, 1.0
    if y <= 0.0:
        return 1.0, 0.0
    log_front = a * math.log(x) + b * math.log(y) - _log_beta(a, b)
    if x < (a + 1.0) / (a + b + 2.0):
        lower = math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
        return lower, 1.0 - lower
    upper = math.exp(log_front) * _beta_continued_fraction(b, a, y) / b
    return 1.0 - upper, upper


def t_cdf(t: float, df: float, *, lower: bool = True) -> float:
    """R's ``pt(t, df, lower.tail = lower)`` for ``df > 0``.

    ``P(|T| > |t|) = I_z(df / 2, 1 / 2)`` with ``z = df / (df + t^2)``; half of it is the tail
    beyond ``t``, which keeps its relative precision far out (p-values of 1e-200 and below).
    Very large ``|t|`` (``t^2 / df > 1e100``) uses the leading term ``z^(df/2) / ((df/2)
    B(df/2, 1/2))`` of that tail on the log scale, as R does.
    """
    if math.isnan(t) or df <= 0:
        return math.nan
    if math.isinf(t):
        return float((t > 0) == lower)
    a = df / 2.0
    ratio = 1.0 + (t / df) * t
    if ratio > 1e100:
        log_both = -a * (2.0 * math.log(abs(t)) - math.log(df)) - _log_beta(a, 0.5) - math.log(a)
        both = math.exp(log_both)
    else:
        t2 = t * t
        both, _ = beta_cdf_pair(a, 0.5, df / (df + t2), t2 / (df + t2))
    beyond = both / 2.0  # P(T > |t|)
    # lower tail at t > 0 and upper tail at t <= 0 are the larger side
    return 1.0 - beyond if (t > 0) == lower else beyond


def binom_cdf(k: int, n: int, p: float, *, lower: bool = True) -> float:
    """R's ``pbinom(k, n, p)`` (``P(X <= k)``) or, with ``lower=False``, ``P(X > k)``.

    ``P(X <= k) = I_{1-p}(n - k, k + 1)``: the beta tails give either side with full
    relative precision.
    """
    if k < 0:
        return 0.0 if lower else 1.0
    if k >= n:
        return 1.0 if lower else 0.0
    at_most, more = beta_cdf_pair(n - k, k + 1, 1.0 - p, p)
    return at_most if lower else more


def binom_log_pmf(k: int, n: int, p: float) -> float:
    """``log(dbinom(k, n, p))`` for ``0 < p < 1``."""
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def _float_bits(x: float) -> int:
    return int.from_bytes(struct.pack(">d", x), "big")


def _bits_float(bits: int) -> float:
    return float(struct.unpack(">d", bits.to_bytes(8, "big"))[0])


def beta_quantile(prob: float, a: float, b: float, *, lower: bool = True) -> float:
    """R's ``qbeta(prob, a, b, lower.tail = lower)`` for ``0 < prob < 1``.

    Bisection over the doubles in [0, 1] themselves (positive doubles are ordered as their bit
    patterns), so 62 halvings find the double where the distribution function crosses
    ``prob``: the answer is exact to about one unit in the last place of the beta tails. The
    tail that is compared is the smaller one (upper tail when ``prob`` is a lower-tail
    probability above 1/2), so precision is not lost to ``1 - prob``.
    """
    if not 0.0 < prob < 1.0:
        raise ValueError("prob must be strictly between 0 and 1")
    # compare the smaller tail with its target
    use_upper = (prob > 0.5) if lower else (prob <= 0.5)
    target = (1.0 - prob if lower else prob) if use_upper else (prob if lower else 1.0 - prob)

    def below(x: float) -> bool:
        """True while x is left of the quantile."""
        tails = beta_cdf_pair(a, b, x)
        return tails[1] > target if use_upper else tails[0] < target

    lo, hi = _float_bits(0.0), _float_bits(1.0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if below(_bits_float(mid)):
            lo = mid
        else:
            hi = mid
    return _bits_float(hi)
