"""The two-sample Hodges-Lehmann shift and its confidence interval (``rank_sum``) against R's
``wilcox.test(x, y, conf.int = TRUE)``, plus properties and degenerate inputs.

The cases are in the ``rank_sum_conf_int`` section of
``tests/analysis/fixtures/r_paired_reference.json``, written by
``analysis/R/make_paired_reference.R`` (whose output is checked against the committed fixture
in ``test_paired.py``); every value there came from R and must be matched to a relative 1e-6.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats import rank_sum, wilcoxon
from tests.analysis.stats.test_paired import FIXTURE, case_id, close, r_undefined, values, warned

CASES = FIXTURE["rank_sum_conf_int"]

R_METHODS = {
    "Wilcoxon rank sum exact test": "exact",
    "Wilcoxon rank sum test with continuity correction": (
        "normal approximation with continuity correction"
    ),
    "Wilcoxon rank sum test": "normal approximation",
}


def run(case: dict):
    return rank_sum(
        values(case["x"]),
        values(case["y"]),
        correct=case["correct"],
        exact=case["exact"],
        conf_level=case["conf_level"],
    )


def test_fixture_covers_the_branches():
    assert len(CASES) >= 50
    methods = {c.get("method") for c in CASES}
    assert set(R_METHODS) <= methods
    assert any(warned(c, "not achievable") for c in CASES)
    assert any(warned(c, "exact confidence intervals with ties") for c in CASES)
    assert any("missing value" in c.get("error", "") for c in CASES)
    assert {c["conf_level"] for c in CASES} >= {0.8, 0.9, 0.95, 0.99}
    assert any(not c["correct"] for c in CASES)
    assert any(len(c["x"]) >= 50 and len(c["y"]) >= 50 for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_rank_sum_shift_matches_r(case):
    if "error" in case and "not enough" in case["error"]:
        with pytest.raises(ValueError, match="not enough"):
            run(case)
        return
    result = run(case)
    if "error" in case:
        # R stops on the interval (every shifted value tied): the test itself is still
        # reported here, without estimate or interval.
        assert "missing value" in case["error"]
        assert result.estimate is None and result.conf_int is None
        assert result.conf_level is None
        assert "R stops" in result.note
        return
    assert result.method == R_METHODS[case["method"]]
    assert close(result.statistic, case["statistic"], abs_tol=1e-12)
    if r_undefined(case["pvalue"]):
        assert result.pvalue is None
    else:
        assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])
    assert case["estimate_name"] == "difference in location"
    assert close(result.estimate, case["estimate"], abs_tol=1e-12), (
        result.estimate,
        case["estimate"],
    )
    assert result.conf_int is not None
    for ours, theirs in zip(result.conf_int, case["conf_int"], strict=True):
        assert close(ours, theirs, abs_tol=1e-12), (result.conf_int, case["conf_int"])
    assert close(result.conf_level, case["achieved_conf_level"], abs_tol=1e-12)
    assert ("not achievable" in result.note) == warned(case, "not achievable")
    assert ("Ties" in result.note) == warned(case, "with ties")


def test_default_call_is_unchanged_and_gives_the_interval():
    """Existing callers (no ``conf_level``) get the same test, now with the 95% interval."""
    case = next(c for c in CASES if c["name"] == "small untied (exact)")
    result = rank_sum(case["x"], case["y"])
    assert result.method == "exact"
    assert close(result.pvalue, case["pvalue"])
    assert result.conf_level == 0.95
    assert close(result.estimate, case["estimate"])


def test_rank_sum_rejects_bad_conf_level():
    for level in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="conf.level"):
            rank_sum([1, 2, 3], [4, 5], conf_level=level)


untied_samples = st.lists(
    st.integers(-10_000, 10_000), min_size=2, max_size=30, unique=True
).flatmap(lambda v: st.tuples(st.just(v), st.integers(1, len(v) - 1)))


@settings(max_examples=60, deadline=None)
@given(untied_samples)
def test_exact_shift_mirrors_exactly_when_the_samples_swap(sample):
    values_, cut = sample
    x = [v / 8 for v in values_[:cut]]
    y = [v / 8 for v in values_[cut:]]
    forward = rank_sum(x, y)
    backward = rank_sum(y, x)
    assert forward.method == backward.method == "exact"
    assert forward.estimate == -backward.estimate
    assert forward.conf_int is not None and backward.conf_int is not None
    assert forward.conf_int == (-backward.conf_int[1], -backward.conf_int[0])
    assert forward.conf_level == backward.conf_level
    diffs = [a - b for a in x for b in y]
    assert min(diffs) <= forward.conf_int[0] <= forward.estimate <= forward.conf_int[1]
    assert forward.conf_int[1] <= max(diffs)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=2, max_size=60),
    st.lists(st.integers(1, 5), min_size=2, max_size=60),
    st.integers(-3, 3),
)
def test_normal_interval_moves_with_a_shift_of_x(x, y, shift):
    """Adding ``shift`` to every x moves the interval's ends (found at jumps of a step
    function) by ``shift``, to uniroot's tolerance; the estimate stays inside the interval."""
    if len(set(x)) == 1 and len(set(y)) == 1:
        return
    base = rank_sum(x, y)
    moved = rank_sum([v + shift for v in x], y)
    if base.method == "exact" or moved.method == "exact":
        return
    assert base.conf_int is not None and moved.conf_int is not None
    assert base.estimate is not None
    for a, b in zip(base.conf_int, moved.conf_int, strict=True):
        assert abs(b - a - shift) <= 2e-4
    low, high = base.conf_int
    assert low - 1e-4 <= base.estimate <= high + 1e-4
    assert min(x) - max(y) <= low <= high <= max(x) - min(y)


def test_wilcox_quantile_is_the_smallest_reaching_the_probability():
    for m, n in [(1, 1), (2, 3), (5, 4), (10, 12)]:
        counts = wilcoxon._wilcox_counts(m, n)
        total = math.comb(m + n, m)
        for prob in (0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.975):
            q = wilcoxon._qwilcox(prob, m, n)
            assert sum(counts[: q + 1]) / total >= prob - 1e-12
            if q > 0:
                assert sum(counts[:q]) / total < prob


def test_without_the_shift_the_test_is_the_same_and_no_interval_is_searched():
    x, y = [1, 2, 2, 3, 4, 4, 5, 5, 5], [1, 1, 2, 2, 2, 3, 3, 4]
    both = rank_sum(x, y)
    alone = rank_sum(x, y, shift=False)
    assert (alone.statistic, alone.pvalue, alone.method) == (
        both.statistic,
        both.pvalue,
        both.method,
    )
    assert both.estimate is not None
    assert alone.estimate is None and alone.conf_int is None
