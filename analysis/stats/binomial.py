"""The exact binomial test (R's ``binom.test``), which the exact McNemar test and the sign
test are built on."""

from __future__ import annotations

import math
from typing import NamedTuple

from analysis.stats.distributions import beta_quantile, binom_cdf, binom_log_pmf

#: R's ``relErr``: probabilities within this factor of the observed one count as "as likely".
R_BINOM_REL_ERR = 1 + 1e-7


class BinomTest(NamedTuple):
    """``pvalue`` (two-sided), ``estimate`` (``x / n``) and ``conf_int`` (Clopper-Pearson)."""

    pvalue: float
    estimate: float
    conf_int: tuple[float, float]


def binom_test(x: int, n: int, *, p: float = 0.5, conf_level: float = 0.95) -> BinomTest:
    """R's ``binom.test(x, n, p)``, two-sided, for ``0 <= x <= n``, ``n >= 1`` and
    ``0 < p < 1``.

    The p-value is R's: with ``d = dbinom(x, n, p)`` and ``m = n p``, 1 when ``x == m``;
    otherwise the probability of ``x`` or anything further from ``m`` on its side, plus the
    probability of the values on the other side whose probability is at most ``d * (1 +
    1e-7)`` (R's relative tolerance, which makes mirror images count although rounding may
    separate their computed probabilities): ``pbinom(x) + pbinom(n - y, lower.tail = FALSE)``
    with ``y`` the number of such values above ``m`` (and symmetrically when ``x > m``). The
    probabilities are compared on the log scale (``lgamma``), the tails come from the beta
    function (:func:`analysis.stats.distributions.binom_cdf`). Capped at 1 (two tails that add
    up to one can exceed it by a rounding error).

    The interval is R's Clopper-Pearson interval: ``qbeta(alpha/2, x, n - x + 1)`` (0 when
    ``x = 0``) to ``qbeta(1 - alpha/2, x + 1, n - x)`` (1 when ``x = n``).
    """
    if n < 1 or not 0 <= x <= n:
        raise ValueError("'n' must be a positive integer >= 'x'")
    if not 0.0 < conf_level < 1.0:
        raise ValueError("'conf.level' must be a single number between 0 and 1")
    m = n * p
    if x == m:
        pvalue = 1.0
    else:
        limit = binom_log_pmf(x, n, p) + math.log(R_BINOM_REL_ERR)
        if x < m:
            y = sum(1 for i in range(math.ceil(m), n + 1) if binom_log_pmf(i, n, p) <= limit)
            pvalue = binom_cdf(x, n, p) + binom_cdf(n - y, n, p, lower=False)
        else:
            y = sum(1 for i in range(math.floor(m) + 1) if binom_log_pmf(i, n, p) <= limit)
            pvalue = binom_cdf(y - 1, n, p) + binom_cdf(x - 1, n, p, lower=False)
        pvalue = min(pvalue, 1.0)
    alpha = (1 - conf_level) / 2
    low = 0.0 if x == 0 else beta_quantile(alpha, x, n - x + 1)
    high = 1.0 if x == n else beta_quantile(1 - alpha, x + 1, n - x)
    return BinomTest(pvalue, x / n, (low, high))
