"""Missing values and small helpers shared by the statistical tests of :mod:`analysis.stats`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def _is_missing(value: object) -> bool:
    """True for ``None`` and float NaN (R's ``NA`` / ``NaN``)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _present(values: Iterable[float | None]) -> list[float]:
    """The values that are not missing (:func:`_is_missing`), inlined: NaN is the one value
    that differs from itself. Called on every answer of every item."""
    return [v for v in values if v is not None and v == v]


def _mean(xs: Sequence[float]) -> float:
    """Mean as R computes it: the sum divided by n, then refined by the mean residual."""
    n = len(xs)
    m = math.fsum(xs) / n
    if math.isfinite(m):
        m += math.fsum(x - m for x in xs) / n
    return m


def _midranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Ranks with ties given their average rank (R's ``rank()``), and the sizes of tie groups.

    Only groups of two or more equal values are listed in the second item.
    """
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1  # ranks i+1 .. j+1, averaged
        for idx in order[i : j + 1]:
            ranks[idx] = rank
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def _paired_present(
    x: Iterable[float | None], y: Iterable[float | None]
) -> list[tuple[float, float]]:
    """The pairs ``(x_i, y_i)`` with neither side missing, as floats: R's
    ``complete.cases(x, y)``. Raises ``ValueError`` when ``x`` and ``y`` differ in length, as
    R does ("'x' and 'y' must have the same length")."""
    xs, ys = list(x), list(y)
    if len(xs) != len(ys):
        raise ValueError("'x' and 'y' must have the same length")
    return [
        (float(a), float(b))
        for a, b in zip(xs, ys, strict=True)
        if a is not None and b is not None and a == a and b == b  # NaN differs from itself
    ]
