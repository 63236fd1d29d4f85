"""Descriptive statistics: :func:`describe` (n, mean, SD, median, quartiles) and
:func:`counts` (the frequency table of a categorical answer)."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from analysis.stats.helpers import _is_missing, _mean, _present


@dataclass(frozen=True)
class Description:
    """Summary of a numeric answer, as R would give it with ``na.rm = TRUE``.

    ``n`` counts non-missing values and ``missing`` the ``None``/NaN ones. With ``n == 0``
    every other field is ``None``; ``sd`` is ``None`` while ``n < 2`` (R's ``sd`` is ``NA``).
    """

    n: int
    missing: int
    mean: float | None
    sd: float | None
    median: float | None
    q1: float | None
    q3: float | None
    iqr: float | None
    min: float | None
    max: float | None


def _quantile7(sorted_xs: Sequence[float], prob: float) -> float:
    """R's ``quantile(x, prob, type = 7)`` on already sorted, non-empty data.

    ``index = 1 + (n - 1) * prob``; between the two neighbouring order statistics the value is
    ``(1 - h) * x[lo] + h * x[hi]`` with ``h = index - lo``, written in that form as R does.
    """
    n = len(sorted_xs)
    index = (n - 1) * prob  # zero-based
    lo = math.floor(index)
    hi = math.ceil(index)
    q = sorted_xs[lo]
    if index > lo and sorted_xs[hi] != q:
        h = index - lo
        q = (1 - h) * q + h * sorted_xs[hi]
    return q


def describe(values: Iterable[float | None]) -> Description:
    """Describe numeric values like R's ``mean``, ``sd``, ``median`` and ``quantile``.

    * ``mean``: R's ``mean(x)`` (sum / n, refined once by the mean residual as R does).
    * ``sd``: R's ``sd(x)``, the sample standard deviation with divisor n - 1.
    * ``median``: R's ``median(x)`` (mean of the two middle values when n is even).
    * ``q1``, ``q3``: R's default ``quantile(x, c(0.25, 0.75))`` (type 7);
      ``iqr = q3 - q1`` (R's ``IQR(x)``).
    * ``min``, ``max``: the extremes.

    ``None`` and NaN are missing and left out (``na.rm = TRUE``). Empty input gives ``n = 0``
    and ``None`` everywhere else, never an error.
    """
    all_values = list(values)
    xs = sorted(float(v) for v in _present(all_values))
    n = len(xs)
    missing = len(all_values) - n
    if n == 0:
        return Description(0, missing, None, None, None, None, None, None, None, None)
    mean = _mean(xs)
    sd = None
    if n >= 2:
        sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    half = n // 2
    median = xs[half] if n % 2 else (xs[half - 1] + xs[half]) / 2
    q1 = _quantile7(xs, 0.25)
    q3 = _quantile7(xs, 0.75)
    return Description(
        n=n,
        missing=missing,
        mean=mean,
        sd=sd,
        median=median,
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        min=xs[0],
        max=xs[-1],
    )


class CountRow(NamedTuple):
    """One line of a frequency table: the level, its count and its percent of non-missing.

    ``percent`` is ``None`` when there is no non-missing value at all.
    """

    level: Hashable
    n: int
    percent: float | None


def counts(
    values: Iterable[Hashable | None], levels: Sequence[Hashable] | None = None
) -> list[CountRow]:
    """Frequency table of categorical values, like R's ``table(x)`` with percentages.

    Returns ``(level, n, percent)`` rows. ``percent`` is ``100 * n / N`` where ``N`` is the
    number of non-missing values (``None`` and NaN are missing and left out, as ``table``
    leaves out ``NA``).

    Order: with ``levels``, those levels in that order, each listed even when its count is 0
    (like a factor's levels); values not among ``levels`` are not dropped (R would turn them
    into ``NA``) but listed after them, sorted. Without ``levels``, the distinct values sorted
    (R's ``table`` order), or in order of first appearance if they cannot be compared.
    """
    present = [v for v in values if not _is_missing(v)]
    tally: dict[Hashable, int] = {}
    for v in present:
        tally[v] = tally.get(v, 0) + 1
    if levels is not None:
        order = list(dict.fromkeys(levels))
        extra = [v for v in tally if v not in set(order)]
        order += _sorted_if_possible(extra)
    else:
        order = _sorted_if_possible(list(tally))
    total = len(present)
    return [
        CountRow(level, tally.get(level, 0), 100.0 * tally.get(level, 0) / total if total else None)
        for level in order
    ]


def _sorted_if_possible(items: list[Hashable]) -> list[Hashable]:
    try:
        return sorted(items)  # type: ignore[type-var]
    except TypeError:
        return items
