"""The paired and trend tests of analysis.stats against R (the committed fixture), plus
properties and degenerate inputs.

The fixture ``tests/analysis/fixtures/r_paired_reference.json`` is written by
``analysis/R/make_paired_reference.R``; every value there came from R and must be matched to a
relative 1e-6.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats import (
    correlation,
    mcnemar,
    mcnemar_exact,
    paired_proportion_difference,
    proportion_difference,
    sign_test,
    signed_rank,
    signed_ranks,
    spearman,
    t_cdf,
    trend_test,
)
from analysis.stats.binomial import binom_test
from analysis.stats.distributions import (
    beta_cdf_pair,
    beta_quantile,
    binom_cdf,
    normal_quantile,
)
from analysis.stats.zeroin import uniroot

REPO = Path(__file__).resolve().parents[3]
FIXTURE_PATH = REPO / "tests" / "analysis" / "fixtures" / "r_paired_reference.json"
SCRIPT = REPO / "analysis" / "R" / "make_paired_reference.R"
FIXTURE = json.loads(FIXTURE_PATH.read_text())
REL = 1e-6


def r_number(value: object) -> float | None:
    """A number from the fixture: infinities as floats, NaN/NA as None."""
    if value in ("NaN", "NA"):
        return None
    if value == "Inf":
        return math.inf
    if value == "-Inf":
        return -math.inf
    assert isinstance(value, int | float)
    return float(value)


def close(ours: float | None, r_value: object, abs_tol: float = 1e-300) -> bool:
    expected = r_number(r_value)
    if ours is None or expected is None:
        return False
    if math.isinf(expected):
        return ours == expected
    return math.isclose(ours, expected, rel_tol=REL, abs_tol=abs_tol)


def r_undefined(value: object) -> bool:
    return value in ("NaN", "NA")


def values(raw: list) -> list[float | None]:
    return [None if r_undefined(v) else v for v in raw]


def case_id(case: dict) -> str:
    return case["name"]


def warned(case: dict, words: str) -> bool:
    return any(words in w for w in case["warnings"])


# ---------------------------------------------------------------------------------------------
# The fixture itself


def test_fixture_records_r_version_and_script():
    assert FIXTURE["r_version"].startswith("R version ")
    assert "make_paired_reference.R" in FIXTURE["generated_by"]
    assert len(FIXTURE["signed_rank"]) >= 50
    assert len(FIXTURE["spearman"]) >= 50
    for section in ("mcnemar", "mcnemar_exact", "sign_test", "trend", "paired_difference"):
        assert len(FIXTURE[section]) >= 10, section
    methods = {c.get("method") for c in FIXTURE["signed_rank"]}
    assert {
        "Wilcoxon signed rank exact test",
        "Wilcoxon signed rank test with continuity correction",
        "Wilcoxon signed rank test",
    } <= methods
    assert {c.get("branch") for c in FIXTURE["spearman"]} >= {"exact", "edgeworth", "t"}


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R (r-base-core)")
def test_fixture_is_what_the_committed_script_writes(tmp_path):
    out = tmp_path / "paired.json"
    subprocess.run(
        ["Rscript", str(SCRIPT), str(out)], cwd=REPO, check=True, capture_output=True, timeout=120
    )
    fresh = json.loads(out.read_text())
    committed = dict(FIXTURE)
    assert fresh.pop("generated_by").startswith("Rscript analysis/R/make_paired_reference.R")
    committed.pop("generated_by")
    if fresh["r_version"] != committed["r_version"]:
        pytest.skip(f"another R version ({fresh['r_version']}): values may differ in the last bits")
    assert fresh == committed


# ---------------------------------------------------------------------------------------------
# Signed rank

R_SIGNED_RANK_METHODS = {
    "Wilcoxon signed rank exact test": "exact",
    "Wilcoxon signed rank test with continuity correction": (
        "normal approximation with continuity correction"
    ),
    "Wilcoxon signed rank test": "normal approximation",
}


def run_signed_rank(case: dict):
    return signed_rank(
        values(case["x"]),
        values(case["y"]),
        correct=case["correct"],
        exact=case["exact"],
        conf_level=case["conf_level"],
    )


@pytest.mark.parametrize("case", FIXTURE["signed_rank"], ids=case_id)
def test_signed_rank_matches_r(case):
    if "error" in case:
        words = "same length" if "same length" in case["error"] else "not enough"
        assert words in case["error"]
        with pytest.raises(ValueError, match=words):
            run_signed_rank(case)
        return
    result = run_signed_rank(case)
    assert result.method == R_SIGNED_RANK_METHODS[case["method"]]
    assert close(result.statistic, case["statistic"], abs_tol=1e-12)
    if r_undefined(case["pvalue"]):
        assert result.pvalue is None
        assert "Every difference is zero" in result.note
    else:
        assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])
        assert 0.0 <= result.pvalue <= 1.0
    if r_undefined(case["estimate"]):
        assert result.estimate is None
    else:
        assert close(result.estimate, case["estimate"], abs_tol=1e-12), (
            result.estimate,
            case["estimate"],
        )
    if any(r_undefined(v) for v in case["conf_int"]):
        assert result.conf_int is None
        assert result.note
    else:
        assert result.conf_int is not None
        for ours, theirs in zip(result.conf_int, case["conf_int"], strict=True):
            assert close(ours, theirs, abs_tol=1e-12), (result.conf_int, case["conf_int"])
    assert close(result.conf_level, case["achieved_conf_level"], abs_tol=1e-12)
    if case["estimate_name"] == "midrange":
        assert "midrange" in result.note
    if warned(case, "with ties"):
        assert "Ties" in result.note
    if warned(case, "with zeroes"):
        assert "zero difference" in result.note
    if warned(case, "not achievable"):
        assert "not achievable" in result.note


def test_signed_rank_counts_pairs_and_zeros():
    result = signed_rank([1, 2, None, 4, float("nan"), 3], [0, 2, 5, 1, 1, 1])
    assert (result.n, result.zeros) == (3, 1)


def test_signed_rank_rejects_bad_conf_level():
    with pytest.raises(ValueError, match="conf.level"):
        signed_rank([1, 2], [0, 0], conf_level=1.0)


paired_lists = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 5), min_size=n, max_size=n),
        st.lists(st.integers(1, 5), min_size=n, max_size=n),
    )
)
untied_pairs = st.lists(
    st.floats(-100, 100, allow_nan=False, allow_subnormal=False), min_size=1, max_size=30
).map(lambda v: sorted(set(v)))


@settings(max_examples=60, deadline=None)
@given(paired_lists)
def test_signed_rank_swapping_x_and_y_mirrors_the_result(pair):
    x, y = pair
    if all(a == b for a, b in zip(x, y, strict=True)):
        return
    forward = signed_rank(x, y)
    backward = signed_rank(y, x)
    n = forward.n
    assert forward.statistic + backward.statistic == n * (n + 1) / 2
    assert forward.pvalue is not None and backward.pvalue is not None
    assert math.isclose(forward.pvalue, backward.pvalue, rel_tol=1e-12)
    assert 0.0 <= forward.pvalue <= 1.0
    diffs = [a - b for a, b in zip(x, y, strict=True) if a != b]
    assert forward.estimate is not None and backward.estimate is not None
    assert min(diffs) <= forward.estimate <= max(diffs)
    assert min(diffs) <= -backward.estimate <= max(diffs)
    if forward.method != "exact" and len(set(diffs)) > 1:
        # The estimate is a root of a step function, which may be zero on a whole interval:
        # R's uniroot then stops anywhere in it, and not at mirrored points for mirrored data
        # (its bracket is not symmetric). The interval's ends are at jumps, so they mirror to
        # uniroot's tolerance (1e-4).
        assert forward.conf_int is not None and backward.conf_int is not None
        assert abs(forward.conf_int[0] + backward.conf_int[1]) <= 2e-4
        assert abs(forward.conf_int[1] + backward.conf_int[0]) <= 2e-4


@settings(max_examples=60, deadline=None)
@given(untied_pairs)
def test_signed_rank_exact_branch_mirrors_exactly(diffs):
    diffs = [d for d in diffs if d != 0 and -d not in diffs]
    if not diffs:
        return
    zeros = [0.0] * len(diffs)
    forward = signed_rank(diffs, zeros)
    backward = signed_rank(zeros, diffs)
    assert forward.method == backward.method == "exact"
    assert forward.estimate == -backward.estimate
    assert forward.conf_int is not None and backward.conf_int is not None
    assert forward.conf_int == (-backward.conf_int[1], -backward.conf_int[0])
    # (the tails are summed in doubles from the nearer end, as R sums them)
    assert forward.pvalue is not None and backward.pvalue is not None
    assert math.isclose(forward.pvalue, backward.pvalue, rel_tol=1e-12)


def test_signrank_distribution_is_a_distribution():
    for n in (1, 2, 5, 12, 30):
        counts = signed_ranks._signrank_counts(n)
        assert len(counts) == n * (n + 1) // 2 + 1
        assert sum(counts) == 2**n
        assert list(counts) == list(reversed(counts))


# ---------------------------------------------------------------------------------------------
# McNemar, exact McNemar, sign test

R_MCNEMAR_METHODS = {
    "McNemar's Chi-squared test with continuity correction": (
        "chi-squared with continuity correction"
    ),
    "McNemar's Chi-squared test": "chi-squared",
}


@pytest.mark.parametrize("case", FIXTURE["mcnemar"], ids=case_id)
def test_mcnemar_matches_r(case):
    result = mcnemar(case["table"], correct=case["correct"])
    assert result.df == case["df"]
    assert result.method == R_MCNEMAR_METHODS[case["method"]]
    if r_undefined(case["statistic"]):
        assert result.statistic is None and result.pvalue is None
        assert "No discordant pairs" in result.note
        return
    assert close(result.statistic, case["statistic"], abs_tol=1e-12)
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])


@pytest.mark.parametrize("case", FIXTURE["mcnemar_exact"], ids=case_id)
def test_mcnemar_exact_matches_r(case):
    result = mcnemar_exact(case["table"], conf_level=case["conf_level"])
    if "error" in case:
        assert "'n' must be a positive integer" in case["error"]
        assert result.pvalue is None and result.estimate is None and result.conf_int is None
        assert "No discordant pairs" in result.note
        return
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])
    assert close(result.estimate, case["odds_ratio"])
    assert result.conf_int is not None
    for ours, theirs in zip(result.conf_int, case["odds_ratio_conf_int"], strict=True):
        assert close(ours, theirs), (result.conf_int, case["odds_ratio_conf_int"])
    b, c = result.b, result.c
    binom = binom_test(b, b + c, conf_level=case["conf_level"])
    assert close(binom.estimate, case["proportion"])
    for ours, theirs in zip(binom.conf_int, case["proportion_conf_int"], strict=True):
        assert close(ours, theirs)


@pytest.mark.parametrize("case", FIXTURE["sign_test"], ids=case_id)
def test_sign_test_matches_r(case):
    result = sign_test(values(case["x"]), values(case["y"]), conf_level=case["conf_level"])
    assert (result.n_positive, result.n_negative, result.zeros) == (
        case["n_positive"],
        case["n_negative"],
        case["zeros"],
    )
    if "error" in case:
        assert result.pvalue is None and result.estimate is None and result.conf_int is None
        assert "Every difference is zero" in result.note
        return
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])
    assert close(result.estimate, case["estimate"], abs_tol=1e-12)
    assert result.conf_int is not None
    for ours, theirs in zip(result.conf_int, case["conf_int"], strict=True):
        assert close(ours, theirs, abs_tol=1e-300), (result.conf_int, case["conf_int"])


def test_paired_tables_are_checked():
    for bad in ([[1, 2], [3]], [[1, -2], [3, 4]], [[1, 2], [3, math.nan]], [[1, 2, 3], [4, 5, 6]]):
        with pytest.raises(ValueError):
            mcnemar(bad)
    with pytest.raises(ValueError):
        mcnemar_exact([[1, 2.5], [3, 4]])
    with pytest.raises(ValueError, match="not enough"):
        sign_test([None], [1])


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 30), st.integers(0, 30))
def test_discordant_tests_are_symmetric(b, c, a, d):
    forward = mcnemar_exact([[a, b], [c, d]])
    backward = mcnemar_exact([[a, c], [b, d]])
    assert forward.pvalue == backward.pvalue
    if forward.pvalue is not None:
        assert 0.0 < forward.pvalue <= 1.0
        assert forward.conf_int is not None and backward.conf_int is not None
        low, high = forward.conf_int
        assert low <= (forward.estimate or 0.0) <= high
        # the odds ratio of the mirrored table is the reciprocal, its interval too
        if 0 < low and math.isfinite(high):
            assert math.isclose(backward.conf_int[0], 1 / high, rel_tol=1e-9)
            assert math.isclose(backward.conf_int[1], 1 / low, rel_tol=1e-9)
    chi = mcnemar([[a, b], [c, d]])
    assert chi.statistic == mcnemar([[a, c], [b, d]]).statistic


def binomial_tail_exact(k: int, n: int) -> Fraction:
    return Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)


@pytest.mark.parametrize("n", [1, 2, 7, 30, 101, 400])
def test_binomial_tails_equal_exact_sums(n):
    for k in sorted({0, 1, n // 3, n // 2, n - 1}):
        lower = binomial_tail_exact(k, n)
        assert math.isclose(binom_cdf(k, n, 0.5), float(lower), rel_tol=1e-12)
        assert math.isclose(binom_cdf(k, n, 0.5, lower=False), float(1 - lower), rel_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 80).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_binom_test_is_twice_the_smaller_tail(xn):
    x, n = xn
    # For p = 1/2 R's rule counts exactly the mirror image: p = min(1, 2 P(X <= min(x, n - x)))
    expected = min(Fraction(1), 2 * binomial_tail_exact(min(x, n - x), n))
    if 2 * x == n:
        expected = Fraction(1)
    assert math.isclose(binom_test(x, n).pvalue, float(expected), rel_tol=1e-12)


def test_beta_quantile_inverts_the_distribution():
    for a, b, prob in [(1, 1, 0.3), (2.5, 7, 0.025), (30, 45, 0.975), (700, 3, 0.5)]:
        q = beta_quantile(prob, a, b)
        below = math.nextafter(q, 0.0)
        assert beta_cdf_pair(a, b, below)[0] < prob <= beta_cdf_pair(a, b, q)[0] * (1 + 1e-12)


# ---------------------------------------------------------------------------------------------
# Spearman


@pytest.mark.parametrize("case", FIXTURE["spearman"], ids=case_id)
def test_spearman_matches_r(case):
    x, y = values(case["x"]), values(case["y"])
    kwargs = {"exact": case["exact"], "continuity": case["continuity"]}
    if "error" in case:
        assert "not enough finite observations" in case["error"]
        with pytest.raises(ValueError, match="not enough finite observations"):
            spearman(x, y, **kwargs)
        return
    assert case["method"] == "Spearman's rank correlation rho"
    result = spearman(x, y, **kwargs)
    assert result.method == case["branch"]
    if r_undefined(case["estimate"]):
        assert result.estimate is None and result.statistic is None and result.pvalue is None
        assert "constant" in result.note
        return
    assert close(result.estimate, case["estimate"], abs_tol=1e-15)
    assert close(result.statistic, case["statistic"], abs_tol=1e-9)
    if r_undefined(case["pvalue"]):
        assert result.pvalue is None and "degrees of freedom" in result.note
    else:
        assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])
    if warned(case, "ties"):
        assert "Ties" in result.note


def test_spearman_perfect_correlation_with_ties_follows_rs_rounding():
    # rho is 1 to within a unit in the last place; R's p-value follows from which side.
    n10 = next(c for c in FIXTURE["spearman"] if c["name"] == "perfect with ties, n = 10")
    n30 = next(c for c in FIXTURE["spearman"] if c["name"] == "perfect with ties, n = 30")
    assert n10["pvalue"] == 0 and 0 < n30["pvalue"] < 1e-200
    assert spearman(values(n10["x"]), values(n10["y"])).pvalue == 0.0
    assert close(spearman(values(n30["x"]), values(n30["y"])).pvalue, n30["pvalue"])


@pytest.mark.parametrize("n", range(2, 8))
def test_spearman_permutation_counts_equal_brute_force(n):
    counts = [0] * (n * (n * n - 1) // 3 + 1)
    for perm in itertools.permutations(range(n)):
        counts[sum((i - p) ** 2 for i, p in enumerate(perm))] += 1
    assert list(correlation._s_counts(n)) == counts


@settings(max_examples=60, deadline=None)
@given(paired_lists)
def test_spearman_symmetry(pair):
    x, y = pair
    if len(x) < 2:
        return
    forward = spearman(x, y)
    if forward.estimate is None:
        assert spearman(y, x).estimate is None
        return
    assert spearman(y, x).estimate == forward.estimate
    negated = spearman(x, [-v for v in y])
    assert negated.estimate is not None
    assert math.isclose(negated.estimate, -forward.estimate, rel_tol=1e-12, abs_tol=1e-15)
    assert forward.pvalue is not None and 0.0 <= forward.pvalue <= 1.0
    assert negated.pvalue is not None
    if abs(forward.estimate) < 1 - 1e-9:
        # (at |rho| = 1 the p-value comes from rounding noise in S, as in R: not symmetric)
        assert math.isclose(negated.pvalue, forward.pvalue, rel_tol=1e-9, abs_tol=1e-300)


@pytest.mark.parametrize(
    "case", FIXTURE["t_distribution"], ids=lambda c: f"t={c['t']},df={c['df']}"
)
def test_t_distribution_matches_r(case):
    t, df = r_number(case["t"]), r_number(case["df"])
    assert t is not None and df is not None
    assert close(t_cdf(t, df), case["lower"]), (t_cdf(t, df), case["lower"])
    assert close(t_cdf(t, df, lower=False), case["upper"])


# ---------------------------------------------------------------------------------------------
# Trend and differences of proportions


@pytest.mark.parametrize("case", FIXTURE["trend"], ids=case_id)
def test_trend_matches_r(case):
    result = trend_test(case["successes"], case["totals"], case["score"])
    assert result.df == 1
    if "error" in case:
        assert "NA/NaN/Inf" in case["error"]
        assert result.statistic is None and result.pvalue is None
        assert "every answer is the same" in result.note
        return
    if r_undefined(case["statistic"]):
        assert result.statistic is None and result.pvalue is None
        assert "Fewer than two different scores" in result.note
        return
    # R's least-squares fit leaves about 1e-30 where the exact statistic is 0
    assert close(result.statistic, case["statistic"], abs_tol=1e-12)
    assert close(result.pvalue, case["pvalue"]), (result.pvalue, case["pvalue"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=6),
    st.integers(-5, 5).filter(bool),
    st.integers(-20, 20),
)
def test_trend_is_invariant_to_linear_rescoring(waves, scale, shift):
    successes = [min(a, b) for a, b in waves]
    totals = [max(a, b) for a, b in waves]
    plain = trend_test(successes, totals)
    rescored = trend_test(successes, totals, [scale * i + shift for i in range(1, len(waves) + 1)])
    if plain.statistic is None:
        assert rescored.statistic is None
        return
    assert rescored.statistic is not None
    assert math.isclose(plain.statistic, rescored.statistic, rel_tol=1e-12, abs_tol=1e-300)
    assert plain.pvalue is not None and 0.0 <= plain.pvalue <= 1.0


def test_trend_leaves_out_waves_with_missing_counts():
    result = trend_test([3, None, 5, 6], [10, 10, 10, float("nan")])
    assert result.groups == 2 and "2 wave(s)" in result.note
    with pytest.raises(ValueError):
        trend_test([11], [10])
    with pytest.raises(ValueError):
        trend_test([1, 2], [10])


@pytest.mark.parametrize("case", FIXTURE["paired_difference"], ids=case_id)
def test_paired_proportion_difference_matches_r(case):
    result = paired_proportion_difference(case["table"], case["conf_level"])
    assert close(result.estimate, case["estimate"], abs_tol=1e-15)
    assert result.conf_int is not None
    for ours, theirs in zip(result.conf_int, case["conf_int"], strict=True):
        assert close(ours, theirs, abs_tol=1e-15), (result.conf_int, case["conf_int"])


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40))
def test_paired_proportion_difference_mirrors(a, b, c, d):
    forward = paired_proportion_difference([[a, b], [c, d]])
    backward = paired_proportion_difference([[a, c], [b, d]])  # before and after swapped
    if a + b + c + d == 0:
        assert forward.estimate is None and "empty" in forward.note
        return
    assert forward.estimate is not None and backward.estimate is not None
    assert forward.conf_int is not None and backward.conf_int is not None
    assert math.isclose(forward.estimate, -backward.estimate, abs_tol=1e-15)
    assert math.isclose(forward.conf_int[0], -backward.conf_int[1], abs_tol=1e-12)
    assert math.isclose(forward.conf_int[1], -backward.conf_int[0], abs_tol=1e-12)
    low, high = forward.conf_int
    assert -1 - 1e-12 <= low <= forward.estimate + 1e-12
    assert forward.estimate - 1e-12 <= high <= 1 + 1e-12


@pytest.mark.parametrize("case", FIXTURE["proportion_difference"], ids=case_id)
def test_proportion_difference_matches_r(case):
    args = (case["x1"], case["n1"], case["x2"], case["n2"], case["conf_level"])
    if "error" in case:
        assert "must be positive" in case["error"]
        with pytest.raises(ValueError, match="must be positive"):
            proportion_difference(*args, correct=case["correct"])
        return
    result = proportion_difference(*args, correct=case["correct"])
    assert close(result.estimate, case["estimate"], abs_tol=1e-15)
    for ours, theirs in zip(result.conf_int, case["conf_int"], strict=True):
        assert close(ours, theirs, abs_tol=1e-15), (result.conf_int, case["conf_int"])
    assert case["method"].endswith(result.method)
    if r_undefined(case["statistic"]):
        assert result.statistic is None and result.pvalue is None and result.note
    else:
        assert close(result.statistic, case["statistic"], abs_tol=1e-12)
        assert close(result.pvalue, case["pvalue"])


# ---------------------------------------------------------------------------------------------
# Root finding and quantiles


def test_uniroot_follows_rs_iterations():
    # R: uniroot(function(x) x^3 - 2 * x - 5, c(2, 3), tol = 1e-4) and uniroot(cos, c(0, 3))
    cubic = uniroot(lambda x: x**3 - 2 * x - 5, 2.0, 3.0, tol=1e-4)
    assert cubic.root == 2.0945512665841388 and cubic.iterations == 5
    cosine = uniroot(math.cos, 0.0, 3.0)
    assert cosine.root == 1.5707860761655601 and cosine.iterations == 4
    with pytest.raises(ValueError, match="opposite sign"):
        uniroot(lambda x: x * x + 1, -1.0, 1.0)


def test_normal_quantile_is_rs():
    # R: sprintf("%.17g", c(qnorm(0.025), qnorm(0.1, lower.tail = FALSE), qnorm(0.4)))
    assert normal_quantile(0.025) == -1.9599639845400538
    assert normal_quantile(0.025, lower=False) == 1.9599639845400538
    assert normal_quantile(0.1, lower=False) == 1.2815515655446008
    assert normal_quantile(0.4) == -0.25334710313579978
