"""Root finding as R's ``uniroot`` does it: Brent's method ("zeroin"), step for step.

R's ``wilcox.test`` finds the signed-rank confidence limits and the Hodges-Lehmann estimate of
the normal-approximation branch with ``uniroot(..., tol = 1e-4)``. The answer is only correct
to about that tolerance, so to give R's numbers to 1e-6 the iteration itself must be R's: the
same starting bracket, the same choice between bisection and (inverse linear or quadratic)
interpolation at every step, the same tolerance test. This module follows the algorithm of
Forsythe, Malcolm and Moler (Computer Methods for Mathematical Computations, 1977), with the
details of R's version (``R_zeroin2``: function values at the ends supplied by the caller, an
iteration limit).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import NamedTuple

_EPSILON = sys.float_info.epsilon
_DOUBLE_MAX = sys.float_info.max

#: ``.Machine$double.eps^0.25``: ``uniroot``'s default tolerance.
UNIROOT_DEFAULT_TOL = _EPSILON**0.25


class RootResult(NamedTuple):
    """``root``; ``iterations`` (``-1`` when the limit was reached without convergence, as R
    reports it); ``precision``: the width of the last bracket (R's ``estim.prec``)."""

    root: float
    iterations: int
    precision: float


def _finite(value: float) -> float:
    """What R's ``uniroot`` passes to the algorithm for a function value: infinities become
    the largest double of the same sign (R warns); NaN is an error."""
    if math.isnan(value):
        raise ValueError("the function value is NA")
    if math.isinf(value):
        return math.copysign(_DOUBLE_MAX, value)
    return value


def uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    *,
    f_lower: float | None = None,
    f_upper: float | None = None,
    tol: float = UNIROOT_DEFAULT_TOL,
    maxiter: int = 1000,
) -> RootResult:
    """A root of ``f`` in ``[lower, upper]``: R's ``uniroot(f, lower = lower, upper = upper,
    f.lower = f_lower, f.upper = f_upper, tol = tol, maxiter = maxiter)$root`` (with R's
    default ``extendInt = "no"``: the bracket is not widened).

    As R, raises ``ValueError`` when ``lower >= upper``, when a function value at an end is NaN,
    or when the end values do not have opposite signs (one of them may be zero).
    """
    if not lower < upper:
        raise ValueError("lower < upper is not fulfilled")
    fa = f(lower) if f_lower is None else f_lower
    fb = f(upper) if f_upper is None else f_upper
    if math.isnan(fa) or math.isnan(fb):
        raise ValueError("f() is NA at an end point")
    if (fa > 0 and fb > 0) or (fa < 0 and fb < 0):
        raise ValueError("f() values at end points not of opposite sign")
    return _zeroin(lambda x: _finite(f(x)), lower, upper, fa, fb, tol, maxiter)


def _zeroin(
    f: Callable[[float], float],
    a: float,
    b: float,
    fa: float,
    fb: float,
    tol: float,
    maxiter: int,
) -> RootResult:
    """Brent's zeroin. Three abscissae: ``b``, the best approximation so far; ``a``, the
    previous one; ``c``, a point where ``f`` has the sign opposite to ``f(b)`` (so the root is
    between ``b`` and ``c``). Each step tries inverse interpolation (linear through ``a`` and
    ``b`` when ``a == c``, quadratic through all three otherwise) and falls back to bisection
    when the interpolated point is outside the bracket or the step would not shrink fast
    enough; a step is never shorter than the tolerance."""
    c, fc = a, fa
    if fa == 0.0:
        return RootResult(a, 0, 0.0)
    if fb == 0.0:
        return RootResult(b, 0, 0.0)
    remaining = maxiter + 1
    while remaining > 0:
        remaining -= 1
        previous_step = b - a
        if abs(fc) < abs(fb):
            # make b the best approximation: the three points rotate
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * _EPSILON * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return RootResult(b, maxiter - remaining, abs(c - b))
        if abs(previous_step) >= tol_act and abs(fa) > abs(fb):
            # interpolation may be tried: the step is p / q, the division delayed
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(previous_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return RootResult(b, -1, abs(c - b))
