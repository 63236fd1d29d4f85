"""Kruskal-Wallis rank-sum test (R's ``kruskal.test``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from analysis.stats.distributions import chisq_sf
from analysis.stats.helpers import _midranks, _present


@dataclass(frozen=True)
class KruskalResult:
    """Result of :func:`kruskal`.

    * ``statistic``: R's "Kruskal-Wallis chi-squared" H (tie-corrected); ``None`` if undefined.
    * ``df``: groups used minus 1; ``None`` with fewer than two groups.
    * ``pvalue``: ``pchisq(H, df, lower.tail = FALSE)``; ``None`` when undefined (see ``note``).
    * ``n``: number of values used; ``groups``: number of non-empty groups used.
    * ``note``: empty, or which groups were dropped, or why there is no p-value.
    """

    statistic: float | None
    df: int | None
    pvalue: float | None
    n: int
    groups: int
    note: str = ""


def kruskal(*samples: Iterable[float | None]) -> KruskalResult:
    """Kruskal-Wallis rank-sum test: R's ``kruskal.test(x, g)`` / ``kruskal.test(list(...))``.

    Each argument is one group's values; ``None``/NaN are left out. With ranks of the pooled
    values (ties averaged), ``H = (12 / (n (n + 1)) * sum(R_i^2 / n_i) - 3 (n + 1)) /
    (1 - sum(t^3 - t) / (n^3 - n))`` over tie groups of size t, and the p-value is the upper
    tail of chi-square with ``k - 1`` degrees of freedom (``k`` non-empty groups).

    Degenerate cases (documented choices):

    * Empty groups (no non-missing value) are dropped, with a note. This is what R does with
      ``kruskal.test(x, g)``, where unused factor levels disappear; R's list form stops with
      "all groups must contain data" instead.
    * Fewer than two non-empty groups: R stops ("all observations are in the same group");
      here ``statistic``, ``df`` and ``pvalue`` are ``None`` with a note.
    * All values identical: H is 0/0 and R reports ``NaN`` and ``NA``; here ``statistic`` and
      ``pvalue`` are ``None`` with a note (``df`` is still given).
    """
    groups = [[float(v) for v in _present(sample)] for sample in samples]
    empty = [i + 1 for i, g in enumerate(groups) if not g]
    used = [g for g in groups if g]
    notes = []
    if empty:
        notes.append("Group(s) " + ", ".join(map(str, empty)) + " had no values and were left out.")
    k = len(used)
    pooled = [v for g in used for v in g]
    n = len(pooled)
    if k < 2:
        notes.append(
            "Fewer than two groups have values, so there is nothing to compare "
            "(R stops: all observations are in the same group)."
        )
        return KruskalResult(None, None, None, n, k, " ".join(notes))
    ranks, ties = _midranks(pooled)
    terms = []
    start = 0
    for g in used:
        rank_sum_g = math.fsum(ranks[start : start + len(g)])
        terms.append(rank_sum_g**2 / len(g))
        start += len(g)
    tie_factor = 1 - sum(t**3 - t for t in ties) / (n**3 - n)
    df = k - 1
    if tie_factor <= 0:
        notes.append(
            "All values are identical, so the ranks carry no information and the test is "
            "undefined (R reports NaN)."
        )
        return KruskalResult(None, df, None, n, k, " ".join(notes))
    statistic = (12 * math.fsum(terms) / (n * (n + 1)) - 3 * (n + 1)) / tie_factor
    return KruskalResult(statistic, df, chisq_sf(statistic, df), n, k, " ".join(notes))
