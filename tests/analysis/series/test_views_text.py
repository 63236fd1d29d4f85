"""What the results page prints: intervals and shifts never read "-0.00" or "-0" (a negative
zero reads as a change where there is none)."""

from __future__ import annotations

from analysis.series.views import _interval, _num, _points


def test_a_negative_zero_prints_as_zero():
    assert _num(-0.0001) == "+0.00"
    assert _points(-0.001) == "+0"
    assert _interval((-0.0004, 1.0)) == "95% CI 0.00 to 1.00"
    assert _interval((-0.002, 0.5), 100, 0) == "95% CI 0 to 50"
    assert _num(-0.26) == "-0.26" and _interval((-1.0, -0.5)) == "95% CI -1.00 to -0.50"
