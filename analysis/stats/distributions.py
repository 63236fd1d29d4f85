"""Distribution functions: the normal and chi-squared tail probabilities the tests need."""

from __future__ import annotations

import math


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
